/**
 * Key-ordered processing (`key_concurrency`) against a real broker: one
 * partition, 2,000 messages over 100 keys, `process` taking 5 ms. In one run
 * every message is processed once and each key in offset order; with the real
 * `racecar` killed with SIGKILL at random points and restarted, nothing is
 * lost, each restart resumes at the committed offset, and each key keeps its
 * order within every run. Runtime-neutral: Deno FFI, and on Node both koffi
 * and node-rdkafka.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Consumer } from "../../src/consumer.ts";
import type { Message } from "../../src/message.ts";
import { Runner } from "../../src/runner.ts";
import {
  bytes,
  committedOffsets,
  killAtCleanup,
  newTopic,
  testConsumerConfig,
  waitFor,
} from "./_kafka.ts";
import type { RacecarCommand, RacecarProcess, Scenario, SuiteContext } from "./_suite.ts";

const MESSAGES = 2_000;
const KEYS = 100;
const KILLS = 3;

/** Produces {@link MESSAGES} messages to partition 0, key `k<i % KEYS>`, value `<i>`. */
async function produceKeyed(ctx: SuiteContext, topic: string): Promise<void> {
  const producer = ctx.transport.createProducer({
    config: { "bootstrap.servers": ctx.brokers, "linger.ms": "5" },
  });
  try {
    await Promise.all(
      Array.from({ length: MESSAGES }, (_, i) =>
        producer.produce({
          topic,
          partition: 0,
          key: bytes(`k${i % KEYS}`),
          value: bytes(String(i)),
        })),
    );
  } finally {
    await producer.close(10_000);
  }
}

/** Asserts that within `lines` (`[offset, key]` in processing order) every key's offsets grow. */
function assertKeyOrder(lines: readonly [number, string][], what: string): void {
  const last = new Map<string, number>();
  for (const [offset, key] of lines) {
    const before = last.get(key) ?? -1;
    assert.ok(offset > before, `${what}: key ${key} processed ${offset} after ${before}`);
    last.set(key, offset);
  }
}

function startKeyed(
  ctx: SuiteContext,
  racecar: RacecarCommand,
  topic: string,
  group: string,
): { process: RacecarProcess; lines: [number, string][] } {
  const child = racecar.start([
    racecar.fixture("keyed_consumer"),
    "--group-id",
    group,
    "--offset-commit-interval",
    "0.2",
    "--max-wait-time",
    "0.2",
    "--fetch-messages",
    "200",
    // A killed member holds its partitions until its session times out.
    "--session-timeout",
    "3",
    "--heartbeat-interval",
    "0.5",
  ], { RACECAR_BROKERS: ctx.brokers, FIXTURE_TOPIC: topic });
  const run = { process: child, lines: [] as [number, string][] };
  child.onLine((line) => {
    const [offset, key] = line.split(" ");
    run.lines.push([Number(offset), key!]);
  });
  killAtCleanup(ctx, child);
  return run;
}

/** The scenarios, in the order they run. */
export const keyedScenarios: Scenario[] = [
  {
    name: "Runner.run() with keyConcurrency processes 2,000 messages over 100 keys of one " +
      "partition once each, every key in offset order",
    timeoutMs: 60_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 1, "racecar-keyed");
      const group = ctx.uniqueName("racecar-keyed");
      await produceKeyed(ctx, topic);
      const lines: [number, string][] = [];
      let running = 0;
      let most = 0;
      class KeyedConsumer extends Consumer {
        static {
          this.subscribesTo(topic);
        }
        override async process(message: Message): Promise<void> {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running -= 1;
          lines.push([message.offset, new TextDecoder().decode(message.key!)]);
        }
      }
      const runner = new Runner({
        consumer: new KeyedConsumer(),
        transport: ctx.transport,
        consumerConfig: testConsumerConfig(ctx, group),
        producerConfig: { "bootstrap.servers": ctx.brokers },
        settings: {
          clientId: "racecar-test",
          groupId: group,
          maxWaitTime: 0.2,
          keyConcurrency: 50,
        },
      });
      const done = runner.run();
      ctx.defer(async () => {
        runner.stop();
        await done.catch(() => {});
      });
      await waitFor(() => lines.length >= MESSAGES, "every message was processed");
      runner.stop();
      await done;
      assert.equal(lines.length, MESSAGES, "each message once in an undisturbed run");
      assert.equal(new Set(lines.map(([offset]) => offset)).size, MESSAGES);
      assertKeyOrder(lines, "one run");
      assert.ok(most > 1 && most <= 50, `keys ran in parallel, at most 50 at once (${most})`);
      assert.deepEqual(await committedOffsets(ctx, group, topic, 1), [MESSAGES]);
    },
  },
  {
    name: "racecar with keyConcurrency loses nothing and keeps each key's order when killed " +
      "with SIGKILL at random points and restarted",
    timeoutMs: 120_000,
    async fn(ctx) {
      const racecar = ctx.racecar;
      assert.ok(racecar !== undefined, "this scenario needs ctx.racecar");
      const topic = await newTopic(ctx, 1, "racecar-keyed-kill");
      const group = ctx.uniqueName("racecar-keyed-kill");
      await produceKeyed(ctx, topic);
      const seen = new Set<number>();
      let processed = 0;
      for (let round = 0; round <= KILLS; round++) {
        const [committed] = await committedOffsets(ctx, group, topic, 1);
        const run = startKeyed(ctx, racecar, topic, group);
        const last = round === KILLS;
        const target = last ? Infinity : 50 + Math.floor(Math.random() * 500);
        const covers = () => {
          const all = new Set(seen);
          for (const [offset] of run.lines) all.add(offset);
          return all.size >= MESSAGES;
        };
        try {
          await waitFor(
            () => last ? covers() : run.lines.length >= target,
            last ? "every message was processed" : `${target} messages were processed`,
            { timeoutMs: 60_000, everyMs: 10 },
          );
        } finally {
          run.process.kill(last ? "SIGTERM" : "SIGKILL");
        }
        const code = await run.process.exited;
        if (last) assert.equal(code, 0, "a SIGTERM stop exits cleanly");
        if (run.lines.length > 0) {
          // Nothing skipped: the restart began at the group's commit (the first lines may be
          // other keys', so the smallest offset of the run is the one to compare).
          assert.equal(
            Math.min(...run.lines.map(([offset]) => offset)),
            Math.max(0, committed!),
            `round ${round} resumed at the commit`,
          );
        }
        assertKeyOrder(run.lines, `round ${round}`);
        for (const [offset] of run.lines) seen.add(offset);
        processed += run.lines.length;
      }
      assert.equal(seen.size, MESSAGES, "every message was processed at least once");
      console.log(`  ${KILLS} kills: ${processed} processed, ${processed - MESSAGES} duplicates`);
      assert.deepEqual(
        await committedOffsets(ctx, group, topic, 1),
        [MESSAGES],
        "the clean stop committed everything",
      );
    },
  },
];
