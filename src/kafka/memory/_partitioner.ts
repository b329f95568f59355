/**
 * librdkafka's partitioners for the memory adapter, so a keyed message lands on
 * the partition a real producer with the same `partitioner` property would pick.
 *
 * librdkafka's default, `consistent_random`, is CRC-32 of the key modulo the
 * partition count, and a random partition for a null or empty key.
 *
 * @module
 */

import { crc32, fnv1a as signedFnv1a, murmur2 } from "../../partitioner.ts";
import type { PartitionerName } from "../../_librdkafka.ts";

const fnv1a = (bytes: Uint8Array) => signedFnv1a(bytes) >>> 0;

/**
 * The partition librdkafka's `partitioner` picks for `key` among `count`
 * partitions; `random()` (in [0, 1)) serves the random cases.
 */
export function pickPartition(
  partitioner: PartitionerName,
  key: Uint8Array | null,
  count: number,
  random: () => number,
): number {
  const randomly = () => Math.min(count - 1, Math.floor(random() * count));
  const empty = new Uint8Array(0);
  switch (partitioner) {
    case "random":
      return randomly();
    case "consistent":
      return crc32(key ?? empty) % count;
    case "consistent_random":
      return key === null || key.length === 0 ? randomly() : crc32(key) % count;
    case "murmur2":
      return (murmur2(key ?? empty) & 0x7fffffff) % count;
    case "murmur2_random":
      return key === null ? randomly() : (murmur2(key) & 0x7fffffff) % count;
    case "fnv1a":
      return fnv1a(key ?? empty) % count;
    case "fnv1a_random":
      return key === null ? randomly() : fnv1a(key) % count;
  }
}
