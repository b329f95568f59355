/**
 * The operability scenarios (logs, `racecarctl` cluster commands) with the
 * compiled `racecar` and `racecarctl` bins under Node.js, and the admin
 * transport scenarios over node-rdkafka.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createNodeRdkafkaTransport } from "../../src/kafka/node_rdkafka.ts";
import { adminScenarios } from "../suite/admin_scenarios.ts";
import { type CtlResult, opsScenarios } from "../suite/ops_scenarios.ts";
import type { RacecarProcess } from "../suite/_suite.ts";
import { registerScenarios } from "./_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/ledger_consumer.ts";

const DIST = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The environment without the parent's RACECAR_* settings, plus `env`. */
function childEnv(env: Record<string, string>): Record<string, string | undefined> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("RACECAR_")),
  );
  return { ...inherited, ...env };
}

function startRacecar(args: readonly string[], env: Record<string, string>): RacecarProcess {
  const child = spawn(process.execPath, [join(DIST, "bin", "racecar.js"), ...args], {
    env: childEnv(env),
    stdio: ["ignore", "pipe", "ignore"],
  });
  const lines = createInterface({ input: child.stdout });
  return {
    onLine: (fn) => void lines.on("line", fn),
    kill: (signal) => void child.kill(signal),
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
  };
}

function runCtl(args: readonly string[], env: Record<string, string>): Promise<CtlResult> {
  const child = spawn(process.execPath, [join(DIST, "bin", "racecarctl.js"), ...args], {
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => stdout += chunk);
  child.stderr.on("data", (chunk) => stderr += chunk);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

registerScenarios(createNodeRdkafkaTransport(), opsScenarios(runCtl), {
  start: startRacecar,
  fixture: (name) => join(DIST, "tests", "fixtures", `${name}.js`),
});

registerScenarios(createNodeRdkafkaTransport(), adminScenarios);
