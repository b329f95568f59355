/**
 * The process scenarios (SIGKILL at random points) with the compiled
 * `racecar` bin under Node.js.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createNodeRdkafkaTransport } from "../../src/kafka/node_rdkafka.ts";
import { processScenarios } from "../suite/process_scenarios.ts";
import type { RacecarProcess } from "../suite/_suite.ts";
import { registerScenarios } from "./_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/ledger_consumer.ts";
import "../fixtures/member_consumer.ts";
import "../fixtures/echo_consumer.ts";

const DIST = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Starts `node bin/racecar.js <args>` without the parent's RACECAR_* settings. */
function startRacecar(args: readonly string[], env: Record<string, string>): RacecarProcess {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("RACECAR_")),
  );
  const child = spawn(process.execPath, [join(DIST, "bin", "racecar.js"), ...args], {
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
  const lines = createInterface({ input: child.stdout });
  return {
    onLine: (fn) => void lines.on("line", fn),
    kill: (signal) => void child.kill(signal),
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
  };
}

registerScenarios(createNodeRdkafkaTransport(), processScenarios, {
  start: startRacecar,
  fixture: (name) => join(DIST, "tests", "fixtures", `${name}.js`),
});
