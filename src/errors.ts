/**
 * Racecar's error classes. Each carries a stable `code`, a `retriable` flag and,
 * where one exists, a `cause`. Bad arguments to a function are plain
 * `TypeError`/`RangeError`s; everything else is a {@link RacecarError}.
 *
 * @module
 */

import { isRetriable, LIBRDKAFKA_ERRORS as E } from "./_librdkafka.ts";

/**
 * What went wrong, as a stable string: one of Racecar's own codes, or, for a
 * {@link KafkaError}, librdkafka's name for its error (`ERR_` + the name, e.g.
 * `ERR__MSG_TIMED_OUT`).
 */
export type RacecarErrorCode =
  /** A configuration mistake ({@link ConfigError}). */
  | "CONFIG"
  /** A command called wrongly (the CLI's `UsageError`). */
  | "USAGE"
  /** librdkafka could not be loaded ({@link LibraryNotFoundError}). */
  | "LIBRDKAFKA_NOT_FOUND"
  /** A consumer class implements neither `process` nor `processBatch`. */
  | "NO_PROCESS_METHOD"
  /** A consumer class subscribes to no topic. */
  | "NO_SUBSCRIPTIONS"
  /** A stop outlasted `shutdown_timeout`. */
  | "SHUTDOWN_TIMEOUT"
  /** Processing failed with `pause_timeout` 0. */
  | "PROCESSING_FAILED"
  /** More failures in a row than `dead_letter_safety_limit`. */
  | "DEAD_LETTER_LIMIT"
  /** `configureDefaultProducer` after the default producer was created. */
  | "DEFAULT_PRODUCER_EXISTS"
  /** Brokers refused the connection's credentials or certificate. */
  | "CONNECTION_SETUP"
  /** `--daemonize` could not start or claim its pidfile. */
  | "DAEMON"
  /** librdkafka's error name ({@link KafkaError}). */
  | `ERR_${string}`;

/**
 * The codes of a user's mistakes, which the CLI reports in one line with exit
 * code 2. Checked by code, not class, so an error raised by another copy of
 * the library (an app's own import next to the CLI's) counts too.
 */
export const USAGE_ERROR_CODES: ReadonlySet<RacecarErrorCode> = new Set<RacecarErrorCode>([
  "USAGE",
  "CONFIG",
  "NO_PROCESS_METHOD",
  "NO_SUBSCRIPTIONS",
  "LIBRDKAFKA_NOT_FOUND",
]);

/**
 * Whether an error is a user's mistake rather than a crash.
 *
 * @example
 * ```ts
 * import { ConfigError, isUsageError } from "./errors.ts";
 * console.assert(isUsageError(new ConfigError("Invalid configuration 'brokers'")));
 * console.assert(isUsageError(Object.assign(new Error("from another copy"), { code: "CONFIG" })));
 * console.assert(!isUsageError(new RangeError("bad argument")));
 * ```
 */
export function isUsageError(error: unknown): boolean {
  return error instanceof Error && USAGE_ERROR_CODES.has((error as RacecarError).code);
}

/** Options shared by Racecar's errors. */
export interface RacecarErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** Whether trying the same thing again may succeed. @default false */
  retriable?: boolean;
}

/**
 * The base of every error Racecar raises on purpose.
 *
 * @example
 * ```ts
 * import { RacecarError } from "./errors.ts";
 * const error = new RacecarError("CONFIG", "Cannot start consumer: 'brokers' must not be empty");
 * console.assert(error.code === "CONFIG" && !error.retriable);
 * ```
 */
export class RacecarError extends Error {
  /** A stable, machine-readable code. */
  readonly code: RacecarErrorCode;
  /** Whether trying again may succeed. */
  readonly retriable: boolean;

  /** Creates an error with a code and a message. */
  constructor(code: RacecarErrorCode, message: string, options: RacecarErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RacecarError";
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/**
 * A user's configuration mistake: an unknown key, a value of the wrong type, a
 * librdkafka property librdkafka refuses. The CLI prints it without a stack
 * trace and exits with code 2.
 */
export class ConfigError extends RacecarError {
  /** The offending key, when there is one. */
  readonly key: string | undefined;

  /** Creates a configuration error, optionally naming the key at fault. */
  constructor(message: string, options: RacecarErrorOptions & { key?: string } = {}) {
    super("CONFIG", message, options);
    this.name = "ConfigError";
    this.key = options.key;
  }
}

/** librdkafka could not be found or loaded. */
export class LibraryNotFoundError extends RacecarError {
  /** Every path that was tried, in order. */
  readonly tried: readonly string[];

  /** Creates the error from the list of paths tried and why each failed. */
  constructor(message: string, tried: readonly string[], options: RacecarErrorOptions = {}) {
    super("LIBRDKAFKA_NOT_FOUND", message, options);
    this.name = "LibraryNotFoundError";
    this.tried = tried;
  }
}

/** Extra facts about a {@link KafkaError}. */
export interface KafkaErrorOptions extends RacecarErrorOptions {
  /** The client cannot be used any more. @default false */
  fatal?: boolean;
  /**
   * The open transaction cannot commit any more: abort it, then start over
   * (librdkafka's `rd_kafka_error_txn_requires_abort`). @default false
   */
  txnRequiresAbort?: boolean;
}

/**
 * An error reported by librdkafka (or the memory adapter in its place).
 *
 * `errno` is librdkafka's numeric `rd_kafka_resp_err_t`; `code` is
 * `ERR_` + librdkafka's name for it, e.g. `ERR__MSG_TIMED_OUT` (-192) or
 * `ERR_UNKNOWN_TOPIC_OR_PART` (3), the same names node-rdkafka uses.
 */
export class KafkaError extends RacecarError {
  /** librdkafka's numeric error code. */
  readonly errno: number;
  /** The client cannot be used any more. */
  readonly fatal: boolean;
  /**
   * A transactional producer's open transaction must be aborted before
   * anything else (the work in it is then done again); see `src/transaction.ts`.
   */
  readonly txnRequiresAbort: boolean;

  /** Creates an error from librdkafka's code, name (`ERR_...`) and message. */
  constructor(errno: number, code: string, message: string, options: KafkaErrorOptions = {}) {
    super(code as `ERR_${string}`, message, {
      ...options,
      retriable: options.retriable ?? isRetriable(errno),
    });
    this.name = "KafkaError";
    this.errno = errno;
    this.fatal = options.fatal ?? false;
    this.txnRequiresAbort = options.txnRequiresAbort ?? false;
  }
}

/** Error codes that callers meet often enough to name (librdkafka's numbers, `_librdkafka.ts`). */
export const ErrorCode = {
  /** Local: message timed out (delivery gave up after `message.timeout.ms`). */
  MSG_TIMED_OUT: E._MSG_TIMED_OUT[0],
  /** Local: broker transport failure. */
  TRANSPORT: E._TRANSPORT[0],
  /** Local: all brokers are down. */
  ALL_BROKERS_DOWN: E._ALL_BROKERS_DOWN[0],
  /** Local: the producer queue is full. */
  QUEUE_FULL: E._QUEUE_FULL[0],
  /** Local: timed out. */
  TIMED_OUT: E._TIMED_OUT[0],
  /** Local: no offset to commit. */
  NO_OFFSET: E._NO_OFFSET[0],
  /** Local: erroneous state (e.g. a partition no longer assigned). */
  STATE: E._STATE[0],
  /** Local: authentication failure. */
  AUTHENTICATION: E._AUTHENTICATION[0],
  /** Local: SSL error. */
  SSL: E._SSL[0],
  /** Local: unknown topic. */
  UNKNOWN_TOPIC: E._UNKNOWN_TOPIC[0],
  /** Local: unknown partition. */
  UNKNOWN_PARTITION: E._UNKNOWN_PARTITION[0],
  /** Local: invalid argument or configuration. */
  INVALID_ARG: E._INVALID_ARG[0],
  /** Local: maximum poll interval exceeded. */
  MAX_POLL_EXCEEDED: E._MAX_POLL_EXCEEDED[0],
  /** Local: a fatal error was raised. */
  FATAL: E._FATAL[0],
  /** Local: the assignment was lost. */
  ASSIGNMENT_LOST: E._ASSIGNMENT_LOST[0],
  /** Broker: unknown topic or partition. */
  UNKNOWN_TOPIC_OR_PART: E.UNKNOWN_TOPIC_OR_PART[0],
  /** Broker: message size too large. */
  MSG_SIZE_TOO_LARGE: E.MSG_SIZE_TOO_LARGE[0],
  /** Broker: not coordinator. */
  NOT_COORDINATOR: E.NOT_COORDINATOR[0],
  /** Broker: message batch larger than the configured segment size. */
  RECORD_LIST_TOO_LARGE: E.RECORD_LIST_TOO_LARGE[0],
  /** Broker: topic authorization failed. */
  TOPIC_AUTHORIZATION_FAILED: E.TOPIC_AUTHORIZATION_FAILED[0],
  /** Broker: group authorization failed. */
  GROUP_AUTHORIZATION_FAILED: E.GROUP_AUTHORIZATION_FAILED[0],
  /** Broker: topic already exists. */
  TOPIC_ALREADY_EXISTS: E.TOPIC_ALREADY_EXISTS[0],
  /** Broker: SASL authentication failed. */
  SASL_AUTHENTICATION_FAILED: E.SASL_AUTHENTICATION_FAILED[0],
  /** Local: not implemented (e.g. group listing under node-rdkafka). */
  NOT_IMPLEMENTED: E._NOT_IMPLEMENTED[0],
  /** Local: host resolution failure. */
  RESOLVE: E._RESOLVE[0],
  /** Broker: the generation id is not the group's current one. */
  ILLEGAL_GENERATION: E.ILLEGAL_GENERATION[0],
  /** Broker: the member id is not in the group (e.g. a commit from outside an active group). */
  UNKNOWN_MEMBER_ID: E.UNKNOWN_MEMBER_ID[0],
  /** Broker: the group is rebalancing. */
  REBALANCE_IN_PROGRESS: E.REBALANCE_IN_PROGRESS[0],
} as const;

export { isRetriable } from "./_librdkafka.ts";

/**
 * A message produced by a consumer (or through the standalone producer) that
 * could not be delivered. Its message explains the likely cause, as racecar's
 * `MessageDeliveryError` does.
 */
export class DeliveryError extends KafkaError {
  /** The topic the message was for. */
  readonly topic: string;
  /** The partition, when one was known. */
  readonly partition: number | undefined;

  /** Wraps the delivery failure `cause` for a message to `topic`. */
  constructor(cause: KafkaError, topic: string, partition?: number) {
    super(cause.errno, cause.code, deliveryMessage(cause, topic, partition), {
      cause,
      fatal: cause.fatal,
      retriable: cause.retriable,
      txnRequiresAbort: cause.txnRequiresAbort,
    });
    this.name = "DeliveryError";
    this.topic = topic;
    this.partition = partition;
  }
}

function deliveryMessage(cause: KafkaError, topic: string, partition?: number): string {
  const where = `topic "${topic}"${
    partition === undefined || partition < 0 ? "" : ` partition ${partition}`
  }`;
  const head = `Message delivery to ${where} failed: ${cause.message} (${cause.code})`;
  switch (cause.errno) {
    case ErrorCode.MSG_TIMED_OUT:
      return `${head}. The broker did not acknowledge it within 'message_timeout': ` +
        `check that the brokers are reachable and the topic's partitions have a leader`;
    case ErrorCode.MSG_SIZE_TOO_LARGE:
      return `${head}. The message is larger than the broker or topic accepts: ` +
        `raise the topic's 'max.message.bytes' and the producer's 'message.max.bytes', or send less`;
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return `${head}. A batch of messages is larger than the topic's segment size: ` +
        `lower the producer's 'batch.size' or raise the topic's 'segment.bytes'`;
    case ErrorCode.UNKNOWN_TOPIC_OR_PART:
    case ErrorCode.UNKNOWN_TOPIC:
      return `${head}. The topic does not exist: create it first, or enable ` +
        `'auto.create.topics.enable' on the brokers`;
    case ErrorCode.TOPIC_AUTHORIZATION_FAILED:
      return `${head}. This client may not write to the topic: grant it Write and Describe ACLs`;
    default:
      return head;
  }
}

/** What an error handler learns about the failed work (racecar's payload). */
export interface ErrorInfo {
  /** Name of the consumer class. */
  consumerClass: string;
  /** Topic. */
  topic: string;
  /** Partition. */
  partition: number;
  /** Offset of the failed message (single-message mode). */
  offset?: number;
  /** First offset of the failed batch (batch mode). */
  firstOffset?: number;
  /** Last offset of the failed batch (batch mode). */
  lastOffset?: number;
  /** Create time of the message (or the batch's last). */
  createTime: Date | null;
  /** Key of the failed message (single-message mode). */
  key?: Uint8Array | null;
  /** Value of the failed message (single-message mode). */
  value?: Uint8Array | null;
  /** Headers of the failed message (single-message mode). */
  headers?: Readonly<Record<string, string>>;
  /** Number of messages (batch mode). */
  messageCount?: number;
  /** Failures in a row before this one. */
  retriesCount: number;
}
