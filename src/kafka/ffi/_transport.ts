/**
 * The transport over a loaded librdkafka, whatever call layer loaded it: the
 * part of `mod.ts` (Deno) and `koffi/mod.ts` (Node) that is the same.
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
import type { LoadedLibrary } from "./library.ts";
import { FfiAdmin } from "./admin.ts";
import { FfiConsumer } from "./consumer.ts";
import { FfiProducer } from "./producer.ts";

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

/** A {@link Transport} over librdkafka through an FFI call layer. */
export interface FfiTransport extends Transport {
  /** What the loaded library supports. */
  readonly features: FfiTransportFeatures;
}

/** The transport named `name` over `library`. */
export function transportOver(library: LoadedLibrary, name: string): FfiTransport {
  const lib = library.symbols;
  return {
    name,
    librdkafkaVersion: library.version,
    features: {
      builtin: library.builtin,
      versionNumber: library.versionNumber,
      // Every librdkafka the adapter accepts (2.0+) has the transactional API.
      transactions: true,
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
