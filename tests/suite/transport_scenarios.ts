/**
 * Behaviour every Kafka transport adapter must show against a real broker.
 *
 * Runtime-neutral: no `Deno.*` or `process.*`, only the port and
 * `node:assert/strict`, so the Deno FFI adapter and the node-rdkafka adapter
 * run the very same checks. Every wait is a poll loop with a deadline.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError, KafkaError } from "../../src/errors.ts";
import type {
  ConsumerTransport,
  RawMessage,
  RebalanceEvent,
  TopicPartition,
} from "../../src/kafka/transport.ts";
import type { Scenario } from "./_suite.ts";
import {
  bytes,
  newConsumer,
  newTopic,
  produceMessages,
  testConsumerConfig as consumerConfig,
  text,
  waitFor,
} from "./_kafka.ts";

/** `length` bytes that differ from those of every other `seed`. */
function pattern(seed: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let j = 0; j < length; j++) bytes[j] = (seed * 31 + j * 7 + (j >> 8)) & 255;
  return bytes;
}

/** Consumes until `done(all)` holds, failing after `timeoutMs`. */
async function consumeUntil(
  consumer: ConsumerTransport,
  done: (all: RawMessage[]) => boolean,
  options: { timeoutMs?: number; max?: number; onBatch?: (batch: RawMessage[]) => void } = {},
): Promise<RawMessage[]> {
  const all: RawMessage[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!done(all)) {
    if (Date.now() > deadline) {
      // Say what arrived and what the consumer holds, so a failure can be diagnosed.
      const seen = all.map((m) => `${m.partition}@${m.offset}`).join(", ");
      const held = consumer.assignment().map((tp) => `${tp.topic}/${tp.partition}`).join(", ");
      assert.fail(
        `Condition not met in time; consumed ${all.length} messages [${seen}], ` +
          `assignment [${held}], assignment lost: ${consumer.assignmentLost()}`,
      );
    }
    const batch = await consumer.consume(options.max ?? 100, 200);
    options.onBatch?.(batch);
    all.push(...batch);
  }
  return all;
}

/** Keeps several consumers polling (so they serve rebalances) until `done()` holds. */
async function pumpUntil(
  consumers: readonly ConsumerTransport[],
  done: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let finished = false;
  await Promise.all(consumers.map(async (consumer) => {
    while (!finished) {
      if (done()) finished = true;
      else if (Date.now() > deadline) {
        finished = true;
        assert.fail(`Timed out waiting until ${what}`);
      } else await consumer.consume(100, 100);
    }
  }));
}

/**
 * Resolves with what `promise` resolves to; fails if it has not settled within
 * `limitMs`. A deadline far above what is expected, not a speed check.
 */
async function settles<T>(promise: Promise<T>, limitMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} within ${limitMs} ms`)), limitMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A consume() timeout no test waits out: ten minutes. */
const LONG_POLL_MS = 600_000;

function sorted(partitions: readonly TopicPartition[]): number[] {
  return partitions.map((tp) => tp.partition).sort((a, b) => a - b);
}

function nextOffsets(messages: readonly RawMessage[]) {
  const last = new Map<number, RawMessage>();
  for (const message of messages) last.set(message.partition, message);
  return [...last.values()].map((m) => ({
    topic: m.topic,
    partition: m.partition,
    offset: m.offset + 1,
  }));
}

/** The scenarios, in the order they run. */
/**
 * More members than partitions: the member that gets nothing still hears it
 * joined, through an empty assign (readiness and metrics count on it).
 */
function idleMemberScenario(strategy: string, label: string): Scenario {
  return {
    name: `onRebalance() tells an idle member it joined with an empty assign (${label})`,
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 1);
      const config = consumerConfig(ctx, ctx.uniqueName("g"), {
        "partition.assignment.strategy": strategy,
      });
      const eventsA: RebalanceEvent[] = [];
      const eventsB: RebalanceEvent[] = [];
      const a = newConsumer(ctx, { config, onRebalance: (e) => void eventsA.push(e) });
      a.subscribe([topic]);
      await pumpUntil([a], () => a.assignment().length === 1, 45_000, "A owns the partition");
      const b = newConsumer(ctx, { config, onRebalance: (e) => void eventsB.push(e) });
      b.subscribe([topic]);
      const assigns = (events: RebalanceEvent[]) => events.filter((e) => e.kind === "assign");
      await pumpUntil(
        [a, b],
        () => assigns(eventsB).length > 0 && a.assignment().length + b.assignment().length === 1,
        45_000,
        "B heard it joined and one member owns the partition",
      );
      const idle = b.assignment().length === 0 ? eventsB : eventsA;
      const last = assigns(idle).at(-1);
      assert.deepEqual(
        last?.partitions,
        [],
        `the idle member's last assign: ${JSON.stringify(idle)}`,
      );
    },
  };
}

export const transportScenarios: Scenario[] = [
  {
    name: "produce() and consume() round-trip key, null value, repeated headers and timestamp",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1);
      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers },
      });
      ctx.defer(() => producer.close());
      // An hour ago: distinct from now, yet inside the topic's retention (an old
      // timestamp would let time-based retention delete the message mid-test).
      const timestamp = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
      const first = await producer.produce({
        topic,
        key: bytes("order-1"),
        value: null,
        headers: [
          { key: "trace", value: bytes("a") },
          { key: "trace", value: bytes("b") },
          { key: "empty", value: null },
        ],
        timestamp,
      });
      assert.equal(first.topic, topic);
      assert.equal(first.partition, 0);
      assert.equal(first.offset, 0);
      const second = await producer.produce({ topic, value: bytes("hello"), key: null });
      assert.equal(second.offset, 1);

      const consumer = newConsumer(ctx, { config: consumerConfig(ctx, ctx.uniqueName("g")) });
      consumer.subscribe([topic]);
      const [a, b] = await consumeUntil(consumer, (all) => all.length >= 2);
      assert.ok(a && b);
      assert.equal(a.topic, topic);
      assert.equal(a.offset, 0);
      assert.equal(text(a.key), "order-1");
      assert.equal(a.value, null);
      // node-rdkafka cannot send a header without a value: it sends an empty one
      // (a documented limitation of the Node adapter, pinned here).
      const valueless = ctx.transport.name === "node-rdkafka" ? "" : null;
      assert.deepEqual(
        a.headers.map((h) => [h.key, text(h.value)]),
        [["trace", "a"], ["trace", "b"], ["empty", valueless]],
      );
      assert.equal(a.timestamp, timestamp);
      assert.equal(a.timestampType, "create");
      assert.equal(b.offset, 1);
      assert.equal(b.key, null);
      assert.equal(text(b.value), "hello");
      assert.deepEqual(b.headers, []);
      assert.equal(typeof b.timestamp, "number");
    },
  },
  {
    // The FFI adapters copy a run's keys and values in one piece where they lie
    // close together in C memory; every shape of key and value must survive it.
    name: "consume() hands over every key and value intact: null, empty, small, large, compressed",
    async fn(ctx) {
      const topic = await newTopic(ctx, 3);
      const shape = (i: number) => ({
        key: i % 5 === 0 ? null : i % 5 === 1 ? new Uint8Array(0) : pattern(i, 1 + (i % 40)),
        value: i % 7 === 0
          ? null
          : i % 7 === 1
          ? new Uint8Array(0)
          : pattern(i + 1000, i % 11 === 0 ? 3000 + i : 1 + (i * 37) % 900),
      });
      // Each codec writes its own record batches: plain ones and ones librdkafka decompresses.
      const codecs = ctx.transport.name === "memory" ? ["none"] : ["none", "lz4", "snappy", "gzip"];
      const count = 600;
      for (const [c, codec] of codecs.entries()) {
        const producer = ctx.transport.createProducer({
          config: {
            "bootstrap.servers": ctx.brokers,
            "linger.ms": "20",
            ...(codec === "none" ? {} : { "compression.codec": codec }),
          },
        });
        try {
          await Promise.all(
            Array.from({ length: count / codecs.length }, (_, j) => {
              const i = c * (count / codecs.length) + j;
              return producer.produce({
                topic,
                partition: i % 3,
                ...shape(i),
                headers: [{ key: "i", value: bytes(String(i)) }],
              });
            }),
          );
        } finally {
          await producer.close(10_000);
        }
      }
      const consumer = newConsumer(ctx, { config: consumerConfig(ctx, ctx.uniqueName("g")) });
      consumer.subscribe([topic]);
      const all = await consumeUntil(consumer, (all) => all.length >= count, { max: 1000 });
      assert.equal(all.length, count);
      // Produced concurrently, so offsets do not tell which is which: the header does.
      const seen = new Set<number>();
      for (const message of all) {
        const i = Number(text(message.headers[0]?.value ?? null));
        const where = `message ${i} at ${message.partition}@${message.offset}`;
        assert.ok(!seen.has(i), `${where}: seen twice`);
        seen.add(i);
        assert.equal(message.partition, i % 3, where);
        const expected = shape(i);
        assert.deepEqual(message.key, expected.key, `${where}: its key`);
        assert.deepEqual(message.value, expected.value, `${where}: its value`);
      }
      assert.equal(seen.size, count);
    },
  },
  {
    name: "consume() returns at most max messages, in offset order per partition",
    async fn(ctx) {
      const topic = await newTopic(ctx, 2);
      await produceMessages(ctx, topic, 60, 2);
      const consumer = newConsumer(ctx, { config: consumerConfig(ctx, ctx.uniqueName("g")) });
      consumer.subscribe([topic]);
      const sizes: number[] = [];
      const all = await consumeUntil(consumer, (all) => all.length >= 60, {
        max: 7,
        onBatch: (batch) => sizes.push(batch.length),
      });
      assert.equal(all.length, 60);
      assert.ok(sizes.every((size) => size <= 7), `batch sizes ${sizes}`);
      for (const partition of [0, 1]) {
        const offsets = all.filter((m) => m.partition === partition).map((m) => m.offset);
        assert.deepEqual(offsets, Array.from({ length: 30 }, (_, i) => i));
      }
    },
  },
  {
    name: "consume() resolves with the first message at once instead of waiting to fill the batch",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1);
      const consumer = newConsumer(ctx, { config: consumerConfig(ctx, ctx.uniqueName("g")) });
      consumer.subscribe([topic]);
      await pumpUntil([consumer], () => consumer.assignment().length === 1, 30_000, "assigned");
      // A batch of 1000 with a ten-minute timeout: only the first message is awaited.
      const pending = consumer.consume(1000, LONG_POLL_MS);
      await produceMessages(ctx, topic, 1);
      const batch = await settles(pending, 30_000, "consume() did not hand over the message");
      assert.deepEqual(batch.map((m) => text(m.value)), ["m0"]);
    },
  },
  {
    name:
      "wakeup() makes a pending consume() with a long timeout return early, and the next one too",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1);
      const consumer = newConsumer(ctx, { config: consumerConfig(ctx, ctx.uniqueName("g")) });
      consumer.subscribe([topic]);
      await pumpUntil([consumer], () => consumer.assignment().length === 1, 30_000, "assigned");

      // Woken while it waits (the wakeup is scheduled for after the wait began).
      const pending = consumer.consume(100, LONG_POLL_MS);
      setTimeout(() => consumer.wakeup(), 100);
      assert.deepEqual(await settles(pending, 30_000, "wakeup() did not end the wait"), []);

      // Woken before it starts: the next consume() does not wait.
      consumer.wakeup();
      assert.deepEqual(
        await settles(
          consumer.consume(100, LONG_POLL_MS),
          30_000,
          "a wakeup() before consume() was lost",
        ),
        [],
      );

      // Only once: the consumer goes on fetching normally afterwards.
      await produceMessages(ctx, topic, 3);
      const all = await consumeUntil(consumer, (all) => all.length >= 3);
      assert.deepEqual(all.map((m) => m.offset), [0, 1, 2]);
    },
  },
  {
    name: "storeOffsets() and commit({ sync: true }) persist offsets that committed() reads back",
    async fn(ctx) {
      const topic = await newTopic(ctx, 2);
      await produceMessages(ctx, topic, 10, 2);
      const consumer = newConsumer(ctx, { config: consumerConfig(ctx, ctx.uniqueName("g")) });
      consumer.subscribe([topic]);
      const partitions = [{ topic, partition: 0 }, { topic, partition: 1 }];
      const all = await consumeUntil(consumer, (all) => all.length >= 10);
      // Nothing stored yet: committing is a quiet no-op.
      await consumer.commit(null, { sync: true });
      assert.deepEqual(
        (await consumer.committed(partitions, 10_000)).map((o) => o.offset),
        [-1001, -1001],
      );
      consumer.storeOffsets(nextOffsets(all.filter((m) => m.offset < 3)));
      await consumer.commit(null, { sync: true });
      assert.deepEqual(
        (await consumer.committed(partitions, 10_000)).map((o) => o.offset),
        [3, 3],
      );
      // Explicit offsets bypass the store.
      await consumer.commit([{ topic, partition: 1, offset: 5 }], { sync: true });
      assert.deepEqual(
        (await consumer.committed(partitions, 10_000)).map((o) => o.offset),
        [3, 5],
      );
      // Offsets of partitions this member does not own are ignored.
      consumer.storeOffsets([{ topic, partition: 7, offset: 1 }]);
    },
  },
  {
    name: "a new consumer in the same group resumes after the committed offset",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1);
      await produceMessages(ctx, topic, 10);
      const group = ctx.uniqueName("g");
      const first = ctx.transport.createConsumer({ config: consumerConfig(ctx, group) });
      first.subscribe([topic]);
      const seen = await consumeUntil(first, (all) => all.length >= 10);
      first.storeOffsets(nextOffsets(seen.filter((m) => m.offset <= 5)));
      await first.commit(null, { sync: true });
      await first.close();

      const second = newConsumer(ctx, { config: consumerConfig(ctx, group) });
      second.subscribe([topic]);
      const rest = await consumeUntil(second, (all) => all.length >= 4);
      assert.deepEqual(rest.map((m) => m.offset), [6, 7, 8, 9]);
      assert.equal(text(rest[0]?.value ?? null), "m6");
    },
  },
  {
    name:
      "a new member starts each partition at the group's committed offset, else where auto.offset.reset says",
    async fn(ctx) {
      const topic = await newTopic(ctx, 3);
      await produceMessages(ctx, topic, 15, 3); // offsets 0-4 on each partition
      const group = ctx.uniqueName("g");
      const first = ctx.transport.createConsumer({ config: consumerConfig(ctx, group) });
      first.subscribe([topic]);
      await consumeUntil(first, (all) => all.length >= 15);
      // The group commits partition 0 only.
      first.storeOffsets([{ topic, partition: 0, offset: 2 }]);
      await first.commit(null, { sync: true });
      await first.close();

      const at = (messages: readonly RawMessage[]) =>
        messages.map((m) => `${m.partition}@${m.offset}`).sort();
      const second = newConsumer(ctx, {
        config: consumerConfig(ctx, group, { "auto.offset.reset": "latest" }),
      });
      second.subscribe([topic]);
      const resumed = await consumeUntil(second, (all) => all.length >= 3);
      // A bounded window in which nothing more may arrive: partitions 1 and 2 start at their end.
      const until = Date.now() + 1_000;
      while (Date.now() < until) resumed.push(...await second.consume(100, 100));
      assert.deepEqual(at(resumed), ["0@2", "0@3", "0@4"]);
      await produceMessages(ctx, topic, 6, 3, 15);
      const fresh = await consumeUntil(second, (all) => all.length >= 6);
      assert.deepEqual(at(fresh), ["0@5", "0@6", "1@5", "1@6", "2@5", "2@6"]);
    },
  },
  {
    name: "a partition that moves to a new member resumes where its previous owner committed",
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 4);
      await produceMessages(ctx, topic, 20, 4); // offsets 0-4 on each partition
      const group = ctx.uniqueName("g");
      const config = consumerConfig(ctx, group, {
        "partition.assignment.strategy": "cooperative-sticky",
      });
      const moved: TopicPartition[] = [];
      const a: ConsumerTransport = newConsumer(ctx, {
        config,
        onRebalance: async (event) => {
          if (event.kind !== "revoke" || event.partitions.length === 0) return;
          moved.push(...event.partitions);
          // As if only offsets 0 and 1 of what moves had been processed.
          a.storeOffsets(event.partitions.map((tp) => ({ ...tp, offset: 2 })));
          await a.commit(null, { sync: true });
        },
      });
      a.subscribe([topic]);
      await consumeUntil(a, (all) => all.length >= 20, { timeoutMs: 45_000 });

      // "latest": were the committed offsets missed, B would read nothing of the old messages.
      const b = newConsumer(ctx, {
        config: { ...config, "auto.offset.reset": "latest" },
      });
      b.subscribe([topic]);
      const read: RawMessage[] = [];
      const at = () => read.map((m) => `${m.partition}@${m.offset}`).sort();
      const deadline = Date.now() + 45_000;
      // Both poll, so both serve the rebalance; then a bounded window for anything more.
      let until = Infinity;
      while (Date.now() < until) {
        if (until === Infinity && b.assignment().length === 2 && read.length >= 6) {
          until = Date.now() + 500;
        }
        if (Date.now() > deadline) {
          assert.fail(`B holds ${JSON.stringify(sorted(b.assignment()))} and read [${at()}]`);
        }
        const [, fromB] = await Promise.all([a.consume(100, 100), b.consume(100, 100)]);
        read.push(...fromB);
      }
      assert.deepEqual(sorted(moved), sorted(b.assignment()));
      const expected = sorted(moved).flatMap((p) => [`${p}@2`, `${p}@3`, `${p}@4`]);
      assert.deepEqual(at(), expected.sort());
    },
  },
  {
    name: "pause() stops delivery and resume() restarts it",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1);
      await produceMessages(ctx, topic, 5);
      const consumer = newConsumer(ctx, { config: consumerConfig(ctx, ctx.uniqueName("g")) });
      consumer.subscribe([topic]);
      await consumeUntil(consumer, (all) => all.length >= 5);
      const partition = [{ topic, partition: 0 }];
      consumer.pause(partition);
      await produceMessages(ctx, topic, 5, 1, 5);
      // A bounded window in which nothing may arrive.
      const whilePaused: RawMessage[] = [];
      const until = Date.now() + 1_500;
      while (Date.now() < until) whilePaused.push(...await consumer.consume(100, 100));
      assert.deepEqual(whilePaused.map((m) => m.offset), []);
      consumer.resume(partition);
      const after = await consumeUntil(consumer, (all) => all.length >= 5);
      assert.deepEqual(after.map((m) => m.offset), [5, 6, 7, 8, 9]);
    },
  },
  {
    name: "seek() re-delivers from an earlier offset",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1);
      await produceMessages(ctx, topic, 8);
      const consumer = newConsumer(ctx, { config: consumerConfig(ctx, ctx.uniqueName("g")) });
      consumer.subscribe([topic]);
      await consumeUntil(consumer, (all) => all.length >= 8);
      await consumer.seek({ topic, partition: 0, offset: 3 }, 10_000);
      const again = await consumeUntil(consumer, (all) => all.length >= 5);
      assert.deepEqual(again.map((m) => m.offset), [3, 4, 5, 6, 7]);
      assert.equal(text(again[0]?.value ?? null), "m3");
    },
  },
  {
    name: "onRebalance() revoke runs before unassign and can commit (eager range)",
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 4);
      await produceMessages(ctx, topic, 40, 4);
      const group = ctx.uniqueName("g");
      const events: RebalanceEvent[] = [];
      const heldAtRevoke: number[][] = [];
      let consumed: RawMessage[] = [];
      const config = consumerConfig(ctx, group, { "partition.assignment.strategy": "range" });
      const a: ConsumerTransport = newConsumer(ctx, {
        config,
        onRebalance: async (event) => {
          events.push(event);
          if (event.kind === "revoke") {
            heldAtRevoke.push(sorted(a.assignment()));
            a.storeOffsets(nextOffsets(consumed));
            await a.commit(null, { sync: true });
          }
        },
      });
      assert.equal(a.rebalanceProtocol, "eager");
      a.subscribe([topic]);
      consumed = await consumeUntil(a, (all) => all.length >= 40, { timeoutMs: 45_000 });
      assert.deepEqual(sorted(a.assignment()), [0, 1, 2, 3]);

      const b = newConsumer(ctx, { config });
      b.subscribe([topic]);
      await pumpUntil(
        [a, b],
        () => a.assignment().length === 2 && b.assignment().length === 2,
        45_000,
        "both members own two partitions",
      );
      const kinds = events.filter((e) => e.partitions.length > 0).map((e) =>
        `${e.kind}:${e.partitions.length}`
      );
      assert.deepEqual(kinds.slice(0, 3), ["assign:4", "revoke:4", "assign:2"]);
      assert.ok(events.every((e) => e.protocol === "eager"));
      // The handler saw the partitions still assigned, and its commit landed.
      assert.deepEqual(heldAtRevoke[0], [0, 1, 2, 3]);
      const committed = await b.committed(
        [0, 1, 2, 3].map((partition) => ({ topic, partition })),
        10_000,
      );
      assert.deepEqual(committed.map((o) => o.offset), [10, 10, 10, 10]);
    },
  },
  {
    name: "onRebalance() with cooperative-sticky revokes only the partitions that move",
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 4);
      const group = ctx.uniqueName("g");
      const config = consumerConfig(ctx, group, {
        "partition.assignment.strategy": "cooperative-sticky",
      });
      const eventsA: RebalanceEvent[] = [];
      const eventsB: RebalanceEvent[] = [];
      const a = newConsumer(ctx, { config, onRebalance: (e) => void eventsA.push(e) });
      assert.equal(a.rebalanceProtocol, "cooperative");
      a.subscribe([topic]);
      await pumpUntil([a], () => a.assignment().length === 4, 45_000, "A owns all partitions");

      const b = newConsumer(ctx, { config, onRebalance: (e) => void eventsB.push(e) });
      b.subscribe([topic]);
      await pumpUntil(
        [a, b],
        () => a.assignment().length === 2 && b.assignment().length === 2,
        45_000,
        "both members own two partitions",
      );
      assert.ok(eventsA.every((e) => e.protocol === "cooperative"));
      const revokes = eventsA.filter((e) => e.kind === "revoke" && e.partitions.length > 0);
      assert.equal(revokes.length, 1, JSON.stringify(eventsA));
      const moved = sorted(revokes[0]?.partitions ?? []);
      assert.equal(moved.length, 2);
      assert.deepEqual(sorted(b.assignment()), moved);
      const all = [...sorted(a.assignment()), ...moved].sort((x, y) => x - y);
      assert.deepEqual(all, [0, 1, 2, 3]);
      // Adapters may or may not report the empty rounds cooperative rebalancing goes through.
      assert.deepEqual(
        eventsB.filter((e) => e.partitions.length > 0).map((e) =>
          `${e.kind}:${e.partitions.length}`
        ),
        ["assign:2"],
      );
    },
  },
  idleMemberScenario("range", "eager range"),
  idleMemberScenario("cooperative-sticky", "cooperative-sticky"),
  {
    name: "consume() labels each message with its topic after topics are deleted and re-created",
    timeoutMs: 120_000,
    async fn(ctx) {
      // librdkafka frees a topic's handle once nothing uses it, and may hand its
      // address to the next topic: an adapter that remembers names by address
      // would label the new topic's messages with the old name.
      const prefix = ctx.uniqueName("racecar-relabel");
      const names = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`, `${prefix}-a`];
      const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
      ctx.defer(async () => {
        await admin.deleteTopics([...new Set(names)], 10_000).catch(() => {});
        await admin.close();
      });
      const consumer = newConsumer(ctx, { config: consumerConfig(ctx, ctx.uniqueName("g")) });
      for (const [round, topic] of names.entries()) {
        await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }], 10_000);
        const producer = ctx.transport.createProducer({
          config: { "bootstrap.servers": ctx.brokers },
        });
        try {
          for (let i = 0; i < 3; i++) {
            await producer.produce({ topic, value: bytes(`${topic} #${round}.${i}`) });
          }
        } finally {
          await producer.close();
        }
        consumer.subscribe([topic]);
        const got = await consumeUntil(
          consumer,
          (all) => all.some((m) => text(m.value) === `${topic} #${round}.2`),
          { timeoutMs: 45_000 },
        );
        for (const message of got) {
          const value = text(message.value) ?? "";
          assert.equal(message.topic, value.slice(0, value.indexOf(" #")), `labelled ${value}`);
        }
        await admin.deleteTopics([topic], 10_000);
      }
    },
  },
  {
    name: "createTopics() is idempotent and deleteTopics() ignores unknown topics",
    async fn(ctx) {
      const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
      ctx.defer(() => admin.close());
      const topic = ctx.uniqueName("racecar-admin");
      await admin.createTopics([{
        name: topic,
        partitions: 3,
        config: { "retention.ms": "60000" },
      }], 10_000);
      await admin.createTopics([{ name: topic, partitions: 3 }], 10_000);
      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers },
      });
      ctx.defer(() => producer.close());
      // Metadata catches up with a new topic eventually, not at once.
      let count = 0;
      const deadline = Date.now() + 15_000;
      while (count !== 3 && Date.now() < deadline) {
        count = await producer.partitionCount(topic, 5_000).catch(() => 0);
        if (count !== 3) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(count, 3);
      await admin.deleteTopics([topic], 10_000);
      await admin.deleteTopics([ctx.uniqueName("racecar-never-created")], 10_000);
    },
  },
  {
    name: "partitionCount() waits for a topic created a moment ago instead of failing as unknown",
    async fn(ctx) {
      const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
      ctx.defer(() => admin.close());
      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers },
      });
      ctx.defer(() => producer.close());
      // The broker learns of a new topic asynchronously: ask at once, several times, to meet that.
      for (let round = 1; round <= 5; round++) {
        const topic = ctx.uniqueName("racecar-new-count");
        await admin.createTopics([{ name: topic, partitions: round }], 10_000);
        ctx.defer(() => admin.deleteTopics([topic], 10_000));
        assert.equal(await producer.partitionCount(topic, 15_000), round, topic);
      }
    },
  },
  {
    name: "createPartitions() grows a topic and refuses a count that is not larger",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1);
      const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
      ctx.defer(() => admin.close());
      await admin.createPartitions(topic, 3, 10_000);
      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers },
      });
      ctx.defer(() => producer.close());
      // Metadata catches up with the new partitions eventually, not at once.
      await waitFor(
        async () => (await producer.partitionCount(topic, 5_000).catch(() => 0)) === 3,
        "the topic has three partitions",
        { timeoutMs: 15_000, everyMs: 100 },
      );
      const report = await producer.produce({ topic, partition: 2, value: bytes("new") });
      assert.equal(report.partition, 2);
      await assert.rejects(admin.createPartitions(topic, 2, 10_000), (error: unknown) => {
        assert.ok(error instanceof KafkaError, String(error));
        assert.equal(error.code, "ERR_INVALID_PARTITIONS");
        return true;
      });
    },
  },
  {
    name: "createConsumer() and createProducer() throw a ConfigError naming an unknown property",
    fn(ctx) {
      for (
        const create of [
          () => ctx.transport.createConsumer({ config: { "group.id": "x", "foo.bar": "1" } }),
          () => ctx.transport.createProducer({ config: { "foo.bar": "1" } }),
        ]
      ) {
        assert.throws(create, (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.match(error.message, /"foo\.bar"/);
          assert.equal(error.key, "foo.bar");
          return true;
        });
      }
      return Promise.resolve();
    },
  },
  {
    name: "produce() rejects a message larger than message.max.bytes with ERR_MSG_SIZE_TOO_LARGE",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1);
      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers, "message.max.bytes": "10000" },
      });
      ctx.defer(() => producer.close());
      await assert.rejects(
        producer.produce({ topic, value: new Uint8Array(20_000) }),
        (error: unknown) => {
          assert.ok(error instanceof KafkaError, String(error));
          assert.equal(error.code, "ERR_MSG_SIZE_TOO_LARGE");
          assert.equal(error.errno, 10);
          assert.equal(error.retriable, false);
          return true;
        },
      );
      // The producer is still usable.
      const report = await producer.produce({ topic, value: new Uint8Array(100) });
      assert.equal(report.offset, 0);
    },
  },
  {
    name: "close() is idempotent for consumers, producers and admin clients",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1);
      await produceMessages(ctx, topic, 1);
      const consumer = ctx.transport.createConsumer({
        config: consumerConfig(ctx, ctx.uniqueName("g")),
      });
      consumer.subscribe([topic]);
      await consumeUntil(consumer, (all) => all.length >= 1);
      await Promise.all([consumer.close(), consumer.close()]);
      await consumer.close();
      assert.deepEqual(consumer.assignment(), []);
      await assert.rejects(consumer.consume(1, 10));

      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers },
      });
      await Promise.all([producer.close(), producer.close()]);
      await producer.close();
      const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
      await admin.close();
      await admin.close();
    },
  },
];
