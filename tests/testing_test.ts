import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { Consumer, type Message } from "../mod.ts";
import { fakeMessage, testConsumer } from "../testing.ts";

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
    assertEquals(shouts.map((m) => [m.key, m.value]), [["k1", "HELLO"], ["k2", "WORLD"]]);
    assertEquals(shouts[0]!.headers, { from: "words" });
    assertEquals(kit.transport.broker.committed("shout-consumer", "words", 0) <= 2, true);
  } finally {
    await kit.stop();
  }
});

Deno.test("testConsumer() drain() rejects with the consumer's error by default", async () => {
  const kit = await testConsumer(new ShoutConsumer());
  try {
    kit.send("words", "poison");
    const error = await assertRejects(() => kit.drain());
    assert(String(error.message).includes("poison"), error.message);
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
    assertEquals(dead.length, 1);
    assertEquals(dead[0]!.value, "poison");
    assertEquals(dead[0]!.headers["racecar-attempts"], "2");
    assertEquals(dead[0]!.headers["racecar-error-class"], "RangeError");
    assertEquals(kit.produced("shouts").map((m) => m.value), ["FINE"]);
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
      assert(batch.every((n) => n % 2 === batch[0]! % 2), "one partition per batch");
      assertEquals(batch, [...batch].sort((a, b) => a - b));
    }
    assertEquals(batches.flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  } finally {
    await kit.stop();
  }
});

Deno.test("fakeMessage() builds a message for calling process directly", () => {
  const message = fakeMessage('{"id":7}', { topic: "orders", key: "o-7", headers: { a: "1" } });
  assertEquals(message.json<{ id: number }>(), { id: 7 });
  assertEquals(message.keyText, "o-7");
  assertEquals(message.headers, { a: "1" });
  assertEquals(message.retriesCount, 0);
});
