/**
 * The runner's processing semantics against a real broker: order, commits,
 * pauses and retries, dead letters, delivery before commit, rebalances and
 * concurrency. Runtime-neutral, so both adapters are held to the same rules.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Consumer } from "../../src/consumer.ts";
import { DeliveryError, type ErrorInfo, RacecarError } from "../../src/errors.ts";
import type { RebalanceEvent } from "../../src/kafka/transport.ts";
import type { Message } from "../../src/message.ts";
import { Runner, type RunnerSettings } from "../../src/runner.ts";
import {
  committedOffsets,
  newConsumer,
  newTopic,
  produceMessages,
  testConsumerConfig,
  text,
  waitFor,
} from "./_kafka.ts";
import type { Scenario, SuiteContext } from "./_suite.ts";

interface Started {
  runner: Runner;
  done: Promise<void>;
  error: () => unknown;
}

/** Starts a runner in the background; the scenario's clean-up stops it. */
function start(
  ctx: SuiteContext,
  consumer: Consumer,
  group: string,
  options: {
    settings?: Partial<RunnerSettings>;
    config?: Record<string, string>;
    producerConfig?: Record<string, string>;
  } = {},
): Started {
  const runner = new Runner({
    consumer,
    transport: ctx.transport,
    consumerConfig: testConsumerConfig(ctx, group, {
      "auto.commit.interval.ms": "500",
      ...options.config,
    }),
    producerConfig: { "bootstrap.servers": ctx.brokers, ...options.producerConfig },
    settings: { clientId: "racecar-test", groupId: group, maxWaitTime: 0.2, ...options.settings },
  });
  let failure: unknown;
  const done = runner.run().catch((error) => {
    failure = error;
  });
  ctx.defer(async () => {
    runner.stop();
    await done;
  });
  return { runner, done, error: () => failure };
}

/** A consumer class over `topic` whose `process` is `fn`. */
function consumerOf(
  topic: string,
  fn: (message: Message, self: Consumer) => void | Promise<void>,
): Consumer {
  class TestConsumer extends Consumer {
    static {
      this.subscribesTo(topic);
    }
    override async process(message: Message): Promise<void> {
      await fn(message, this);
    }
  }
  return new TestConsumer();
}

/** Records `(partition, offset)` pairs in processing order. */
class Ledger {
  readonly seen = new Map<number, number[]>();
  count = 0;
  add(message: Message): void {
    let list = this.seen.get(message.partition);
    if (list === undefined) this.seen.set(message.partition, list = []);
    list.push(message.offset);
    this.count += 1;
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The scenarios, in the order they run. */
export const runnerScenarios: Scenario[] = [
  {
    name:
      "Runner.run() processes every message in offset order per partition, and a restart resumes after the commit",
    timeoutMs: 120_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 3, "racecar-order");
      const group = ctx.uniqueName("racecar-order");
      await produceMessages(ctx, topic, 10_000, 3);

      const ledger = new Ledger();
      const first = start(ctx, consumerOf(topic, (m) => ledger.add(m)), group, {
        settings: { fetchMessages: 500 },
      });
      await waitFor(() => ledger.count >= 10_000, "10,000 messages were processed", {
        timeoutMs: 90_000,
      });
      first.runner.stop();
      await first.done;
      assert.equal(first.error(), undefined);
      assert.equal(ledger.count, 10_000, "each message exactly once in an undisturbed run");
      for (let partition = 0; partition < 3; partition++) {
        const offsets = ledger.seen.get(partition) ?? [];
        assert.equal(offsets.length, partition === 0 ? 3334 : 3333);
        offsets.forEach((offset, i) => assert.equal(offset, i, `partition ${partition} in order`));
      }
      assert.deepEqual(await committedOffsets(ctx, group, topic, 3), [3334, 3333, 3333]);

      await produceMessages(ctx, topic, 30, 3, 10_000);
      const resumed = new Ledger();
      start(ctx, consumerOf(topic, (m) => resumed.add(m)), group);
      await waitFor(() => resumed.count >= 30, "the 30 new messages were processed");
      for (const [partition, offsets] of resumed.seen) {
        assert.deepEqual(
          offsets,
          Array.from({ length: 10 }, (_, i) => (partition === 0 ? 3334 : 3333) + i),
          `partition ${partition} resumes right after its committed offset`,
        );
      }
    },
  },
  {
    name:
      "Runner.run() pauses only the failing partition and retries the same message after the backoff",
    async fn(ctx) {
      const topic = await newTopic(ctx, 2, "racecar-pause");
      const group = ctx.uniqueName("racecar-pause");
      await produceMessages(ctx, topic, 40, 2);
      const ledger = new Ledger();
      const attempts: { offset: number; at: number; retries: number }[] = [];
      let failed = false;
      const errors: ErrorInfo[] = [];
      start(
        ctx,
        consumerOf(topic, (message) => {
          if (message.partition === 0 && message.offset === 5) {
            attempts.push({ offset: 5, at: Date.now(), retries: message.retriesCount });
            if (!failed) {
              failed = true;
              throw new Error("boom on 0/5");
            }
          }
          ledger.add(message);
        }),
        group,
        { settings: { pauseTimeout: 1, onError: (_error, info) => void errors.push(info) } },
      );
      await waitFor(() => ledger.count >= 40, "all 40 messages were processed");
      assert.equal(attempts.length, 2, "the failed message was tried twice");
      assert.equal(attempts[1]!.retries, 1, "the retry knows it is a retry");
      assert.ok(attempts[1]!.at - attempts[0]!.at >= 900, "the retry waited for the pause");
      assert.deepEqual(ledger.seen.get(0), Array.from({ length: 20 }, (_, i) => i));
      assert.deepEqual(ledger.seen.get(1), Array.from({ length: 20 }, (_, i) => i));
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.offset, 5);
      assert.equal(errors[0]!.partition, 0);
      assert.equal(errors[0]!.retriesCount, 0);
    },
  },
  {
    name: "Runner.run() retries a failing batch whole from its first offset",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1, "racecar-batch");
      const group = ctx.uniqueName("racecar-batch");
      await produceMessages(ctx, topic, 30, 1);
      const batches: number[][] = [];
      let failures = 0;
      class BatchConsumer extends Consumer {
        static {
          this.subscribesTo(topic);
        }
        override processBatch(messages: Message[]): void {
          const offsets = messages.map((m) => m.offset);
          batches.push(offsets);
          if (offsets.includes(12) && failures === 0) {
            failures += 1;
            throw new Error("batch with 12 fails once");
          }
        }
      }
      start(ctx, new BatchConsumer(), group, {
        settings: { pauseTimeout: 0.2, fetchMessages: 10 },
      });
      await waitFor(
        () => batches.some((b) => b.includes(29)) && failures === 1,
        "every batch was processed",
      );
      const failedIndex = batches.findIndex((b) => b.includes(12));
      const failedBatch = batches[failedIndex]!;
      const retried = batches[failedIndex + 1]!;
      assert.equal(
        retried[0],
        failedBatch[0],
        "the retry starts at the failed batch's first offset",
      );
      const processed = batches.flat().filter((offset, i, all) => all.indexOf(offset) === i);
      assert.deepEqual(processed, Array.from({ length: 30 }, (_, i) => i));
    },
  },
  {
    name:
      "Runner.run() sends a message to the dead-letter topic after maxRetries, with its origin in headers",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1, "racecar-dlq-in");
      const dlq = await newTopic(ctx, 1, "racecar-dlq");
      const group = ctx.uniqueName("racecar-dlq");
      await produceMessages(ctx, topic, 5, 1);
      const ledger = new Ledger();
      const tries = new Map<number, number>();
      start(
        ctx,
        consumerOf(topic, (message) => {
          tries.set(message.offset, (tries.get(message.offset) ?? 0) + 1);
          if (text(message.value) === "m2") throw new TypeError("m2 is poison");
          ledger.add(message);
        }),
        group,
        { settings: { pauseTimeout: 0.1, maxRetries: 2, deadLetterTopic: dlq } },
      );
      await waitFor(() => ledger.count >= 4, "the healthy messages were processed");
      assert.equal(tries.get(2), 3, "one attempt and two retries");
      assert.deepEqual(ledger.seen.get(0), [0, 1, 3, 4]);

      const reader = newConsumer(ctx, {
        config: testConsumerConfig(ctx, ctx.uniqueName("dlq-read")),
      });
      reader.subscribe([dlq]);
      const dead = [];
      const deadline = Date.now() + 30_000;
      while (dead.length === 0 && Date.now() < deadline) {
        dead.push(...(await reader.consume(10, 200)));
      }
      assert.equal(dead.length, 1);
      const headers = Object.fromEntries(dead[0]!.headers.map((h) => [h.key, text(h.value)]));
      assert.equal(text(dead[0]!.value), "m2");
      assert.equal(text(dead[0]!.key), "k2");
      assert.equal(headers["racecar-original-topic"], topic);
      assert.equal(headers["racecar-original-partition"], "0");
      assert.equal(headers["racecar-original-offset"], "2");
      assert.equal(headers["racecar-error-class"], "TypeError");
      assert.equal(headers["racecar-error-message"], "m2 is poison");
      assert.equal(headers["racecar-attempts"], "3");
      assert.equal(headers["racecar-consumer-group"], group);
      await waitFor(
        async () => (await committedOffsets(ctx, group, topic, 1))[0] === 5,
        "the offset moved past the dead-lettered message",
        { everyMs: 300 },
      );
    },
  },
  {
    name: "Runner.run() stops instead of dead-lettering when the safety limit is reached",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1, "racecar-limit-in");
      const dlq = await newTopic(ctx, 1, "racecar-limit");
      const group = ctx.uniqueName("racecar-limit");
      await produceMessages(ctx, topic, 10, 1);
      const started = start(
        ctx,
        consumerOf(topic, () => {
          throw new Error("a bad deploy fails everything");
        }),
        group,
        {
          settings: {
            pauseTimeout: 0.05,
            maxRetries: 0,
            deadLetterTopic: dlq,
            deadLetterSafetyLimit: 3,
          },
        },
      );
      await started.done;
      const error = started.error();
      assert.ok(error instanceof RacecarError, `expected a RacecarError, got ${error}`);
      assert.equal(error.code, "DEAD_LETTER_LIMIT");
      assert.match(error.message, /dead_letter_safety_limit/);
      assert.deepEqual(
        await committedOffsets(ctx, group, topic, 1),
        [3],
        "only the dead-lettered messages were skipped",
      );
    },
  },
  {
    name: "Runner.run() stores an offset only after what process produced was delivered",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1, "racecar-deliver-in");
      const out = await newTopic(ctx, 1, "racecar-deliver-out");
      const group = ctx.uniqueName("racecar-deliver");
      await produceMessages(ctx, topic, 3, 1);
      const errors: unknown[] = [];
      const processed: number[] = [];
      start(
        ctx,
        consumerOf(topic, (message, self) => {
          processed.push(message.offset);
          // Message 1's output is larger than the producer may send: delivery fails.
          const size = message.offset === 1 ? 5_000 : 10;
          produceFrom(self, "x".repeat(size), out);
        }),
        group,
        {
          settings: { pauseTimeout: 30, onError: (error) => void errors.push(error) },
          producerConfig: { "message.max.bytes": "2000" },
        },
      );
      await waitFor(() => errors.length >= 1, "the delivery failure was reported");
      assert.ok(errors[0] instanceof DeliveryError, `expected a DeliveryError, got ${errors[0]}`);
      assert.match((errors[0] as Error).message, /racecar-deliver-out/);
      await waitFor(
        async () => (await committedOffsets(ctx, group, topic, 1))[0] === 1,
        "message 0 was committed",
        { everyMs: 300 },
      );
      await delay(1_500);
      assert.deepEqual(
        await committedOffsets(ctx, group, topic, 1),
        [1],
        "the offset stays before the message whose output was not delivered",
      );
      // Message 2 may be processed while message 1's delivery is in flight; after the
      // failure the partition pauses at message 1, so nothing is processed twice yet.
      assert.deepEqual(
        processed.slice(0, 2),
        [0, 1],
        "messages are processed in order",
      );
      assert.ok(
        processed.length <= 3 && processed.every((offset, i) => offset === i),
        `the partition paused at message 1 (processed ${processed})`,
      );
    },
  },
  {
    name: "Runner.run() pauses only the partition whose output the broker rejected as too large",
    async fn(ctx) {
      const topic = await newTopic(ctx, 2, "racecar-toolarge-in");
      const out = ctx.uniqueName("racecar-toolarge-out");
      const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
      ctx.defer(async () => {
        await admin.deleteTopics([out], 10_000).catch(() => {});
        await admin.close();
      });
      await admin.createTopics([{
        name: out,
        partitions: 2,
        replicationFactor: 1,
        config: { "max.message.bytes": "2000" },
      }], 10_000);
      const group = ctx.uniqueName("racecar-toolarge");
      await produceMessages(ctx, topic, 20, 2);
      const pauses: { partition: number; offset: number }[] = [];
      const errors: unknown[] = [];
      const started = start(
        ctx,
        consumerOf(topic, (message, self) => {
          // The broker rejects partition 1's output of offset 5 (and the batch it went in).
          const big = message.partition === 1 && message.offset === 5;
          (self as unknown as {
            produce(value: string, options: { topic: string; partition: number }): void;
          }).produce("x".repeat(big ? 5_000 : 10), { topic: out, partition: message.partition });
        }),
        group,
        { settings: { pauseTimeout: 30, onError: (error) => void errors.push(error) } },
      );
      started.runner.events.on(
        "pause",
        (e) => pauses.push({ partition: e.partition, offset: e.offset }),
      );
      await waitFor(() => pauses.length >= 1, "a partition paused");
      // Messages sent in one batch with the large one fail with it: the pause may come earlier.
      assert.equal(pauses.length, 1, `one pause, got ${JSON.stringify(pauses)}`);
      assert.equal(pauses[0]!.partition, 1, "the partition whose output failed paused");
      assert.ok(pauses[0]!.offset <= 5, `paused at or before offset 5, got ${pauses[0]!.offset}`);
      assert.ok(errors[0] instanceof DeliveryError, `expected a DeliveryError, got ${errors[0]}`);
      assert.match((errors[0] as Error).message, /too large/i);
      await waitFor(
        async () => {
          const committed = await committedOffsets(ctx, group, topic, 2);
          return committed[0] === 10 && Math.max(0, committed[1]!) === pauses[0]!.offset;
        },
        "partition 0 was committed to its end and partition 1 up to the failed message",
        { everyMs: 300 },
      );
    },
  },
  {
    name: "Runner.run() pauses only the partition whose output topic was deleted",
    async fn(ctx) {
      const topic = await newTopic(ctx, 2, "racecar-deleted-in");
      const kept = await newTopic(ctx, 1, "racecar-deleted-kept");
      const gone = await newTopic(ctx, 1, "racecar-deleted-gone");
      const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
      ctx.defer(() => admin.close());
      const group = ctx.uniqueName("racecar-deleted");
      await produceMessages(ctx, topic, 20, 2);
      const pauses: { partition: number; offset: number }[] = [];
      const errors: unknown[] = [];
      let deleted = false;
      const started = start(
        ctx,
        consumerOf(topic, async (message, self) => {
          // Partition 1 writes to `gone`, deleted when it reaches offset 5; partition 0 to `kept`.
          if (message.partition === 1 && message.offset === 5 && !deleted) {
            await admin.deleteTopics([gone], 10_000);
            deleted = true;
          }
          (self as unknown as {
            produce(value: string, options: { topic: string }): void;
          }).produce("x", { topic: message.partition === 1 ? gone : kept });
        }),
        group,
        {
          settings: { pauseTimeout: 30, onError: (error) => void errors.push(error) },
          // What a cluster without auto-creation does (the test broker auto-creates topics): the
          // producer does not ask for `gone` to be created again, and gives up on it at once.
          producerConfig: {
            "allow.auto.create.topics": "false",
            "topic.metadata.propagation.max.ms": "10",
          },
        },
      );
      started.runner.events.on(
        "pause",
        (e) => pauses.push({ partition: e.partition, offset: e.offset }),
      );
      await waitFor(() => pauses.length >= 1, "a partition paused");
      assert.equal(pauses.length, 1, `one pause, got ${JSON.stringify(pauses)}`);
      assert.equal(pauses[0]!.partition, 1, "the partition whose output topic is gone paused");
      assert.ok(pauses[0]!.offset <= 5, `paused at or before offset 5, got ${pauses[0]!.offset}`);
      assert.ok(errors[0] instanceof DeliveryError, `expected a DeliveryError, got ${errors[0]}`);
      // librdkafka fails the message as of an unknown topic or partition, or, when the deleted
      // partition's queue is torn down first, with _DESTROY (seen on koffi in CI): either way only
      // this partition's message, as the single pause above shows.
      assert.match(
        (errors[0] as Error).message,
        /unknown (topic|partition)|broker handle destroyed/i,
      );
      await waitFor(
        async () => {
          const committed = await committedOffsets(ctx, group, topic, 2);
          return committed[0] === 10 && Math.max(0, committed[1]!) === pauses[0]!.offset;
        },
        "partition 0 was committed to its end and partition 1 up to the failed message",
        { everyMs: 300 },
      );
    },
  },
  {
    name: "Runner.run() commits finished work when its partitions are revoked",
    async fn(ctx) {
      const topic = await newTopic(ctx, 2, "racecar-revoke");
      const group = ctx.uniqueName("racecar-revoke");
      await produceMessages(ctx, topic, 50, 2);
      const ledger = new Ledger();
      start(ctx, consumerOf(topic, (m) => ledger.add(m)), group, {
        config: { "auto.commit.interval.ms": "600000", "partition.assignment.strategy": "range" },
      });
      await waitFor(() => ledger.count >= 50, "the first member processed everything");
      assert.deepEqual(await committedOffsets(ctx, group, topic, 2), [-1001, -1001]);

      const joiner = newConsumer(ctx, {
        config: testConsumerConfig(ctx, group, { "partition.assignment.strategy": "range" }),
      });
      joiner.subscribe([topic]);
      await waitFor(async () => {
        await joiner.consume(10, 100);
        return joiner.assignment().length > 0;
      }, "the second member got a partition");
      assert.deepEqual(
        await committedOffsets(ctx, group, topic, 2),
        [25, 25],
        "the revoke committed what the first member had processed",
      );
    },
  },
  {
    name: "Runner.run() with cooperative-sticky keeps its partitions when another member leaves",
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 4, "racecar-coop");
      const group = ctx.uniqueName("racecar-coop");
      const strategy = { "partition.assignment.strategy": "cooperative-sticky" };
      const events: { who: string; event: RebalanceEvent["kind"]; partitions: number[] }[] = [];
      const make = (who: string) => {
        class Member extends Consumer {
          static {
            this.subscribesTo(topic);
          }
          override process(): void {}
          override onPartitionsAssigned(partitions: { partition: number }[]): void {
            events.push({ who, event: "assign", partitions: partitions.map((p) => p.partition) });
          }
          override onPartitionsRevoked(partitions: { partition: number }[]): void {
            events.push({ who, event: "revoke", partitions: partitions.map((p) => p.partition) });
          }
        }
        return new Member();
      };
      const owned = (who: string) => {
        const mine = new Set<number>();
        for (const e of events.filter((e) => e.who === who)) {
          for (const p of e.partitions) e.event === "assign" ? mine.add(p) : mine.delete(p);
        }
        return mine;
      };
      const a = start(ctx, make("a"), group, { config: strategy });
      await waitFor(() => owned("a").size === 4, "a owns all partitions");
      const b = start(ctx, make("b"), group, { config: strategy });
      await waitFor(
        () => owned("a").size === 2 && owned("b").size === 2,
        "the partitions are shared",
      );
      const keptByA = [...owned("a")];
      const mark = events.length;
      b.runner.stop();
      await b.done;
      await waitFor(() => owned("a").size === 4, "a took over b's partitions");
      const aAfter = events.slice(mark).filter((e) => e.who === "a");
      assert.equal(aAfter.filter((e) => e.event === "revoke").length, 0, "a revoked nothing");
      assert.ok(keptByA.every((p) => owned("a").has(p)));
      assert.equal(a.error(), undefined);
    },
  },
  {
    name: "Runner.run() with concurrency processes partitions at the same time, each in order",
    async fn(ctx) {
      const topic = await newTopic(ctx, 4, "racecar-concurrency");
      const group = ctx.uniqueName("racecar-concurrency");
      await produceMessages(ctx, topic, 80, 4);
      const ledger = new Ledger();
      let inFlight = 0;
      let most = 0;
      start(
        ctx,
        consumerOf(topic, async (message) => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          await delay(10);
          inFlight -= 1;
          ledger.add(message);
        }),
        group,
        { settings: { concurrency: 4 } },
      );
      await waitFor(() => ledger.count >= 80, "all messages were processed");
      assert.ok(most > 1, `partitions overlapped (at most ${most} at once)`);
      assert.ok(most <= 4, "never more than `concurrency` at once");
      for (let partition = 0; partition < 4; partition++) {
        assert.deepEqual(ledger.seen.get(partition), Array.from({ length: 20 }, (_, i) => i));
      }
    },
  },
  {
    name:
      "Runner.run() does not leave a partition paused after it moved away and came back (racecar #335)",
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 1, "racecar-335");
      const group = ctx.uniqueName("racecar-335");
      await produceMessages(ctx, topic, 3, 1);
      const ledger = new Ledger();
      let failures = 0;
      const range = { "partition.assignment.strategy": "range" };
      const started = Date.now();
      start(
        ctx,
        consumerOf(topic, (message) => {
          if (message.offset === 0 && failures++ === 0) throw new Error("fails once");
          ledger.add(message);
        }),
        group,
        // Paused for a minute: only the rebalance can bring the partition back sooner.
        { settings: { pauseTimeout: 60 }, config: range },
      );
      await waitFor(() => failures === 1, "the first attempt failed and paused the partition");
      // A second member joins and leaves: an eager rebalance takes the partition
      // away and gives it back.
      const visitor = newConsumer(ctx, {
        config: testConsumerConfig(ctx, group, { ...range, "enable.auto.commit": "false" }),
      });
      visitor.subscribe([topic]);
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && visitor.assignment().length === 0 && ledger.count === 0) {
        await visitor.consume(10, 200);
      }
      await visitor.close();
      await waitFor(() => ledger.count >= 3, "the partition was processed after coming back", {
        timeoutMs: 40_000,
      });
      assert.ok(Date.now() - started < 55_000, "well before the 60 s pause would have ended");
      assert.deepEqual(ledger.seen.get(0), [0, 1, 2]);
    },
  },
  {
    name: "Runner.run() hands librdkafka's statistics to statisticsCallback",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1, "racecar-stats");
      const group = ctx.uniqueName("racecar-stats");
      const received: Record<string, unknown>[] = [];
      class Watched extends Consumer {
        static {
          this.subscribesTo(topic);
        }
        override process(): void {}
        override statisticsCallback(statistics: Record<string, unknown>): void {
          received.push(statistics);
        }
      }
      start(ctx, new Watched(), group, { config: { "statistics.interval.ms": "200" } });
      await waitFor(() => received.length >= 2, "two statistics reports arrived");
      assert.equal(received[0]!.type, "consumer");
      assert.equal(typeof received[0]!.name, "string");
      assert.ok("topics" in received[0]!);
    },
  },
  {
    name: "Runner.run() keeps its partitions while a message takes longer than the session timeout",
    async fn(ctx) {
      const topic = await newTopic(ctx, 1, "racecar-slow");
      const group = ctx.uniqueName("racecar-slow");
      await produceMessages(ctx, topic, 3, 1);
      const ledger = new Ledger();
      const revoked: number[] = [];
      class Slow extends Consumer {
        static {
          this.subscribesTo(topic);
        }
        override async process(message: Message): Promise<void> {
          // librdkafka heartbeats from its own thread: 4 s of work outlives a 2 s session.
          if (message.offset === 0) await delay(4_000);
          ledger.add(message);
        }
        override onPartitionsRevoked(partitions: { partition: number }[]): void {
          revoked.push(...partitions.map((p) => p.partition));
        }
      }
      start(ctx, new Slow(), group, {
        config: { "session.timeout.ms": "2000", "max.poll.interval.ms": "20000" },
      });
      await waitFor(() => ledger.count >= 3, "the slow message and the rest were processed");
      assert.deepEqual(ledger.seen.get(0), [0, 1, 2], "each message once, in order");
      assert.deepEqual(revoked, [], "the group never took the partition away");
    },
  },
  {
    name: "Runner.run() loses nothing when processing outlasts max.poll.interval.ms",
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 1, "racecar-maxpoll");
      const group = ctx.uniqueName("racecar-maxpoll");
      await produceMessages(ctx, topic, 5, 1);
      const ledger = new Ledger();
      let slowRuns = 0;
      start(
        ctx,
        consumerOf(topic, async (message) => {
          if (message.offset === 1 && slowRuns++ === 0) await delay(5_000);
          ledger.add(message);
        }),
        group,
        { config: { "session.timeout.ms": "2000", "max.poll.interval.ms": "2000" } },
      );
      await waitFor(
        async () => (await committedOffsets(ctx, group, topic, 1))[0] === 5,
        "everything was committed after the member rejoined",
        { timeoutMs: 60_000, everyMs: 300 },
      );
      const offsets = ledger.seen.get(0)!;
      assert.deepEqual([...new Set(offsets)].sort((a, b) => a - b), [0, 1, 2, 3, 4]);
      assert.ok(slowRuns >= 1);
    },
  },
  {
    name:
      "Runner.run() calls onPartitionsLost, not onPartitionsRevoked, when processing outlasts max.poll.interval.ms",
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 1, "racecar-lost");
      const group = ctx.uniqueName("racecar-lost");
      await produceMessages(ctx, topic, 5, 1);
      const ledger = new Ledger();
      const hooks: string[] = [];
      let slowRuns = 0;
      class Blocking extends Consumer {
        static {
          this.subscribesTo(topic);
        }
        override async process(message: Message): Promise<void> {
          // Blocks past max.poll.interval.ms once: the group gives the partition away.
          if (message.offset === 1 && slowRuns++ === 0) await delay(5_000);
          ledger.add(message);
        }
        override onPartitionsAssigned(): void {
          hooks.push("assigned");
        }
        override onPartitionsRevoked(): void {
          hooks.push("revoked");
        }
        override onPartitionsLost(partitions: { partition: number }[]): void {
          hooks.push(`lost ${partitions.map((p) => p.partition).join(",")}`);
        }
      }
      const started = start(ctx, new Blocking(), group, {
        config: { "session.timeout.ms": "2000", "max.poll.interval.ms": "2000" },
      });
      const lostEvents: number[] = [];
      started.runner.events.on("partitions_lost", (e) => lostEvents.push(e.partitions.length));
      await waitFor(() => hooks.includes("lost 0"), "the member lost its partition", {
        timeoutMs: 60_000,
      });
      await waitFor(
        async () => (await committedOffsets(ctx, group, topic, 1))[0] === 5,
        "everything was committed after the member rejoined",
        { timeoutMs: 60_000, everyMs: 300 },
      );
      assert.deepEqual(
        hooks.filter((h) => h !== "assigned"),
        ["lost 0"],
        "onPartitionsLost ran instead of onPartitionsRevoked",
      );
      assert.deepEqual(lostEvents, [1]);
      const offsets = ledger.seen.get(0)!;
      assert.deepEqual([...new Set(offsets)].sort((a, b) => a - b), [0, 1, 2, 3, 4]);
      assert.equal(started.error(), undefined);
    },
  },
  {
    name: "Runner.run() processes a subscribed topic that was created after it started",
    timeoutMs: 90_000,
    async fn(ctx) {
      const topic = ctx.uniqueName("racecar-later");
      const group = ctx.uniqueName("racecar-later");
      const ledger = new Ledger();
      const started = start(ctx, consumerOf(topic, (m) => ledger.add(m)), group);
      let loops = 0;
      started.runner.events.on("main_loop", () => loops++);
      // Subscribed and polling while the topic does not exist yet.
      await waitFor(() => loops >= 5, "the runner polled its missing topic");
      const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
      ctx.defer(async () => {
        await admin.deleteTopics([topic], 10_000).catch(() => {});
        await admin.close();
      });
      await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }], 10_000);
      await produceMessages(ctx, topic, 1, 1);
      await waitFor(() => ledger.count === 1, "the message on the new topic was processed", {
        timeoutMs: 60_000,
      });
      assert.deepEqual(ledger.seen.get(0), [0]);
      assert.equal(started.error(), undefined);
    },
  },
];

/** Calls the protected `produce` of a consumer from a test's closure. */
function produceFrom(consumer: Consumer, value: string, topic: string): void {
  (consumer as unknown as { produce(value: string, options: { topic: string }): void }).produce(
    value,
    { topic },
  );
}
