/**
 * The one module of the core that touches `Deno.*` or `process.*`.
 *
 * Everything else asks this module for the environment, signals, files and the
 * exit, so the same sources run under Deno and (compiled by `tsc`) under Node.
 * Kafka adapters are the other exception: each one is bound to its runtime.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** `true` when running under Deno. */
export const isDeno: boolean = typeof g.Deno?.version?.deno === "string";

/** `true` when running under Bun (which otherwise takes the Node.js paths here). */
export const isBun: boolean = typeof g.Bun?.version === "string";

// deno-lint-ignore no-explicit-any
const nodeProcess: any = isDeno ? undefined : g.process;
const nodeFs = isDeno ? undefined : await import("node:fs");

/** The runtime's name and version, e.g. `Deno 2.9.6` or `Node.js v20.20.2`. */
export function runtimeDescription(): string {
  if (isBun) return `Bun ${g.Bun.version}`;
  return isDeno ? `Deno ${g.Deno.version.deno}` : `Node.js ${nodeProcess.version}`;
}

/** Reads an environment variable; `undefined` when unset (or not permitted). */
export function getEnv(name: string): string | undefined {
  if (isDeno) {
    try {
      return g.Deno.env.get(name);
    } catch {
      return undefined;
    }
  }
  return nodeProcess.env[name];
}

/** All environment variables. */
export function allEnv(): Record<string, string> {
  if (isDeno) {
    try {
      return g.Deno.env.toObject();
    } catch {
      return {};
    }
  }
  return { ...nodeProcess.env };
}

/** Command-line arguments after the script name. */
export function args(): string[] {
  return isDeno ? [...g.Deno.args] : nodeProcess.argv.slice(2);
}

/** The current working directory. */
export function cwd(): string {
  return isDeno ? g.Deno.cwd() : nodeProcess.cwd();
}

/** This process's id. */
export function pid(): number {
  return isDeno ? g.Deno.pid : nodeProcess.pid;
}

/** Ends the process now with `code`. */
export function exit(code: number): never {
  if (isDeno) g.Deno.exit(code);
  nodeProcess.exit(code);
  throw new Error("unreachable");
}

/** Writes text to standard error. */
export function writeStderr(text: string): void {
  if (isDeno) g.Deno.stderr.writeSync(new TextEncoder().encode(text));
  else nodeProcess.stderr.write(text);
}

/** Writes text to standard output. */
export function writeStdout(text: string): void {
  if (isDeno) g.Deno.stdout.writeSync(new TextEncoder().encode(text));
  else nodeProcess.stdout.write(text);
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
  if (isDeno) {
    try {
      g.Deno.addSignalListener(signal, handler);
    } catch {
      return () => {};
    }
    return () => {
      try {
        g.Deno.removeSignalListener(signal, handler);
      } catch {
        // already removed
      }
    };
  }
  nodeProcess.on(signal, handler);
  return () => nodeProcess.off(signal, handler);
}

/** Sends a signal to a process; returns `false` when there is no such process. */
export function kill(processId: number, signal: Signal | "SIGKILL" | 0): boolean {
  try {
    if (isDeno) {
      if (signal === 0) {
        // Deno has no signal 0; SIGCONT is harmless and fails the same way for a missing pid.
        g.Deno.kill(processId, "SIGCONT");
      } else g.Deno.kill(processId, signal);
    } else nodeProcess.kill(processId, signal);
    return true;
  } catch {
    return false;
  }
}

/** Reads a file as text; `undefined` when it does not exist. */
export async function readTextFile(path: string): Promise<string | undefined> {
  try {
    if (isDeno) return await g.Deno.readTextFile(path);
    const fs = await import("node:fs/promises");
    return await fs.readFile(path, "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Writes a text file, replacing it. */
export async function writeTextFile(path: string, text: string): Promise<void> {
  if (isDeno) return await g.Deno.writeTextFile(path, text);
  const fs = await import("node:fs/promises");
  await fs.writeFile(path, text, "utf8");
}

/** The modification time of a file in ms since the epoch; `undefined` when missing. */
export async function modifiedAt(path: string): Promise<number | undefined> {
  try {
    if (isDeno) return (await g.Deno.stat(path)).mtime?.getTime();
    const fs = await import("node:fs/promises");
    return (await fs.stat(path)).mtimeMs;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Whether an error says a file does not exist. */
export function isNotFound(error: unknown): boolean {
  if (isDeno && error instanceof g.Deno.errors.NotFound) return true;
  return (error as { code?: string })?.code === "ENOENT";
}

/** A directory for temporary files. */
export function tempDir(): string {
  return getEnv("TMPDIR") ?? getEnv("TMP") ?? getEnv("TEMP") ?? "/tmp";
}

/** Appends text to a file synchronously, creating it (used by the log file sink). */
export function appendTextFileSync(path: string, text: string): void {
  if (isDeno) g.Deno.writeTextFileSync(path, text, { append: true, create: true });
  else nodeFs!.appendFileSync(path, text, "utf8");
}

/** Creates a directory and its parents; an existing one is fine. */
export async function makeDir(path: string): Promise<void> {
  if (isDeno) await g.Deno.mkdir(path, { recursive: true });
  else await nodeFs!.promises.mkdir(path, { recursive: true });
}

/** Writes a text file synchronously (for pid and probe files written at exit). */
export function writeTextFileSync(path: string, text: string): void {
  if (isDeno) g.Deno.writeTextFileSync(path, text);
  else nodeFs!.writeFileSync(path, text, "utf8");
}

/** Removes a file synchronously; a missing file is fine. */
export function removeFileSync(path: string): void {
  try {
    if (isDeno) g.Deno.removeSync(path);
    else nodeFs!.unlinkSync(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * Calls `handler` when the process is about to end because it ran out of work
 * (Node's `beforeExit`, Deno's `beforeunload`); returns a function that removes
 * it. Work the handler starts keeps the process alive until it settles. It does
 * not run on `exit()`, on signals or while an open Kafka client keeps the
 * process busy: callers that must clean up also hook signals or close explicitly.
 */
export function onBeforeExit(handler: () => unknown): () => void {
  if (isDeno) {
    const listener = () => void handler();
    g.addEventListener("beforeunload", listener);
    return () => g.removeEventListener("beforeunload", listener);
  }
  const listener = () => void handler();
  nodeProcess.on("beforeExit", listener);
  return () => nodeProcess.off("beforeExit", listener);
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
    if (isDeno) g.Deno.kill(processId, "SIGCONT");
    else nodeProcess.kill(processId, 0);
  } catch (error) {
    const permission = isDeno
      ? error instanceof g.Deno.errors.PermissionDenied
      : (error as { code?: string })?.code === "EPERM";
    return permission ? "not-owned" : "gone";
  }
  try {
    const stat: string = isDeno
      ? g.Deno.readTextFileSync(`/proc/${processId}/stat`)
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
    if (isDeno) g.Deno.writeTextFileSync(path, text, { createNew: true });
    else nodeFs!.writeFileSync(path, text, { encoding: "utf8", flag: "wx" });
    return true;
  } catch (error) {
    const exists = isDeno
      ? error instanceof g.Deno.errors.AlreadyExists
      : (error as { code?: string })?.code === "EEXIST";
    if (exists) return false;
    throw error;
  }
}

/** Reads a file as text synchronously; `undefined` when it does not exist. */
export function readTextFileSync(path: string): string | undefined {
  try {
    return isDeno ? g.Deno.readTextFileSync(path) : nodeFs!.readFileSync(path, "utf8");
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
  if (isDeno) {
    const main: string = g.Deno.mainModule;
    const script = main.startsWith("file:") ? decodeURIComponent(new URL(main).pathname) : main;
    return [g.Deno.execPath(), "run", "-A", script];
  }
  return [nodeProcess.execPath, ...nodeProcess.execArgv, nodeProcess.argv[1]];
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
  if (isDeno) {
    const child = new g.Deno.Command("/bin/sh", {
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
  if (isDeno) {
    const child = new g.Deno.Command(file, {
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
  if (isDeno) return await new Response(g.Deno.stdin.readable).text();
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of nodeProcess.stdin) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
  }
  return text + decoder.decode();
}

/** Resolves after `ms` milliseconds (for polling loops with a deadline). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Calls `fn` every `ms` without keeping the process alive; returns a function that stops it. */
export function unrefInterval(fn: () => void, ms: number): () => void {
  const timer = setInterval(fn, ms);
  if (isDeno) g.Deno.unrefTimer(timer);
  else (timer as unknown as { unref(): void }).unref();
  return () => clearInterval(timer);
}
