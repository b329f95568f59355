/**
 * The Deno FFI transport: Racecar's Kafka port implemented over librdkafka's
 * C API with `Deno.dlopen`. Needs `--allow-ffi` (plus `--allow-read` and
 * `--allow-env` to find the library).
 *
 * @example
 * ```ts ignore
 * import { createFfiTransport } from "./mod.ts";
 * const transport = createFfiTransport();
 * console.log(transport.librdkafkaVersion, transport.features.builtin);
 * ```
 *
 * @module
 */

import type {
  AdminOptions,
  AdminTransport,
  ConsumerOptions,
  ConsumerTransport,
  ProducerOptions,
  ProducerTransport,
  Transport,
  TransportFeatures,
} from "../transport.ts";
import { withConsumerDefaults } from "../_defaults.ts";
import { type LoadedLibrary, loadLibrdkafka, type LoadOptions } from "./library.ts";
import { FfiAdmin } from "./admin.ts";
import { FfiConsumer } from "./consumer.ts";
import { FfiProducer } from "./producer.ts";

export { LibraryNotFoundError } from "../../errors.ts";
export { MIN_VERSION } from "./library.ts";
export type { LoadOptions } from "./library.ts";

/** What the loaded library supports, plus where it came from. */
export interface FfiTransportFeatures extends TransportFeatures {
  /** The file (or system name) librdkafka was loaded from. */
  libraryPath: string;
  /**
   * Functions of newer librdkafka releases that this build exports, e.g.
   * `rd_kafka_message_produce_errstr` (2.3+); the adapter works without them.
   */
  optionalSymbols: readonly string[];
}

/** A {@link Transport} over librdkafka through `Deno.dlopen`. */
export interface FfiTransport extends Transport {
  /** What the loaded library supports. */
  readonly features: FfiTransportFeatures;
}

/**
 * Loads librdkafka (see {@link LoadOptions} for where it looks) and returns a
 * transport over it. Throws a `LibraryNotFoundError` listing every path tried
 * when no librdkafka 2.0 or newer loads.
 *
 * @example
 * ```ts ignore
 * const transport = createFfiTransport();
 * const producer = transport.createProducer({ config: { "bootstrap.servers": "127.0.0.1:9092" } });
 * await producer.produce({ topic: "greetings", value: new TextEncoder().encode("hi") });
 * await producer.close();
 * ```
 */
export function createFfiTransport(options: LoadOptions = {}): FfiTransport {
  return transportOver(loadLibrdkafka(options));
}

function transportOver(library: LoadedLibrary): FfiTransport {
  const lib = library.symbols;
  return {
    name: "deno-ffi",
    librdkafkaVersion: library.version,
    features: {
      builtin: library.builtin,
      versionNumber: library.versionNumber,
      libraryPath: library.path,
      optionalSymbols: library.optionalSymbols,
    },
    createConsumer: (options: ConsumerOptions): ConsumerTransport =>
      new FfiConsumer(lib, {
        ...options,
        config: withConsumerDefaults(options.config, library.versionNumber),
      }),
    createProducer: (options: ProducerOptions): ProducerTransport => new FfiProducer(lib, options),
    createAdmin: (options: AdminOptions): AdminTransport => new FfiAdmin(lib, options),
  };
}
