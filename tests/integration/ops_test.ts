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
import { createMemoryTransport } from "../../src/kafka/memory/mod.ts";
import { adminScenarios } from "../suite/admin_scenarios.ts";
import { type CtlResult, opsScenarios } from "../suite/ops_scenarios.ts";
import { childEnv, denoRacecar } from "./_racecar_deno.ts";
import { registerScenarios } from "./_deno_suite.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

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

registerScenarios("deno", createFfiTransport(), opsScenarios(runCtl), denoRacecar);

registerScenarios("deno", createFfiTransport(), adminScenarios);
registerScenarios("memory", () => createMemoryTransport(), adminScenarios, undefined, {
  sanitize: true,
});
