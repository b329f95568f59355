/**
 * Unit tests of the runner's own rules (`src/runner.ts`) on the memory
 * transport: error hooks, stores around revokes, dead-letter limits, pauses and
 * seeks, lost assignments. Where a defect needs a moment the memory broker does
 * not produce on its own (a revoke during processing, a failing seek, a close
 * that hangs), a thin wrapper around the memory transport provides it.
 */

import assert from "node:assert/strict";
import { Consumer } from "../src/consumer.ts";
import { KafkaError, RacecarError } from "../src/errors.ts";
import { createMemoryTransport, type MemoryTransport } from "../src/kafka/memory/mod.ts";
import {
  type ConsumerOptions,
  type ConsumerTransport,
  OFFSET_INVALID,
} from "../src/kafka/transport.ts";
import type { Message } from "../src/message.ts";
import { SETTINGS } from "../src/config/schema.ts";
import { Runner } from "../src/runner.ts";
import { waitFor } from "./suite/_kafka.ts";
import { testConsumer } from "../testing.ts";

/** A memory transport whose consumers can be changed by `adapt`; remembers their options. */
function wrappedTransport(
  adapt: (consumer: ConsumerTransport) => ConsumerTransport = (c) => c,
): MemoryTransport & { options: () => ConsumerOptions } {
  const memory = createMemoryTransport();
  let last: ConsumerOptions | undefined;
  return {
    ...memory,
    createConsumer(options: ConsumerOptions) {
      last = options;
      return adapt(memory.createConsumer(options));
    },
    options: () => last!,
  };
}

/** A consumer class over `topic` in group `group` whose `process` is `fn`. */
function consumerOf(
  topic: string,
  fn: (message: Message) => void | Promise<void>,
  group = `${topic}-group`,
): Consumer {
  class TestConsumer extends Consumer {
    static {
      this.subscribesTo(topic);
      this.groupId = group;
    }
    override async process(message: Message): Promise<void> {
      await fn(message);
    }
  }
  return new TestConsumer();
}

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => open = resolve);
  return { opened, open };
}

Deno.test("Runner.run() survives an async onError that rejects, and keeps processing", async () => {
  const seen: string[] = [];
  let failed = false;
  const kit = await testConsumer(
    consumerOf("hooked", (message) => {
      if (!failed) {
        failed = true;
        throw new Error("first attempt fails");
      }
      seen.push(message.text()!);
    }),
    {
      settings: {
        pauseTimeout: 0.01,
        onError: async () => {
          await Promise.resolve();
          throw new Error("the error tracker is unreachable");
        },
      },
    },
  );
  try {
    kit.send("hooked", "a");
    kit.send("hooked", "b");
    await kit.drain();
    assert.deepEqual(seen, ["a", "b"]);
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner stores the offsets of work that finishes while a revoke waits for it", async () => {
  const transport = wrappedTransport();
  const slow = gate();
  let started = false;
  const kit = await testConsumer(
    consumerOf("revoked-late", async () => {
      started = true;
      await slow.opened;
    }),
    { transport },
  );
  try {
    kit.send("revoked-late", "a");
    await waitFor(() => started, "processing started");
    // node-rdkafka hands a rebalance to JS while a batch is being processed.
    const revoke = transport.options().onRebalance!({
      kind: "revoke",
      partitions: [{ topic: "revoked-late", partition: 0 }],
      protocol: "eager",
    });
    slow.open();
    await revoke;
    assert.equal(
      transport.broker.committed("revoked-late-group", "revoked-late", 0),
      1,
      "the revoke committed the message that finished while it waited",
    );
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner stores nothing of work that finishes after the revoke committed (racecar #198)", async () => {
  const transport = wrappedTransport();
  const slow = gate();
  let started = false;
  let finished = false;
  const kit = await testConsumer(
    consumerOf("revoked-early", async () => {
      started = true;
      await slow.opened;
      finished = true;
    }),
    { transport, settings: { revokeTimeout: 0.05 } },
  );
  try {
    kit.send("revoked-early", "a");
    await waitFor(() => started, "processing started");
    await transport.options().onRebalance!({
      kind: "revoke",
      partitions: [{ topic: "revoked-early", partition: 0 }],
      protocol: "eager",
    });
    slow.open();
    await waitFor(() => finished, "the late work finished");
  } finally {
    await kit.stop();
  }
  assert.equal(
    transport.broker.committed("revoked-early-group", "revoked-early", 0),
    OFFSET_INVALID,
    "the partition's next owner processes the message again; nothing was stored after the commit",
  );
});

Deno.test("Runner dead-letters failed batches of the default size without hitting the safety limit", async () => {
  class Failing extends Consumer {
    static {
      this.subscribesTo("batches");
    }
    override processBatch(): void {
      throw new Error("every batch fails");
    }
  }
  const kit = await testConsumer(new Failing(), {
    settings: { pauseTimeout: 0.01, maxRetries: 0, deadLetterTopic: "batches-dlq" },
  });
  try {
    for (let i = 0; i < 150; i++) kit.send("batches", String(i));
    await kit.drain();
    assert.equal(kit.produced("batches-dlq").length, 150);
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner counts a failed batch once toward dead_letter_safety_limit", async () => {
  class Failing extends Consumer {
    static {
      this.subscribesTo("limited-batches");
    }
    override processBatch(): void {
      throw new Error("every batch fails");
    }
  }
  const kit = await testConsumer(new Failing(), {
    settings: {
      pauseTimeout: 0.01,
      maxRetries: 0,
      deadLetterTopic: "limited-dlq",
      deadLetterSafetyLimit: 2,
      fetchMessages: 5,
    },
  });
  try {
    for (let i = 0; i < 20; i++) kit.send("limited-batches", String(i));
    const error = await kit.drain().then(() => undefined, (e) => e);
    assert.ok(error instanceof RacecarError, `expected a RacecarError, got ${error}`);
    assert.equal(error.code, "DEAD_LETTER_LIMIT");
    assert.equal(kit.produced("limited-dlq").length, 10, "two batches of five went out");
  } finally {
    await kit.stop();
  }
});

Deno.test("new Runner() rejects pause_timeout -1 with max_retries, naming both settings", () => {
  const consumer = consumerOf("forever", () => {});
  assert.throws(
    () =>
      new Runner({
        consumer,
        transport: createMemoryTransport(),
        consumerConfig: { "group.id": "forever" },
        producerConfig: {},
        settings: {
          clientId: "racecar-test",
          groupId: "forever",
          pauseTimeout: -1,
          maxRetries: 2,
          deadLetterTopic: "forever-dlq",
        },
      }),
    (error: unknown) =>
      error instanceof RangeError && /'pause_timeout'/.test(error.message) &&
      /'max_retries'/.test(error.message),
  );
});

Deno.test("Runner keeps dead_letter_safety_limit per partition when concurrency > 1", async () => {
  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const kit = await testConsumer(
    consumerOf("mixed", async (message) => {
      // Partition 1 succeeds between partition 0's failures.
      await delay(message.partition === 0 ? 5 : 1);
      if (message.partition === 0) throw new Error("partition 0 is poisoned");
    }),
    {
      partitions: 2,
      settings: {
        concurrency: 2,
        pauseTimeout: 0.01,
        maxRetries: 0,
        deadLetterTopic: "mixed-dlq",
        deadLetterSafetyLimit: 3,
      },
    },
  );
  try {
    for (let i = 0; i < 10; i++) kit.send("mixed", "poison", { partition: 0 });
    for (let i = 0; i < 200; i++) kit.send("mixed", "fine", { partition: 1 });
    const error = await kit.drain().then(() => undefined, (e) => e);
    assert.ok(error instanceof RacecarError, `expected a RacecarError, got ${error}`);
    assert.equal(error.code, "DEAD_LETTER_LIMIT");
    assert.equal(kit.produced("mixed-dlq").length, 3, "three in a row, then the consumer stopped");
  } finally {
    await kit.stop();
  }
});

/** A memory transport whose consumer's first seek times out; `seeks()` counts them all. */
function firstSeekTimesOut() {
  let seeks = 0;
  const transport = wrappedTransport((consumer) => {
    const seek = consumer.seek.bind(consumer);
    consumer.seek = (position, timeoutMs) => {
      seeks += 1;
      if (seeks === 1) {
        return Promise.reject(new KafkaError(-185, "ERR__TIMED_OUT", "Local: Timed out"));
      }
      return seek(position, timeoutMs);
    };
    return consumer;
  });
  return { transport, seeks: () => seeks };
}

Deno.test("Runner keeps a partition paused and seeks again when the seek after a pause fails", async () => {
  const { transport, seeks } = firstSeekTimesOut();
  const attempts: number[] = [];
  const kit = await testConsumer(
    consumerOf("seeking", (message) => {
      attempts.push(message.offset);
      if (attempts.length === 1) throw new Error("fails once");
    }),
    { transport, settings: { pauseTimeout: 0.01 } },
  );
  try {
    kit.send("seeking", "a");
    kit.send("seeking", "b");
    await kit.drain();
    assert.equal(seeks(), 2, "the failed seek was tried again");
    assert.deepEqual(attempts, [0, 0, 1]);
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner retries the seek of an ended pause on the next loop when it fails", async () => {
  const { transport, seeks } = firstSeekTimesOut();
  const attempts: number[] = [];
  const kit = await testConsumer(
    consumerOf("seeking-now", (message) => {
      attempts.push(message.offset);
      if (attempts.length === 1) throw new Error("fails once");
    }),
    { transport, settings: { pauseTimeout: 0.001, maxRetries: 3, deadLetterTopic: "unused-dlq" } },
  );
  try {
    kit.send("seeking-now", "a");
    kit.send("seeking-now", "b");
    await kit.drain();
    assert.equal(seeks(), 2, "the failed seek was tried again");
    assert.deepEqual(attempts, [0, 0, 1]);
    assert.deepEqual(kit.produced("unused-dlq"), []);
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner calls onPartitionsLost, not onPartitionsRevoked, and skips the commit when the assignment was lost", async () => {
  const hooks: string[] = [];
  let processed = 0;
  class Tracked extends Consumer {
    static {
      this.subscribesTo("lost");
      this.groupId = "lost-group";
    }
    override process(): void {
      processed += 1;
    }
    override onPartitionsAssigned(): void {
      hooks.push("assigned");
    }
    override onPartitionsRevoked(): void {
      hooks.push("revoked");
    }
    override onPartitionsLost(partitions: { topic: string; partition: number }[]): void {
      hooks.push(`lost ${partitions.map((p) => `${p.topic}/${p.partition}`).join(",")}`);
    }
  }
  const kit = await testConsumer(new Tracked());
  const events: string[] = [];
  kit.runner.events.on("partitions_lost", (e) => events.push(`lost ${e.partitions.length}`));
  kit.runner.events.on("commit", (e) => events.push(`commit ${e.reason}`));
  try {
    kit.send("lost", "a");
    await kit.drain();
    const [member] = kit.transport.broker.members("lost-group");
    kit.transport.broker.expireMember("lost-group", member!.memberId);
    await waitFor(() => hooks.length >= 3, "the member lost its partition and rejoined");
    assert.deepEqual(hooks, ["assigned", "lost lost/0", "assigned"]);
    assert.deepEqual(events, ["lost 1"], "no commit for partitions another member owns");
    kit.send("lost", "b");
    await kit.drain();
    assert.ok(processed >= 2);
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner writes dead letters with the current time and keeps the original in a header", async () => {
  const old = Date.now() - 6 * 24 * 3600 * 1000;
  const kit = await testConsumer(
    consumerOf("stale", () => {
      throw new Error("always fails");
    }),
    { settings: { pauseTimeout: 0.01, maxRetries: 0, deadLetterTopic: "stale-dlq" } },
  );
  try {
    const before = Date.now();
    kit.transport.broker.append({ topic: "stale", value: null, timestamp: old });
    await waitFor(() => kit.produced("stale-dlq").length === 1, "the message was dead-lettered");
    const [dead] = kit.produced("stale-dlq");
    assert.ok(dead!.raw.timestamp! >= before, `written at ${dead!.raw.timestamp}, not ${old}`);
    assert.equal(dead!.headers["racecar-original-timestamp"], String(old));
  } finally {
    await kit.stop();
  }
});

Deno.test("Runner.run() rejects with SHUTDOWN_TIMEOUT when leaving the group outlasts shutdownTimeout", async () => {
  const hang = gate();
  const transport = wrappedTransport((consumer) => {
    const close = consumer.close.bind(consumer);
    consumer.close = async () => {
      await hang.opened;
      await close();
    };
    return consumer;
  });
  const runner = new Runner({
    consumer: consumerOf("hanging", () => {}),
    transport,
    consumerConfig: { "group.id": "hanging", "auto.offset.reset": "earliest" },
    producerConfig: {},
    settings: {
      clientId: "racecar-test",
      groupId: "hanging",
      maxWaitTime: 0.02,
      shutdownTimeout: SETTINGS.shutdownTimeout.min,
    },
  });
  transport.broker.createTopic("hanging", 1);
  const commits: string[] = [];
  runner.events.on("commit", (e) => commits.push(e.reason));
  const done = runner.run();
  await waitFor(() => runner.ready, "the runner joined");
  runner.stop();
  const error = await done.then(() => undefined, (e) => e);
  hang.open();
  assert.ok(error instanceof RacecarError, `expected a RacecarError, got ${error}`);
  assert.equal(error.code, "SHUTDOWN_TIMEOUT");
  assert.match(error.message, /'shutdown_timeout' \(1 s\)/);
  // Let the hung close finish so the test leaves nothing behind.
  await waitFor(() => transport.broker.members("hanging").length === 0, "the close finished");
  assert.deepEqual(commits, ["shutdown"]);
});

/** A memory transport that records the `sync` option of every commit. */
function commitRecordingTransport(): MemoryTransport & { syncs: (boolean | undefined)[] } {
  const syncs: (boolean | undefined)[] = [];
  const transport = wrappedTransport((consumer) => {
    const commit = consumer.commit.bind(consumer);
    consumer.commit = (offsets, options) => {
      syncs.push(options?.sync);
      return commit(offsets, options);
    };
    return consumer;
  });
  return Object.assign(transport, { syncs });
}

Deno.test("Runner commits at shutdown as the schema's synchronous_commits default says", async () => {
  const transport = commitRecordingTransport();
  transport.broker.createTopic("sync-default", 1);
  const runner = new Runner({
    consumer: consumerOf("sync-default", () => {}),
    transport,
    consumerConfig: { "group.id": "sync-default" },
    producerConfig: {},
    settings: { clientId: "racecar-test", groupId: "sync-default", maxWaitTime: 0.02 },
  });
  const done = runner.run();
  await waitFor(() => runner.ready, "the runner joined");
  runner.stop();
  await done;
  // The shutdown's commit comes first; leaving the group then revokes, and revokes commit synchronously.
  assert.equal(transport.syncs[0], SETTINGS.synchronousCommits.default);

  // The testing kit builds its runner as `racecar` does, and commits the same way.
  const kitTransport = commitRecordingTransport();
  const kit = await testConsumer(consumerOf("sync-default", () => {}), {
    transport: kitTransport,
  });
  await kit.stop();
  assert.equal(kitTransport.syncs[0], SETTINGS.synchronousCommits.default);
});
