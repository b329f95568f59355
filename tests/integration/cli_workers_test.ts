/**
 * Subprocess tests of parallel workers (`static parallelWorkers`): partitions
 * are split between workers, a killed worker is restarted, TERM stops all,
 * and a crash loop gives up.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  alive,
  BROKERS,
  cleanEnv,
  createTopics,
  FIXTURES,
  type Proc,
  racecar,
  unique,
  waitUntil,
} from "../cli/_helpers.ts";

/** The latest assignment each live worker printed. */
function assignments(proc: Proc): Map<number, string[]> {
  const latest = new Map<number, string[]>();
  for (const [, pid, parts] of proc.stdout.matchAll(/assignment pid=(\d+) \[([^\]]*)\]/g)) {
    latest.set(Number(pid), parts === "" ? [] : parts!.split(","));
  }
  for (const pid of [...latest.keys()]) if (!alive(pid)) latest.delete(pid);
  return latest;
}

function converged(proc: Proc, workers: number, each: number): boolean {
  const live = assignments(proc);
  const all = [...live.values()].flat();
  return live.size === workers && [...live.values()].every((p) => p.length === each) &&
    new Set(all).size === workers * each;
}

Deno.test({
  name: "`racecar` runs parallelWorkers that split partitions and restarts a killed worker",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const topic = unique("workers");
    await createTopics([{ name: topic, partitions: 6 }]);
    const proc = racecar(["ParallelConsumer", "--require", FIXTURES], {
      env: cleanEnv({
        RACECAR_BROKERS: BROKERS,
        RACECAR_GROUP_ID: unique("workers-group"),
        // A killed member leaves the group after the session timeout: keep it short.
        RACECAR_SESSION_TIMEOUT: "6",
        RACECAR_HEARTBEAT_INTERVAL: "1",
        FIXTURE_TOPIC: topic,
      }),
    });
    try {
      await proc.waitFor("Running with 3 parallel workers");
      await waitUntil("3 workers with 2 partitions each", () => converged(proc, 3, 2), 60_000);
      const victim = [...assignments(proc).keys()][0]!;
      const killedAt = Date.now();
      Deno.kill(victim, "SIGKILL");
      await proc.waitFor(new RegExp(`process id ${victim}\\) exited with signal SIGKILL`));
      await waitUntil(
        "the group to converge again",
        () => converged(proc, 3, 2) && !assignments(proc).has(victim),
        60_000,
      );
      console.log(`group converged again ${Date.now() - killedAt} ms after the SIGKILL`);
      const workers = [...assignments(proc).keys()];
      proc.kill("SIGTERM");
      assert.deepEqual((await proc.status(60_000)).code, 0, proc.stderr);
      for (const pid of workers) assert.ok(!alive(pid), `worker ${pid} still runs`);
      assert.deepEqual(proc.stderr.match(/stopped with code 0/g)?.length, 3);
    } finally {
      await proc.dispose();
    }
  },
});

Deno.test({
  name: "`racecar` stops all workers and exits 1 when workers crash 5 times within 60 s",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const proc = racecar(["CrashLoopConsumer", "--require", FIXTURES], {
      env: cleanEnv({ RACECAR_TRANSPORT: "memory", FIXTURE_TOPIC: unique("crash-loop") }),
    });
    try {
      assert.deepEqual((await proc.status(60_000)).code, 1);
      assert.ok(
        proc.stderr.includes("crashed 5 times within 60 s: stopping all workers"),
        proc.stderr,
      );
      assert.ok(proc.stderr.includes("restarting it in 1.0 s"));
      assert.ok(proc.stderr.includes("restarting it in 2.0 s"));
    } finally {
      await proc.dispose();
    }
  },
});

Deno.test({
  name: "`racecar` with group_instance_id gives a restarted worker its own partitions back " +
    "without rebalancing the other workers",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const topic = unique("static-workers");
    await createTopics([{ name: topic, partitions: 6 }]);
    const base = unique("pod");
    const proc = racecar(["ParallelConsumer", "--require", FIXTURES], {
      env: cleanEnv({
        RACECAR_BROKERS: BROKERS,
        RACECAR_GROUP_ID: unique("static-workers-group"),
        RACECAR_GROUP_INSTANCE_ID: base,
        // The restart (1 s backoff, then start-up) must fit in it; nothing waits for it to pass.
        RACECAR_SESSION_TIMEOUT: "30",
        RACECAR_HEARTBEAT_INTERVAL: "1",
        FIXTURE_TOPIC: topic,
      }),
    });
    try {
      await waitUntil("3 workers with 2 partitions each", () => converged(proc, 3, 2), 60_000);
      for (const n of [1, 2, 3]) assert(proc.stderr.includes(`Static member ${base}-${n} `));
      const victim = Number(proc.stderr.match(/Started worker 2 with process id (\d+)/)![1]);
      const before = assignments(proc);
      const victimPartitions = before.get(victim)!;
      const lines = (pid: number) => proc.stdout.split(`assignment pid=${pid} `).length - 1;
      const others = [...before.keys()].filter((pid) => pid !== victim);
      const linesBefore = others.map(lines);

      Deno.kill(victim, "SIGKILL");
      await proc.waitFor(new RegExp(`process id ${victim}\\) exited with signal SIGKILL`));
      const starts = () => [...proc.stderr.matchAll(/Started worker 2 with process id (\d+)/g)];
      await waitUntil("worker 2 to be started again", () => starts().length === 2, 30_000);
      const restarted = Number(starts()[1]![1]);
      await waitUntil(
        "the restarted worker to hold partitions",
        () => assignments(proc).has(restarted),
        60_000,
      );
      assert.deepEqual(
        assignments(proc).get(restarted),
        victimPartitions,
        "its own partitions back",
      );
      assert.deepEqual(others.map(lines), linesBefore, "the other workers saw no rebalance");
      assert(converged(proc, 3, 2));
      proc.kill("SIGTERM");
      assert.deepEqual((await proc.status(60_000)).code, 0, proc.stderr);
    } finally {
      await proc.dispose();
    }
  },
});
