/**
 * librdkafka's error names and texts for the codes the memory adapter raises,
 * so its {@link KafkaError}s look exactly like the real adapters' ones.
 *
 * @module
 */

import { ErrorCode, KafkaError, type KafkaErrorOptions } from "../../errors.ts";

/** librdkafka's description of each code, as `rd_kafka_err2str` gives it. */
const TEXTS: Record<number, [name: string, text: string]> = {
  [-197]: ["_DESTROY", "Local: Broker handle destroyed"],
  [-195]: ["_TRANSPORT", "Local: Broker transport failure"],
  [-192]: ["_MSG_TIMED_OUT", "Local: Message timed out"],
  [-190]: ["_UNKNOWN_PARTITION", "Local: Unknown partition"],
  [-188]: ["_UNKNOWN_TOPIC", "Local: Unknown topic"],
  [-187]: ["_ALL_BROKERS_DOWN", "Local: All broker connections are down"],
  [-186]: ["_INVALID_ARG", "Local: Invalid argument or configuration"],
  [-185]: ["_TIMED_OUT", "Local: Timed out"],
  [-184]: ["_QUEUE_FULL", "Local: Queue full"],
  [-172]: ["_STATE", "Local: Erroneous state"],
  [-168]: ["_NO_OFFSET", "Local: No offset stored"],
  [-152]: ["_PURGE_QUEUE", "Local: Purged in queue"],
  [-150]: ["_FATAL", "Local: Fatal error"],
  [-147]: [
    "_MAX_POLL_EXCEEDED",
    "Local: Maximum application poll interval (max.poll.interval.ms) exceeded",
  ],
  [-143]: ["_APPLICATION", "Local: Application generated error"],
  [-142]: ["_ASSIGNMENT_LOST", "Local: Assignment lost"],
  [-140]: ["_AUTO_OFFSET_RESET", "Local: No offset to automatically reset to"],
  [3]: ["UNKNOWN_TOPIC_OR_PART", "Broker: Unknown topic or partition"],
  [10]: ["MSG_SIZE_TOO_LARGE", "Broker: Message size too large"],
  [16]: ["NOT_COORDINATOR", "Broker: Not coordinator"],
  [17]: ["TOPIC_EXCEPTION", "Broker: Invalid topic"],
  [18]: [
    "RECORD_LIST_TOO_LARGE",
    "Broker: Message batch larger than configured server segment size",
  ],
  [27]: ["REBALANCE_IN_PROGRESS", "Broker: Group rebalance in progress"],
  [29]: ["TOPIC_AUTHORIZATION_FAILED", "Broker: Topic authorization failed"],
  [30]: ["GROUP_AUTHORIZATION_FAILED", "Broker: Group authorization failed"],
  [36]: ["TOPIC_ALREADY_EXISTS", "Broker: Topic already exists"],
  [37]: ["INVALID_PARTITIONS", "Broker: Invalid number of partitions"],
  [58]: ["SASL_AUTHENTICATION_FAILED", "Broker: SASL Authentication failed"],
};

/** `ERR_` + librdkafka's name for `errno`, e.g. `ERR__MSG_TIMED_OUT` for -192. */
export function errorName(errno: number): string {
  const known = TEXTS[errno]?.[0];
  if (known !== undefined) return `ERR_${known}`;
  for (const [key, value] of Object.entries(ErrorCode)) {
    if (value === errno) return `ERR_${errno < 0 ? "_" : ""}${key}`;
  }
  return `ERR_${errno < 0 ? "_" : ""}UNKNOWN_${Math.abs(errno)}`;
}

/** A {@link KafkaError} for `errno` with librdkafka's text, then `detail` after a colon. */
export function kafkaError(
  errno: number,
  detail?: string,
  options: KafkaErrorOptions = {},
): KafkaError {
  const text = TEXTS[errno]?.[1] ?? `Error ${errno}`;
  return new KafkaError(
    errno,
    errorName(errno),
    detail === undefined ? text : `${text}: ${detail}`,
    options,
  );
}
