// Processes: finding java and mvn, running JVM tools, starting the broker detached from the
// caller, and telling whether a recorded pid is still our broker.

import { KafkaScriptError, missingTool } from "./_errors.ts";

/** Main class of the broker; also how a pid is recognised as ours before it is signalled. */
export const BROKER_MAIN_CLASS = "kafka.Kafka";

/** Returns the absolute path of `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  const path = Deno.env.get("PATH") ?? "";
  for (const dir of path.split(":")) {
    if (!dir) continue;
    const candidate = `${dir}/${name}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return candidate;
    } catch { /* not here */ }
  }
  return undefined;
}

/** Fails with an install hint unless a Java 17+ `java` is on PATH. */
export async function requireJava(): Promise<void> {
  if (!findOnPath("java")) throw missingTool("java", "run the Kafka broker");
  const { stderr, stdout } = await new Deno.Command("java", {
    args: ["-version"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr) + new TextDecoder().decode(stdout);
  const match = text.match(/version "(?:1\.)?(\d+)/);
  const major = match ? Number(match[1]) : NaN;
  if (!(major >= 17)) {
    throw new KafkaScriptError(
      `Cannot run the Kafka broker: it needs Java 17 or newer, 'java -version' says ${
        JSON.stringify(text.split("\n")[0] ?? "")
      }; install it with: apt-get install openjdk-17-jre-headless`,
      { exitCode: 2 },
    );
  }
}

/** What a finished tool run printed. */
export interface ToolOutput {
  success: boolean;
  code: number;
  output: string;
}

/** Runs a short-lived Kafka tool class (StorageTool, TopicCommand) on the given classpath. */
export async function runTool(
  libs: string,
  log4jConfig: string,
  mainClass: string,
  args: string[],
  inherit = false,
): Promise<ToolOutput> {
  const command = new Deno.Command("java", {
    args: [
      "-Xmx256m",
      // Tools run for a second or two: the C1 compiler alone starts faster.
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      `-Dlog4j2.configurationFile=${log4jConfig}`,
      "-cp",
      `${libs}/*`,
      mainClass,
      ...args,
    ],
    stdin: "null",
    stdout: inherit ? "inherit" : "piped",
    stderr: inherit ? "inherit" : "piped",
  });
  const result = await command.output();
  const output = inherit
    ? ""
    : new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  return { success: result.success, code: result.code, output };
}

/**
 * Starts `command` in a new session, stdout and stderr appended to `logFile`, and returns its
 * pid. A shell in its own session backgrounds the command and exits at once, so the command is
 * orphaned: the caller's exit, its Ctrl-C and its terminal's hangup never reach it, and the caller
 * holds no child handle that would keep it (or a test's resource sanitizer) waiting.
 */
export async function spawnDetached(command: string[], logFile: string): Promise<number> {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", '"$@" </dev/null >>"$RACECAR_KAFKA_LOG" 2>&1 & echo $!', "sh", ...command],
    env: { RACECAR_KAFKA_LOG: logFile },
    detached: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    // Deno honours `detached` (setsid) only for spawn(), not for Command.output().
  }).spawn();
  const { success, stdout, stderr } = await child.output();
  const pid = Number(new TextDecoder().decode(stdout).trim());
  if (!success || !Number.isInteger(pid) || pid <= 0) {
    throw new KafkaScriptError(`Cannot start the Kafka broker: the shell could not launch java`, {
      details: [new TextDecoder().decode(stderr)],
    });
  }
  return pid;
}

/** Whether `pid` is a live process (zombies count as gone). */
export async function processAlive(pid: number): Promise<boolean> {
  return (await processCommandLine(pid)) !== undefined;
}

/**
 * Whether `pid` is a live (not zombie) process whose command line runs the broker's main class.
 * Checking the command line keeps a stale pid file from making us signal an unrelated process
 * that reused the pid; checking for zombies matters where the init process does not reap orphans.
 */
export async function isBrokerProcess(pid: number): Promise<boolean> {
  return (await processCommandLine(pid))?.includes(BROKER_MAIN_CLASS) ?? false;
}

/** The arguments of live process `pid`, or undefined when it is gone or a zombie. */
async function processCommandLine(pid: number): Promise<string[] | undefined> {
  if (Deno.build.os === "linux") {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      const close = stat.lastIndexOf(")");
      const state = stat.slice(close + 2, close + 3);
      if (state === "Z" || state === "X") return undefined;
      const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
      return cmdline.split("\0").filter((arg) => arg !== "");
    } catch {
      return undefined;
    }
  }
  try {
    const { success, stdout } = await new Deno.Command("ps", {
      args: ["-o", "stat=", "-o", "command=", "-p", String(pid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    const line = new TextDecoder().decode(stdout).trim();
    if (!success || line === "" || line.startsWith("Z")) return undefined;
    return line.split(/\s+/).slice(1);
  } catch {
    return undefined;
  }
}

/** Sends `signal` to `pid`; false when the process is already gone. */
export function signal(pid: number, sig: Deno.Signal): boolean {
  try {
    Deno.kill(pid, sig);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Polls `condition` every `intervalMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(intervalMs, deadline - Date.now()))
    );
  }
}
