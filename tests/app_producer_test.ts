import {
  checkCompressionCodec,
  closeDefaultProducer,
  configureDefaultProducer,
  createProducer,
  defaultProducer,
  produceAsync,
  produceSync,
  waitForDelivery,
} from "../src/app_producer.ts";
import { ConfigError, DeliveryError, ErrorCode, RacecarError } from "../src/errors.ts";
import { Instrumenter } from "../src/events.ts";
import { createMemoryTransport } from "../src/kafka/memory/mod.ts";
import type { Transport } from "../src/kafka/transport.ts";
import assert from "node:assert/strict";

const text = (bytes: Uint8Array | null) => bytes === null ? null : new TextDecoder().decode(bytes);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** A memory transport that remembers the librdkafka properties producers were created with. */
function recording() {
  const transport = createMemoryTransport();
  const configs: Record<string, string>[] = [];
  const wrapped: Transport = {
    ...transport,
    createProducer(options) {
      configs.push(options.config);
      return transport.createProducer(options);
    },
  };
  return { transport: wrapped, broker: transport.broker, configs };
}

Deno.test("createProducer() maps partitioner, compression and messageTimeout to librdkafka when configured", async () => {
  const { transport, configs } = recording();
  const producer = await createProducer({
    brokers: ["a:9092", "b:9092"],
    clientId: "web",
    partitioner: "murmur2_random",
    producerCompressionCodec: "lz4",
    messageTimeout: 30,
  }, { transport });
  await producer.close();
  const config = configs[0]!;
  assert.deepEqual(config["bootstrap.servers"], "a:9092,b:9092");
  assert.deepEqual(config["client.id"], "web");
  assert.deepEqual(config["partitioner"], "murmur2_random");
  assert.deepEqual(config["compression.codec"], "lz4");
  assert.deepEqual(config["message.timeout.ms"], "30000");
  assert.deepEqual(config["statistics.interval.ms"], "0");
});

Deno.test("createProducer() turns statistics on when the instrumenter listens to them", async () => {
  const { transport, configs } = recording();
  const events = new Instrumenter();
  events.on("statistics", () => {});
  const producer = await createProducer({ statisticsInterval: 5 }, {
    transport,
    instrumenter: events,
  });
  await producer.close();
  assert.deepEqual(configs[0]!["statistics.interval.ms"], "5000");
});

Deno.test("createProducer() rejects with a ConfigError when a setting is unknown", async () => {
  const { transport } = recording();
  const error = await rejection(
    createProducer({ brokerz: ["x"] } as unknown as { brokers: string[] }, { transport }),
  );
  assert.ok(error instanceof ConfigError);
  assert.ok(error.message.includes("'brokerz'"), error.message);
});

Deno.test("createProducer() rejects with a ConfigError when the configuration is invalid", async () => {
  const { transport } = recording();
  const error = await rejection(createProducer({ brokers: [] }, { transport }));
  assert.ok(error instanceof ConfigError);
  assert.ok(error.message.includes("'brokers'"), error.message);
});

Deno.test("checkCompressionCodec() names the codec, the builtin features and the choices when a codec is missing", () => {
  assert.throws(
    () => checkCompressionCodec({ "compression.codec": "zstd" }, ["gzip", "ssl", "lz4"], "2.12.0"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(
        error.message,
        `Invalid configuration 'producer_compression_codec': the loaded librdkafka 2.12.0 was ` +
          `built without "zstd" (builtin features: gzip, ssl, lz4): choose one of "none", ` +
          `"gzip", "lz4", or install a librdkafka built with zstd`,
      );
      assert.equal(error.key, "producerCompressionCodec");
      return true;
    },
  );
  // The pass-through spelling is checked too; "none" and "inherit" need nothing.
  assert.throws(() => checkCompressionCodec({ "compression.type": "snappy" }, [], "2.12.0"));
  checkCompressionCodec({ "compression.codec": "none" }, [], "2.12.0");
  checkCompressionCodec({ "compression.codec": "inherit" }, [], "2.12.0");
  checkCompressionCodec({}, [], "2.12.0");
});

Deno.test("produceAsync() keeps call order when called before the default producer exists", async () => {
  const { transport, broker } = recording();
  configureDefaultProducer({ transport, load: { env: {}, skipFiles: true } });
  try {
    for (let i = 0; i < 5; i++) produceAsync(`m${i}`, { topic: "orders" });
    await waitForDelivery(() => produceAsync("last", { topic: "orders" }));
    await (await defaultProducer()).flush(1_000);
    assert.deepEqual(broker.messages("orders").map((m) => text(m.value)), [
      "m0",
      "m1",
      "m2",
      "m3",
      "m4",
      "last",
    ]);
  } finally {
    await closeDefaultProducer();
  }
});

Deno.test("produceSync() uses the loaded configuration overlaid with configured settings", async () => {
  const { transport, configs, broker } = recording();
  configureDefaultProducer({
    transport,
    config: { clientId: "from-code" },
    load: { env: { RACECAR_BROKERS: "env:9092", RACECAR_CLIENT_ID: "from-env" }, skipFiles: true },
  });
  try {
    const report = await produceSync("hi", { topic: "greetings", key: "k" });
    assert.deepEqual(report.topic, "greetings");
    assert.deepEqual(configs[0]!["bootstrap.servers"], "env:9092");
    assert.deepEqual(configs[0]!["client.id"], "from-code");
    assert.deepEqual(text(broker.messages("greetings")[0]!.key), "k");
  } finally {
    await closeDefaultProducer();
  }
});

Deno.test("configureDefaultProducer() throws when the default producer already exists", async () => {
  const { transport } = recording();
  configureDefaultProducer({ transport, load: { env: {}, skipFiles: true } });
  try {
    await defaultProducer();
    assert.throws(
      () => configureDefaultProducer({ transport }),
      (error: unknown) =>
        error instanceof RacecarError &&
        String((error as Error).message).includes("closeDefaultProducer() first"),
    );
  } finally {
    await closeDefaultProducer();
  }
  configureDefaultProducer({ transport, load: { env: {}, skipFiles: true } });
  await closeDefaultProducer();
});

Deno.test("defaultProducer() rejects with the ConfigError and tries again on the next call when the configuration is invalid", async () => {
  const { transport } = recording();
  configureDefaultProducer({
    transport,
    load: { env: { RACECAR_PARTITIONER: "bogus" }, skipFiles: true },
  });
  const error = await rejection(produceSync("x", { topic: "t" }));
  assert.ok(error instanceof ConfigError, String(error));
  // The failed creation was forgotten: the default producer can be configured again.
  configureDefaultProducer({ transport, load: { env: {}, skipFiles: true } });
  await produceSync("x", { topic: "t" });
  await closeDefaultProducer();
});

Deno.test("closeDefaultProducer() flushes what is queued when it closes", async () => {
  const { transport, broker } = recording();
  configureDefaultProducer({ transport, load: { env: {}, skipFiles: true } });
  await defaultProducer();
  for (let i = 0; i < 10; i++) produceAsync(`m${i}`, { topic: "flush" });
  await closeDefaultProducer();
  assert.deepEqual(broker.messages("flush").length, 10);
  await closeDefaultProducer(); // idempotent
});

Deno.test("waitForDelivery() rejects with a DeliveryError when a message cannot be delivered", async () => {
  const { transport, broker } = recording();
  broker.createTopic("fragile", 1);
  configureDefaultProducer({ transport, load: { env: {}, skipFiles: true } });
  try {
    broker.failNextProduce("fragile", ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const error = await rejection(
      waitForDelivery(() => produceAsync("x", { topic: "fragile" })),
    );
    assert.ok(error instanceof DeliveryError, String(error));
    assert.ok(error.message.includes("Write and Describe ACLs"), error.message);
  } finally {
    await closeDefaultProducer();
  }
});

Deno.test("produceSync() with a partitionKey picks again when the topic was re-created with fewer partitions", async () => {
  const transport = createMemoryTransport();
  const admin = transport.createAdmin({ config: {} });
  await admin.createTopics([{ name: "shrunk", partitions: 4 }], 1_000);
  const producer = await createProducer({ brokers: ["memory:9092"] }, { transport });
  try {
    // A key that lands beyond partition 0 while the topic has four.
    const keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let key: string | undefined;
    for (const k of keys) {
      const report = await producer.produceSync("x", { topic: "shrunk", partitionKey: k });
      if (report.partition > 0) {
        key = k;
        break;
      }
    }
    assert(key !== undefined, "no key landed beyond partition 0");
    await admin.deleteTopics(["shrunk"], 1_000);
    await admin.createTopics([{ name: "shrunk", partitions: 1 }], 1_000);
    const again = await producer.produceSync("y", { topic: "shrunk", partitionKey: key });
    assert.deepEqual(again.partition, 0);
  } finally {
    await producer.close();
    await admin.close();
  }
});
