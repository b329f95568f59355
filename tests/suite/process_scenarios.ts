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
import { committedOffsets, newTopic, produceMessages, waitFor } from "./_kafka.ts";
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
  let ended = false;
  child.exited.then(() => ended = true);
  ctx.defer(async () => {
    if (!ended) {
      child.kill("SIGKILL");
      await child.exited;
    }
  });
  return run;
}

function covers(seen: Set<string>, lines: [number, number][]): boolean {
  if (seen.size + lines.length < MESSAGES) return false;
  const all = new Set(seen);
  for (const [partition, offset] of lines) all.add(`${partition}:${offset}`);
  return all.size >= MESSAGES;
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
  ...staticMembershipScenarios,
  ...timerScenarios,
];
