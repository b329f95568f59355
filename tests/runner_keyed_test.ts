/**
 * Unit tests of key-ordered processing (`key_concurrency`, `src/runner.ts`
 * with `src/key_lanes.ts`) on the memory transport: per-key order, the limit,
 * offsets stored only over the finished prefix, a failure pausing the whole
 * partition (on a fake clock), dead letters and their safety limit, revokes,
 * back-pressure on pending deliveries, and the configuration error for
 * `processBatch`.
 */

import assert from "node:assert/strict";
import { Consumer } from "../src/consumer.ts";
import { KafkaError, RacecarError } from "../src/errors.ts";
import { createMemoryTransport, type MemoryTransport } from "../src/kafka/memory/mod.ts";
import type {
  ConsumerOptions,
  DeliveryReport,
  ProduceRecord,
  TopicPartitionOffset,
} from "../src/kafka/transport.ts";
import type { Message } from "../src/message.ts";
import { Runner } from "../src/runner.ts";
import { testConsumer } from "../testing.ts";
import { fakeTime } from "./_fake_time.ts";
import { waitFor } from "./suite/_kafka.ts";

/** A consumer class over `topic` whose `process` is `fn`, with `static keyConcurrency`. */
function keyedConsumer(
  topic: string,
  keyConcurrency: number,
  fn: (message: Message) => void | Promise<void>,
): Consumer {
  class KeyedConsumer extends Consumer {
    static {
      this.subscribesTo(topic);
      this.groupId = `${topic}-group`;
    }
    static override keyConcurrency = keyConcurrency;
    override async process(message: Message): Promise<void> {
      await fn(message);
    }
  }
  return new KeyedConsumer();
}

/** A memory transport that records stored offsets and remembers the consumer's options. */
function recordingTransport(): MemoryTransport & {
  stored: TopicPartitionOffset[];
  options: () => ConsumerOptions;
} {
  const memory = createMemoryTransport();
  const stored: TopicPartitionOffset[] = [];
  let last: ConsumerOptions | undefined;
  return {
    ...memory,
    stored,
    options: () => last!,
    createConsumer(options: ConsumerOptions) {
      last = options;
      const consumer = memory.createConsumer(options);
      const store = consumer.storeOffsets.bind(consumer);
      consumer.storeOffsets = (offsets) => {
        stored.push(...offsets);
        store(offsets);
      };
      return consumer;
    },
  };
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => open = resolve);
  return { opened, open };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function byKey(seen: Message[]): Map<string, number[]> {
  const keys = new Map<string, number[]>();
  for (const message of seen) {
    const k = message.key === null ? "(null)" : new TextDecoder().decode(message.key);
    keys.set(k, [...(keys.get(k) ?? []), message.offset]);
  }
  return keys;
}

function assertInOrder(seen: Message[]): void {
  for (const [k, offsets] of byKey(seen)) {
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), `key ${k} in offset order`);
  }
}

Deno.test("Runner with keyConcurrency processes keys in parallel, each in order, at most keyConcurrency at once", async () => {
  const seen: Message[] = [];
  let running = 0;
  let most = 0;
  const kit = await testConsumer(
    keyedConsumer("keyed-order", 4, async (message) => {
      most = Math.max(most, ++running);
      await sleep(message.offset % 4);
      running -= 1;
      seen.push(message);
    }),
  );
  try {
    for (let i = 0; i < 90; i++) kit.send("keyed-order", `m${i}`, { key: `k${i % 9}` });
    await kit.drain();
    assert.equal(seen.length, 90);
    assertInOrder(seen);
    assert.equal(most, 4, "four keys at once, no more");
  } finally {
    await kit.stop();
  }
  assert.equal(kit.transport.broker.committed("keyed-order-group", "keyed-order", 0), 90);
});

Deno.test("Runner with keyConcurrency stores only the prefix of finished messages", async () => {
  const transport = recordingTransport();
  const slow = gate();
  const seen: number[] = [];
  const kit = await testConsumer(
    keyedConsumer("keyed-prefix", 8, async (message) => {
      if (message.offset === 1) await slow.opened;
      seen.push(message.offset);
    }),
    { transport },
  );
  try {
    kit.send("keyed-prefix", "m0", { key: "a" });
    kit.send("keyed-prefix", "m1", { key: "slow" });
    for (let i = 2; i < 6; i++) kit.send("keyed-prefix", `m${i}`, { key: `k${i}` });
    await waitFor(() => seen.length === 5, "every key but the slow one finished");
    assert.deepEqual(transport.stored.map((s) => s.offset), [1], "nothing past the slow message");
    slow.open();
    await kit.drain();
    await waitFor(() => transport.stored.at(-1)?.offset === 6, "the whole prefix stored");
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner with keyConcurrency pauses the whole partition on a failure, after the running keys finished, and goes back to it", async () => {
  const time = fakeTime();
  const topic = "keyed-fail";
  time.transport.broker.createTopic(topic, 1);
  const keys = ["a", "b", "c", "b", "a"];
  for (const [i, k] of keys.entries()) {
    time.transport.broker.append({
      topic,
      key: new TextEncoder().encode(k),
      value: new TextEncoder().encode(`m${i}`),
    });
  }
  const slow = gate();
  const attempts: [number, number][] = [];
  let failed = false;
  const consumer = keyedConsumer(topic, 3, async (message) => {
    attempts.push([message.offset, time.now()]);
    if (message.offset === 2 && attempts.filter(([o]) => o === 2).length === 1) {
      await slow.opened;
    }
    if (message.offset === 1 && !failed) {
      failed = true;
      throw new Error("b fails once");
    }
  });
  const runner = new Runner({
    consumer,
    transport: time.transport,
    consumerConfig: { "group.id": `${topic}-group`, "auto.offset.reset": "earliest" },
    producerConfig: {},
    settings: { clientId: "keyed", groupId: `${topic}-group`, keyConcurrency: 3, pauseTimeout: 1 },
    clock: time.now,
  });
  const pauses: { offset: number; at: number }[] = [];
  runner.events.on("pause", (e) => pauses.push({ offset: e.offset, at: time.now() }));
  const running = runner.run();
  try {
    await waitFor(() => failed, "b failed");
    await sleep(20);
    assert.equal(pauses.length, 0, "no pause while c is still running");
    assert.ok(!attempts.some(([offset]) => offset === 3), "b's next message waits");
    slow.open();
    await waitFor(() => pauses.length === 1, "the partition paused");
    const pausedAt = pauses[0]!.at;
    assert.equal(pauses[0]!.offset, 1, "paused at the failed message");
    // The first run got as far as 1 (failed) and 2; the retry does 1 to 4.
    await waitFor(() => attempts.filter(([offset]) => offset >= 1).length >= 6, "retried");
    const retried = attempts.slice(attempts.findIndex(([o, at]) => o === 1 && at > pausedAt));
    assert.equal(retried[0]![1] - pausedAt, 1000, "retried after pause_timeout");
    assert.deepEqual(
      retried.map(([offset]) => offset).sort(),
      [1, 2, 3, 4],
      "back from the failed message: the finished later messages are processed again",
    );
  } finally {
    runner.stop();
    await running;
  }
  assert.equal(time.transport.broker.committed(`${topic}-group`, topic, 0), 5);
  // Every key kept its order within each attempt, and b's 3 never ran before b's 1 succeeded.
  const b = attempts.filter(([offset]) => offset === 1 || offset === 3).map(([o]) => o);
  assert.deepEqual(b, [1, 1, 3]);
});

Deno.test("Runner with keyConcurrency dead-letters a failing key's message after max_retries and goes on", async () => {
  const seen: Message[] = [];
  const kit = await testConsumer(
    keyedConsumer("keyed-dlq", 4, (message) => {
      if (message.text() === "poison") throw new Error("cannot parse");
      seen.push(message);
    }),
    { settings: { pauseTimeout: 0.01, maxRetries: 2, deadLetterTopic: "keyed-dlq-dead" } },
  );
  try {
    for (let i = 0; i < 20; i++) {
      kit.send("keyed-dlq", i === 7 ? "poison" : `m${i}`, { key: `k${i % 3}` });
    }
    await kit.drain();
    const dead = kit.produced("keyed-dlq-dead");
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.headers["racecar-original-offset"], "7");
    assert.equal(dead[0]!.headers["racecar-attempts"], "3");
    assert.deepEqual(
      new Set(seen.map((m) => m.offset)),
      new Set(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 7)),
    );
  } finally {
    await kit.stop();
  }
  assert.equal(kit.transport.broker.committed("keyed-dlq-group", "keyed-dlq", 0), 20);
});

Deno.test("Runner with keyConcurrency dead-letters a message whose delivery fails and goes on after the delivered ones", async () => {
  const memory = createMemoryTransport();
  const transport: MemoryTransport = {
    ...memory,
    createProducer(options) {
      const producer = memory.createProducer(options);
      return {
        partitionCount: (topic, timeoutMs) => producer.partitionCount(topic, timeoutMs),
        flush: (timeoutMs) => producer.flush(timeoutMs),
        close: (timeoutMs) => producer.close(timeoutMs),
        async produce(record: ProduceRecord): Promise<DeliveryReport> {
          const value = new TextDecoder().decode(record.value!);
          // Later messages of other keys are delivered before m1's failure arrives.
          if (record.topic === "keyed-dfail-out" && value === "m1") {
            await sleep(20);
            throw new KafkaError(10, "ERR_MSG_SIZE_TOO_LARGE", "Broker: Message size too large");
          }
          return await producer.produce(record);
        },
      };
    },
  };
  memory.broker.createTopic("keyed-dfail-out", 1);
  const seen: number[] = [];
  class EchoConsumer extends Consumer {
    static {
      this.subscribesTo("keyed-dfail");
      this.groupId = "keyed-dfail-group";
    }
    static override keyConcurrency = 4;
    override process(message: Message): void {
      seen.push(message.offset);
      this.produce(message.value, { topic: "keyed-dfail-out", key: message.key });
    }
  }
  const kit = await testConsumer(new EchoConsumer(), {
    transport,
    settings: { pauseTimeout: 0.01, maxRetries: 0, deadLetterTopic: "keyed-dfail-dead" },
  });
  const fatal: unknown[] = [];
  kit.runner.events.on("error", (e) => void (e.fatal && fatal.push(e.error)));
  try {
    for (let i = 0; i < 8; i++) kit.send("keyed-dfail", `m${i}`, { key: `k${i % 4}` });
    // drain() sees processing; the dead letter follows the failed delivery.
    await waitFor(() => kit.produced("keyed-dfail-dead").length > 0, "the dead letter");
    await waitFor(() => kit.produced("keyed-dfail-out").length >= 7, "every other output");
    // The partition goes on after the delivered messages, not back to them: nothing to re-read.
    await sleep(50);
    assert.deepEqual(fatal, [], "the run goes on");
    assert.equal(seen.length, 8, "none processed twice");
    assert.deepEqual(kit.produced("keyed-dfail-dead").map((m) => m.value), ["m1"]);
    assert.deepEqual(
      new Set(kit.produced("keyed-dfail-out").map((m) => m.value)),
      new Set(["m0", "m2", "m3", "m4", "m5", "m6", "m7"]),
    );
  } finally {
    await kit.stop();
  }
  assert.equal(kit.transport.broker.committed("keyed-dfail-group", "keyed-dfail", 0), 8);
});

Deno.test("Runner with keyConcurrency stops at dead_letter_safety_limit like a partition does", async () => {
  const kit = await testConsumer(
    keyedConsumer("keyed-limit", 4, () => {
      throw new Error("a broken dependency");
    }),
    {
      settings: {
        pauseTimeout: 0.01,
        maxRetries: 0,
        deadLetterTopic: "keyed-limit-dead",
        deadLetterSafetyLimit: 2,
      },
    },
  );
  for (let i = 0; i < 6; i++) kit.send("keyed-limit", `m${i}`, { key: `k${i}` });
  await assert.rejects(
    kit.drain(),
    (error: RacecarError) => error.code === "DEAD_LETTER_LIMIT",
  );
  await kit.stop();
  assert.equal(kit.produced("keyed-limit-dead").length, 2);
  assert.equal(kit.transport.broker.committed("keyed-limit-group", "keyed-limit", 0), 2);
});

Deno.test("Runner with keyConcurrency and pause_timeout 0 stops once the running keys finished, after storing the prefix", async () => {
  const transport = recordingTransport();
  const slow = gate();
  const seen: number[] = [];
  // The kit's default pause_timeout is 0: an error stops the run.
  const kit = await testConsumer(
    keyedConsumer("keyed-stop", 4, async (message) => {
      if (message.offset === 0) await slow.opened;
      if (message.offset === 2) throw new Error("fails");
      seen.push(message.offset);
    }),
    { transport },
  );
  for (let i = 0; i < 6; i++) kit.send("keyed-stop", `m${i}`, { key: `k${i}` });
  await waitFor(() => seen.includes(1), "1 processed");
  await sleep(20);
  const failing = assert.rejects(
    kit.drain(),
    (error: RacecarError) => error.code === "PROCESSING_FAILED",
  );
  slow.open();
  await failing;
  await kit.stop();
  assert.ok(seen.includes(0), "the running key finished first");
  assert.equal(transport.stored.at(-1)?.offset, 2, "the prefix before the failure was stored");
});

Deno.test("Runner with keyConcurrency processes messages without a key in order, as one key", async () => {
  const seen: Message[] = [];
  const kit = await testConsumer(
    keyedConsumer("keyed-null", 8, async (message) => {
      await sleep(10 - (message.offset % 10));
      seen.push(message);
    }),
  );
  try {
    for (let i = 0; i < 30; i++) kit.send("keyed-null", `m${i}`, { key: i % 2 ? `k${i}` : null });
    await kit.drain();
    assert.deepEqual(
      byKey(seen).get("(null)"),
      Array.from({ length: 15 }, (_, i) => i * 2),
    );
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner with keyConcurrency lets a revoke wait for the running keys and commits what finished", async () => {
  const transport = recordingTransport();
  const slow = gate();
  const seen: number[] = [];
  const kit = await testConsumer(
    keyedConsumer("keyed-revoke", 4, async (message) => {
      if (message.offset === 0) await slow.opened;
      seen.push(message.offset);
    }),
    { transport },
  );
  try {
    for (let i = 0; i < 4; i++) kit.send("keyed-revoke", `m${i}`, { key: `k${i}` });
    await waitFor(() => seen.length === 3, "the fast keys finished");
    const revoke = transport.options().onRebalance!({
      kind: "revoke",
      partitions: [{ topic: "keyed-revoke", partition: 0 }],
      protocol: "eager",
    });
    await sleep(10);
    slow.open();
    await revoke;
    assert.equal(
      transport.broker.committed("keyed-revoke-group", "keyed-revoke", 0),
      4,
      "the revoke waited for the slow key and committed the whole prefix",
    );
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner with keyConcurrency finishes the keys in hand at a stop and commits them", async () => {
  const slow = gate();
  const seen: number[] = [];
  const kit = await testConsumer(
    keyedConsumer("keyed-stop-clean", 4, async (message) => {
      if (message.offset === 0) await slow.opened;
      seen.push(message.offset);
    }),
  );
  for (let i = 0; i < 4; i++) kit.send("keyed-stop-clean", `m${i}`, { key: `k${i}` });
  await waitFor(() => seen.length === 3, "the fast keys finished");
  const stopping = kit.stop();
  await sleep(10);
  slow.open();
  await stopping;
  assert.deepEqual(seen.toSorted(), [0, 1, 2, 3]);
  assert.equal(kit.transport.broker.committed("keyed-stop-clean-group", "keyed-stop-clean", 0), 4);
});

Deno.test("Runner with keyConcurrency holds back at max_pending_deliveries plus the keys in process", async () => {
  const memory = createMemoryTransport();
  const held: (() => void)[] = [];
  const transport: MemoryTransport = {
    ...memory,
    createProducer(options) {
      const producer = memory.createProducer(options);
      return {
        partitionCount: (topic, timeoutMs) => producer.partitionCount(topic, timeoutMs),
        flush: (timeoutMs) => producer.flush(timeoutMs),
        close: (timeoutMs) => producer.close(timeoutMs),
        produce: (record: ProduceRecord) =>
          new Promise<DeliveryReport>((resolve, reject) => {
            held.push(() => producer.produce(record).then(resolve, reject));
          }),
      };
    },
  };
  memory.broker.createTopic("keyed-bound-out", 1);
  const seen: number[] = [];
  class EchoConsumer extends Consumer {
    static {
      this.subscribesTo("keyed-bound");
    }
    static override keyConcurrency = 3;
    override process(message: Message): void {
      seen.push(message.offset);
      this.produce(message.value, { topic: "keyed-bound-out" });
    }
  }
  const kit = await testConsumer(new EchoConsumer(), {
    transport,
    settings: { maxPendingDeliveries: 2 },
  });
  try {
    for (let i = 0; i < 10; i++) kit.send("keyed-bound", `m${i}`, { key: `k${i}` });
    await waitFor(() => seen.length >= 2, "some processed");
    await sleep(30);
    // Admitted while two deliveries were pending, up to three more were in process.
    assert.ok(seen.length <= 2 + 3, `at most 5 before a delivery settled, got ${seen.length}`);
    while (seen.length < 10 || held.length > 0) {
      held.shift()?.();
      await sleep(1);
    }
    await kit.drain();
    assert.equal(kit.produced("keyed-bound-out").length, 10);
  } finally {
    await kit.stop();
  }
});

Deno.test("createRunner() refuses keyConcurrency for a processBatch consumer, naming the setting", async () => {
  class BatchConsumer extends Consumer {
    static {
      this.subscribesTo("keyed-batch");
    }
    static override keyConcurrency = 4;
    override processBatch(): void {}
  }
  await assert.rejects(
    testConsumer(new BatchConsumer()),
    (error: RacecarError) =>
      error.code === "CONFIG" && error.message.includes("'key_concurrency' (4)") &&
      error.message.includes("processBatch"),
  );
});
