/**
 * Turns librdkafka's error codes, `rd_kafka_error_t` objects and
 * configuration failures into Racecar's error classes.
 *
 * @module
 */

import { ConfigError, isRetriable, KafkaError, type KafkaErrorOptions } from "../../errors.ts";
import { ERR, type Librdkafka } from "./symbols.ts";
import type { Pointer } from "./_layer.ts";

/**
 * A {@link KafkaError} for librdkafka's `errno`, with `ERR_` + its name as the
 * code and `message` (or librdkafka's text for the code) as the message.
 */
export function kafkaError(
  lib: Librdkafka,
  errno: number,
  message?: string | null,
  options: KafkaErrorOptions = {},
): KafkaError {
  const name = lib.mem.cstring(lib.rd_kafka_err2name(errno)) ?? String(errno);
  const text = message || lib.mem.cstring(lib.rd_kafka_err2str(errno)) || `Error ${errno}`;
  return new KafkaError(errno, `ERR_${name}`, text, options);
}

/**
 * Reads and frees an `rd_kafka_error_t *`; `null` when there was no error.
 * Its three flags carry over: `fatal` (the client is unusable), `retriable`
 * (the same call may succeed) and `txnRequiresAbort` (the transaction must be
 * aborted): the runner decides between abort-and-retry and a crash on them.
 */
export function takeError(lib: Librdkafka, error: Pointer): KafkaError | null {
  if (error === null) return null;
  try {
    const code = lib.rd_kafka_error_code(error);
    return kafkaError(
      lib,
      code,
      lib.mem.cstring(lib.rd_kafka_error_string(error)),
      {
        fatal: lib.rd_kafka_error_is_fatal(error) !== 0,
        // The flag, or what Racecar knows of the code (librdkafka does not flag every one).
        retriable: lib.rd_kafka_error_is_retriable(error) !== 0 || isRetriable(code),
        txnRequiresAbort: lib.rd_kafka_error_txn_requires_abort(error) !== 0,
      },
    );
  } finally {
    lib.rd_kafka_error_destroy(error);
  }
}

/** The error behind a client's fatal state (`rd_kafka_fatal_error`). */
export function fatalError(lib: Librdkafka, rk: Pointer, fallback: string): KafkaError {
  const buffer = new Uint8Array(512);
  const errno = lib.rd_kafka_fatal_error(rk, buffer, BigInt(buffer.length));
  return kafkaError(lib, errno === ERR.NO_ERROR ? ERR._FATAL : errno, decodeC(buffer) || fallback, {
    fatal: true,
  });
}

/** The `ConfigError` for a property librdkafka refused. */
export function configError(key: string, reason: string): ConfigError {
  return new ConfigError(`Invalid librdkafka property "${key}": ${reason}`, { key });
}

/** Decodes a NUL-terminated string from an `errstr` buffer. */
export function decodeC(buffer: Uint8Array): string {
  const end = buffer.indexOf(0);
  return new TextDecoder().decode(buffer.subarray(0, end < 0 ? buffer.length : end));
}
