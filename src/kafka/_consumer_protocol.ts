/**
 * Kafka's consumer protocol assignment (`ConsumerProtocolAssignment`), the
 * bytes a group coordinator hands back for each member: which partitions of
 * which topics it owns. Pure, so admin adapters that only get the raw bytes
 * share one decoder.
 *
 * @module
 */

import type { TopicPartition } from "./transport.ts";

/**
 * Decodes a member's assignment: int16 version, then an array (int32 count) of
 * topics, each a string (int16 length, UTF-8) and an array of int32
 * partitions; user data follows and is ignored. Throws a `RangeError` for
 * truncated bytes.
 *
 * @example
 * ```ts
 * import { decodeAssignment } from "./_consumer_protocol.ts";
 * // version 0, one topic "t" with partitions 0 and 2, no user data
 * const bytes = new Uint8Array([0, 0, 0, 0, 0, 1, 0, 1, 116, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2]);
 * console.assert(JSON.stringify(decodeAssignment(bytes)) ===
 *   '[{"topic":"t","partition":0},{"topic":"t","partition":2}]');
 * ```
 */
export function decodeAssignment(bytes: Uint8Array): TopicPartition[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.byteLength) {
      throw new RangeError(
        `Cannot decode a group member's assignment: ${bytes.byteLength} bytes end before ` +
          `offset ${at + n}`,
      );
    }
  };
  const int16 = () => (need(2), at += 2, view.getInt16(at - 2));
  const int32 = () => (need(4), at += 4, view.getInt32(at - 4));
  const decoder = new TextDecoder();
  int16(); // version
  const result: TopicPartition[] = [];
  const topics = int32();
  for (let t = 0; t < topics; t++) {
    const length = int16();
    need(length);
    const topic = decoder.decode(bytes.subarray(at, at + length));
    at += length;
    const partitions = int32();
    for (let p = 0; p < partitions; p++) result.push({ topic, partition: int32() });
  }
  return result;
}
