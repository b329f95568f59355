/**
 * Struct and pointer helpers: C strings, `rd_kafka_topic_partition_list_t`
 * and the x86_64/aarch64 (LP64) layouts the adapter reads directly.
 *
 * @module
 */

import type { Librdkafka } from "./symbols.ts";
import type { TopicPartition, TopicPartitionOffset } from "../transport.ts";

const encoder = new TextEncoder();

/** A NUL-terminated UTF-8 copy of `text`, to pass as a `buffer` argument. */
export function cstr(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}

/** Reads a C string; `null` for a NULL pointer. */
export function readCString(pointer: Deno.PointerValue): string | null {
  return pointer === null ? null : Deno.UnsafePointerView.getCString(pointer);
}

/** A pointer's address, usable as a map key. */
export function address(pointer: Deno.PointerValue): bigint {
  return BigInt(Deno.UnsafePointer.value(pointer));
}

/** `rd_kafka_topic_partition_t` is 64 bytes on LP64. */
const TOPPAR_SIZE = 64;

/** One element of a partition list, with its per-partition error. */
export interface ListedPartition extends TopicPartitionOffset {
  /** The element's `err` field. */
  err: number;
}

/** Copies a `rd_kafka_topic_partition_list_t` into JS objects. */
export function readPartitionList(list: Deno.PointerValue): ListedPartition[] {
  if (list === null) return [];
  const view = new Deno.UnsafePointerView(list);
  const count = view.getInt32(0);
  const elems = view.getPointer(8);
  if (elems === null || count <= 0) return [];
  const items = new Deno.UnsafePointerView(elems);
  const result: ListedPartition[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * TOPPAR_SIZE;
    result.push({
      topic: readCString(items.getPointer(base)) ?? "",
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
): Deno.PointerValue {
  const unique = new Map<string, TopicPartition | TopicPartitionOffset>();
  for (const tp of partitions) unique.set(partitionKey(tp.topic, tp.partition), tp);
  const list = lib.rd_kafka_topic_partition_list_new(Math.max(1, unique.size));
  const names = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const tp of unique.values()) {
    let name = names.get(tp.topic);
    if (name === undefined) names.set(tp.topic, name = cstr(tp.topic));
    const elem = lib.rd_kafka_topic_partition_list_add(list, name, tp.partition);
    if ("offset" in tp && elem !== null) {
      // Writing the field directly avoids set_offset's linear search per element.
      new DataView(Deno.UnsafePointerView.getArrayBuffer(elem, TOPPAR_SIZE))
        .setBigInt64(16, BigInt(tp.offset), true);
    }
  }
  return list;
}

/** Runs `fn` with a native list of `partitions`, destroying it afterwards. */
export function withPartitionList<T>(
  lib: Librdkafka,
  partitions: readonly (TopicPartition | TopicPartitionOffset)[],
  fn: (list: Deno.PointerValue) => T,
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

/** `topic\u0000partition`, a map key for a partition. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
