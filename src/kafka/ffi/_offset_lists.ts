/**
 * One-element partition lists kept per partition for `rd_kafka_offsets_store`.
 * A consumer that produces stores an offset each time a message's deliveries
 * finish, so building, filling and freeing a list (and its topic's C string)
 * on every store is a cost per message; a kept list only has its offset field
 * rewritten. `rd_kafka_offsets_store` keeps a reference to the partition in
 * the list element, so the lists are freed when partitions are given up and
 * before the consumer closes.
 *
 * @module
 */

import type { Librdkafka } from "./symbols.ts";
import { type Pointer, TWO_32 } from "./_layer.ts";
import { cstr } from "./_memory.ts";

/** Where `rd_kafka_topic_partition_t.offset` lives (LP64). */
const OFFSET_FIELD = 16;
/** `rd_kafka_topic_partition_t` is 64 bytes on LP64. */
const TOPPAR_SIZE = 64;

interface Kept {
  list: Pointer;
  /** The element's bytes in C memory. */
  elem: DataView;
}

/** Kept one-element lists by partition key; free them with {@link OffsetLists.clear}. */
export class OffsetLists {
  readonly #lib: Librdkafka;
  readonly #kept = new Map<string, Kept>();

  constructor(lib: Librdkafka) {
    this.#lib = lib;
  }

  /**
   * The list holding only `topic`/`partition` at `offset`, to pass to
   * `rd_kafka_offsets_store`; `null` when librdkafka refused to add it.
   */
  list(key: string, topic: string, partition: number, offset: number): Pointer {
    let kept = this.#kept.get(key);
    if (kept === undefined) {
      const lib = this.#lib;
      const list = lib.rd_kafka_topic_partition_list_new(1);
      const elem = lib.rd_kafka_topic_partition_list_add(list, cstr(topic), partition);
      if (elem === null) {
        lib.rd_kafka_topic_partition_list_destroy(list);
        return null;
      }
      kept = { list, elem: new DataView(lib.mem.buffer(elem, TOPPAR_SIZE)) };
      this.#kept.set(key, kept);
    }
    // Two 32-bit halves: no BigInt for a whole-number offset below 2^53.
    kept.elem.setUint32(OFFSET_FIELD, offset >>> 0, true);
    kept.elem.setInt32(OFFSET_FIELD + 4, Math.floor(offset / TWO_32), true);
    return kept.list;
  }

  /** Frees every kept list. */
  clear(): void {
    for (const { list } of this.#kept.values()) {
      this.#lib.rd_kafka_topic_partition_list_destroy(list);
    }
    this.#kept.clear();
  }
}
