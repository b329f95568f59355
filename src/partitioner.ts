/**
 * librdkafka's key partitioners in JS, for `partitionKey`: the message goes to
 * the partition its partition key would pick, while its real key is kept.
 * Same hashes as librdkafka, so a partition key and an equal message key land
 * on the same partition.
 *
 * @module
 */

export type { PartitionerName } from "./_librdkafka.ts";
import type { PartitionerName } from "./_librdkafka.ts";

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), the hash of librdkafka's `consistent` partitioners. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** MurmurHash2 as Kafka's Java client computes it (seed 0x9747b28c). */
export function murmur2(bytes: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = bytes.length;
  let h = (0x9747b28c ^ length) | 0;
  const blocks = length >> 2;
  for (let i = 0; i < blocks; i++) {
    const j = i * 4;
    let k = (bytes[j]! & 0xff) | ((bytes[j + 1]! & 0xff) << 8) | ((bytes[j + 2]! & 0xff) << 16) |
      ((bytes[j + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = blocks * 4;
  const rest = length & 3;
  if (rest === 3) h ^= (bytes[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (bytes[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= bytes[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** FNV-1a (32 bit), the hash of librdkafka's `fnv1a` partitioners. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of bytes) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** The partition `key` maps to among `count` partitions under `partitioner`. */
export function partitionFor(key: Uint8Array, count: number, partitioner: PartitionerName): number {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Invalid partition count ${count}: expected a positive integer`);
  }
  switch (partitioner) {
    case "murmur2":
    case "murmur2_random":
      return (murmur2(key) & 0x7fffffff) % count;
    case "fnv1a":
    case "fnv1a_random":
      return (fnv1a(key) >>> 0) % count;
    case "random":
      return Math.floor(Math.random() * count);
    default:
      return crc32(key) % count;
  }
}
