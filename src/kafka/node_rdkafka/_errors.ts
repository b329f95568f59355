/**
 * Errors of the node-rdkafka adapter: librdkafka's codes, names and texts, and
 * the mapping of whatever node-rdkafka throws to {@link KafkaError}.
 *
 * @module
 */

import Kafka from "node-rdkafka";
import type { LibrdKafkaError } from "node-rdkafka";
import { ConfigError, KafkaError } from "../../errors.ts";
import type { ConfigMap } from "../transport.ts";

export const ERR = {
  FAIL: -196,
  PARTITION_EOF: -191,
  TIMED_OUT: -185,
  STATE: -172,
  NO_OFFSET: -168,
  PURGE_QUEUE: -152,
  FATAL: -150,
  MAX_POLL_EXCEEDED: -147,
  ASSIGNMENT_LOST: -142,
  ASSIGN_PARTITIONS: -175,
  REVOKE_PARTITIONS: -174,
  MSG_TIMED_OUT: -192,
  UNKNOWN_TOPIC_OR_PART: 3,
  TOPIC_ALREADY_EXISTS: 36,
} as const;

let codeNames: Map<number, string> | undefined;
let codesByText: Map<string, number> | undefined;

/** librdkafka's `ERR_*` name for a code, as the FFI adapter derives it from `rd_kafka_err2name`. */
function codeName(errno: number): string {
  if (codeNames === undefined) {
    codeNames = new Map();
    for (const [name, code] of Object.entries(Kafka.CODES.ERRORS)) {
      // Later entries are aliases (e.g. ERR_GROUP_LOAD_IN_PROGRESS); librdkafka names the first.
      if (name === "ERR__BEGIN" || name === "ERR__END" || codeNames.has(code)) continue;
      codeNames.set(code, name);
    }
  }
  return codeNames.get(errno) ?? `ERR_${errno}`;
}

/** librdkafka's text for a code (`rd_kafka_err2str`), through the addon's own error wrapper. */
function codeText(errno: number): string {
  try {
    // The public API only exposes err2str through this wrapper, which throws the error it builds.
    (Kafka.Producer.prototype as unknown as { _errorWrap(code: number): unknown })._errorWrap
      .call(null, errno);
  } catch (error) {
    return (error as { message?: string }).message ?? `Err-${errno}?`;
  }
  return "Success";
}

/**
 * node-rdkafka hands error events over as bare `Error`s carrying only
 * librdkafka's text; find the code back from the text.
 */
function codeFromText(text: string): number | undefined {
  if (codesByText === undefined) {
    codesByText = new Map();
    for (const code of Object.values(Kafka.CODES.ERRORS)) {
      const key = codeText(code).toLowerCase();
      if (!codesByText.has(key)) codesByText.set(key, code);
    }
  }
  return codesByText.get(text.toLowerCase());
}

/** Builds the adapter-neutral error for a librdkafka code. */
export function kafkaError(errno: number, message?: string, cause?: unknown): KafkaError {
  return new KafkaError(errno, codeName(errno), message ?? codeText(errno), {
    fatal: errno === ERR.FATAL,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Maps whatever node-rdkafka threw or called back with to a {@link KafkaError}. */
export function toKafkaError(error: unknown, context?: string): KafkaError {
  if (error instanceof KafkaError) return error;
  const e = (error ?? {}) as Partial<LibrdKafkaError> & { origin?: string };
  let errno = typeof e.code === "number" && e.code !== -1 ? e.code : undefined;
  let text = typeof e.message === "string" ? e.message : String(error);
  if (errno === undefined) {
    const full = e.origin && e.origin !== "unknown" ? `${e.origin}: ${text}` : text;
    errno = codeFromText(full) ?? codeFromText(text);
    if (errno !== undefined) text = codeText(errno);
    else if (/disconnected|not connected/i.test(text)) errno = ERR.STATE;
    else errno = ERR.FAIL;
  }
  const message = context === undefined ? text : `${context}: ${text}`;
  return new KafkaError(errno, codeName(errno), message, {
    fatal: e.isFatal === true || errno === ERR.FATAL,
    // librdkafka's rd_kafka_error_t flags, which node-rdkafka passes on for transactional calls.
    ...(e.isRetriable === true ? { retriable: true } : {}),
    txnRequiresAbort: e.isTxnRequiresAbort === true,
    cause: error,
  });
}

/** librdkafka refused a property: name it. */
export function configError(role: string, error: unknown, config: ConfigMap): ConfigError {
  const text = (error as { message?: string })?.message ?? String(error);
  const quoted = /property:? "([^"]+)"/.exec(text)?.[1];
  const key = quoted !== undefined && quoted in config
    ? quoted
    : Object.keys(config).find((k) => quoted !== undefined && text.includes(`"${k}"`)) ?? quoted;
  // Same wording as the FFI adapter, which learns the key from rd_kafka_conf_set.
  return new ConfigError(
    key === undefined
      ? `Cannot create ${role}: librdkafka refused the configuration: ${text}`
      : `Invalid librdkafka property "${key}": ${text}`,
    key === undefined ? { cause: error } : { cause: error, key },
  );
}
