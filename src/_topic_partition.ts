/**
 * How Racecar spells one partition of a topic, as a map key and in messages:
 * `topic/partition`. Kafka topic names cannot contain `/`, so the key is
 * unambiguous.
 *
 * @module
 */

/**
 * `topic/partition`, e.g. `orders/3`.
 *
 * @example
 * ```ts
 * import { topicPartitionKey } from "./_topic_partition.ts";
 * console.assert(topicPartitionKey("orders", 3) === "orders/3");
 * ```
 */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/**
 * The topic and partition of a {@link topicPartitionKey}.
 *
 * @example
 * ```ts
 * import { parseTopicPartitionKey } from "./_topic_partition.ts";
 * const { topic, partition } = parseTopicPartitionKey("orders/3");
 * console.assert(topic === "orders" && partition === 3);
 * ```
 */
export function parseTopicPartitionKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf("/");
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}
