/**
 * The delivery context of `process` (`src/delivery.ts`, `DeliveryLane`): the
 * messages of a partition run share one `AsyncLocalStorage` context whose
 * scope is switched per message, so what a message produces, through the
 * consumer's `produce` or an application producer's `produceAsync`, is still
 * awaited for that message alone, with one partition at a time or several.
 */

import assert from "node:assert/strict";
import { Consumer } from "../src/consumer.ts";
import { createMemoryTransport } from "../src/kafka/memory/mod.ts";
import type { Message } from "../src/message.ts";
import { Producer } from "../src/producer.ts";
import { Runner } from "../src/runner.ts";
import { waitFor } from "./suite/_kafka.ts";

for (const concurrency of [1, 2]) {
  Deno.test(`Runner.run() fails only the message whose produceAsync failed (concurrency ${concurrency})`, async () => {
    const transport = createMemoryTransport();
    transport.broker.createTopic("in", 2);
    transport.broker.createTopic("out", 1);
    for (let i = 0; i < 10; i++) {
      transport.broker.append({
        topic: "in",
        partition: i % 2,
        value: new TextEncoder().encode(`m${i}`),
      });
    }
    // An application producer; "missing" does not exist and it may not create it.
    const app = new Producer(
      transport.createProducer({ config: { "allow.auto.create.topics": "false" } }),
    );
    const processed: string[] = [];
    class Lane extends Consumer {
      static {
        this.subscribesTo("in");
      }
      override async process(message: Message): Promise<void> {
        processed.push(`${message.partition}:${message.offset}`);
        await Promise.resolve();
        // Partition 1's message at offset 2 writes where nothing can be written.
        const bad = message.partition === 1 && message.offset === 2;
        app.produceAsync("x", { topic: bad ? "missing" : "out" });
      }
    }
    const runner = new Runner({
      consumer: new Lane(),
      transport,
      consumerConfig: { "group.id": "lanes", "auto.offset.reset": "earliest" },
      producerConfig: {},
      settings: { clientId: "lanes", groupId: "lanes", pauseTimeout: 30, concurrency },
    });
    const pauses: string[] = [];
    runner.events.on("pause", (e) => pauses.push(`${e.partition}:${e.offset}`));
    const running = runner.run();
    try {
      await waitFor(
        () => pauses.length > 0 && processed.includes("0:4"),
        "a pause and partition 0 done",
      );
    } finally {
      runner.stop();
      await running;
      await app.close();
    }
    assert.deepEqual(pauses, ["1:2"], "only the message whose delivery failed");
    assert.equal(transport.broker.committed("lanes", "in", 0), 5, "partition 0 to its end");
    assert.equal(
      Math.max(0, transport.broker.committed("lanes", "in", 1)),
      2,
      "partition 1 up to the failed message",
    );
  });
}
