/**
 * Behaviour scenarios written with the node-rdkafka adapter in mind, kept
 * runtime-neutral (only the port and `node:assert/strict`) so the Deno FFI
 * runner can register them too and both adapters are held to them.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { ConfigError, KafkaError } from "../../src/errors.ts";
import type {
  ConsumerTransport,
  RawMessage,
  RebalanceEvent,
  TopicPartition,
} from "../../src/kafka/transport.ts";
import type { Scenario, SuiteContext } from "./_suite.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

function text(value: Uint8Array | null): string | null {
  return value === null ? null : decoder.decode(value);
}

/** Creates a topic and deletes it after the scenario. */
async function topicWith(ctx: SuiteContext, partitions: number): Promise<string> {
  const topic = ctx.uniqueName("node-extra");
  const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
  ctx.defer(() => admin.close());
  await admin.createTopics([{ name: topic, partitions }], 15_000);
  ctx.defer(() => admin.deleteTopics([topic], 15_000));
  return topic;
}

async function produceAll(ctx: SuiteContext, topic: string, values: string[], partition = 0) {
  const producer = ctx.transport.createProducer({
    config: { "bootstrap.servers": ctx.brokers, "linger.ms": "0" },
  });
  try {
    const reports = [];
    for (const value of values) {
      reports.push(await producer.produce({ topic, partition, value: bytes(value) }));
    }
    return reports;
  } finally {
    await producer.close(5_000);
  }
}

function consumerFor(
  ctx: SuiteContext,
  group: string,
  extra: Record<string, string> = {},
  onRebalance?: (event: RebalanceEvent) => void | Promise<void>,
): ConsumerTransport {
  const errors: KafkaError[] = [];
  const consumer = ctx.transport.createConsumer({
    config: {
      "bootstrap.servers": ctx.brokers,
      "group.id": group,
      "auto.offset.reset": "earliest",
      "enable.auto.commit": "false",
      "session.timeout.ms": "10000",
      ...extra,
    },
    onError: (error) => errors.push(error),
    ...(onRebalance ? { onRebalance } : {}),
  });
  ctx.defer(() => consumer.close());
  return consumer;
}

/** Consumes until `count` messages arrived or `timeoutMs` passed. */
async function consumeAtLeast(
  consumer: ConsumerTransport,
  count: number,
  timeoutMs = 30_000,
): Promise<RawMessage[]> {
  const got: RawMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    got.push(...await consumer.consume(100, 250));
  }
  return got;
}

/** Keeps consuming until `done()` holds or `timeoutMs` passed. */
async function pollUntil(
  consumer: ConsumerTransport,
  done: () => boolean,
  timeoutMs = 30_000,
): Promise<RawMessage[]> {
  const got: RawMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) got.push(...await consumer.consume(100, 200));
  return got;
}

function sortTps(list: TopicPartition[]): TopicPartition[] {
  return [...list].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** Scenarios for every adapter, written alongside the node-rdkafka adapter. */
export const nodeExtraScenarios: Scenario[] = [
  {
    name: "produce() and consume() round-trip key, value, headers and timestamp",
    async fn(ctx) {
      const topic = await topicWith(ctx, 1);
      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers },
      });
      ctx.defer(() => producer.close(5_000));
      // Inside the topic's retention, or the broker may delete the message mid-test.
      const timestamp = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
      const first = await producer.produce({
        topic,
        key: bytes("k1"),
        value: bytes("v1"),
        headers: [{ key: "h", value: bytes("one") }, { key: "h", value: bytes("two") }],
        timestamp,
      });
      const second = await producer.produce({ topic, value: null });
      const third = await producer.produce({ topic, value: new Uint8Array(0) });
      assert.deepEqual(first, { topic, partition: 0, offset: 0 });
      assert.deepEqual(second, { topic, partition: 0, offset: 1 });
      assert.deepEqual(third, { topic, partition: 0, offset: 2 });

      const consumer = consumerFor(ctx, ctx.uniqueName("group"));
      consumer.subscribe([topic]);
      const messages = await consumeAtLeast(consumer, 3);
      assert.equal(messages.length, 3);
      const [a, b, c] = messages as [RawMessage, RawMessage, RawMessage];
      assert.equal(a.topic, topic);
      assert.equal(a.partition, 0);
      assert.equal(a.offset, 0);
      assert.equal(text(a.key), "k1");
      assert.equal(text(a.value), "v1");
      assert.deepEqual(a.headers.map((h) => [h.key, text(h.value)]), [["h", "one"], ["h", "two"]]);
      assert.equal(a.timestamp, timestamp);
      assert.equal(a.timestampType, "create");
      assert.ok(a.value instanceof Uint8Array);
      assert.equal(b.key, null);
      assert.equal(b.value, null, "a tombstone comes back as null");
      assert.deepEqual(b.headers, []);
      assert.deepEqual(c.value, new Uint8Array(0), "an empty value is not a tombstone");
    },
  },
  {
    name: "consume() resolves an empty batch within its timeout when nothing arrives",
    async fn(ctx) {
      const topic = await topicWith(ctx, 1);
      const consumer = consumerFor(ctx, ctx.uniqueName("group"));
      consumer.subscribe([topic]);
      // Join the group first so the measurement only covers the fetch wait.
      await pollUntil(consumer, () => consumer.assignment().length > 0);
      const started = Date.now();
      const batch = await consumer.consume(50, 300);
      const elapsed = Date.now() - started;
      assert.deepEqual(batch, []);
      assert.ok(elapsed < 2_000, `consume(50, 300) took ${elapsed} ms`);
    },
  },
  {
    name: "consume() rejects with a TypeError while another consume() is pending",
    async fn(ctx) {
      const topic = await topicWith(ctx, 1);
      const consumer = consumerFor(ctx, ctx.uniqueName("group"));
      consumer.subscribe([topic]);
      const first = consumer.consume(10, 500);
      await assert.rejects(consumer.consume(10, 10), TypeError);
      await first;
    },
  },
  {
    name: "commit() stores progress that committed() reads back, -1001 before any commit",
    async fn(ctx) {
      const topic = await topicWith(ctx, 1);
      await produceAll(ctx, topic, ["a", "b", "c"]);
      const group = ctx.uniqueName("group");
      const consumer = consumerFor(ctx, group);
      consumer.subscribe([topic]);
      const messages = await consumeAtLeast(consumer, 3);
      assert.equal(messages.length, 3);
      const partition = [{ topic, partition: 0 }];
      assert.deepEqual(await consumer.committed(partition, 10_000), [
        { topic, partition: 0, offset: -1001 },
      ]);
      // Nothing stored yet: a quiet no-op.
      await consumer.commit(null, { sync: true });
      consumer.storeOffsets([{ topic, partition: 0, offset: 2 }]);
      await consumer.commit(null, { sync: true });
      assert.deepEqual(await consumer.committed(partition, 10_000), [
        { topic, partition: 0, offset: 2 },
      ]);
      await consumer.commit([{ topic, partition: 0, offset: 3 }], { sync: true });
      assert.deepEqual(await consumer.committed(partition, 10_000), [
        { topic, partition: 0, offset: 3 },
      ]);
      // Offsets of partitions not assigned are ignored.
      consumer.storeOffsets([{ topic, partition: 7, offset: 1 }]);
    },
  },
  {
    name: "a new member starts at the offset the previous member committed",
    async fn(ctx) {
      const topic = await topicWith(ctx, 1);
      await produceAll(ctx, topic, ["a", "b", "c", "d"]);
      const group = ctx.uniqueName("group");
      const first = consumerFor(ctx, group);
      first.subscribe([topic]);
      const messages = await consumeAtLeast(first, 4);
      assert.equal(messages.length, 4);
      first.storeOffsets([{ topic, partition: 0, offset: 2 }]);
      await first.commit(null, { sync: true });
      await first.close();
      const second = consumerFor(ctx, group);
      second.subscribe([topic]);
      const rest = await consumeAtLeast(second, 2);
      assert.deepEqual(rest.map((m) => text(m.value)), ["c", "d"]);
    },
  },
  {
    name: "pause() stops a partition and resume() continues where it stopped",
    async fn(ctx) {
      const topic = await topicWith(ctx, 1);
      await produceAll(ctx, topic, ["a", "b"]);
      const consumer = consumerFor(ctx, ctx.uniqueName("group"));
      consumer.subscribe([topic]);
      const firstBatch = await consumeAtLeast(consumer, 1);
      assert.ok(firstBatch.length >= 1);
      const seen = firstBatch.map((m) => text(m.value));
      const tp = { topic, partition: 0 };
      consumer.pause([tp]);
      await produceAll(ctx, topic, ["c"]);
      const whilePaused = await consumeAtLeast(consumer, 1, 1_500);
      assert.deepEqual(whilePaused, [], "a paused partition hands out nothing");
      consumer.resume([tp]);
      const after = await consumeAtLeast(consumer, 3 - seen.length);
      assert.deepEqual([...seen, ...after.map((m) => text(m.value))], ["a", "b", "c"]);
    },
  },
  {
    name: "seek() moves the fetch position of an assigned partition",
    async fn(ctx) {
      const topic = await topicWith(ctx, 1);
      await produceAll(ctx, topic, ["a", "b", "c"]);
      const consumer = consumerFor(ctx, ctx.uniqueName("group"));
      consumer.subscribe([topic]);
      assert.equal((await consumeAtLeast(consumer, 3)).length, 3);
      await consumer.seek({ topic, partition: 0, offset: 1 }, 5_000);
      const again = await consumeAtLeast(consumer, 2);
      assert.deepEqual(again.map((m) => m.offset), [1, 2]);
    },
  },
  {
    name: "onRebalance() sees assign, revoke while still assigned, and the last revoke on close",
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = await topicWith(ctx, 2);
      const group = ctx.uniqueName("group");
      const events: { kind: string; partitions: TopicPartition[]; assignedDuring: number }[] = [];
      const first: ConsumerTransport = consumerFor(ctx, group, {}, async (event) => {
        // Give the adapter a chance to (wrongly) complete the change early.
        await new Promise((resolve) => setTimeout(resolve, 50));
        events.push({
          kind: event.kind,
          partitions: sortTps(event.partitions),
          assignedDuring: first.assignment().length,
        });
        assert.equal(event.protocol, "eager");
      });
      assert.equal(first.rebalanceProtocol, "eager");
      first.subscribe([topic]);
      await pollUntil(first, () => first.assignment().length === 2);
      assert.deepEqual(events.map((e) => e.kind), ["assign"]);
      assert.deepEqual(events[0]!.partitions, [{ topic, partition: 0 }, { topic, partition: 1 }]);

      const second = consumerFor(ctx, group);
      second.subscribe([topic]);
      // Both members must keep polling for the group to settle.
      const deadline = Date.now() + 60_000;
      while (
        Date.now() < deadline &&
        (first.assignment().length !== 1 || second.assignment().length !== 1 ||
          events.at(-1)?.kind !== "assign")
      ) {
        await Promise.all([first.consume(10, 100), second.consume(10, 100)]);
      }
      assert.equal(first.assignment().length, 1);
      assert.equal(second.assignment().length, 1);
      const revoke = events.find((e) => e.kind === "revoke");
      assert.ok(revoke, "the first member saw its partitions revoked");
      assert.equal(revoke.assignedDuring, 2, "partitions stay assigned while the handler runs");
      assert.equal(events.at(-1)!.kind, "assign");

      const before = events.length;
      await first.close();
      assert.equal(events.length, before + 1, "close() runs the last revoke through onRebalance");
      assert.equal(events.at(-1)!.kind, "revoke");
      assert.equal(first.assignment().length, 0);
    },
  },
  {
    name: "onRebalance() reports the cooperative protocol with cooperative-sticky",
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = await topicWith(ctx, 2);
      const events: RebalanceEvent[] = [];
      const consumer = consumerFor(
        ctx,
        ctx.uniqueName("group"),
        { "partition.assignment.strategy": "cooperative-sticky" },
        (event) => {
          events.push(event);
        },
      );
      assert.equal(consumer.rebalanceProtocol, "cooperative");
      consumer.subscribe([topic]);
      await pollUntil(consumer, () => consumer.assignment().length === 2);
      assert.equal(events[0]?.kind, "assign");
      assert.equal(events[0]?.protocol, "cooperative");
      await consumer.close();
      assert.equal(events.at(-1)?.kind, "revoke");
    },
  },
  {
    name: "partitionCount() reads the topic's partition count",
    async fn(ctx) {
      const topic = await topicWith(ctx, 3);
      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers },
      });
      ctx.defer(() => producer.close(1_000));
      assert.equal(await producer.partitionCount(topic, 10_000), 3);
    },
  },
  {
    name: "produce() rejects with ERR__UNKNOWN_PARTITION for a partition that does not exist",
    async fn(ctx) {
      const topic = await topicWith(ctx, 1);
      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers, "message.timeout.ms": "10000" },
      });
      ctx.defer(() => producer.close(1_000));
      await producer.partitionCount(topic, 10_000);
      await assert.rejects(
        producer.produce({ topic, partition: 9, value: bytes("x") }),
        (error: unknown) => {
          assert.ok(error instanceof KafkaError);
          assert.equal(error.errno, -190);
          assert.equal(error.code, "ERR__UNKNOWN_PARTITION");
          return true;
        },
      );
    },
  },
  {
    name: "createConsumer() throws a ConfigError naming an unknown property",
    async fn(ctx) {
      assert.throws(
        () =>
          ctx.transport.createConsumer({
            config: { "bootstrap.servers": ctx.brokers, "group.id": "g", "no.such.thing": "1" },
          }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.key, "no.such.thing");
          return true;
        },
      );
      await Promise.resolve();
    },
  },
  {
    name: "createTopics() and deleteTopics() ignore existing and missing topics",
    async fn(ctx) {
      const topic = ctx.uniqueName("node-extra-admin");
      const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
      ctx.defer(() => admin.close());
      await admin.createTopics([{ name: topic, partitions: 1 }], 15_000);
      await admin.createTopics([{ name: topic, partitions: 1 }], 15_000);
      await admin.deleteTopics([topic], 15_000);
      await admin.deleteTopics([ctx.uniqueName("node-extra-missing")], 15_000);
    },
  },
  {
    name: "close() is idempotent for consumers and producers",
    async fn(ctx) {
      const topic = await topicWith(ctx, 1);
      const consumer = consumerFor(ctx, ctx.uniqueName("group"));
      consumer.subscribe([topic]);
      await consumer.consume(10, 100);
      await Promise.all([consumer.close(), consumer.close()]);
      await consumer.close();
      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers },
      });
      await producer.close(1_000);
      await producer.close(1_000);
    },
  },
];
