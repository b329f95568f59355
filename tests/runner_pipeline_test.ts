/**
 * Unit tests of pipelined deliveries (`src/runner.ts` with
 * `src/offset_tracker.ts`) on the memory transport: `process` goes on while
 * earlier messages' deliveries are in flight, offsets move only over the
 * delivered prefix, a failed delivery fails its message, and the bounds on
 * pending deliveries hold. A thin wrapper holds each delivery report until the
 * test releases or fails it.
 */

import assert from "node:assert/strict";
import { Consumer } from "../src/consumer.ts";
import { KafkaError } from "../src/errors.ts";
import { createMemoryTransport, type MemoryTransport } from "../src/kafka/memory/mod.ts";
import type {
  ConsumerOptions,
  DeliveryReport,
  ProduceRecord,
  ProducerOptions,
  TopicPartitionOffset,
} from "../src/kafka/transport.ts";
import type { Message } from "../src/message.ts";
import { waitFor } from "./suite/_kafka.ts";
import { testConsumer } from "../testing.ts";

interface Held {
  record: ProduceRecord;
  settled: boolean;
  release(): void;
  fail(error: Error): void;
}

/** A memory transport whose deliveries wait for the test; records stored offsets. */
function heldTransport(): MemoryTransport & {
  held: Held[];
  stored: TopicPartitionOffset[];
  options: () => ConsumerOptions;
  outstanding: () => number;
} {
  const memory = createMemoryTransport();
  const held: Held[] = [];
  const stored: TopicPartitionOffset[] = [];
  let last: ConsumerOptions | undefined;
  return {
    ...memory,
    held,
    stored,
    options: () => last!,
    outstanding: () => held.filter((h) => !h.settled).length,
    createConsumer(options: ConsumerOptions) {
      last = options;
      const consumer = memory.createConsumer(options);
      const storeOffsets = consumer.storeOffsets.bind(consumer);
      consumer.storeOffsets = (offsets) => {
        stored.push(...offsets);
        storeOffsets(offsets);
      };
      return consumer;
    },
    createProducer(options: ProducerOptions) {
      const producer = memory.createProducer(options);
      return {
        partitionCount: (topic, timeoutMs) => producer.partitionCount(topic, timeoutMs),
        flush: (timeoutMs) => producer.flush(timeoutMs),
        close: (timeoutMs) => producer.close(timeoutMs),
        produce(record: ProduceRecord): Promise<DeliveryReport> {
          return new Promise((resolve, reject) => {
            const entry: Held = {
              record,
              settled: false,
              release() {
                entry.settled = true;
                producer.produce(record).then(resolve, reject);
              },
              fail(error) {
                entry.settled = true;
                reject(error);
              },
            };
            held.push(entry);
          });
        },
      };
    },
  };
}

/**
 * An echo consumer of `topic` into `${topic}-out`; `seen` gets each processed
 * offset, and `after` runs after each produce.
 */
function echoOf(
  topic: string,
  seen: number[],
  after: (message: Message) => void = () => {},
): Consumer {
  class EchoConsumer extends Consumer {
    static {
      this.subscribesTo(topic);
      this.groupId = `${topic}-group`;
    }
    override process(message: Message): void {
      seen.push(message.offset);
      this.produce(message.value, { topic: `${topic}-out`, key: message.key });
      after(message);
    }
  }
  return new EchoConsumer();
}

function lastStored(stored: TopicPartitionOffset[], partition = 0): number | undefined {
  return stored.filter((s) => s.partition === partition).at(-1)?.offset;
}

Deno.test("Runner processes on while deliveries are in flight and stores only the delivered prefix", async () => {
  const transport = heldTransport();
  transport.broker.createTopic("pipe-prefix-out", 1);
  const seen: number[] = [];
  const kit = await testConsumer(echoOf("pipe-prefix", seen), { transport });
  let delivered = 0;
  kit.runner.events.on("deliver_messages", () => void (delivered += 1));
  try {
    for (let i = 0; i < 5; i++) kit.send("pipe-prefix", `m${i}`);
    await waitFor(() => seen.length === 5, "all five processed before any delivery");
    assert.equal(transport.held.length, 5);
    assert.deepEqual(
      transport.held.map((h) => new TextDecoder().decode(h.record.value!)),
      ["m0", "m1", "m2", "m3", "m4"],
      "produce calls reach the producer in the order of the input",
    );
    assert.equal(transport.stored.length, 0, "nothing is stored before a delivery");

    transport.held[2]!.release();
    transport.held[3]!.release();
    await waitFor(() => delivered === 2, "two deliveries settled");
    assert.equal(lastStored(transport.stored), undefined, "2 and 3 wait behind 0 and 1");

    transport.held[0]!.release();
    await waitFor(() => lastStored(transport.stored) === 1, "0 delivered: offset 1 stored");
    transport.held[1]!.release();
    await waitFor(() => lastStored(transport.stored) === 4, "0..3 delivered: offset 4 stored");
    transport.held[4]!.release();
    await waitFor(() => lastStored(transport.stored) === 5, "everything delivered");
    assert.deepEqual(
      transport.stored.map((s) => s.offset),
      [1, 4, 5],
      "stored offsets only grow, over delivered messages only",
    );
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner fails the message whose delivery failed and processes the ones after it again", async () => {
  const transport = heldTransport();
  transport.broker.createTopic("pipe-fail-out", 1);
  const seen: number[] = [];
  const pauses: number[] = [];
  const kit = await testConsumer(echoOf("pipe-fail", seen), {
    transport,
    settings: { pauseTimeout: 0.05 },
  });
  kit.runner.events.on("pause", (e) => pauses.push(e.offset));
  try {
    for (let i = 0; i < 4; i++) kit.send("pipe-fail", `m${i}`);
    await waitFor(() => seen.length === 4, "all four processed");
    transport.held[2]!.release();
    transport.held[3]!.release();
    transport.held[1]!.fail(
      new KafkaError(10, "ERR_MSG_SIZE_TOO_LARGE", "Broker: Message size too large"),
    );
    transport.held[0]!.release();
    await waitFor(() => pauses.length === 1, "the partition paused");
    assert.deepEqual(pauses, [1], "paused at the message whose delivery failed");
    assert.equal(lastStored(transport.stored), 1, "the offset stays before the failed message");
    // After the pause, 1 and the messages after it are processed again.
    await waitFor(() => seen.length === 7, "1, 2 and 3 processed again");
    assert.deepEqual(seen, [0, 1, 2, 3, 1, 2, 3]);
    assert.deepEqual(
      transport.stored.map((s) => s.offset),
      [1],
      "nothing past the failed message was stored, though 2 and 3 were delivered",
    );
    for (const h of transport.held.slice(4)) h.release();
    await waitFor(() => lastStored(transport.stored) === 4, "everything delivered on retry");
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner dead-letters a message whose delivery keeps failing and goes on after it", async () => {
  const transport = heldTransport();
  transport.broker.createTopic("pipe-dlq-out", 1);
  transport.broker.createTopic("pipe-dlq-dead", 1);
  const seen: number[] = [];
  const kit = await testConsumer(echoOf("pipe-dlq", seen), {
    transport,
    settings: { pauseTimeout: 0.01, maxRetries: 1, deadLetterTopic: "pipe-dlq-dead" },
  });
  const fatal: unknown[] = [];
  kit.runner.events.on("error", (e) => void (e.fatal && fatal.push(e.error)));
  try {
    for (let i = 0; i < 3; i++) kit.send("pipe-dlq", `m${i}`);
    // Every delivery of message 1 to the output fails; the dead letter gets through.
    const failing = new KafkaError(10, "ERR_MSG_SIZE_TOO_LARGE", "Broker: Message size too large");
    const deadline = Date.now() + 10_000;
    while (lastStored(transport.stored) !== 3 && Date.now() < deadline) {
      for (const h of transport.held.filter((h) => !h.settled)) {
        const text = new TextDecoder().decode(h.record.value!);
        if (h.record.topic === "pipe-dlq-out" && text === "m1") h.fail(failing);
        else h.release();
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(lastStored(transport.stored), 3, "the partition moved past the dead letter");
    // And the run goes on after message 2, delivered before 1 was dead-lettered.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(fatal, [], "the run goes on");
    assert.deepEqual(kit.produced("pipe-dlq-dead").map((m) => m.value), ["m1"]);
    assert.deepEqual(
      kit.produced("pipe-dlq-out").map((m) => m.value).filter((v) => v !== "m1").at(-1),
      "m2",
      "message 2 was delivered after the dead letter",
    );
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner bounds the messages awaiting delivery per partition and in total", async () => {
  const transport = heldTransport();
  transport.broker.createTopic("pipe-bound-out", 2);
  const seen: number[] = [];
  let most = 0;
  const kit = await testConsumer(
    echoOf("pipe-bound", seen, () => {
      most = Math.max(most, transport.outstanding());
    }),
    {
      transport,
      partitions: 2,
      settings: { maxPendingDeliveries: 10, maxPendingDeliveriesTotal: 3 },
    },
  );
  try {
    for (let i = 0; i < 6; i++) kit.send("pipe-bound", `a${i}`, { partition: 0 });
    for (let i = 0; i < 6; i++) kit.send("pipe-bound", `b${i}`, { partition: 1 });
    await waitFor(() => transport.outstanding() === 3, "three deliveries in flight");
    while (seen.length < 12) {
      const next = transport.held.find((h) => !h.settled);
      if (next !== undefined) next.release();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    for (const h of transport.held) if (!h.settled) h.release();
    await waitFor(
      () => lastStored(transport.stored, 0) === 6 && lastStored(transport.stored, 1) === 6,
      "everything stored",
    );
    assert.ok(most <= 3, `at most 3 deliveries in flight, saw ${most}`);
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner bounds the messages awaiting delivery of one partition", async () => {
  const transport = heldTransport();
  transport.broker.createTopic("pipe-one-out", 1);
  const seen: number[] = [];
  let most = 0;
  const kit = await testConsumer(
    echoOf("pipe-one", seen, () => {
      most = Math.max(most, transport.outstanding());
    }),
    { transport, settings: { maxPendingDeliveries: 2 } },
  );
  try {
    for (let i = 0; i < 5; i++) kit.send("pipe-one", `m${i}`);
    await waitFor(() => seen.length === 2, "two processed");
    transport.held[0]!.release();
    await waitFor(() => seen.length === 3, "one delivery made room for one message");
    assert.equal(transport.outstanding(), 2);
    for (let i = 1; i < 5; i++) {
      await waitFor(() => transport.held.length > i, `message ${i} produced`);
      transport.held[i]!.release();
    }
    await waitFor(() => lastStored(transport.stored) === 5, "everything stored");
    assert.equal(most, 2, "never more than 2 in flight");
  } finally {
    await kit.stop();
  }
});

Deno.test("Consumer.deliver() inside process still waits for the delivery", async () => {
  const transport = heldTransport();
  transport.broker.createTopic("pipe-wait-out", 1);
  const log: string[] = [];
  class WaitingConsumer extends Consumer {
    static {
      this.subscribesTo("pipe-wait");
      this.groupId = "pipe-wait-group";
    }
    override async process(message: Message): Promise<void> {
      log.push(`start ${message.offset}`);
      this.produce(message.value, { topic: "pipe-wait-out" });
      await this.deliver();
      log.push(`delivered ${message.offset}`);
    }
  }
  const kit = await testConsumer(new WaitingConsumer(), { transport });
  try {
    kit.send("pipe-wait", "a");
    kit.send("pipe-wait", "b");
    await waitFor(() => transport.held.length === 1, "the first message produced");
    assert.deepEqual(log, ["start 0"]);
    transport.held[0]!.release();
    await waitFor(() => transport.held.length === 2, "the second message produced");
    transport.held[1]!.release();
    await waitFor(() => lastStored(transport.stored) === 2, "both stored");
    assert.deepEqual(log, ["start 0", "delivered 0", "start 1", "delivered 1"]);
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner waits for in-flight deliveries before the final commit at shutdown", async () => {
  const transport = heldTransport();
  transport.broker.createTopic("pipe-stop-out", 1);
  const seen: number[] = [];
  const kit = await testConsumer(echoOf("pipe-stop", seen), { transport });
  for (let i = 0; i < 3; i++) kit.send("pipe-stop", `m${i}`);
  await waitFor(() => seen.length === 3, "all processed");
  const stopping = kit.stop();
  for (const h of transport.held) h.release();
  await stopping;
  assert.equal(transport.broker.committed("pipe-stop-group", "pipe-stop", 0), 3);
});

Deno.test("Runner waits for in-flight deliveries of revoked partitions before the revoke commit", async () => {
  const transport = heldTransport();
  transport.broker.createTopic("pipe-revoke-out", 1);
  const seen: number[] = [];
  const kit = await testConsumer(echoOf("pipe-revoke", seen), { transport });
  try {
    for (let i = 0; i < 3; i++) kit.send("pipe-revoke", `m${i}`);
    await waitFor(() => seen.length === 3, "all processed");
    const revoke = transport.options().onRebalance!({
      kind: "revoke",
      partitions: [{ topic: "pipe-revoke", partition: 0 }],
      protocol: "eager",
    });
    for (const h of transport.held) h.release();
    await revoke;
    assert.equal(transport.broker.committed("pipe-revoke-group", "pipe-revoke", 0), 3);
  } finally {
    await kit.stop();
  }
});
