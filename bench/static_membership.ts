/**
 * Resume time after a restart, with and without static membership
 * (`group_instance_id`): two `racecar` members (Deno, FFI adapter) share a
 * 4-partition topic; one is killed with SIGKILL, messages arrive for it, and it
 * is started again at once. The figure is the time from starting it again to
 * the first message of its partitions processed by any member. It runs
 * `killAndRestart()` from tests/suite/static_membership_scenarios.ts, the
 * restart the tests check.
 *
 * Usage: `deno run -A bench/static_membership.ts [runs] [session_timeout]`
 * (defaults: 3 runs of each kind, a 6 s session timeout for both). Starts a
 * local broker when none answers (and stops it afterwards), or uses
 * `RACECAR_BROKERS`.
 *
 * @module
 */

import { ensureBroker } from "../scripts/kafka.ts";
import { createFfiTransport } from "../src/kafka/ffi/mod.ts";
import { denoRacecar } from "../tests/integration/_racecar_deno.ts";
import { killAndRestart } from "../tests/suite/static_membership_scenarios.ts";
import type { SuiteContext } from "../tests/suite/_suite.ts";

const runs = Number(Deno.args[0] ?? 3);
const sessionTimeout = Number(Deno.args[1] ?? 6);

async function once(brokers: string, isStatic: boolean): Promise<number> {
  const cleanups: (() => unknown)[] = [];
  const ctx: SuiteContext = {
    transport: createFfiTransport(),
    brokers,
    uniqueName: (prefix) => `${prefix}-${crypto.randomUUID().slice(0, 12)}`,
    defer: (fn) => void cleanups.push(fn),
    racecar: denoRacecar,
  };
  try {
    const report = await killAndRestart(ctx, { static: isStatic, sessionTimeout });
    if (report.missing.length > 0) throw new Error(`lost messages: ${report.missing.join(" ")}`);
    const rebalanced = report.otherEventsAfterKill.some((e) => e.kind === "revoked");
    console.log(
      `${isStatic ? "static " : "dynamic"}  resumed after ${report.resumeMs} ms; other member ` +
        (rebalanced ? "rebalanced" : "not rebalanced"),
    );
    return report.resumeMs;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const broker = await ensureBroker();
try {
  console.log(`${runs} runs each, session_timeout ${sessionTimeout} s, broker ${broker.brokers}`);
  const results: Record<string, number[]> = { static: [], dynamic: [] };
  for (let i = 0; i < runs; i++) {
    results.static!.push(await once(broker.brokers, true));
    results.dynamic!.push(await once(broker.brokers, false));
  }
  for (const [kind, times] of Object.entries(results)) {
    console.log(
      `${kind.padEnd(7)}  median ${median(times)} ms, min ${Math.min(...times)} ms, ` +
        `max ${Math.max(...times)} ms`,
    );
  }
} finally {
  await broker.stop();
}
