/**
 * The real `racecar` command under Deno (`deno run -A cli.ts`), for the
 * runtime-neutral process scenarios and for benchmarks that run them.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RacecarCommand, RacecarProcess } from "../suite/_suite.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The environment without the parent's RACECAR_* settings, plus `env`. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([key]) => !key.startsWith("RACECAR_")),
  );
  return { ...inherited, ...env };
}

/** Starts `deno run -A cli.ts <args>` without the parent's RACECAR_* settings. */
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

/** `deno run -A cli.ts`, with the fixtures as TypeScript sources. */
export const denoRacecar: RacecarCommand = {
  start: startRacecar,
  fixture: (name) => join(ROOT, "tests", "fixtures", `${name}.ts`),
};
