/**
 * The operability scenarios (logs, `racecarctl` cluster commands) with
 * `deno run cli.ts` and `deno run racecarctl.ts` over the FFI adapter, and the
 * admin transport scenarios over the FFI and memory adapters.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import { createMemoryTransport } from "../../src/kafka/memory.ts";
import { adminScenarios } from "../suite/admin_scenarios.ts";
import { type CtlResult, opsScenarios } from "../suite/ops_scenarios.ts";
import type { RacecarProcess } from "../suite/_suite.ts";
import { registerScenarios } from "./_deno_suite.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The environment without the parent's RACECAR_* settings, plus `env`. */
function childEnv(env: Record<string, string>): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([key]) => !key.startsWith("RACECAR_")),
  );
  return { ...inherited, ...env };
}

function startRacecar(args: readonly string[], env: Record<string, string>): RacecarProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "cli.ts"), ...args],
    env: childEnv(env),
    clearEnv: true,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const listeners: ((line: string) => void)[] = [];
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) for (const fn of listeners) fn(line);
    }
  })();
  return {
    onLine: (fn) => void listeners.push(fn),
    kill: (signal) => {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    },
    exited: (async () => {
      const status = await child.status;
      await reading;
      return status.signal === null ? status.code : null;
    })(),
  };
}

async function runCtl(args: readonly string[], env: Record<string, string>): Promise<CtlResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "racecarctl.ts"), ...args],
    env: childEnv(env),
    clearEnv: true,
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

registerScenarios("deno", createFfiTransport(), opsScenarios(runCtl), {
  start: startRacecar,
  fixture: (name) => join(ROOT, "tests", "fixtures", `${name}.ts`),
});

registerScenarios("deno", createFfiTransport(), adminScenarios);
registerScenarios("memory", () => createMemoryTransport(), adminScenarios, undefined, {
  sanitize: true,
});
