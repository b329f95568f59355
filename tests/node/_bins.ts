/**
 * Starts the compiled `racecar` and `racecarctl` bins for the process and ops
 * suites, with a clean environment and the adapter under test.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { CtlResult } from "../suite/ops_scenarios.ts";
import type { RacecarCommand, RacecarProcess } from "../suite/_suite.ts";

const DIST = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The environment without the parent's RACECAR_* settings, plus `env`. */
function childEnv(env: Record<string, string>): Record<string, string | undefined> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("RACECAR_")),
  );
  return { ...inherited, ...env };
}

/** `env` plus `RACECAR_TRANSPORT`, when an adapter other than the default is under test. */
function withTransport(
  env: Record<string, string>,
  transport: string | undefined,
): Record<string, string> {
  return transport === undefined ? env : { ...env, RACECAR_TRANSPORT: transport };
}

/**
 * How scenarios start `node bin/racecar.js <args>` and find compiled fixtures;
 * `transport` is the `RACECAR_TRANSPORT` the bin gets (default: its default).
 */
export function racecarCommand(transport?: string): RacecarCommand {
  return {
    start(args: readonly string[], env: Record<string, string>): RacecarProcess {
      const child = spawn(process.execPath, [join(DIST, "bin", "racecar.js"), ...args], {
        env: childEnv(withTransport(env, transport)),
        stdio: ["ignore", "pipe", "ignore"],
      });
      const lines = createInterface({ input: child.stdout });
      return {
        onLine: (fn) => void lines.on("line", fn),
        kill: (signal) => void child.kill(signal),
        exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
      };
    },
    fixture: (name) => join(DIST, "tests", "fixtures", `${name}.js`),
  };
}

/** Runs `node bin/racecarctl.js <args>` to completion; `transport` as for {@link racecarCommand}. */
export function ctlCommand(
  transport?: string,
): (args: readonly string[], env: Record<string, string>) => Promise<CtlResult> {
  return (args, env) => {
    const child = spawn(process.execPath, [join(DIST, "bin", "racecarctl.js"), ...args], {
      env: childEnv(withTransport(env, transport)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => stdout += chunk);
    child.stderr.on("data", (chunk) => stderr += chunk);
    return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  };
}
