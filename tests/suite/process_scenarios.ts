/**
 * Scenarios that run the real `racecar` command as a child process: nothing is
 * lost when it is killed with SIGKILL at random points. Each restart resumes
 * exactly at the group's committed offsets (so duplicates are limited to work
 * done after the last commit), and across all runs every message is processed.
 * The restart scenarios with and without static membership
 * (`static_membership_scenarios.ts`) and the retry timing
 * (`timer_scenarios.ts`) run here too.
 *
 * Runtime-neutral: `node:child_process` works in Deno and Node alike.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ConsumerTransport, Watermarks } from "../../src/kafka/transport.ts";
import {
  committedOffsets,
  killAtCleanup,
  newConsumer,
  newTopic,
  produceMessages,
  testConsumerConfig,
  text,
  waitFor,
} from "./_kafka.ts";
import type { RacecarCommand, RacecarProcess, Scenario, SuiteContext } from "./_suite.ts";
import { staticMembershipScenarios } from "./static_membership_scenarios.ts";
import { timerScenarios } from "./timer_scenarios.ts";

const PARTITIONS = 3;
const MESSAGES = 3_000;
const KILLS = 4;

interface RacecarRun {
  process: RacecarProcess;
  lines: [number, number][];
}

/** Starts `racecar LedgerConsumer`, collecting the `<partition> <offset>` lines it prints. */
function startRacecar(
  ctx: SuiteContext,
  racecar: RacecarCommand,
  topic: string,
  group: string,
): RacecarRun {
  const child = racecar.start([
    racecar.fixture("ledger_consumer"),
    "--group-id",
    group,
    "--offset-commit-interval",
    "0.2",
    "--max-wait-time",
    "0.2",
    "--fetch-messages",
    "50",
    // A killed member holds its partitions until its session times out.
    "--session-timeout",
    "3",
    "--heartbeat-interval",
    "0.5",
  ], { RACECAR_BROKERS: ctx.brokers, FIXTURE_TOPIC: topic });
  const run: RacecarRun = { process: child, lines: [] };
  child.onLine((line) => {
    const [partition, offset] = line.split(" ").map(Number);
    run.lines.push([partition!, offset!]);
  });
  killAtCleanup(ctx, child);
  return run;
}

function covers(seen: Set<string>, lines: [number, number][]): boolean {
  if (seen.size + lines.length < MESSAGES) return false;
  const all = new Set(seen);
  for (const [partition, offset] of lines) all.add(`${partition}:${offset}`);
  return all.size >= MESSAGES;
}

const ECHO_MESSAGES = 20_000;
const ECHO_KILLS = 5;

/**
 * Reads an echo consumer's output topic: which inputs (`<partition> <offset>`)
 * arrived, and how many output messages in all.
 */
class OutputReader {
  readonly inputs = new Set<string>();
  count = 0;
  readonly #ctx: SuiteContext;
  readonly #topic: string;
  readonly #partitions: number;
  readonly #reader: ConsumerTransport;
  readonly #ends = new Map<number, number>();

  constructor(ctx: SuiteContext, topic: string, partitions: number) {
    this.#ctx = ctx;
    this.#topic = topic;
    this.#partitions = partitions;
    this.#reader = newConsumer(ctx, {
      config: testConsumerConfig(ctx, ctx.uniqueName("racecar-echo-reader")),
    });
    this.#reader.subscribe([topic]);
  }

  /** Reads what arrived within `timeoutMs`. */
  async poll(timeoutMs = 100): Promise<void> {
    for (const message of await this.#reader.consume(1_000, timeoutMs)) {
      this.inputs.add(text(message.value)!);
      this.count += 1;
      this.#ends.set(message.partition, message.offset + 1);
    }
  }

  /** Reads up to the end of the topic as it is now. */
  async catchUp(): Promise<void> {
    const admin = this.#ctx.transport.createAdmin({
      config: { "bootstrap.servers": this.#ctx.brokers },
    });
    let ends: Watermarks[];
    try {
      ends = await admin.watermarks(
        Array.from({ length: this.#partitions }, (_, partition) => ({
          topic: this.#topic,
          partition,
        })),
        10_000,
      );
    } finally {
      await admin.close();
    }
    await waitFor(async () => {
      await this.poll();
      return ends.every((w) => w.high <= (this.#ends.get(w.partition) ?? w.low));
    }, `the reader reached the end of ${this.#topic}`);
  }
}

/** The scenarios, in the order they run. */
export const processScenarios: Scenario[] = [
  {
    name: "racecar loses nothing when killed with SIGKILL at random points and restarted",
    timeoutMs: 180_000,
    async fn(ctx) {
      const racecar = ctx.racecar;
      assert.ok(racecar !== undefined, "this scenario needs ctx.racecar");
      const topic = await newTopic(ctx, PARTITIONS, "racecar-kill");
      const group = ctx.uniqueName("racecar-kill");
      await produceMessages(ctx, topic, MESSAGES, PARTITIONS);
      const seen = new Set<string>();
      let processed = 0;

      for (let round = 0; round <= KILLS; round++) {
        const committed = await committedOffsets(ctx, group, topic, PARTITIONS);
        const run = startRacecar(ctx, racecar, topic, group);
        const last = round === KILLS;
        const target = last ? Infinity : 100 + Math.floor(Math.random() * 400);
        try {
          await waitFor(
            () => last ? covers(seen, run.lines) : run.lines.length >= target,
            last ? "every message was processed" : `${target} messages were processed`,
            { timeoutMs: 60_000, everyMs: 20 },
          );
        } finally {
          run.process.kill(last ? "SIGTERM" : "SIGKILL");
        }
        const code = await run.process.exited;
        if (last) assert.equal(code, 0, "a SIGTERM stop exits cleanly");
        // The restart began exactly where the group had committed: nothing skipped.
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const first = run.lines.find(([p]) => p === partition);
          if (first === undefined) continue;
          const expected = Math.max(0, committed[partition]!);
          assert.equal(
            first[1],
            expected,
            `round ${round}, partition ${partition} resumed at the commit`,
          );
        }
        for (const [partition, offset] of run.lines) seen.add(`${partition}:${offset}`);
        processed += run.lines.length;
      }

      assert.equal(seen.size, MESSAGES, "every message was processed at least once");
      console.log(`  ${KILLS} kills: ${processed} processed, ${processed - MESSAGES} duplicates`);
      assert.deepEqual(
        await committedOffsets(ctx, group, topic, PARTITIONS),
        [1000, 1000, 1000],
        "the clean stop committed everything",
      );
    },
  },
  {
    name: "racecar commits no input of an echo consumer before its output was delivered, " +
      "killed with SIGKILL at random points",
    timeoutMs: 300_000,
    async fn(ctx) {
      const racecar = ctx.racecar;
      assert.ok(racecar !== undefined, "this scenario needs ctx.racecar");
      const input = await newTopic(ctx, PARTITIONS, "racecar-echo-in");
      const output = await newTopic(ctx, PARTITIONS, "racecar-echo-out");
      const group = ctx.uniqueName("racecar-echo");
      await produceMessages(ctx, input, ECHO_MESSAGES, PARTITIONS);
      const reader = new OutputReader(ctx, output, PARTITIONS);

      for (let round = 0; round <= ECHO_KILLS; round++) {
        const last = round === ECHO_KILLS;
        const child: RacecarProcess = racecar.start([
          racecar.fixture("echo_consumer"),
          "--group-id",
          group,
          "--offset-commit-interval",
          "0.1",
          "--max-wait-time",
          "0.2",
          "--session-timeout",
          "3",
          "--heartbeat-interval",
          "0.5",
          // Outputs linger well past the commit interval: an offset committed before its
          // output was delivered would show at most kills.
          "--producer",
          "linger.ms=300",
        ], { RACECAR_BROKERS: ctx.brokers, FIXTURE_TOPIC: input, FIXTURE_OUTPUT: output });
        killAtCleanup(ctx, child);
        // Kill after a random number of new outputs; the last run goes to the end.
        const target = reader.count + 500 + Math.floor(Math.random() * 3_000);
        try {
          await waitFor(
            async () => {
              await reader.poll();
              if (!last) return reader.count >= target;
              if (reader.inputs.size < ECHO_MESSAGES) return false;
              const committed = await committedOffsets(ctx, group, input, PARTITIONS);
              // produceMessages spreads the inputs round-robin.
              return committed.every((offset, partition) =>
                offset === Math.ceil((ECHO_MESSAGES - partition) / PARTITIONS)
              );
            },
            last ? "every input was committed" : `${target} outputs arrived`,
            { timeoutMs: 120_000, everyMs: 10 },
          );
        } finally {
          child.kill(last ? "SIGTERM" : "SIGKILL");
        }
        const code: number | null = await child.exited;
        if (last) assert.equal(code, 0, "a SIGTERM stop exits cleanly");

        // Every input below the committed offset must have its output in the topic.
        const committed = await committedOffsets(ctx, group, input, PARTITIONS);
        await reader.catchUp();
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const missing: number[] = [];
          for (let offset = 0; offset < committed[partition]!; offset++) {
            if (!reader.inputs.has(`${partition} ${offset}`)) missing.push(offset);
          }
          assert.deepEqual(
            missing.slice(0, 10),
            [],
            `round ${round}: partition ${partition} committed ${committed[partition]} ` +
              `before the output of ${missing.length} of its inputs was delivered`,
          );
        }
      }
      assert.equal(reader.inputs.size, ECHO_MESSAGES, "every input appears in the output");
      console.log(
        `  ${ECHO_KILLS} kills: ${reader.count} outputs for ${ECHO_MESSAGES} inputs, ` +
          `${reader.count - ECHO_MESSAGES} duplicates`,
      );
    },
  },
  ...staticMembershipScenarios,
  ...timerScenarios,
];
