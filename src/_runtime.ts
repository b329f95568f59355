/**
 * The one module of the core that touches `Deno.*` or `process.*`: the
 * environment, standard output, files the core reads and writes (config, probe
 * files), and timers that must not keep the process alive. Process control
 * (arguments, signals, exit, child processes, pid files) is the command line's
 * and lives in `src/cli/_process.ts`. Kafka adapters are the other exception:
 * each one is bound to its runtime.
 *
 * @module
 */

/** The part of the `Deno` namespace Racecar uses (typed here, so `tsc` compiles it for Node). */
export interface DenoApi {
  version: { deno: string };
  env: { get(name: string): string | undefined; toObject(): Record<string, string> };
  cwd(): string;
  stdout: { writeSync(bytes: Uint8Array): number };
  stderr: { writeSync(bytes: Uint8Array): number };
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  writeTextFileSync(
    path: string,
    text: string,
    options?: { append?: boolean; create?: boolean; createNew?: boolean },
  ): void;
  stat(path: string): Promise<{ mtime: Date | null }>;
  removeSync(path: string): void;
  unrefTimer(id: number): void;
  errors: { NotFound: new (...args: never[]) => Error };
}

/** `Deno` when running under Deno, else `undefined`. */
export const deno: DenoApi | undefined = (globalThis as { Deno?: DenoApi }).Deno;

/** `true` when running under Deno. */
export const isDeno: boolean = typeof deno?.version?.deno === "string";

/** Bun's version when running under Bun (which otherwise takes the Node.js paths here). */
const bunVersion: unknown = (globalThis as { Bun?: { version?: unknown } }).Bun?.version;

/** `true` when running under Bun. */
export const isBun: boolean = typeof bunVersion === "string";

const nodeFs = isDeno ? undefined : await import("node:fs");

/** The runtime's name and version, e.g. `Deno 2.9.6` or `Node.js v20.20.2`. */
export function runtimeDescription(): string {
  if (isBun) return `Bun ${bunVersion}`;
  return deno ? `Deno ${deno.version.deno}` : `Node.js ${process.version}`;
}

/** Reads an environment variable; `undefined` when unset (or not permitted). */
export function getEnv(name: string): string | undefined {
  if (deno) {
    try {
      return deno.env.get(name);
    } catch {
      return undefined;
    }
  }
  return process.env[name];
}

/** All environment variables. */
export function allEnv(): Record<string, string> {
  if (deno) {
    try {
      return deno.env.toObject();
    } catch {
      return {};
    }
  }
  return { ...process.env } as Record<string, string>;
}

/** The current working directory. */
export function cwd(): string {
  return deno ? deno.cwd() : process.cwd();
}

/** Writes text to standard error. */
export function writeStderr(text: string): void {
  if (deno) deno.stderr.writeSync(new TextEncoder().encode(text));
  else process.stderr.write(text);
}

/** Writes text to standard output. */
export function writeStdout(text: string): void {
  if (deno) deno.stdout.writeSync(new TextEncoder().encode(text));
  else process.stdout.write(text);
}

/** Reads a file as text; `undefined` when it does not exist. */
export async function readTextFile(path: string): Promise<string | undefined> {
  try {
    if (deno) return await deno.readTextFile(path);
    return await nodeFs!.promises.readFile(path, "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Writes a text file, replacing it. */
export async function writeTextFile(path: string, text: string): Promise<void> {
  if (deno) return await deno.writeTextFile(path, text);
  await nodeFs!.promises.writeFile(path, text, "utf8");
}

/** The modification time of a file in ms since the epoch; `undefined` when missing. */
export async function modifiedAt(path: string): Promise<number | undefined> {
  try {
    if (deno) return (await deno.stat(path)).mtime?.getTime();
    return (await nodeFs!.promises.stat(path)).mtimeMs;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Whether an error says a file does not exist. */
export function isNotFound(error: unknown): boolean {
  if (deno && error instanceof deno.errors.NotFound) return true;
  return (error as { code?: string })?.code === "ENOENT";
}

/** A directory for temporary files. */
export function tempDir(): string {
  return getEnv("TMPDIR") ?? getEnv("TMP") ?? getEnv("TEMP") ?? "/tmp";
}

/** Writes a text file synchronously (for probe files written at exit). */
export function writeTextFileSync(path: string, text: string): void {
  if (deno) deno.writeTextFileSync(path, text);
  else nodeFs!.writeFileSync(path, text, "utf8");
}

/** Removes a file synchronously; a missing file is fine. */
export function removeFileSync(path: string): void {
  try {
    if (deno) deno.removeSync(path);
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
  const listener = () => void handler();
  if (deno) {
    const events = globalThis as unknown as EventTarget;
    events.addEventListener("beforeunload", listener);
    return () => events.removeEventListener("beforeunload", listener);
  }
  process.on("beforeExit", listener);
  return () => process.off("beforeExit", listener);
}

/** Calls `fn` every `ms` without keeping the process alive; returns a function that stops it. */
export function unrefInterval(fn: () => void, ms: number): () => void {
  const timer = setInterval(fn, ms);
  if (deno) deno.unrefTimer(timer as unknown as number);
  else (timer as unknown as { unref(): void }).unref();
  return () => clearInterval(timer);
}
