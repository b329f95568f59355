/**
 * `racecar --daemonize` and the pid file `racecarctl status|stop` read.
 *
 * Racecar double-forks. A JavaScript runtime cannot fork, so the foreground
 * process (after it loaded the class and the configuration, so mistakes still
 * show up in the terminal) starts the same command again in a new session,
 * with standard input from `/dev/null` and output appended to `logfile` (or
 * discarded), and an environment marker naming the pid file. The background
 * process writes its pid with `O_CREAT|O_EXCL` and removes the file when it
 * ends; the foreground process waits until the pid file names the child, then
 * exits 0. Only POSIX systems are supported.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { allEnv, removeFileSync } from "../_runtime.ts";
import {
  args as runtimeArgs,
  createFileExclusiveSync,
  delay,
  makeDir,
  pid as ownPid,
  processState,
  readTextFileSync,
  selfCommand,
  spawnDetached,
} from "./_process.ts";
import { RacecarError } from "../errors.ts";

/** Environment marker: set in the background process, to the absolute pid file. */
export const DAEMON_ENV = "_RACECAR_DAEMON_PIDFILE";

/** How long the foreground process waits for the background one to write its pid. */
export const DAEMON_START_TIMEOUT_MS = 60_000;

/** What a pid file says about its process (racecar's `pid_status`). */
export type PidStatus =
  | { state: "running"; pid: number }
  | { state: "not-owned"; pid: number }
  | { state: "dead"; pid: number }
  | { state: "exited" }
  | { state: "corrupt"; text: string };

/** Reads `pidfile` and checks its process. */
export function pidStatus(pidfile: string): PidStatus {
  const text = readTextFileSync(pidfile);
  if (text === undefined) return { state: "exited" };
  const pid = /^\s*\d+\s*$/.test(text) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(pid) || pid <= 0) return { state: "corrupt", text };
  const state = processState(pid);
  if (state === "running") return { state: "running", pid };
  if (state === "not-owned") return { state: "not-owned", pid };
  return { state: "dead", pid };
}

/** The pid file for a run: `pidfile` or `<group_id>.pid`, absolute against `cwd`. */
export function pidfilePath(pidfile: string | undefined, groupId: string, cwd: string): string {
  return resolve(cwd, pidfile ?? `${groupId}.pid`);
}

/** Whether this process is the background half of `--daemonize`. */
export function isDaemonChild(env: Record<string, string | undefined> = allEnv()): boolean {
  return (env[DAEMON_ENV] ?? "") !== "";
}

/** Raised when the daemon cannot start; the CLI prints it and exits 1. */
export class DaemonError extends RacecarError {
  /** Creates the error. */
  constructor(message: string) {
    super("DAEMON", message);
    this.name = "DaemonError";
  }
}

/** Options of {@link startDaemon}. */
export interface StartDaemonOptions {
  /** Absolute pid file. */
  pidfile: string;
  /** Where the background process's output goes; discarded when unset. */
  logfile?: string | undefined;
  /** The working directory the command ran in. */
  cwd: string;
  /** Progress lines (`=> ...`). */
  say: (line: string) => void;
  /** @default {@link DAEMON_START_TIMEOUT_MS} */
  timeoutMs?: number;
}

/**
 * The foreground half: checks the pid file, starts the background process and
 * waits until it wrote its pid. Resolves with that pid.
 *
 * @throws {DaemonError} when another process holds the pid file, or the
 * background process exited or did not write its pid in time.
 */
export async function startDaemon(options: StartDaemonOptions): Promise<number> {
  const { pidfile, say } = options;
  checkPidfile(pidfile);
  say("Starting background process");
  say(`Writing PID to ${pidfile}`);
  let logfile: string | undefined;
  if (options.logfile !== undefined) {
    logfile = resolve(options.cwd, options.logfile);
    await makeDir(dirname(logfile));
  }
  await makeDir(dirname(pidfile));
  const env: Record<string, string> = { ...allEnv(), [DAEMON_ENV]: pidfile };
  const child = await spawnDetached([...selfCommand(), ...runtimeArgs()], {
    cwd: options.cwd,
    env,
    ...(logfile === undefined ? {} : { logfile }),
  });
  const deadline = Date.now() + (options.timeoutMs ?? DAEMON_START_TIMEOUT_MS);
  const where = logfile === undefined
    ? "set 'logfile' (or --log) to keep its output"
    : `see ${logfile}`;
  while (Date.now() < deadline) {
    const status = pidStatus(pidfile);
    if (status.state === "running" && status.pid === child) return child;
    if (processState(child) === "gone") {
      throw new DaemonError(
        `Cannot start Racecar in the background: the background process (PID ${child}) ` +
          `exited before it wrote ${pidfile}; ${where}`,
      );
    }
    await delay(50);
  }
  throw new DaemonError(
    `Cannot start Racecar in the background: the background process (PID ${child}) did not ` +
      `write ${pidfile} within ${
        Math.round((options.timeoutMs ?? DAEMON_START_TIMEOUT_MS) / 1000)
      } s; ${where}`,
  );
}

/**
 * The background half: writes this process's pid to `pidfile` (exclusively)
 * and returns a function that removes it again.
 *
 * @throws {DaemonError} when another live process holds the pid file.
 */
export function claimPidfile(pidfile: string): () => void {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // Only our own pid file: another instance may have taken it over meanwhile.
    const status = pidStatus(pidfile);
    if ("pid" in status && status.pid === ownPid()) {
      removeFileSync(pidfile);
    }
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createFileExclusiveSync(pidfile, `${ownPid()}\n`)) return release;
    checkPidfile(pidfile);
    const status = pidStatus(pidfile);
    if (status.state === "running" && status.pid === ownPid()) return release;
  }
  throw new DaemonError(`Cannot write ${pidfile}: another process keeps creating it`);
}

/** Says what is wrong with a pid file that holds no process id. */
export function corruptPidfileMessage(pidfile: string, text: string): string {
  const shown = text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}...` : JSON.stringify(text);
  return `The pid file ${pidfile} is corrupt: expected a process id, got ${shown}; check ` +
    `which Racecar process owns it (ps), then delete the file`;
}

/** Fails when the pid file's process runs; removes a stale pid file. */
function checkPidfile(pidfile: string): void {
  const status = pidStatus(pidfile);
  if (status.state === "running" || status.state === "not-owned") {
    if (status.pid === ownPid()) return;
    throw new DaemonError(`Racecar is already running with that PID file (${pidfile})`);
  }
  if (status.state === "dead" || readTextFileSync(pidfile) !== undefined) {
    removeFileSync(pidfile);
  }
}
