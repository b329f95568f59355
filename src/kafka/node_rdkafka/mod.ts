/**
 * The node-rdkafka adapter: the transport port over the `node-rdkafka` addon,
 * for Racecar running under Node.js (the compiled npm package).
 *
 * Deno cannot load node-rdkafka (it is a NAN addon), so this module is only
 * ever loaded under Node (`RACECAR_TRANSPORT=node-rdkafka`, or imported from
 * its subpath `racecar/adapters/node-rdkafka`). The parts: `_consumer.ts`,
 * `_producer.ts`, `_admin.ts`, `_errors.ts` (error mapping) and `_helpers.ts`
 * (conversions, event wiring, connecting).
 *
 * Where node-rdkafka hides something librdkafka knows, the adapter makes up for
 * it so it behaves like the Deno FFI adapter. What it cannot make up for is
 * listed in `docs/node.md` under "Limitations" and pinned by tests.
 *
 * @module
 */

import { withConsumerDefaults } from "../_defaults.ts";
import Kafka from "node-rdkafka";
import type { Transport } from "../transport.ts";
import { NodeRdkafkaConsumer } from "./_consumer.ts";
import { NodeRdkafkaProducer } from "./_producer.ts";
import { NodeRdkafkaAdmin } from "./_admin.ts";

function versionNumber(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version.split(".").map((n) => parseInt(n, 10) || 0);
  // As rd_kafka_version() reports a final release: 0xMMmmrrff.
  return ((major << 24) | (minor << 16) | (patch << 8) | 0xff) >>> 0;
}

/**
 * Creates the node-rdkafka adapter. Only works under Node.js with the
 * `node-rdkafka` package installed.
 *
 * @example
 * ```ts ignore
 * import { createNodeRdkafkaTransport } from "./mod.ts";
 * const transport = createNodeRdkafkaTransport();
 * const producer = transport.createProducer({ config: { "bootstrap.servers": "127.0.0.1:9092" } });
 * await producer.produce({ topic: "greetings", value: new TextEncoder().encode("hello") });
 * await producer.close();
 * ```
 */
export function createNodeRdkafkaTransport(): Transport {
  const version = Kafka.librdkafkaVersion;
  return {
    name: "node-rdkafka",
    librdkafkaVersion: version,
    features: {
      builtin: [...Kafka.features],
      versionNumber: versionNumber(version),
      transactions: true,
    },
    createConsumer: (options) =>
      new NodeRdkafkaConsumer({
        ...options,
        config: withConsumerDefaults(options.config, versionNumber(version)),
      }),
    createProducer: (options) => new NodeRdkafkaProducer(options),
    createAdmin: (options) => new NodeRdkafkaAdmin(options),
  };
}
