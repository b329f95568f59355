/**
 * Process control for the command line, under Deno and Node: arguments, the
 * exit, signals, other processes (daemons, workers, pid files) and standard
 * input. The runtime-neutral core never needs these; what it does need is in
 * `src/_runtime.ts`.
 *
 * @module
 */

import { deno as denoCore, type DenoApi, isDeno, isNotFound } from "../_runtime.ts";

/** The part of the `Deno` namespace process control uses, beyond the core's. */
interface DenoProcessApi extends DenoApi {
  args: string[];
  pid: number;
  mainModule: string;
  exit(code: number): never;
  execPath(): string;
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  kill(pid: number, signal: string): void;
  readTextFileSync(path: string): string;
  mkdir(path: string, options: { recursive: boolean }): Promise<void>;
  stdin: { readable: ReadableStream<Uint8Array> };
  Command: new (command: string, options: DenoCommandOptions) => {
    spawn(): DenoChild;
  };
  errors: DenoApi["errors"] & {
    PermissionDenied: new (...args: never[]) => Error;
    AlreadyExists: new (...args: never[]) => Error;
  };
}

interface DenoCommandOptions {
  args: string[];
  cwd: string;
  env: Record<string, string>;
  clearEnv: boolean;
  detached: boolean;
  stdin: "null";
  stdout: "null" | "inherit";
  stderr: "null" | "inherit";
}

interface DenoChild {
  pid: number;
  status: Promise<{ code: number; signal: string | null }>;
  unref(): void;
  kill(signal: string): void;
}

const deno = denoCore as DenoProcessApi | undefined;
const nodeFs = isDeno ? undefined : await import("node:fs");

/** Command-line arguments after the script name. */
export function args(): string[] {
  return deno ? [...deno.args] : process.argv.slice(2);
}

/** This process's id. */
export function pid(): number {
  return deno ? deno.pid : process.pid;
}

/** Ends the process now with `code`. */
export function exit(code: number): never {
  if (deno) deno.exit(code);
  process.exit(code);
}
/** Signals Racecar reacts to. */
export type Signal = "SIGTERM" | "SIGINT" | "SIGQUIT" | "SIGUSR1" | "SIGUSR2" | "SIGHUP";

/**
 * The signal that makes `racecar` print its configuration. Not racecar's
 * SIGUSR1: Deno and Node.js open the V8 inspector (a debugger on
 * 127.0.0.1:9229) on SIGUSR1 whatever the program listens to, which would let
 * any local user attach to the consumer.
 */
export const CONFIG_DUMP_SIGNAL: Signal = "SIGUSR2";

/**
 * Calls `handler` whenever the process receives `signal`; returns a function
 * that removes the handler. Unsupported signals (on Windows) are ignored.
 */
export function onSignal(signal: Signal, handler: () => void): () => void {
  if (deno) {
    try {
      deno.addSignalListener(signal, handler);
    } catch {
      return () => {};
    }
    return () => {
      try {
        deno.removeSignalListener(signal, handler);
      } catch {
        // already removed
      }
    };
  }
  process.on(signal, handler);
  return () => process.off(signal, handler);
}

/** Sends a signal to a process; returns `false` when there is no such process. */
export function kill(processId: number, signal: Signal | "SIGKILL" | 0): boolean {
  try {
    if (deno) {
      if (signal === 0) {
        // Deno has no signal 0; SIGCONT is harmless and fails the same way for a missing pid.
        deno.kill(processId, "SIGCONT");
      } else deno.kill(processId, signal);
    } else process.kill(processId, signal);
    return true;
  } catch {
    return false;
  }
}

/** Appends text to a file synchronously, creating it (used by the log file sink). */
export function appendTextFileSync(path: string, text: string): void {
  if (deno) deno.writeTextFileSync(path, text, { append: true, create: true });
  else nodeFs!.appendFileSync(path, text, "utf8");
}

/** Creates a directory and its parents; an existing one is fine. */
export async function makeDir(path: string): Promise<void> {
  if (deno) await deno.mkdir(path, { recursive: true });
  else await nodeFs!.promises.mkdir(path, { recursive: true });
}

/** How a process looks from outside: alive, gone, or alive but someone else's. */
export type ProcessState = "running" | "gone" | "not-owned";

/**
 * Whether process `processId` runs. A zombie (exited, not yet reaped: common
 * for daemons whose parent exited in a container without an init) counts as gone.
 */
export function processState(processId: number): ProcessState {
  if (!Number.isInteger(processId) || processId <= 0) return "gone";
  try {
    if (deno) deno.kill(processId, "SIGCONT");
    else process.kill(processId, 0);
  } catch (error) {
    const permission = deno
      ? error instanceof deno.errors.PermissionDenied
      : (error as { code?: string })?.code === "EPERM";
    return permission ? "not-owned" : "gone";
  }
  try {
    const stat: string = deno
      ? deno.readTextFileSync(`/proc/${processId}/stat`)
      : nodeFs!.readFileSync(`/proc/${processId}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return "gone";
  } catch {
    // No /proc (macOS): the signal test above is all we have.
  }
  return "running";
}

/**
 * Creates `path` holding `text`, failing if it exists (`O_CREAT|O_EXCL`);
 * returns `false` when the file was already there.
 */
export function createFileExclusiveSync(path: string, text: string): boolean {
  try {
    if (deno) deno.writeTextFileSync(path, text, { createNew: true });
    else nodeFs!.writeFileSync(path, text, { encoding: "utf8", flag: "wx" });
    return true;
  } catch (error) {
    const exists = deno
      ? error instanceof deno.errors.AlreadyExists
      : (error as { code?: string })?.code === "EEXIST";
    if (exists) return false;
    throw error;
  }
}

/** Reads a file as text synchronously; `undefined` when it does not exist. */
export function readTextFileSync(path: string): string | undefined {
  try {
    return deno ? deno.readTextFileSync(path) : nodeFs!.readFileSync(path, "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The command that started this process, without its arguments, so it can
 * start itself again (a daemon, parallel workers): under Deno
 * `deno run -A <main module>` (a JS runtime cannot fork), under Node
 * `node <exec args> <script>`.
 */
export function selfCommand(): string[] {
  if (deno) {
    const main: string = deno.mainModule;
    const script = main.startsWith("file:") ? decodeURIComponent(new URL(main).pathname) : main;
    return [deno.execPath(), "run", "-A", script];
  }
  return [process.execPath, ...process.execArgv, process.argv[1] ?? ""];
}

/** Options of {@link spawnDetached}. */
export interface SpawnDetachedOptions {
  /** The working directory. */
  cwd: string;
  /** The complete environment of the new process. */
  env: Record<string, string>;
  /** Append standard output and error here; `/dev/null` when omitted. */
  logfile?: string;
}

/**
 * Starts `command` in a new session (`setsid`), standard input from
 * `/dev/null`, output appended to `logfile`, and returns its process id without
 * waiting for it. POSIX only.
 */
export async function spawnDetached(
  command: readonly string[],
  options: SpawnDetachedOptions,
): Promise<number> {
  // `exec` keeps the process id: the shell only sets up the redirections.
  const script = 'exec "$@" </dev/null >>"$_RACECAR_OUT" 2>&1';
  const env = { ...options.env, _RACECAR_OUT: options.logfile ?? "/dev/null" };
  const shellArgs = ["-c", script, "sh", ...command];
  if (deno) {
    const child = new deno.Command("/bin/sh", {
      args: shellArgs,
      cwd: options.cwd,
      env,
      clearEnv: true,
      detached: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    // Reap it if it ends while we still run; its status does not matter here.
    child.status.catch(() => {});
    return child.pid;
  }
  const { spawn } = await import("node:child_process");
  const child = spawn("/bin/sh", shellArgs, {
    cwd: options.cwd,
    env,
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  return child.pid!;
}

/** A child process started by {@link spawnChild}. */
export interface ChildProcess {
  /** Its process id. */
  readonly pid: number;
  /** Settles when it ended: its exit code, or the signal that ended it. */
  readonly status: Promise<{ code: number; signal: string | null }>;
  /** Sends it a signal; `false` when it is gone. */
  kill(signal: Signal | "SIGKILL"): boolean;
}

/**
 * Starts `command` as a child sharing this process's standard streams. With
 * `detached`, it runs in its own session, so a terminal's Ctrl-C reaches only
 * this process, which decides what to forward.
 */
export async function spawnChild(
  command: readonly string[],
  options: { cwd: string; env: Record<string, string>; detached?: boolean },
): Promise<ChildProcess> {
  const [file, ...rest] = command;
  if (deno) {
    const child = new deno.Command(file!, {
      args: rest,
      cwd: options.cwd,
      env: options.env,
      clearEnv: true,
      detached: options.detached ?? false,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    return {
      pid: child.pid,
      status: child.status.then((s: { code: number; signal: string | null }) => ({
        code: s.code,
        signal: s.signal ?? null,
      })),
      kill(signal) {
        try {
          child.kill(signal);
          return true;
        } catch {
          return false;
        }
      },
    };
  }
  const { spawn } = await import("node:child_process");
  const child = spawn(file!, rest, {
    cwd: options.cwd,
    env: options.env,
    detached: options.detached ?? false,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const status = new Promise<{ code: number; signal: string | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code: code ?? 1, signal: signal ?? null }));
  });
  return {
    pid: child.pid!,
    status,
    kill: (signal) => child.kill(signal),
  };
}

/** Reads all of standard input as text (for `racecarctl produce --file -`). */
export async function readStdinText(): Promise<string> {
  if (deno) return await new Response(deno.stdin.readable).text();
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of process.stdin) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
  }
  return text + decoder.decode();
}

/** Resolves after `ms` milliseconds (for polling loops with a deadline). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
