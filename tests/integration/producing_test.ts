/**
 * Producing from applications against the real broker at `RACECAR_BROKERS`
 * (default `127.0.0.1:9092`) through the Deno FFI transport.
 */

import {
  closeDefaultProducer,
  configureDefaultProducer,
  createProducer,
  produceAsync,
  produceSync,
  waitForDelivery,
} from "../../src/app_producer.ts";
import { ConfigError, DeliveryError, ErrorCode, KafkaError } from "../../src/errors.ts";
import { Instrumenter } from "../../src/events.ts";
import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import type { RawMessage } from "../../src/kafka/transport.ts";
import assert from "node:assert/strict";
import { KafkaProxy } from "./_kafka_proxy.ts";

const brokers = Deno.env.get("RACECAR_BROKERS") ?? "127.0.0.1:9092";
const transport = createFfiTransport();
const decoder = new TextDecoder();
const text = (bytes: Uint8Array | null) => bytes === null ? null : decoder.decode(bytes);

function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 12)}`;
}

async function newTopic(partitions = 1, config: Record<string, string> = {}): Promise<string> {
  const name = unique("racecar-producing");
  const admin = transport.createAdmin({ config: { "bootstrap.servers": brokers } });
  try {
    await admin.createTopics([{ name, partitions, replicationFactor: 1, config }], 15_000);
  } finally {
    await admin.close();
  }
  return name;
}

async function deleteTopic(name: string): Promise<void> {
  const admin = transport.createAdmin({ config: { "bootstrap.servers": brokers } });
  try {
    await admin.deleteTopics([name], 15_000);
  } finally {
    await admin.close();
  }
}

/** Reads `topic` from the beginning until `count` messages arrived. */
async function consumeAll(topic: string, count: number, timeoutMs = 30_000): Promise<RawMessage[]> {
  const consumer = transport.createConsumer({
    config: {
      "bootstrap.servers": brokers,
      "group.id": unique("racecar-producing-reader"),
      "auto.offset.reset": "earliest",
      "enable.auto.commit": "false",
    },
  });
  const all: RawMessage[] = [];
  try {
    consumer.subscribe([topic]);
    const deadline = Date.now() + timeoutMs;
    while (all.length < count) {
      if (Date.now() > deadline) throw new Error(`Read ${all.length} of ${count} messages in time`);
      all.push(...await consumer.consume(100, 200));
    }
  } finally {
    await consumer.close();
  }
  return all;
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs`. */
async function waitUntil(condition: () => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function test(name: string, fn: () => Promise<void>): void {
  // librdkafka's threads and the FFI pollers are not ops the sanitizers understand;
  // every test closes its own clients.
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });
}

test("produceSync() delivers through the default producer and reports where the message landed", async () => {
  const topic = await newTopic();
  configureDefaultProducer({
    transport,
    load: { env: { RACECAR_BROKERS: brokers, RACECAR_CLIENT_ID: "web" }, skipFiles: true },
  });
  try {
    const report = await produceSync("hello", { topic, key: "k1" });
    assert.deepEqual(report, { topic, partition: 0, offset: 0 });
    const [message] = await consumeAll(topic, 1);
    assert.deepEqual(text(message!.value), "hello");
    assert.deepEqual(text(message!.key), "k1");
  } finally {
    await closeDefaultProducer();
    await deleteTopic(topic);
  }
});

test("waitForDelivery() resolves once every produceAsync() message was delivered", async () => {
  const topic = await newTopic(3);
  const events = new Instrumenter();
  const acknowledged: number[] = [];
  events.on("acknowledged_message", (p) => acknowledged.push(p.offset));
  configureDefaultProducer({
    transport,
    instrumenter: events,
    load: { env: { RACECAR_BROKERS: brokers }, skipFiles: true },
  });
  try {
    // Queued before the default producer exists: kept in order behind its creation.
    produceAsync("early", { topic, partition: 1 });
    const result = await waitForDelivery(() => {
      for (let i = 0; i < 50; i++) produceAsync(`m${i}`, { topic, key: `key-${i % 7}` });
      return "done";
    });
    assert.deepEqual(result, "done");
    assert.ok(acknowledged.length >= 50, `only ${acknowledged.length} acknowledged`);
    const messages = await consumeAll(topic, 51);
    assert.deepEqual(
      new Set(messages.map((m) => text(m.value))),
      new Set(["early", ...Array.from({ length: 50 }, (_, i) => `m${i}`)]),
    );
  } finally {
    await closeDefaultProducer();
    await deleteTopic(topic);
  }
});

test("Producer.send() round-trips headers and createTime when they are given", async () => {
  const topic = await newTopic();
  const producer = await createProducer({ brokers: [brokers] }, { transport });
  try {
    // An hour ago, with milliseconds: distinct from now, yet inside the topic's
    // retention (an older time would let retention delete the message mid-test).
    const createTime = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000 + 789);
    await producer.produceSync("with headers", {
      topic,
      key: "k",
      createTime,
      headers: [
        { key: "trace-id", value: new TextEncoder().encode("abc") },
        { key: "trace-id", value: new TextEncoder().encode("def") },
        { key: "empty", value: null },
      ],
    });
    await producer.produceSync("object headers", {
      topic,
      createTime: createTime.getTime() + 1,
      headers: { "content-type": "application/json" },
    });
    const [first, second] = await consumeAll(topic, 2);
    assert.deepEqual(first!.timestamp, createTime.getTime());
    assert.deepEqual(first!.timestampType, "create");
    assert.deepEqual(first!.headers.map((h) => [h.key, text(h.value)]), [["trace-id", "abc"], [
      "trace-id",
      "def",
    ], ["empty", null]]);
    assert.deepEqual(second!.timestamp, createTime.getTime() + 1);
    assert.deepEqual(second!.headers.map((h) => [h.key, text(h.value)]), [[
      "content-type",
      "application/json",
    ]]);
  } finally {
    await producer.close();
    await deleteTopic(topic);
  }
});

for (const partitioner of ["consistent_random", "murmur2_random"] as const) {
  test(`Producer.send() puts a partitionKey on the same partition as an equal key when the partitioner is ${partitioner}`, async () => {
    const topic = await newTopic(6);
    const producer = await createProducer({ brokers: [brokers], partitioner }, { transport });
    try {
      for (const id of ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]) {
        const byKey = await producer.produceSync("k", { topic, key: id });
        const byPartitionKey = await producer.produceSync("pk", {
          topic,
          key: `other-${id}`,
          partitionKey: id,
        });
        assert.deepEqual(byPartitionKey.partition, byKey.partition, `key "${id}"`);
      }
    } finally {
      await producer.close();
      await deleteTopic(topic);
    }
  });
}

test("Producer.send() with a partitionKey reaches partitions added to the topic after topic.metadata.refresh.interval.ms", async () => {
  const topic = await newTopic(1);
  const producer = await createProducer(
    { brokers: [brokers], producer: ["topic.metadata.refresh.interval.ms=200"] },
    { transport },
  );
  const ids = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
  try {
    const before = await producer.produceSync("before", { topic, partitionKey: "alpha" });
    assert.deepEqual(before.partition, 0);
    const admin = transport.createAdmin({ config: { "bootstrap.servers": brokers } });
    try {
      await admin.createPartitions(topic, 6, 15_000);
    } finally {
      await admin.close();
    }
    // Keep producing until a partitionKey message lands on a new partition.
    const deadline = Date.now() + 30_000;
    let landed = 0;
    for (let i = 0; landed === 0; i++) {
      assert(Date.now() < deadline, "no partitionKey message reached a new partition in 30 s");
      const id = ids[i % ids.length]!;
      landed = (await producer.produceSync("after", { topic, partitionKey: id })).partition;
    }
    // From then on, the count is the new one: partitionKey agrees with key again.
    for (const id of ids) {
      const byKey = await producer.produceSync("k", { topic, key: id });
      const byPartitionKey = await producer.produceSync("pk", { topic, partitionKey: id });
      assert.deepEqual(byPartitionKey.partition, byKey.partition, `key "${id}"`);
    }
  } finally {
    await producer.close();
    await deleteTopic(topic);
  }
});

test("Producer.produceSync() rejects with a DeliveryError naming the cause when the message is larger than the topic accepts", async () => {
  const topic = await newTopic(1, { "max.message.bytes": "1024" });
  const events = new Instrumenter();
  const failures: unknown[] = [];
  events.on("produce_delivery_error", (p) => failures.push(p.error));
  const producer = await createProducer({ brokers: [brokers] }, {
    transport,
    instrumenter: events,
  });
  try {
    let caught: unknown;
    try {
      await producer.produceSync("x".repeat(10_000), { topic });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof DeliveryError, `expected a DeliveryError, got ${caught}`);
    assert.deepEqual(caught.errno, ErrorCode.MSG_SIZE_TOO_LARGE);
    assert.deepEqual(caught.topic, topic);
    assert.ok(caught.message.includes(`topic "${topic}"`), caught.message);
    assert.ok(caught.message.includes("larger than the broker or topic accepts"), caught.message);
    assert.ok(caught.cause instanceof KafkaError);
    assert.deepEqual(failures, [caught]);
  } finally {
    await producer.close();
    await deleteTopic(topic);
  }
});

test("createProducer() compresses with gzip when producerCompressionCodec is gzip", async () => {
  const topic = await newTopic();
  const producer = await createProducer(
    { brokers: [brokers], producerCompressionCodec: "gzip" },
    { transport },
  );
  try {
    await producer.produceSync("z".repeat(5000), { topic });
    const [message] = await consumeAll(topic, 1);
    assert.deepEqual(text(message!.value), "z".repeat(5000));
  } finally {
    await producer.close();
    await deleteTopic(topic);
  }
});

test("createProducer() throws a ConfigError naming the codec and the builtin features when librdkafka lacks it", async () => {
  const missing = ["zstd", "snappy", "lz4", "gzip"].find((codec) =>
    !transport.features.builtin.includes(codec)
  );
  const codec = missing ?? "zstd";
  const fake = missing === undefined
    ? { ...transport, features: { ...transport.features, builtin: ["gzip", "ssl"] } }
    : transport;
  let caught: unknown;
  try {
    const producer = await createProducer(
      { brokers: [brokers], producerCompressionCodec: codec as "zstd" },
      { transport: fake },
    );
    await producer.close();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${caught}`);
  assert.deepEqual(caught.key, "producerCompressionCodec");
  assert.ok(caught.message.includes(`"${codec}"`), caught.message);
  assert.ok(caught.message.includes(fake.features.builtin.join(", ")), caught.message);
});

test("Producer.waitForDelivery() loses nothing when the broker goes down and comes back", async () => {
  const topic = await newTopic(2);
  const proxy = new KafkaProxy(brokers);
  await proxy.start();
  const events = new Instrumenter();
  const clientErrors: KafkaError[] = [];
  events.on("error", (p) => clientErrors.push(p.error as KafkaError));
  const producer = await createProducer({
    brokers: [proxy.address],
    clientId: "proxy-test",
    messageTimeout: 120,
    producer: ["reconnect.backoff.max.ms=500"],
  }, { transport, instrumenter: events });
  try {
    await producer.produceSync("before", { topic, key: "k" });
    const connectionsBefore = proxy.connections;
    assert.ok(connectionsBefore > 0, "the producer did not go through the proxy");

    await proxy.stop();
    // "All brokers down" also proves the advertised address was rewritten: a
    // direct connection to the broker would have stayed up.
    await waitUntil(
      () => clientErrors.some((e) => e.errno === ErrorCode.ALL_BROKERS_DOWN),
      "the producer noticed that every broker is down",
    );
    let delivered = false;
    const delivery = producer.waitForDelivery(() => {
      for (let i = 0; i < 30; i++) producer.produceAsync(`down-${i}`, { topic, key: `k${i}` });
    }).then(() => void (delivered = true));
    assert.deepEqual(producer.bufferSize, 30);
    // Let librdkafka fail to reconnect once more while the messages wait.
    const errorsSoFar = clientErrors.length;
    await waitUntil(() => clientErrors.length > errorsSoFar, "another reconnect failed");
    assert.ok(!delivered, "messages were delivered while the broker was down");
    assert.deepEqual(producer.bufferSize, 30);

    await proxy.start();
    await delivery;
    assert.ok(proxy.connections > connectionsBefore, "the producer did not reconnect");
    assert.deepEqual(producer.bufferSize, 0);
    const messages = await consumeAll(topic, 31);
    assert.deepEqual(
      new Set(messages.map((m) => text(m.value))),
      new Set(["before", ...Array.from({ length: 30 }, (_, i) => `down-${i}`)]),
    );
  } finally {
    await producer.close(5_000);
    await proxy.stop();
    await deleteTopic(topic);
  }
});

test("Producer.produceAsync() fails with a DeliveryError explaining the timeout when the broker stays down past messageTimeout", async () => {
  const topic = await newTopic();
  const proxy = new KafkaProxy(brokers);
  await proxy.start();
  const asyncErrors: DeliveryError[] = [];
  const producer = await createProducer({
    brokers: [proxy.address],
    messageTimeout: 2,
  }, { transport, onAsyncError: (error) => asyncErrors.push(error) });
  try {
    await producer.produceSync("before", { topic });
    await proxy.stop();
    producer.produceAsync("lost", { topic });
    await waitUntil(() => asyncErrors.length === 1, "the message timed out", 20_000);
    const error = asyncErrors[0]!;
    assert.ok(error instanceof DeliveryError, `expected a DeliveryError, got ${error}`);
    assert.deepEqual(error.errno, ErrorCode.MSG_TIMED_OUT);
    assert.ok(error.retriable);
    assert.ok(error.message.includes("'message_timeout'"), error.message);
    assert.ok(error.message.includes("check that the brokers are reachable"), error.message);
  } finally {
    await producer.close(1_000);
    await proxy.stop();
    await deleteTopic(topic);
  }
});
