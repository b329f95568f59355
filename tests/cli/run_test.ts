/**
 * `runnerSettings()` (src/cli/run.ts): the settings users write reach the
 * runner under the names the runner uses.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runnerSettings } from "../../src/cli/run.ts";
import { loadConfig } from "../../src/config/mod.ts";

/** The configuration from `env` alone, read in an empty directory (no config files). */
async function fromEnv(env: Record<string, string>) {
  const cwd = await Deno.makeTempDir();
  try {
    return await loadConfig({ env, cwd });
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

Deno.test("runnerSettings() passes revoke_timeout and shutdown_timeout from the environment", async () => {
  const config = await fromEnv({ RACECAR_REVOKE_TIMEOUT: "5", RACECAR_SHUTDOWN_TIMEOUT: "12.5" });
  const settings = runnerSettings(config, "group");
  assert.equal(settings.revokeTimeout, 5);
  assert.equal(settings.shutdownTimeout, 12.5);
});

Deno.test("runnerSettings() uses 30 s to revoke and 60 s to shut down by default", async () => {
  const settings = runnerSettings(
    await loadConfig({ env: {}, cwd: await Deno.makeTempDir() }),
    "g",
  );
  assert.equal(settings.revokeTimeout, 30);
  assert.equal(settings.shutdownTimeout, 60);
});
