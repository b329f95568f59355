/**
 * Unit tests of the memory adapter (`src/kafka/memory/mod.ts`): the in-process
 * broker must honour the transport port's contract the way librdkafka does.
 */

import assert from "node:assert/strict";
import { ConfigError, KafkaError } from "../../src/errors.ts";
import { createMemoryTransport, type MemoryTransport } from "../../src/kafka/memory/mod.ts";
import { crc32 } from "../../src/partitioner.ts";
import type {
  ConsumerOptions,
  ConsumerTransport,
  ProducerTransport,
  RebalanceEvent,
} from "../../src/kafka/transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const text = (value: Uint8Array | null) => value === null ? null : decoder.decode(value);

/** A transport plus clean-up of every client the test made. */
function harness(options: Parameters<typeof createMemoryTransport>[0] = {}) {
  const transport: MemoryTransport = createMemoryTransport(options);
  const closers: (() => Promise<void>)[] = [];
  const errors: KafkaError[] = [];
  return {
    transport,
    broker: transport.broker,
    errors,
    consumer(
      config: Record<string, string>,
      extra: Partial<ConsumerOptions> = {},
    ): ConsumerTransport & { events: RebalanceEvent[] } {
      const events: RebalanceEvent[] = [];
      const consumer = transport.createConsumer({
        config: { "group.id": "group", "auto.offset.reset": "earliest", ...config },
        onError: (error) => errors.push(error),
        onRebalance: (event) => {
          events.push(event);
        },
        ...extra,
      });
      closers.push(() => consumer.close());
      return Object.assign(consumer, { events });
    },
    producer(config: Record<string, string> = {}): ProducerTransport {
      const producer = transport.createProducer({
        config,
        onError: (error) => errors.push(error),
      });
      closers.push(() => producer.close(0));
      return producer;
    },
    async [Symbol.asyncDispose]() {
      transport.broker.setAvailable(true);
      for (const close of closers.reverse()) await close();
    },
  };
}

function brief(event: RebalanceEvent): string {
  return `${event.kind}:${event.partitions.map((tp) => `${tp.topic}/${tp.partition}`).join(",")}`;
}

async function rejectsWith(promise: Promise<unknown>, errno: number): Promise<KafkaError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KafkaError, `expected a KafkaError, got ${error}`);
    assert.equal(error.errno, errno, error.message);
    return error;
  }
  assert.fail(`expected a rejection with errno ${errno}`);
}

// Transport

Deno.test("createMemoryTransport() describes itself as the memory adapter", () => {
  const transport = createMemoryTransport();
  assert.equal(transport.name, "memory");
  assert.equal(transport.librdkafkaVersion, "memory");
  assert.ok(transport.features.builtin.includes("zstd"));
  assert.ok(transport.features.builtin.includes("sasl_oauthbearer"));
});

Deno.test("createMemoryTransport() throws a RangeError when numPartitions is not positive", () => {
  assert.throws(() => createMemoryTransport({ numPartitions: 0 }), RangeError);
});

Deno.test("createMemoryTransport() gives every transport its own broker", () => {
  const a = createMemoryTransport();
  const b = createMemoryTransport();
  a.broker.createTopic("only-a", 1);
  assert.deepEqual(b.broker.topics(), []);
});

// Partitioner hashes

Deno.test("produce() auto-creates the topic with numPartitions and reports offsets", async () => {
  await using h = harness({ numPartitions: 1 });
  const producer = h.producer();
  const first = await producer.produce({ topic: "auto", value: bytes("a") });
  const second = await producer.produce({ topic: "auto", value: bytes("b") });
  assert.deepEqual(first, { topic: "auto", partition: 0, offset: 0 });
  assert.deepEqual(second, { topic: "auto", partition: 0, offset: 1 });
  assert.equal(h.broker.partitionCount("auto"), 1);
  assert.deepEqual(h.broker.messages("auto").map((m) => text(m.value)), ["a", "b"]);
});

Deno.test("produce() writes to the explicit partition when one is given", async () => {
  await using h = harness();
  h.broker.createTopic("explicit", 3);
  const report = await h.producer().produce({ topic: "explicit", partition: 2, value: null });
  assert.deepEqual(report, { topic: "explicit", partition: 2, offset: 0 });
  assert.equal(h.broker.messages("explicit", 2).length, 1);
  assert.equal(h.broker.messages("explicit", 2)[0]!.value, null);
});

Deno.test("produce() rejects with ERR__UNKNOWN_PARTITION when the partition does not exist", async () => {
  await using h = harness();
  h.broker.createTopic("small", 2);
  const error = await rejectsWith(
    h.producer().produce({ topic: "small", partition: 2, value: null }),
    -190,
  );
  assert.equal(error.code, "ERR__UNKNOWN_PARTITION");
});

Deno.test("produce() partitions keys by CRC-32 as librdkafka's consistent_random does", async () => {
  await using h = harness();
  h.broker.createTopic("keyed", 7);
  const producer = h.producer();
  for (const key of ["alpha", "beta", "gamma", "delta", "epsilon"]) {
    const report = await producer.produce({ topic: "keyed", key: bytes(key), value: null });
    assert.equal(report.partition, crc32(bytes(key)) % 7, key);
  }
});

Deno.test("produce() picks a random partition for a null or empty key under consistent_random", async () => {
  let next = 0;
  const randoms = [0.1, 0.9, 0.5];
  await using h = harness({ random: () => randoms[next++ % randoms.length]! });
  h.broker.createTopic("unkeyed", 4);
  const producer = h.producer();
  const partitions = [];
  for (const key of [null, new Uint8Array(), null]) {
    partitions.push((await producer.produce({ topic: "unkeyed", key, value: null })).partition);
  }
  assert.deepEqual(partitions, [0, 3, 2]);
});

Deno.test("produce() partitions by murmur2 like the Java client when partitioner is murmur2", async () => {
  await using h = harness();
  h.broker.createTopic("java", 10);
  const producer = h.producer({ partitioner: "murmur2" });
  const report = await producer.produce({ topic: "java", key: bytes("foobar"), value: null });
  assert.equal(report.partition, (-790332482 & 0x7fffffff) % 10);
});

Deno.test("createProducer() throws a ConfigError when the partitioner is unknown", () => {
  const transport = createMemoryTransport();
  assert.throws(
    () => transport.createProducer({ config: { partitioner: "sideways" } }),
    ConfigError,
  );
});

Deno.test("produce() rejects with ERR_MSG_SIZE_TOO_LARGE when over message.max.bytes", async () => {
  await using h = harness();
  const producer = h.producer({ "message.max.bytes": "1000" });
  const error = await rejectsWith(
    producer.produce({ topic: "big", value: new Uint8Array(1001) }),
    10,
  );
  assert.equal(error.code, "ERR_MSG_SIZE_TOO_LARGE");
  assert.equal(error.retriable, false);
  assert.deepEqual(h.broker.messages("big"), []);
  await producer.produce({ topic: "big", value: new Uint8Array(1000) });
});

Deno.test("produce() keeps key, headers, tombstones and the create timestamp", async () => {
  await using h = harness({ clock: () => 1_000 });
  const producer = h.producer();
  await producer.produce({
    topic: "shape",
    key: bytes("k"),
    value: null,
    headers: [{ key: "a", value: bytes("1") }, { key: "a", value: null }],
    timestamp: 42,
  });
  await producer.produce({ topic: "shape", value: bytes("v") });
  const [first, second] = h.broker.messages("shape");
  assert.equal(text(first!.key), "k");
  assert.equal(first!.value, null);
  assert.deepEqual(first!.headers, [{ key: "a", value: bytes("1") }, { key: "a", value: null }]);
  assert.equal(first!.timestamp, 42);
  assert.equal(first!.timestampType, "create");
  assert.equal(second!.timestamp, 1_000);
});

Deno.test("produce() copies the payload so later changes to the buffer do not leak in", async () => {
  await using h = harness();
  const value = bytes("before");
  await h.producer().produce({ topic: "copy", value });
  value.set(bytes("AFTER!"));
  assert.equal(text(h.broker.messages("copy")[0]!.value), "before");
});

Deno.test("produce() stamps the broker's time when the topic uses LogAppendTime", async () => {
  await using h = harness({ clock: () => 7 });
  h.broker.createTopic("appended", 1, { config: { "message.timestamp.type": "LogAppendTime" } });
  await h.producer().produce({ topic: "appended", value: null, timestamp: 1 });
  const [message] = h.broker.messages("appended");
  assert.equal(message!.timestamp, 7);
  assert.equal(message!.timestampType, "log-append");
});

Deno.test("produce() rejects with the injected error when failNextProduce() was called", async () => {
  await using h = harness();
  const producer = h.producer();
  h.broker.failNextProduce("flaky", 29);
  h.broker.failNextProduce("flaky", new KafkaError(-195, "ERR__TRANSPORT", "custom"));
  const first = await rejectsWith(producer.produce({ topic: "flaky", value: null }), 29);
  assert.equal(first.code, "ERR_TOPIC_AUTHORIZATION_FAILED");
  const second = await rejectsWith(producer.produce({ topic: "flaky", value: null }), -195);
  assert.equal(second.message, "custom");
  assert.equal((await producer.produce({ topic: "flaky", value: null })).offset, 0);
});

Deno.test("produce() rejects with ERR__UNKNOWN_TOPIC when auto-creation is off", async () => {
  await using h = harness({ autoCreateTopics: false });
  await rejectsWith(h.producer().produce({ topic: "missing", value: null }), -188);
  assert.equal(h.broker.partitionCount("missing"), undefined);
});

Deno.test("produce() waits while the broker is down and delivers in order when it is back", async () => {
  await using h = harness();
  const producer = h.producer();
  h.broker.setAvailable(false);
  const reports = [1, 2, 3].map((n) => producer.produce({ topic: "later", value: bytes(`${n}`) }));
  let settled = false;
  Promise.all(reports).then(() => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(settled, false);
  assert.deepEqual(h.broker.messages("later"), []);
  h.broker.setAvailable(true);
  assert.deepEqual((await Promise.all(reports)).map((r) => r.offset), [0, 1, 2]);
  assert.deepEqual(h.broker.messages("later").map((m) => text(m.value)), ["1", "2", "3"]);
});

Deno.test("produce() rejects with ERR__MSG_TIMED_OUT after message.timeout.ms while down", async () => {
  await using h = harness();
  const producer = h.producer({ "message.timeout.ms": "20" });
  h.broker.setAvailable(false);
  const error = await rejectsWith(producer.produce({ topic: "down", value: null }), -192);
  assert.equal(error.code, "ERR__MSG_TIMED_OUT");
  assert.equal(error.retriable, true);
});

Deno.test("produce() rejects with ERR__QUEUE_FULL when queue.buffering.max.messages wait", async () => {
  await using h = harness();
  const producer = h.producer({ "queue.buffering.max.messages": "1" });
  h.broker.setAvailable(false);
  const waiting = producer.produce({ topic: "full", value: null });
  await rejectsWith(producer.produce({ topic: "full", value: null }), -184);
  h.broker.setAvailable(true);
  await waiting;
});

Deno.test("setAvailable() reports ERR__ALL_BROKERS_DOWN to every client's onError", async () => {
  await using h = harness();
  h.producer();
  h.consumer({});
  h.broker.setAvailable(false);
  h.broker.setAvailable(false);
  assert.deepEqual(h.errors.map((e) => e.code), ["ERR__ALL_BROKERS_DOWN", "ERR__ALL_BROKERS_DOWN"]);
});

Deno.test("flush() resolves once waiting messages were delivered", async () => {
  await using h = harness();
  const producer = h.producer();
  h.broker.setAvailable(false);
  const report = producer.produce({ topic: "flushed", value: null });
  const flushed = producer.flush(5_000);
  h.broker.setAvailable(true);
  await flushed;
  assert.equal((await report).offset, 0);
});

Deno.test("flush() rejects with ERR__TIMED_OUT when messages are still waiting", async () => {
  await using h = harness();
  const producer = h.producer();
  h.broker.setAvailable(false);
  const report = producer.produce({ topic: "stuck", value: null });
  await rejectsWith(producer.flush(10), -185);
  h.broker.setAvailable(true);
  await report;
});

Deno.test("close() fails waiting messages with ERR__PURGE_QUEUE and is idempotent", async () => {
  await using h = harness();
  const producer = h.transport.createProducer({ config: {} });
  h.broker.setAvailable(false);
  const report = producer.produce({ topic: "purged", value: null });
  await Promise.all([producer.close(10), producer.close(10)]);
  await rejectsWith(report, -152);
  await rejectsWith(producer.produce({ topic: "purged", value: null }), -172);
});

Deno.test("partitionCount() returns the count, and ERR_UNKNOWN_TOPIC_OR_PART for a missing topic", async () => {
  await using h = harness();
  h.broker.createTopic("counted", 5);
  const producer = h.producer();
  assert.equal(await producer.partitionCount("counted", 100), 5);
  const error = await rejectsWith(producer.partitionCount("nope", 100), 3);
  assert.match(error.message, /topic "nope" is still unknown to the cluster after 100 ms/);
});

Deno.test("partitionCount() waits for a topic that appears within its timeout", async () => {
  await using h = harness();
  const producer = h.producer();
  const count = producer.partitionCount("late", 10_000);
  // Created once partitionCount() already asked.
  setTimeout(() => h.broker.createTopic("late", 2), 50);
  assert.equal(await count, 2);
});

Deno.test("partitionCount() rejects with ERR__TIMED_OUT while the broker stays down", async () => {
  await using h = harness();
  h.broker.createTopic("counted", 5);
  const producer = h.producer();
  h.broker.setAvailable(false);
  await rejectsWith(producer.partitionCount("counted", 10), -185);
});

// Consumer configuration

Deno.test("createConsumer() throws a ConfigError when group.id is missing", () => {
  const transport = createMemoryTransport();
  assert.throws(() => transport.createConsumer({ config: {} }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.key, "group.id");
    return true;
  });
});

Deno.test("createConsumer() throws a ConfigError for a bad auto.offset.reset or strategy mix", () => {
  const transport = createMemoryTransport();
  const create = (config: Record<string, string>) =>
    transport.createConsumer({ config: { "group.id": "g", ...config } });
  assert.throws(() => create({ "auto.offset.reset": "sideways" }), ConfigError);
  assert.throws(() => create({ "partition.assignment.strategy": "sticky" }), ConfigError);
  assert.throws(
    () => create({ "partition.assignment.strategy": "range,cooperative-sticky" }),
    ConfigError,
  );
  assert.throws(() => create({ "enable.auto.commit": "yes" }), ConfigError);
});

Deno.test("createConsumer() accepts unknown properties and needs no bootstrap.servers", async () => {
  const transport = createMemoryTransport();
  const consumer = transport.createConsumer({
    config: { "group.id": "g", "made.up.property": "42" },
  });
  assert.equal(consumer.rebalanceProtocol, "eager");
  await consumer.close();
});

Deno.test("rebalanceProtocol is cooperative when the strategy is cooperative-sticky", async () => {
  await using h = harness();
  const consumer = h.consumer({ "partition.assignment.strategy": "cooperative-sticky" });
  assert.equal(consumer.rebalanceProtocol, "cooperative");
});

// Consuming

Deno.test("consume() reads from the beginning when auto.offset.reset is earliest or a synonym", async () => {
  for (const reset of ["earliest", "smallest", "beginning"]) {
    await using h = harness();
    h.broker.append({ topic: "t", value: bytes("old") });
    const consumer = h.consumer({ "auto.offset.reset": reset });
    consumer.subscribe(["t"]);
    assert.deepEqual((await consumer.consume(10, 0)).map((m) => text(m.value)), ["old"], reset);
  }
});

Deno.test("consume() skips existing messages when auto.offset.reset is latest or a synonym", async () => {
  for (const reset of ["latest", "largest", "end", undefined]) {
    await using h = harness();
    h.broker.append({ topic: "t", value: bytes("old") });
    const consumer = h.consumer(reset === undefined ? {} : { "auto.offset.reset": reset });
    if (reset === undefined) {
      // librdkafka's default is latest; the harness sets earliest, so drop it here.
      await consumer.close();
      const plain = h.transport.createConsumer({ config: { "group.id": "plain" } });
      plain.subscribe(["t"]);
      assert.deepEqual(await plain.consume(10, 0), []);
      h.broker.append({ topic: "t", value: bytes("new") });
      assert.deepEqual((await plain.consume(10, 0)).map((m) => text(m.value)), ["new"]);
      await plain.close();
      continue;
    }
    consumer.subscribe(["t"]);
    assert.deepEqual(await consumer.consume(10, 0), [], reset);
    h.broker.append({ topic: "t", value: bytes("new") });
    assert.deepEqual((await consumer.consume(10, 0)).map((m) => text(m.value)), ["new"]);
  }
});

Deno.test("consume() starts at the group's committed offset when there is one", async () => {
  await using h = harness();
  for (const v of ["a", "b", "c"]) h.broker.append({ topic: "t", value: bytes(v) });
  const first = h.consumer({});
  first.subscribe(["t"]);
  await first.consume(1, 0);
  await first.commit([{ topic: "t", partition: 0, offset: 2 }], { sync: true });
  await first.close();
  const second = h.consumer({});
  second.subscribe(["t"]);
  assert.deepEqual((await second.consume(10, 0)).map((m) => text(m.value)), ["c"]);
});

Deno.test("consume() returns at most max messages, each partition in offset order", async () => {
  await using h = harness();
  h.broker.createTopic("t", 3);
  for (let i = 0; i < 30; i++) {
    h.broker.append({ topic: "t", partition: i % 3, value: bytes(`${i}`) });
  }
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  const seen: Record<number, number[]> = { 0: [], 1: [], 2: [] };
  for (let round = 0; round < 10; round++) {
    const batch = await consumer.consume(4, 0);
    assert.ok(batch.length <= 4);
    for (const m of batch) seen[m.partition]!.push(m.offset);
  }
  for (const offsets of Object.values(seen)) {
    assert.deepEqual(offsets, Array.from({ length: 10 }, (_, i) => i));
  }
});

Deno.test("consume() resolves early when a message arrives while it waits", async () => {
  await using h = harness();
  h.broker.createTopic("t", 1);
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  await consumer.consume(1, 0);
  const started = Date.now();
  const pending = consumer.consume(10, 10_000);
  setTimeout(() => h.producer().produce({ topic: "t", value: bytes("late") }), 10);
  const batch = await pending;
  assert.deepEqual(batch.map((m) => text(m.value)), ["late"]);
  assert.ok(Date.now() - started < 5_000);
});

Deno.test("consume() resolves with an empty array when nothing arrives in time", async () => {
  await using h = harness();
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  assert.deepEqual(await consumer.consume(10, 20), []);
});

Deno.test("consume() rejects with a TypeError when a call is still pending", async () => {
  await using h = harness();
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  const pending = consumer.consume(1, 50);
  await assert.rejects(consumer.consume(1, 0), TypeError);
  await pending;
  await assert.rejects(consumer.consume(0, 0), RangeError);
});

Deno.test("consume() returns an empty array when close() is called while it waits", async () => {
  await using h = harness();
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  const pending = consumer.consume(1, 10_000);
  await consumer.close();
  assert.deepEqual(await pending, []);
  await rejectsWith(consumer.consume(1, 0), -172);
});

Deno.test("consume() reports ERR_UNKNOWN_TOPIC_OR_PART for a missing topic, then reads it once created", async () => {
  await using h = harness();
  const consumer = h.consumer({});
  consumer.subscribe(["later"]);
  await consumer.consume(1, 0);
  await consumer.consume(1, 0);
  assert.deepEqual(h.errors.map((e) => e.code), ["ERR_UNKNOWN_TOPIC_OR_PART"]);
  h.broker.append({ topic: "later", value: bytes("x") });
  assert.equal((await consumer.consume(1, 0)).length, 1);
  assert.deepEqual(consumer.assignment(), [{ topic: "later", partition: 0 }]);
});

Deno.test("consume() follows ^regex subscriptions, including topics created later", async () => {
  await using h = harness();
  h.broker.createTopic("orders.eu", 1);
  h.broker.createTopic("payments", 1);
  const consumer = h.consumer({});
  consumer.subscribe(["^orders\\..*"]);
  await consumer.consume(1, 0);
  assert.deepEqual(consumer.assignment(), [{ topic: "orders.eu", partition: 0 }]);
  h.broker.createTopic("orders.us", 1);
  await consumer.consume(1, 0);
  assert.deepEqual(consumer.assignment().map((tp) => tp.topic), ["orders.eu", "orders.us"]);
  assert.deepEqual(h.errors, []);
});

Deno.test("consume() reports ERR__AUTO_OFFSET_RESET when auto.offset.reset is error, until a seek", async () => {
  await using h = harness();
  h.broker.append({ topic: "t", value: bytes("a") });
  const consumer = h.consumer({ "auto.offset.reset": "error" });
  consumer.subscribe(["t"]);
  assert.deepEqual(await consumer.consume(1, 0), []);
  assert.deepEqual(h.errors.map((e) => e.errno), [-140]);
  await consumer.seek({ topic: "t", partition: 0, offset: 0 }, 100);
  assert.equal((await consumer.consume(1, 0)).length, 1);
});

Deno.test("consume() resets by auto.offset.reset when the position is past the end", async () => {
  await using h = harness();
  h.broker.append({ topic: "t", value: bytes("a") });
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  await consumer.consume(1, 0);
  await consumer.seek({ topic: "t", partition: 0, offset: 99 }, 100);
  assert.deepEqual((await consumer.consume(1, 0)).map((m) => m.offset), [0]);
});

Deno.test("consume() returns nothing while the broker is down", async () => {
  await using h = harness();
  h.broker.append({ topic: "t", value: bytes("a") });
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  h.broker.setAvailable(false);
  assert.deepEqual(await consumer.consume(1, 0), []);
  h.broker.setAvailable(true);
  assert.equal((await consumer.consume(1, 0)).length, 1);
});

// Offsets

Deno.test("commit() commits stored offsets, and resolves quietly when nothing is stored", async () => {
  await using h = harness();
  h.broker.createTopic("t", 2);
  const consumer = h.consumer({ "enable.auto.commit": "false" });
  consumer.subscribe(["t"]);
  await consumer.consume(1, 0);
  await consumer.commit(null, { sync: true });
  assert.equal(h.broker.committed("group", "t", 0), -1001);
  consumer.storeOffsets([
    { topic: "t", partition: 0, offset: 5 },
    { topic: "other", partition: 0, offset: 9 },
  ]);
  await consumer.commit(undefined, { sync: true });
  assert.equal(h.broker.committed("group", "t", 0), 5);
  assert.equal(h.broker.committed("group", "other", 0), -1001);
  assert.deepEqual(
    await consumer.committed([{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }], 100),
    [{ topic: "t", partition: 0, offset: 5 }, { topic: "t", partition: 1, offset: -1001 }],
  );
});

Deno.test("commit() commits explicit offsets as given", async () => {
  await using h = harness();
  const consumer = h.consumer({});
  await consumer.commit([{ topic: "x", partition: 3, offset: 11 }], { sync: true });
  assert.equal(h.broker.committed("group", "x", 3), 11);
  await assert.rejects(consumer.commit([{ topic: "x", partition: 0, offset: -5 }]), RangeError);
});

Deno.test("commit() rejects when sync and reports through onError when async, on failure", async () => {
  await using h = harness();
  const consumer = h.consumer({});
  h.broker.failNextCommit("group", 16);
  h.broker.failNextCommit("group", 27);
  const error = await rejectsWith(
    consumer.commit([{ topic: "t", partition: 0, offset: 1 }], { sync: true }),
    16,
  );
  assert.equal(error.code, "ERR_NOT_COORDINATOR");
  await consumer.commit([{ topic: "t", partition: 0, offset: 1 }]);
  assert.deepEqual(h.errors.map((e) => e.code), ["ERR_REBALANCE_IN_PROGRESS"]);
  assert.equal(h.broker.committed("group", "t", 0), -1001);
});

Deno.test("commit() rejects with ERR__TRANSPORT while the broker is down", async () => {
  await using h = harness();
  const consumer = h.consumer({});
  h.broker.setAvailable(false);
  await rejectsWith(
    consumer.commit([{ topic: "t", partition: 0, offset: 1 }], { sync: true }),
    -195,
  );
});

Deno.test("consume() auto-commits stored offsets once auto.commit.interval.ms passed on the clock", async () => {
  let now = 1_000_000;
  await using h = harness({ clock: () => now });
  h.broker.append({ topic: "t", value: bytes("a") });
  const consumer = h.consumer({ "auto.commit.interval.ms": "5000" });
  consumer.subscribe(["t"]);
  await consumer.consume(1, 0);
  consumer.storeOffsets([{ topic: "t", partition: 0, offset: 1 }]);
  now += 4_999;
  await consumer.consume(1, 0);
  assert.equal(h.broker.committed("group", "t", 0), -1001);
  now += 1;
  await consumer.consume(1, 0);
  assert.equal(h.broker.committed("group", "t", 0), 1);
});

Deno.test("consume() never commits on its own when enable.auto.commit is false", async () => {
  let now = 0;
  await using h = harness({ clock: () => now });
  const consumer = h.consumer({ "enable.auto.commit": "false" });
  h.broker.createTopic("t", 1);
  consumer.subscribe(["t"]);
  await consumer.consume(1, 0);
  consumer.storeOffsets([{ topic: "t", partition: 0, offset: 1 }]);
  now += 60_000;
  await consumer.consume(1, 0);
  await consumer.close();
  assert.equal(h.broker.committed("group", "t", 0), -1001);
});

Deno.test("close() commits stored offsets when enable.auto.commit is on", async () => {
  await using h = harness();
  h.broker.createTopic("t", 1);
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  await consumer.consume(1, 0);
  consumer.storeOffsets([{ topic: "t", partition: 0, offset: 3 }]);
  await consumer.close();
  assert.equal(h.broker.committed("group", "t", 0), 3);
});

Deno.test("committed() rejects with ERR__TIMED_OUT while the broker stays down", async () => {
  await using h = harness();
  const consumer = h.consumer({});
  h.broker.setAvailable(false);
  await rejectsWith(consumer.committed([{ topic: "t", partition: 0 }], 10), -185);
});

// Pause, resume, seek

Deno.test("pause() stops fetching a partition and resume() starts it again", async () => {
  await using h = harness();
  h.broker.createTopic("t", 2);
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  await consumer.consume(1, 0);
  h.broker.append({ topic: "t", partition: 0, value: bytes("p0") });
  h.broker.append({ topic: "t", partition: 1, value: bytes("p1") });
  consumer.pause([{ topic: "t", partition: 0 }]);
  assert.deepEqual((await consumer.consume(10, 0)).map((m) => text(m.value)), ["p1"]);
  assert.deepEqual(await consumer.consume(10, 0), []);
  consumer.resume([{ topic: "t", partition: 0 }]);
  assert.deepEqual((await consumer.consume(10, 0)).map((m) => text(m.value)), ["p0"]);
});

Deno.test("seek() moves the position, also of a paused partition, and takes logical offsets", async () => {
  await using h = harness();
  for (const v of ["a", "b", "c"]) h.broker.append({ topic: "t", value: bytes(v) });
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  assert.equal((await consumer.consume(10, 0)).length, 3);
  consumer.pause([{ topic: "t", partition: 0 }]);
  await consumer.seek({ topic: "t", partition: 0, offset: 1 }, 100);
  consumer.resume([{ topic: "t", partition: 0 }]);
  assert.deepEqual((await consumer.consume(10, 0)).map((m) => text(m.value)), ["b", "c"]);
  await consumer.seek({ topic: "t", partition: 0, offset: -2 }, 100);
  assert.equal((await consumer.consume(10, 0)).length, 3);
  await consumer.seek({ topic: "t", partition: 0, offset: -1 }, 100);
  assert.deepEqual(await consumer.consume(10, 0), []);
});

Deno.test("seek() rejects with ERR__UNKNOWN_PARTITION for a partition not assigned", async () => {
  await using h = harness();
  const consumer = h.consumer({});
  await rejectsWith(consumer.seek({ topic: "t", partition: 0, offset: 0 }, 100), -190);
});

// Groups

Deno.test("onRebalance() sees eager revoke-all then assign when a second member joins (range)", async () => {
  await using h = harness();
  h.broker.createTopic("t", 4);
  const a = h.consumer({ "client.id": "a" });
  a.subscribe(["t"]);
  await a.consume(1, 0);
  assert.deepEqual(a.events.map(brief), ["assign:t/0,t/1,t/2,t/3"]);
  assert.ok(a.events.every((e) => e.protocol === "eager"));

  const b = h.consumer({ "client.id": "b" });
  b.subscribe(["t"]);
  await b.consume(1, 0); // b joined; a has not rejoined yet, so b waits
  assert.deepEqual(b.assignment(), []);
  await a.consume(1, 0); // a revokes everything, everyone joined, a takes its share
  await b.consume(1, 0);
  assert.deepEqual(a.events.map(brief), [
    "assign:t/0,t/1,t/2,t/3",
    "revoke:t/0,t/1,t/2,t/3",
    "assign:t/0,t/1",
  ]);
  assert.deepEqual(b.events.map(brief), ["assign:t/2,t/3"]);
  assert.deepEqual(
    h.broker.members("group").map((m) => [m.clientId, m.assignment.length]),
    [["a", 2], ["b", 2]],
  );
});

Deno.test("consume() completes a rebalance for a member already waiting in consume()", async () => {
  await using h = harness();
  h.broker.createTopic("t", 2);
  const a = h.consumer({});
  a.subscribe(["t"]);
  await a.consume(1, 0);
  const waiting = a.consume(1, 5_000); // revokes as soon as b joins, then waits again
  const b = h.consumer({});
  b.subscribe(["t"]);
  await b.consume(1, 0);
  h.broker.append({ topic: "t", partition: 0, value: bytes("x") });
  h.broker.append({ topic: "t", partition: 1, value: bytes("y") });
  const [fromA, fromB] = await Promise.all([waiting, b.consume(1, 5_000)]);
  assert.equal(fromA.length + fromB.length, 2);
  assert.equal(a.assignment().length, 1);
  assert.equal(b.assignment().length, 1);
});

Deno.test("members() spreads partitions round-robin when the strategy is roundrobin", async () => {
  await using h = harness();
  h.broker.createTopic("x", 2);
  h.broker.createTopic("y", 2);
  const config = { "partition.assignment.strategy": "roundrobin" };
  const a = h.consumer(config);
  const b = h.consumer(config);
  a.subscribe(["x", "y"]);
  b.subscribe(["x", "y"]);
  await a.consume(1, 0);
  await b.consume(1, 0);
  await a.consume(1, 0);
  assert.deepEqual(a.assignment(), [{ topic: "x", partition: 0 }, { topic: "y", partition: 0 }]);
  assert.deepEqual(b.assignment(), [{ topic: "x", partition: 1 }, { topic: "y", partition: 1 }]);
});

Deno.test("onRebalance() sees only moved partitions under cooperative-sticky", async () => {
  await using h = harness();
  h.broker.createTopic("t", 4);
  const config = { "partition.assignment.strategy": "cooperative-sticky" };
  const a = h.consumer(config);
  a.subscribe(["t"]);
  await a.consume(1, 0);
  const b = h.consumer(config);
  b.subscribe(["t"]);
  await b.consume(1, 0); // nothing free yet: b hears it joined, with nothing
  await a.consume(1, 0); // a gives up two partitions, keeps two
  await b.consume(1, 0); // b takes the freed ones
  assert.deepEqual(a.events.map(brief), ["assign:t/0,t/1,t/2,t/3", "revoke:t/2,t/3"]);
  assert.deepEqual(b.events.map(brief), ["assign:", "assign:t/2,t/3"]);
  assert.ok([...a.events, ...b.events].every((e) => e.protocol === "cooperative"));

  await b.close();
  await a.consume(1, 0);
  assert.deepEqual(a.events.map(brief).slice(2), ["assign:t/2,t/3"]);
  assert.deepEqual(b.events.map(brief).slice(2), ["revoke:t/2,t/3"]);
});

Deno.test("onRebalance() revoke is awaited so its commit is seen by the next owner", async () => {
  await using h = harness();
  h.broker.createTopic("t", 2);
  for (let i = 0; i < 4; i++) h.broker.append({ topic: "t", partition: i % 2, value: null });
  const a: ConsumerTransport = h.consumer({ "enable.auto.commit": "false" }, {
    onRebalance: async (event) => {
      if (event.kind !== "revoke") return;
      await new Promise((resolve) => setTimeout(resolve, 5));
      await a.commit(event.partitions.map((tp) => ({ ...tp, offset: 2 })), { sync: true });
    },
  });
  a.subscribe(["t"]);
  await a.consume(10, 0);
  const b = h.consumer({});
  b.subscribe(["t"]);
  await a.consume(1, 0);
  await b.consume(1, 0);
  await a.consume(1, 0);
  // Both partitions were committed at 2 by a's revoke before b took one: nothing left.
  assert.deepEqual(await b.consume(10, 0), []);
  assert.equal(h.broker.committed("group", "t", 0), 2);
  assert.equal(h.broker.committed("group", "t", 1), 2);
});

Deno.test("onRebalance() rejection goes to onError as ERR__APPLICATION and the change goes ahead", async () => {
  await using h = harness();
  h.broker.createTopic("t", 1);
  const consumer = h.consumer({}, {
    onRebalance: () => Promise.reject(new Error("boom")),
  });
  consumer.subscribe(["t"]);
  await consumer.consume(1, 0);
  assert.deepEqual(consumer.assignment(), [{ topic: "t", partition: 0 }]);
  assert.equal(h.errors[0]?.code, "ERR__APPLICATION");
  assert.equal((h.errors[0]?.cause as Error).message, "boom");
});

Deno.test("close() runs the last revoke and hands the partitions to the remaining member", async () => {
  await using h = harness();
  h.broker.createTopic("t", 2);
  const a = h.consumer({});
  const b = h.consumer({});
  a.subscribe(["t"]);
  b.subscribe(["t"]);
  await a.consume(1, 0);
  await b.consume(1, 0);
  await a.consume(1, 0);
  await a.close();
  await a.close();
  assert.equal(a.events.at(-1)?.kind, "revoke");
  assert.deepEqual(a.assignment(), []);
  await b.consume(1, 0);
  assert.equal(b.assignment().length, 2);
  assert.equal(h.broker.members("group").length, 1);
});

Deno.test("expireMember() makes the member's next consume() revoke with assignmentLost() true", async () => {
  await using h = harness();
  h.broker.createTopic("t", 2);
  let lostDuringRevoke: boolean | undefined;
  const a: ConsumerTransport = h.consumer({}, {
    onRebalance: (event) => {
      if (event.kind === "revoke") lostDuringRevoke = a.assignmentLost();
    },
  });
  const b = h.consumer({});
  a.subscribe(["t"]);
  b.subscribe(["t"]);
  await a.consume(1, 0);
  await b.consume(1, 0);
  await a.consume(1, 0);
  const aId = h.broker.members("group")[0]!.memberId;
  h.broker.expireMember("group", aId);
  await b.consume(1, 0);
  assert.equal(b.assignment().length, 2);
  await a.consume(1, 0);
  assert.equal(lostDuringRevoke, true);
  assert.equal(h.errors.at(-1)?.code, "ERR__ASSIGNMENT_LOST");
  assert.equal(h.broker.members("group").length, 2);
});

Deno.test("consume() expires members that exceed max.poll.interval.ms on the clock", async () => {
  let now = 0;
  await using h = harness({ clock: () => now });
  h.broker.createTopic("t", 2);
  const slow = h.consumer({ "max.poll.interval.ms": "1000" });
  const fast = h.consumer({ "max.poll.interval.ms": "1000" });
  slow.subscribe(["t"]);
  fast.subscribe(["t"]);
  await slow.consume(1, 0);
  await fast.consume(1, 0);
  await slow.consume(1, 0);
  now += 900;
  await fast.consume(1, 0);
  now += 200; // slow last polled 1100 ms ago
  await fast.consume(1, 0);
  assert.equal(fast.assignment().length, 2);
  assert.equal(h.broker.members("group").length, 1);
  await slow.consume(1, 0);
  assert.ok(h.errors.some((e) => e.code === "ERR__MAX_POLL_EXCEEDED"));
  assert.equal(slow.assignmentLost(), true);
});

Deno.test("createTopic() growing a subscribed topic rebalances the group", async () => {
  await using h = harness();
  h.broker.createTopic("t", 1);
  const consumer = h.consumer({});
  consumer.subscribe(["t"]);
  await consumer.consume(1, 0);
  h.broker.createTopic("t", 3);
  await consumer.consume(1, 0);
  assert.equal(consumer.assignment().length, 3);
  assert.throws(() => h.broker.createTopic("t", 2), RangeError);
});

// Admin

Deno.test("createTopics() creates topics and ignores ones that exist", async () => {
  await using h = harness();
  const admin = h.transport.createAdmin({ config: {} });
  await admin.createTopics([{ name: "made", partitions: 3 }], 100);
  await admin.createTopics([{ name: "made", partitions: 5 }], 100);
  assert.equal(h.broker.partitionCount("made"), 3);
  await assert.rejects(admin.createTopics([{ name: "bad", partitions: 0 }], 100), RangeError);
  await rejectsWith(admin.createTopics([{ name: "has space", partitions: 1 }], 100), 17);
  await admin.close();
  await admin.close();
});

Deno.test("deleteTopics() removes topics and ignores ones that do not exist", async () => {
  await using h = harness();
  const admin = h.transport.createAdmin({ config: {} });
  h.broker.append({ topic: "gone", value: null });
  await admin.deleteTopics(["gone", "never"], 100);
  assert.deepEqual(h.broker.topics(), []);
  assert.deepEqual(h.broker.messages("gone"), []);
  await admin.close();
  await rejectsWith(admin.createTopics([{ name: "x", partitions: 1 }], 100), -172);
});

Deno.test("createTopics() rejects with ERR__TIMED_OUT while the broker stays down", async () => {
  await using h = harness();
  const admin = h.transport.createAdmin({ config: {} });
  h.broker.setAvailable(false);
  await rejectsWith(admin.createTopics([{ name: "x", partitions: 1 }], 10), -185);
  await admin.close();
});

// Broker handle

Deno.test("messages() lists a topic's messages in the order they were written", async () => {
  await using h = harness();
  h.broker.createTopic("t", 2);
  h.broker.append({ topic: "t", partition: 1, value: bytes("1") });
  h.broker.append({ topic: "t", partition: 0, value: bytes("2") });
  h.broker.append({ topic: "t", partition: 1, value: bytes("3") });
  assert.deepEqual(h.broker.messages("t").map((m) => text(m.value)), ["1", "2", "3"]);
  assert.deepEqual(h.broker.messages("t", 1).map((m) => m.offset), [0, 1]);
  assert.deepEqual(h.broker.messages("missing"), []);
});
