/**
 * The memory adapter: an in-process Kafka broker implementing the transport
 * port, for the core's unit tests and the public testing kit. No network, no
 * librdkafka, no timers left running once clients are closed.
 *
 * It follows librdkafka's semantics where a test can observe them: consumer
 * groups with `range`, `roundrobin` (eager) and `cooperative-sticky`
 * assignment, rebalances served inside `consume()`, `auto.offset.reset`,
 * stored and auto-committed offsets, librdkafka's partitioners
 * (`consistent_random` by default: CRC-32 of the key, random for a null key),
 * delivery timeouts while the cluster is down. What it leaves out is listed in
 * the testing kit's documentation.
 *
 * @example A consumer reads what a producer wrote
 * ```ts
 * import { createMemoryTransport } from "./mod.ts";
 *
 * const transport = createMemoryTransport();
 * const producer = transport.createProducer({ config: {} });
 * await producer.produce({ topic: "greetings", value: new TextEncoder().encode("hello") });
 *
 * const consumer = transport.createConsumer({
 *   config: { "group.id": "greeters", "auto.offset.reset": "earliest" },
 * });
 * consumer.subscribe(["greetings"]);
 * const [message] = await consumer.consume(10, 1000);
 * console.assert(new TextDecoder().decode(message!.value!) === "hello");
 * await consumer.close();
 * await producer.close();
 * ```
 *
 * @module
 */

import type { Transport } from "../transport.ts";
import { MemoryAdmin } from "./_admin.ts";
import { createBroker, type MemoryBroker } from "./_broker.ts";
import { Cluster } from "./_cluster.ts";
import { MemoryConsumer } from "./_consumer.ts";
import { MemoryProducer } from "./_producer.ts";

export type { MemberInfo, MemoryBroker, MemoryTopicOptions } from "./_broker.ts";

/** Options of {@link createMemoryTransport}. */
export interface MemoryTransportOptions {
  /**
   * The broker's clock, in milliseconds since the epoch: message timestamps,
   * `auto.commit.interval.ms` and `max.poll.interval.ms` follow it, so a test
   * can move time forward without waiting. Waits with a timeout (`consume`,
   * `flush`, `message.timeout.ms`) use real time.
   * @default Date.now
   */
  clock?: () => number;
  /**
   * Random numbers in [0, 1) for the random partitioners (null keys).
   * @default Math.random
   */
  random?: () => number;
  /**
   * Partitions of topics created by producing to them (the broker's
   * `num.partitions`).
   * @default 1
   */
  numPartitions?: number;
  /**
   * Whether producing to a missing topic creates it (the broker's
   * `auto.create.topics.enable`); when off, such deliveries fail with
   * `ERR__UNKNOWN_TOPIC`.
   * @default true
   */
  autoCreateTopics?: boolean;
}

/** A {@link Transport} over an in-process broker, with a handle on the broker. */
export type MemoryTransport = Transport & {
  /** The in-process broker, to inspect and steer. */
  readonly broker: MemoryBroker;
};

/** `builtin.features` of a full librdkafka 2.12 build: the memory adapter pretends to all. */
const BUILTIN_FEATURES: readonly string[] = Object.freeze([
  "gzip",
  "snappy",
  "ssl",
  "sasl",
  "regex",
  "lz4",
  "sasl_gssapi",
  "sasl_plain",
  "sasl_scram",
  "plugins",
  "zstd",
  "sasl_oauthbearer",
  "http",
  "oidc",
]);

/**
 * Creates a transport whose clients talk to a fresh in-process broker. Every
 * call gets its own broker; clients of one transport share it.
 *
 * @example Drive a consumer group rebalance deterministically
 * ```ts
 * import { createMemoryTransport } from "./mod.ts";
 *
 * const { broker, createConsumer } = createMemoryTransport();
 * broker.createTopic("events", 2);
 * const config = { "group.id": "workers", "auto.offset.reset": "earliest" };
 * const a = createConsumer({ config });
 * a.subscribe(["events"]);
 * await a.consume(1, 0);
 * console.assert(a.assignment().length === 2);
 *
 * const b = createConsumer({ config });
 * b.subscribe(["events"]);
 * await a.consume(1, 0); // a revokes everything (eager protocol)
 * await b.consume(1, 0); // everyone rejoined: b takes its share...
 * await a.consume(1, 0); // ...and a takes its own
 * console.assert(a.assignment().length === 1 && b.assignment().length === 1);
 * await a.close();
 * await b.close();
 * ```
 */
export function createMemoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  const {
    clock = Date.now,
    random = Math.random,
    numPartitions = 1,
    autoCreateTopics = true,
  } = options;
  if (typeof clock !== "function") {
    throw new TypeError(`Cannot create memory transport: 'clock' must be a function`);
  }
  if (typeof random !== "function") {
    throw new TypeError(`Cannot create memory transport: 'random' must be a function`);
  }
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(
      `Cannot create memory transport: 'numPartitions' is ${numPartitions}, expected a positive integer`,
    );
  }
  const cluster = new Cluster({ clock, random, numPartitions, autoCreateTopics });
  return {
    name: "memory",
    librdkafkaVersion: "memory",
    features: { builtin: BUILTIN_FEATURES, versionNumber: 0x020c00ff },
    broker: createBroker(cluster),
    createConsumer: (consumerOptions) => new MemoryConsumer(cluster, consumerOptions),
    createProducer: (producerOptions) => new MemoryProducer(cluster, producerOptions),
    createAdmin: (adminOptions) => new MemoryAdmin(cluster, adminOptions),
  };
}
