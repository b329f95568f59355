/**
 * The adapter names `RACECAR_TRANSPORT` accepts, shared by the Deno and Node
 * variants of `default_transport.ts`.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";

/** Adapter names `RACECAR_TRANSPORT` accepts. */
export const TRANSPORT_NAMES = ["deno-ffi", "node-rdkafka", "koffi", "bun-ffi", "memory"] as const;

/** One of {@link TRANSPORT_NAMES}. */
export type TransportName = typeof TRANSPORT_NAMES[number];

/** The error for a `RACECAR_TRANSPORT` value that names no adapter. */
export function unknownTransport(name: string): ConfigError {
  return new ConfigError(
    `Cannot load transport "${name}": 'RACECAR_TRANSPORT' must be one of ` +
      `${TRANSPORT_NAMES.map((n) => `"${n}"`).join(", ")}`,
    { key: "RACECAR_TRANSPORT" },
  );
}

/** The error for `RACECAR_TRANSPORT=node-rdkafka` under Deno. */
export function nodeRdkafkaUnderDeno(): ConfigError {
  return new ConfigError(
    `Cannot load transport "node-rdkafka" under Deno: node-rdkafka is a NAN addon, ` +
      `which Deno cannot load; use "deno-ffi" (the default) under Deno, or run the npm ` +
      `package under Node.js`,
    { key: "RACECAR_TRANSPORT" },
  );
}
