/**
 * Helpers for subprocess tests of `racecar` and `racecarctl`: start the real
 * commands, collect their output, wait for lines with a deadline, and make
 * sure every process a test started is gone at its end.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The fixture consumers module. */
export const FIXTURES: string = join(ROOT, "tests", "fixtures", "consumers.ts");
/** Brokers of the test cluster. */
export const BROKERS: string = Deno.env.get("RACECAR_BROKERS") ?? "127.0.0.1:9092";

/** A unique name for topics, groups and files. */
export function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 10)}`;
}

/** The environment of the test process without any `RACECAR_*` variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!k.startsWith("RACECAR_") && !k.startsWith("_RACECAR_")) env[k] = v;
  }
  // The librdkafka node-rdkafka built (2.12), whatever the working directory.
  const built = join(ROOT, "node_modules/node-rdkafka/build/deps/librdkafka.so.1");
  try {
    Deno.statSync(built);
    env.RACECAR_LIBRDKAFKA_PATH = built;
  } catch {
    // the system's librdkafka
  }
  return { ...env, ...extra };
}

/** Creates topics on the test cluster (or another one). */
export async function createTopics(
  topics: { name: string; partitions: number }[],
  brokers: string = BROKERS,
): Promise<void> {
  const { createFfiTransport } = await import("../../src/kafka/ffi/mod.ts");
  const admin = createFfiTransport().createAdmin({ config: { "bootstrap.servers": brokers } });
  try {
    await admin.createTopics(topics, 30_000);
  } finally {
    await admin.close();
  }
}

/** Polls `condition` until it holds; throws with `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A running `racecar` or `racecarctl` process with its collected output. */
export class Proc {
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  readonly #done: Promise<Deno.CommandStatus>;
  #status: Deno.CommandStatus | undefined;

  constructor(command: string[], options: { cwd?: string; env?: Record<string, string> }) {
    this.child = new Deno.Command(command[0]!, {
      args: command.slice(1),
      cwd: options.cwd ?? ROOT,
      env: options.env ?? cleanEnv(),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pump = async (stream: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) this[into] += chunk;
    };
    const out = pump(this.child.stdout, "stdout");
    const err = pump(this.child.stderr, "stderr");
    this.#done = Promise.all([out, err]).then(() => this.child.status).then((s) => {
      this.#status = s;
      return s;
    });
  }

  /** Both streams together. */
  get output(): string {
    return this.stdout + this.stderr;
  }

  /** The exit status once the process ended. */
  get exited(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  /** Waits until the output matches `pattern` (or fails if the process ends first). */
  async waitFor(pattern: RegExp | string, timeoutMs = 30_000): Promise<void> {
    const matches = () =>
      typeof pattern === "string" ? this.output.includes(pattern) : pattern.test(this.output);
    await waitUntil(`${pattern} in the output`, () => {
      if (matches()) return true;
      if (this.#status !== undefined) {
        throw new Error(
          `Process ended with ${this.#status.code} before printing ${pattern}:\n${this.output}`,
        );
      }
      return false;
    }, timeoutMs);
  }

  /** Waits for the exit, with a deadline; kills the process when it passes. */
  async status(timeoutMs = 30_000): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        this.#done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            this.kill("SIGKILL");
            reject(new Error(`Process did not exit within ${timeoutMs} ms:\n${this.output}`));
          }, timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal; ignores a process that is gone. */
  kill(signal: Deno.Signal): void {
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Makes sure the process is gone (SIGTERM, then SIGKILL) and its streams are drained. */
  async dispose(): Promise<void> {
    if (this.#status === undefined) {
      this.kill("SIGTERM");
      const timer = setTimeout(() => this.kill("SIGKILL"), 10_000);
      await this.#done;
      clearTimeout(timer);
    }
  }
}

/** Starts `racecar` with `args`. */
export function racecar(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Proc {
  return new Proc([Deno.execPath(), "run", "-A", join(ROOT, "cli.ts"), ...args], options);
}

/** Starts `racecarctl` with `args`. */
export function racecarctl(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Proc {
  return new Proc([Deno.execPath(), "run", "-A", join(ROOT, "racecarctl.ts"), ...args], options);
}

/** Runs `racecarctl` to its end. */
export async function ctl(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = racecarctl(args, options);
  const status = await proc.status(60_000);
  return { code: status.code, stdout: proc.stdout, stderr: proc.stderr };
}

/** Whether a process id is alive (zombies count as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}
