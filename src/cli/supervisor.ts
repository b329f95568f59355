/**
 * Parallel workers: `static parallelWorkers = N` runs N worker processes of
 * the same consumer class, each its own member of the group, under one
 * supervisor process.
 *
 * Racecar forks N children and stops them all when the first one dies. Here
 * the supervisor starts the same command N times (a JavaScript runtime cannot
 * fork) with `_RACECAR_WORKER=<n>`, forwards TERM, INT and QUIT as TERM,
 * restarts a worker that exits on its own after an exponential backoff (1 s,
 * 2 s, 4 s ... up to 30 s), and gives up when workers crashed 5 times within
 * 60 s: it stops the others and exits 1.
 *
 * Probes are aggregated: each worker keeps its own files
 * (`<liveness_probe_file_path>.worker-<n>`, same for readiness), and the
 * supervisor touches the configured liveness file only while every worker's
 * file is fresh, and creates the readiness file only while every worker is
 * ready. So `racecarctl liveness_probe` fails when any worker stalls or is
 * down.
 *
 * Workers run in their own sessions (a terminal's Ctrl-C reaches only the
 * supervisor) and stop by themselves when the supervisor disappears (SIGKILL),
 * so they are never left running unsupervised.
 *
 * @module
 */

import { allEnv, modifiedAt, removeFileSync, writeTextFileSync } from "../_runtime.ts";
import {
  args as runtimeArgs,
  type ChildProcess,
  CONFIG_DUMP_SIGNAL,
  onSignal,
  pid as ownPid,
  selfCommand,
  spawnChild,
} from "./_process.ts";
import { DAEMON_ENV } from "./daemon.ts";

/** Environment marker of a worker process: its number, from 1. */
export const WORKER_ENV = "_RACECAR_WORKER";

/** Environment marker of a worker process: its supervisor's process id. */
export const SUPERVISOR_ENV = "_RACECAR_SUPERVISOR_PID";

/** The supervisor's process id in a worker, else `undefined`. */
export function supervisorPid(
  env: Record<string, string | undefined> = allEnv(),
): number | undefined {
  const n = Number(env[SUPERVISOR_ENV] ?? "");
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The worker number of this process, or `undefined` in a supervisor or a plain run. */
export function workerNumber(
  env: Record<string, string | undefined> = allEnv(),
): number | undefined {
  const raw = env[WORKER_ENV];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** A worker's own probe file, derived from the configured one. */
export function workerFile(path: string, worker: number): string {
  return `${path}.worker-${worker}`;
}

/**
 * The `group.instance.id` of a worker: the configured one with `-<n>` appended.
 * Each worker is its own static member, and a restarted worker has the same id
 * as before, so the group gives it back its own partitions without a rebalance.
 *
 * @example
 * ```ts
 * import { workerGroupInstanceId } from "./supervisor.ts";
 * console.assert(workerGroupInstanceId("payments-0", 2) === "payments-0-2");
 * ```
 */
export function workerGroupInstanceId(base: string, worker: number): string {
  return `${base}-${worker}`;
}

/** Options of {@link supervise}. */
export interface SuperviseOptions {
  /** Number of workers (at least 2). */
  workers: number;
  /** The working directory of the workers. */
  cwd: string;
  /** Progress lines (`=> ...`). */
  say: (line: string) => void;
  /** Aggregate the workers' liveness files into this one. */
  liveness?: { filePath: string; maxIntervalSeconds: number };
  /** Aggregate the workers' readiness files into this one. */
  readinessFilePath?: string | undefined;
  /** Called on {@link CONFIG_DUMP_SIGNAL} (prints the configuration). */
  onConfigDump?: () => void;
  /** Crashes within {@link crashWindowMs} that stop everything. @default 5 */
  crashLimit?: number;
  /** @default 60_000 */
  crashWindowMs?: number;
  /** First restart delay; doubles per crash of the same worker. @default 1000 */
  restartDelayMs?: number;
  /** @default 30_000 */
  maxRestartDelayMs?: number;
  /** How often probe files are aggregated. @default 250 */
  probeIntervalMs?: number;
}

interface Slot {
  number: number;
  child: ChildProcess | undefined;
  restartTimer: ReturnType<typeof setTimeout> | undefined;
  recentCrashes: number[];
}

/**
 * Runs the workers until a signal stops them (exit code 0 when all of them
 * stopped cleanly) or they crash too often (exit code 1).
 */
export async function supervise(options: SuperviseOptions): Promise<number> {
  const crashLimit = options.crashLimit ?? 5;
  const crashWindowMs = options.crashWindowMs ?? 60_000;
  const restartDelayMs = options.restartDelayMs ?? 1000;
  const maxRestartDelayMs = options.maxRestartDelayMs ?? 30_000;
  const say = options.say;
  const command = [...selfCommand(), ...runtimeArgs()];
  const baseEnv = allEnv();
  delete baseEnv[DAEMON_ENV];

  let stopping = false;
  let gaveUp = false;
  let signals = 0;
  const crashTimes: number[] = [];
  const exits = new Set<Promise<void>>();
  let settle: () => void = () => {};
  const allDone = new Promise<void>((resolve) => settle = resolve);
  let cleanExits = 0;

  const slots: Slot[] = Array.from({ length: options.workers }, (_, i) => ({
    number: i + 1,
    child: undefined,
    restartTimer: undefined,
    recentCrashes: [],
  }));

  const checkDone = () => {
    if (stopping && slots.every((s) => s.child === undefined && s.restartTimer === undefined)) {
      settle();
    }
  };

  const stopAll = (signal: "SIGTERM" | "SIGKILL") => {
    for (const slot of slots) {
      if (slot.restartTimer !== undefined) {
        clearTimeout(slot.restartTimer);
        slot.restartTimer = undefined;
      }
      slot.child?.kill(signal);
    }
    checkDone();
  };

  const start = async (slot: Slot) => {
    slot.restartTimer = undefined;
    if (stopping) return checkDone();
    const child = await spawnChild(command, {
      cwd: options.cwd,
      env: { ...baseEnv, [WORKER_ENV]: String(slot.number), [SUPERVISOR_ENV]: String(ownPid()) },
      // Its own session: a terminal's Ctrl-C reaches the supervisor only, which forwards TERM.
      detached: true,
    });
    slot.child = child;
    say(`Started worker ${slot.number} with process id ${child.pid}`);
    const exited = child.status.then(({ code, signal }) => {
      slot.child = undefined;
      const how = signal === null ? `code ${code}` : `signal ${signal}`;
      if (stopping) {
        if (code === 0 && signal === null) cleanExits += 1;
        say(`Worker ${slot.number} (process id ${child.pid}) stopped with ${how}`);
        return checkDone();
      }
      const now = Date.now();
      crashTimes.push(now);
      while (crashTimes.length > 0 && crashTimes[0]! < now - crashWindowMs) crashTimes.shift();
      slot.recentCrashes = slot.recentCrashes.filter((t) => t >= now - crashWindowMs);
      slot.recentCrashes.push(now);
      if (crashTimes.length >= crashLimit) {
        say(
          `Worker ${slot.number} (process id ${child.pid}) exited with ${how}; workers ` +
            `crashed ${crashTimes.length} times within ${crashWindowMs / 1000} s: ` +
            `stopping all workers`,
        );
        gaveUp = true;
        stopping = true;
        stopAll("SIGTERM");
        return;
      }
      const wait = Math.min(
        restartDelayMs * 2 ** (slot.recentCrashes.length - 1),
        maxRestartDelayMs,
      );
      say(
        `Worker ${slot.number} (process id ${child.pid}) exited with ${how}; restarting it ` +
          `in ${(wait / 1000).toFixed(1)} s`,
      );
      slot.restartTimer = setTimeout(() => void start(slot), wait);
    });
    exits.add(exited);
    exited.finally(() => exits.delete(exited));
  };

  const onStop = (name: string) => () => {
    signals += 1;
    if (signals === 1) {
      say(`${name} received: terminating workers`);
      stopping = true;
      stopAll("SIGTERM");
    } else {
      say(`${name} received again: asking workers to exit now`);
      for (const slot of slots) slot.child?.kill("SIGTERM");
    }
  };
  const removers = [
    onSignal("SIGTERM", onStop("SIGTERM")),
    onSignal("SIGINT", onStop("SIGINT")),
    onSignal("SIGQUIT", onStop("SIGQUIT")),
    onSignal(CONFIG_DUMP_SIGNAL, () => options.onConfigDump?.()),
  ];

  const probeTimer = setInterval(
    () => void aggregateProbes(options, slots.length),
    options.probeIntervalMs ?? 250,
  );

  say(`Running with ${options.workers} parallel workers`);
  try {
    for (const slot of slots) await start(slot);
    await allDone;
    await Promise.all([...exits]);
  } finally {
    clearInterval(probeTimer);
    for (const remove of removers) remove();
    if (options.liveness) removeFileSync(options.liveness.filePath);
    if (options.readinessFilePath) removeFileSync(options.readinessFilePath);
  }
  if (gaveUp) return 1;
  return cleanExits === options.workers ? 0 : 1;
}

async function aggregateProbes(options: SuperviseOptions, workers: number): Promise<void> {
  const numbers = Array.from({ length: workers }, (_, i) => i + 1);
  try {
    if (options.liveness) {
      const { filePath, maxIntervalSeconds } = options.liveness;
      const now = Date.now();
      const times = await Promise.all(numbers.map((n) => modifiedAt(workerFile(filePath, n))));
      const allFresh = times.every((t) => t !== undefined && now - t < maxIntervalSeconds * 1000);
      if (allFresh) writeTextFileSync(filePath, String(now));
    }
    if (options.readinessFilePath) {
      const path = options.readinessFilePath;
      const times = await Promise.all(numbers.map((n) => modifiedAt(workerFile(path, n))));
      if (times.every((t) => t !== undefined)) {
        if ((await modifiedAt(path)) === undefined) writeTextFileSync(path, String(Date.now()));
      } else removeFileSync(path);
    }
  } catch {
    // A probe file that cannot be written shows up as a failing probe.
  }
}
