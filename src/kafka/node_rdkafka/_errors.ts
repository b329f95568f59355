/**
 * Errors of the node-rdkafka adapter: the mapping of whatever node-rdkafka
 * throws to {@link KafkaError}, with librdkafka's names and texts
 * (`src/_librdkafka.ts`).
 *
 * @module
 */

import type { LibrdKafkaError } from "node-rdkafka";
import { ConfigError, KafkaError } from "../../errors.ts";
import type { ConfigMap } from "../transport.ts";
import { ERR, errnoFromText, errorName, errorText } from "../../_librdkafka.ts";

/** Builds the adapter-neutral error for a librdkafka code. */
export function kafkaError(errno: number, message?: string, cause?: unknown): KafkaError {
  return new KafkaError(errno, errorName(errno), message ?? errorText(errno), {
    fatal: errno === ERR._FATAL,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Maps whatever node-rdkafka threw or called back with to a {@link KafkaError}. */
export function toKafkaError(error: unknown, context?: string): KafkaError {
  if (error instanceof KafkaError) return error;
  const e = (error ?? {}) as Partial<LibrdKafkaError> & { origin?: string };
  let errno = typeof e.code === "number" && e.code !== ERR.UNKNOWN ? e.code : undefined;
  let text = typeof e.message === "string" ? e.message : String(error);
  if (errno === undefined) {
    const full = e.origin && e.origin !== "unknown" ? `${e.origin}: ${text}` : text;
    errno = errnoFromText(full) ?? errnoFromText(text);
    if (errno !== undefined) text = errorText(errno);
    else if (/disconnected|not connected/i.test(text)) errno = ERR._STATE;
    else errno = ERR._FAIL;
  }
  const message = context === undefined ? text : `${context}: ${text}`;
  return new KafkaError(errno, errorName(errno), message, {
    fatal: e.isFatal === true || errno === ERR._FATAL,
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
