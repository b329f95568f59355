/**
 * `runnerSettings()` (src/assembly.ts) and `prepareRun()` (src/cli/run.ts): the
 * settings users write reach the runner under the names the runner uses, each
 * source read once, in the documented order.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runnerSettings } from "../../src/assembly.ts";
import { ExitCode } from "../../src/cli/_exit.ts";
import { prepareRun, runCommand } from "../../src/cli/run.ts";
import { ConfigError } from "../../src/errors.ts";
import { createMemoryTransport } from "../../src/kafka/memory/mod.ts";
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

/** A temporary app directory holding `files` (path -> text); removed after `fn`. */
async function withApp(files: Record<string, string>, fn: (cwd: string) => Promise<void>) {
  const cwd = await Deno.makeTempDir();
  try {
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(`${cwd}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
      await Deno.writeTextFile(`${cwd}/${path}`, text);
    }
    await fn(cwd);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

const MOD = new URL("../../mod.ts", import.meta.url).href;

function consumerModule(name: string, statics = ""): string {
  return `import { Consumer } from "${MOD}";\n` +
    `export class ${name} extends Consumer {\n` +
    `  static { this.subscribesTo("t"); }\n${statics}\n  override process() {}\n}\n`;
}

Deno.test("prepareRun() runs config/racecar.ts once", async () => {
  const counter = `racecarCodeConfigRuns${crypto.randomUUID().slice(0, 8)}`;
  await withApp({
    "consumers/once_consumer.ts": consumerModule("OnceConsumer"),
    "config/racecar.ts": `export default (config: { clientId: string }) => {\n` +
      `  const g = globalThis as unknown as Record<string, number>;\n` +
      `  g.${counter} = (g.${counter} ?? 0) + 1;\n  config.clientId = "once";\n};\n`,
  }, async (cwd) => {
    const prepared = await prepareRun({
      consumer: "OnceConsumer",
      flags: {},
      cwd,
      transport: createMemoryTransport(),
    });
    assert.equal(prepared.config.clientId, "once");
    assert.equal((globalThis as unknown as Record<string, number>)[counter], 1);
  });
});

Deno.test("prepareRun() puts the class's settings under the files, flags and environment", async () => {
  await withApp({
    "consumers/layered_consumer.ts": consumerModule(
      "LayeredConsumer",
      "  static override maxWaitTime = 3;\n  static override fetchMessages = 7;",
    ),
  }, async (cwd) => {
    const { config } = await prepareRun({
      consumer: "LayeredConsumer",
      flags: { fetchMessages: "9" },
      cwd,
      transport: createMemoryTransport(),
    });
    assert.equal(config.maxWaitTime, 3);
    assert.equal(config.fetchMessages, 9);
    assert.equal(config.groupId, "layered-consumer");
  });
});

Deno.test("runCommand() exits 2 naming max_wait_time when it is 0", async () => {
  await withApp({
    "consumers/zero_wait_consumer.ts": consumerModule(
      "ZeroWaitConsumer",
      "  static override maxWaitTime = 0;",
    ),
    "consumers/plain_consumer.ts": consumerModule("PlainConsumer"),
  }, async (cwd) => {
    const transport = createMemoryTransport();
    assert.equal(
      await runCommand({ consumer: "PlainConsumer", flags: { maxWaitTime: "0" }, cwd, transport }),
      ExitCode.USAGE,
    );
    await assert.rejects(
      prepareRun({ consumer: "ZeroWaitConsumer", flags: {}, cwd, transport }),
      (error: Error) => error instanceof ConfigError && /'maxWaitTime'/.test(error.message),
    );
  });
});
