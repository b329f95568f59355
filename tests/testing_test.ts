import assert from "node:assert/strict";
import { Consumer, DeliveryError, ErrorCode, type Message, Producer } from "../mod.ts";
import { createMemoryTransport, fakeMessage, testConsumer } from "../testing.ts";

class ShoutConsumer extends Consumer {
  static {
    this.subscribesTo("words");
  }
  override process(message: Message): void {
    const text = message.text()!;
    if (text === "poison") throw new RangeError("cannot shout poison");
    this.produce(text.toUpperCase(), {
      topic: "shouts",
      key: message.key,
      headers: { from: message.topic },
    });
  }
}

Deno.test("testConsumer() runs the consumer and records what it produced", async () => {
  const kit = await testConsumer(new ShoutConsumer());
  try {
    kit.send("words", "hello", { key: "k1" });
    kit.send("words", "world", { key: "k2" });
    await kit.drain();
    const shouts = kit.produced("shouts");
    assert.deepEqual(shouts.map((m) => [m.key, m.value]), [["k1", "HELLO"], ["k2", "WORLD"]]);
    assert.deepEqual(shouts[0]!.headers, { from: "words" });
    assert.deepEqual(kit.transport.broker.committed("shout-consumer", "words", 0) <= 2, true);
  } finally {
    await kit.stop();
  }
});

Deno.test("testConsumer() drain() rejects with the consumer's error by default", async () => {
  const kit = await testConsumer(new ShoutConsumer());
  try {
    kit.send("words", "poison");
    await assert.rejects(kit.drain(), /poison/);
  } finally {
    await kit.stop();
  }
});

Deno.test("testConsumer() dead-letters after maxRetries when configured", async () => {
  const kit = await testConsumer(new ShoutConsumer(), {
    settings: { pauseTimeout: 0.01, maxRetries: 1, deadLetterTopic: "words-dlq" },
  });
  try {
    kit.send("words", "poison");
    kit.send("words", "fine");
    await kit.drain();
    const dead = kit.produced("words-dlq");
    assert.deepEqual(dead.length, 1);
    assert.deepEqual(dead[0]!.value, "poison");
    assert.deepEqual(dead[0]!.headers["racecar-attempts"], "2");
    assert.deepEqual(dead[0]!.headers["racecar-error-class"], "RangeError");
    assert.deepEqual(kit.produced("shouts").map((m) => m.value), ["FINE"]);
  } finally {
    await kit.stop();
  }
});

Deno.test("testConsumer() hands processBatch one partition's messages in order", async () => {
  const batches: number[][] = [];
  class Batcher extends Consumer {
    static {
      this.subscribesTo("numbers");
    }
    override processBatch(messages: Message[]): void {
      batches.push(messages.map((m) => Number(m.text())));
    }
  }
  const kit = await testConsumer(new Batcher(), { partitions: 2 });
  try {
    for (let i = 0; i < 10; i++) kit.send("numbers", String(i), { partition: i % 2 });
    await kit.drain();
    for (const batch of batches) {
      assert.ok(batch.every((n) => n % 2 === batch[0]! % 2), "one partition per batch");
      assert.deepEqual(batch, [...batch].sort((a, b) => a - b));
    }
    assert.deepEqual(batches.flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  } finally {
    await kit.stop();
  }
});

Deno.test("fakeMessage() builds a message for calling process directly", () => {
  const message = fakeMessage('{"id":7}', { topic: "orders", key: "o-7", headers: { a: "1" } });
  assert.deepEqual(message.json<{ id: number }>(), { id: 7 });
  assert.deepEqual(message.keyText, "o-7");
  assert.deepEqual(message.headers, { a: "1" });
  assert.deepEqual(message.retriesCount, 0);
});

Deno.test("testConsumer() processes partitions at the same time when the class sets concurrency", async () => {
  // Partition 0 waits for partition 1: with one partition at a time it would wait forever.
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  class PairConsumer extends Consumer {
    static {
      this.subscribesTo("pairs");
    }
    static override concurrency = 2;
    override async process(message: Message) {
      if (message.partition === 0) await released;
      else release();
    }
  }
  const kit = await testConsumer(new PairConsumer(), { partitions: 2 });
  try {
    kit.send("pairs", "waits", { partition: 0 });
    kit.send("pairs", "releases", { partition: 1 });
    await kit.drain();
  } finally {
    release();
    await kit.stop();
  }
});

Deno.test("testConsumer() hands batches of at most the class's fetchMessages", async () => {
  const sizes: number[] = [];
  class SmallBatches extends Consumer {
    static {
      this.subscribesTo("small-batches");
    }
    static override fetchMessages = 2;
    override processBatch(messages: Message[]) {
      sizes.push(messages.length);
    }
  }
  const transport = createMemoryTransport();
  transport.broker.createTopic("small-batches", 1);
  // Queued before the start, so the first poll could take all five.
  for (const value of ["1", "2", "3", "4", "5"]) {
    transport.broker.append({ topic: "small-batches", value: new TextEncoder().encode(value) });
  }
  const kit = await testConsumer(new SmallBatches(), { transport });
  try {
    kit.send("small-batches", "6");
    await kit.drain();
    assert.deepEqual(sizes.reduce((a, b) => a + b, 0), 6);
    assert.ok(sizes.every((size) => size <= 2), `batch sizes ${sizes.join(", ")}`);
  } finally {
    await kit.stop();
  }
});

Deno.test("testConsumer() starts from the end when the subscription says startFromBeginning: false", async () => {
  const seen: string[] = [];
  class LatestOnly extends Consumer {
    static {
      this.subscribesTo("latest-only", { startFromBeginning: false });
    }
    override process(message: Message) {
      seen.push(message.text()!);
    }
  }
  const transport = createMemoryTransport();
  transport.broker.createTopic("latest-only", 1);
  transport.broker.append({ topic: "latest-only", value: new TextEncoder().encode("old") });
  const kit = await testConsumer(new LatestOnly(), { transport });
  try {
    kit.send("latest-only", "new");
    await kit.drain();
    assert.deepEqual(seen, ["new"]);
  } finally {
    await kit.stop();
  }
});

Deno.test("testConsumer() fails a message whose producer's produceAsync() was not delivered", async () => {
  const transport = createMemoryTransport();
  transport.broker.createTopic("audit", 1);
  const asyncErrors: unknown[] = [];
  const audit = new Producer(transport.createProducer({ config: {} }), {
    onAsyncError: (error) => asyncErrors.push(error),
  });
  class AuditingConsumer extends Consumer {
    static {
      this.subscribesTo("audited");
    }
    override process(message: Message) {
      // An application producer inside processing joins the message's delivery scope.
      audit.produceAsync(message.text(), { topic: "audit" });
    }
  }
  const kit = await testConsumer(new AuditingConsumer(), { transport });
  try {
    transport.broker.failNextProduce("audit", ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    kit.send("audited", "login");
    await assert.rejects(kit.drain(), (error: Error) => error.cause instanceof DeliveryError);
    assert.deepEqual(asyncErrors, []);
  } finally {
    await kit.stop();
    await audit.close();
  }
});
