/**
 * Nothing is lost when `racecar` is killed with SIGKILL at random points: each
 * restart resumes exactly at the group's committed offsets (so duplicates are
 * limited to work done after the last commit), and across all runs every
 * message is processed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import { committedOffsets, newTopic, produceMessages } from "../suite/_kafka.ts";
import type { SuiteContext } from "../suite/_suite.ts";
import { brokers } from "./_deno_suite.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PARTITIONS = 3;
const MESSAGES = 3_000;
const KILLS = 4;

/** A running `racecar LedgerConsumer`, with the lines it printed so far. */
function startRacecar(topic: string, group: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(ROOT, "cli.ts"),
      join(ROOT, "tests", "fixtures", "ledger_consumer.ts"),
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
    ],
    env: { RACECAR_BROKERS: brokers, FIXTURE_TOPIC: topic },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines: [number, number][] = [];
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const line of parts) {
        const [partition, offset] = line.split(" ").map(Number);
        lines.push([partition!, offset!]);
      }
    }
  })();
  return { child, lines, reading };
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test({
  name: "racecar loses nothing when killed with SIGKILL at random points and restarted",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cleanups: (() => unknown)[] = [];
    const ctx: SuiteContext = {
      transport: createFfiTransport(),
      brokers,
      uniqueName: (prefix) => `${prefix}-${crypto.randomUUID().slice(0, 12)}`,
      defer: (fn) => void cleanups.push(fn),
    };
    try {
      const topic = await newTopic(ctx, PARTITIONS, "racecar-kill");
      const group = ctx.uniqueName("racecar-kill");
      await produceMessages(ctx, topic, MESSAGES, PARTITIONS);
      const seen = new Set<string>();
      let processedLines = 0;

      for (let round = 0; round <= KILLS; round++) {
        const committed = await committedOffsets(ctx, group, topic, PARTITIONS);
        const run = startRacecar(topic, group);
        const last = round === KILLS;
        const target = last ? Infinity : 100 + Math.floor(Math.random() * 400);
        try {
          await waitUntil(
            () => last ? allSeen(seen, run.lines) : run.lines.length >= target,
            last ? "every message was processed" : `${target} messages were processed`,
          );
        } finally {
          run.child.kill(last ? "SIGTERM" : "SIGKILL");
          const status = await run.child.status;
          await run.reading;
          if (last) assert.equal(status.code, 0, "a SIGTERM stop exits cleanly");
        }
        // The restart began exactly where the group had committed: nothing skipped.
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const first = run.lines.find(([p]) => p === partition);
          if (first === undefined) continue;
          const expected = committed[partition]! < 0 ? 0 : committed[partition]!;
          assert.equal(
            first[1],
            expected,
            `round ${round}, partition ${partition} resumed at the commit`,
          );
        }
        for (const [partition, offset] of run.lines) seen.add(`${partition}:${offset}`);
        processedLines += run.lines.length;
      }

      assert.equal(seen.size, MESSAGES, "every message was processed at least once");
      const duplicates = processedLines - MESSAGES;
      console.log(`  ${KILLS} kills, ${processedLines} processed, ${duplicates} duplicates`);
      assert.deepEqual(
        await committedOffsets(ctx, group, topic, PARTITIONS),
        [1000, 1000, 1000],
        "the clean stop committed everything",
      );
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup();
    }
  },
});

function allSeen(seen: Set<string>, lines: [number, number][]): boolean {
  if (seen.size + lines.length < MESSAGES) return false;
  const all = new Set(seen);
  for (const [partition, offset] of lines) all.add(`${partition}:${offset}`);
  return all.size >= MESSAGES;
}
