/**
 * Struct and pointer helpers: C strings, `rd_kafka_topic_partition_list_t`
 * and the x86_64/aarch64 (LP64) layouts the adapter reads directly.
 *
 * @module
 */

import { topicPartitionKey } from "../../_topic_partition.ts";
import type { Librdkafka } from "./symbols.ts";
import type { Pointer } from "./_layer.ts";
import type { TopicPartition, TopicPartitionOffset } from "../transport.ts";

const encoder = new TextEncoder();

/** A NUL-terminated UTF-8 copy of `text`, to pass as a `buffer` argument. */
export function cstr(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/** `rd_kafka_topic_partition_t` is 64 bytes on LP64. */
const TOPPAR_SIZE = 64;

/** One element of a partition list, with its per-partition error. */
export interface ListedPartition extends TopicPartitionOffset {
  /** The element's `err` field. */
  err: number;
}

/** Copies a `rd_kafka_topic_partition_list_t` into JS objects. */
export function readPartitionList(lib: Librdkafka, list: Pointer): ListedPartition[] {
  if (list === null) return [];
  const mem = lib.mem;
  // rd_kafka_topic_partition_list_t: cnt @0, size @4, elems @8.
  const view = mem.view(list, 16);
  const count = view.getInt32(0);
  const elems = view.getPointer(8);
  if (elems === null || count <= 0) return [];
  const items = mem.view(elems, count * TOPPAR_SIZE);
  const result: ListedPartition[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * TOPPAR_SIZE;
    result.push({
      topic: mem.cstring(items.getPointer(base)) ?? "",
      partition: items.getInt32(base + 8),
      offset: Number(items.getBigInt64(base + 16)),
      err: items.getInt32(base + 48),
    });
  }
  return result;
}

/**
 * Builds a native partition list; the caller destroys it with
 * `rd_kafka_topic_partition_list_destroy`. Offsets are set when present. A
 * partition listed twice appears once, with the offset given last, since
 * librdkafka would otherwise act on each duplicate in turn.
 */
export function newPartitionList(
  lib: Librdkafka,
  partitions: readonly (TopicPartition | TopicPartitionOffset)[],
): Pointer {
  const unique = new Map<string, TopicPartition | TopicPartitionOffset>();
  for (const tp of partitions) unique.set(topicPartitionKey(tp.topic, tp.partition), tp);
  const list = lib.rd_kafka_topic_partition_list_new(Math.max(1, unique.size));
  const names = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const tp of unique.values()) {
    let name = names.get(tp.topic);
    if (name === undefined) names.set(tp.topic, name = cstr(tp.topic));
    const elem = lib.rd_kafka_topic_partition_list_add(list, name, tp.partition);
    if ("offset" in tp && elem !== null) {
      // Writing the field directly avoids set_offset's linear search per element.
      new DataView(lib.mem.buffer(elem, TOPPAR_SIZE))
        .setBigInt64(16, BigInt(tp.offset), true);
    }
  }
  return list;
}

/** Runs `fn` with a native list of `partitions`, destroying it afterwards. */
export function withPartitionList<T>(
  lib: Librdkafka,
  partitions: readonly (TopicPartition | TopicPartitionOffset)[],
  fn: (list: Pointer) => T,
): T {
  const list = newPartitionList(lib, partitions);
  let result: T;
  try {
    result = fn(list);
  } catch (error) {
    lib.rd_kafka_topic_partition_list_destroy(list);
    throw error;
  }
  if (result instanceof Promise) {
    return result.finally(() => lib.rd_kafka_topic_partition_list_destroy(list)) as T;
  }
  lib.rd_kafka_topic_partition_list_destroy(list);
  return result;
}
