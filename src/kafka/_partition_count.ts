/**
 * Reading a topic's partition count while the cluster may not know the topic
 * yet: Kafka creates topics asynchronously, so the broker that answers a
 * metadata request right after `createTopics` can still report
 * `UNKNOWN_TOPIC_OR_PART`. librdkafka waits for such a topic when producing to
 * it; every adapter's `partitionCount` waits the same way, within its timeout.
 *
 * @module
 */

import { ErrorCode, KafkaError } from "../errors.ts";

/** Pause between two metadata requests while the topic is not known yet. */
const RETRY_MS = 100;

/** Whether `error` says the topic is not (yet) in the cluster's metadata. */
export function isUnknownTopic(error: unknown): error is KafkaError {
  return error instanceof KafkaError &&
    (error.errno === ErrorCode.UNKNOWN_TOPIC_OR_PART || error.errno === ErrorCode.UNKNOWN_TOPIC);
}

/** The error once `topic` stayed unknown for `timeoutMs`; `cause` is the last answer. */
export function topicStillUnknown(topic: string, timeoutMs: number, cause: KafkaError): KafkaError {
  return new KafkaError(
    cause.errno,
    cause.code,
    `Cannot read partition count: topic "${topic}" is still unknown to the cluster after ` +
      `${timeoutMs} ms (${cause.message}); create it first, or enable 'auto.create.topics.enable' ` +
      `on the brokers`,
    { cause, retriable: false },
  );
}

/**
 * Calls `read` (one metadata request, given the time left) until it answers,
 * again while the topic is unknown or the failure is retriable, until
 * `timeoutMs` ran out.
 */
export async function readPartitionCount(
  topic: string,
  timeoutMs: number,
  read: (remainingMs: number) => Promise<number>,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read(Math.max(1, deadline - Date.now()));
    } catch (error) {
      const unknown = isUnknownTopic(error);
      if (!unknown && !(error instanceof KafkaError && error.retriable)) throw error;
      if (Date.now() + RETRY_MS > deadline) {
        throw unknown ? topicStillUnknown(topic, timeoutMs, error) : error;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}
