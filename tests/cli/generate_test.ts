/**
 * `racecar init` and `racecar generate consumer`: files written, existing
 * ones refused, and the generated test passing.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  consumerClassName,
  generateConsumer,
  initProject,
  packageSource,
} from "../../src/cli/generate.ts";
import { UsageError } from "../../src/cli/_exit.ts";
import { cleanEnv, racecar } from "./_helpers.ts";

Deno.test("consumerClassName() appends Consumer when the name lacks it", () => {
  assert.deepEqual(consumerClassName("TapDance"), "TapDanceConsumer");
  assert.deepEqual(consumerClassName("tap_dance"), "TapDanceConsumer");
  assert.deepEqual(consumerClassName("TapDanceConsumer"), "TapDanceConsumer");
});

Deno.test({
  name: "`racecar init` and `generate consumer` write a project whose generated test passes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "racecar-init-" });
    try {
      await Deno.writeTextFile(
        `${dir}/deno.json`,
        JSON.stringify({ tasks: { start: "echo hi" }, fmt: { lineWidth: 90 } }),
      );
      const init = racecar(["init"], { cwd: dir, env: cleanEnv() });
      assert.deepEqual((await init.status()).code, 0, init.output);
      const yml = await Deno.readTextFile(`${dir}/config/racecar.yml`);
      for (const section of ["common:", "development:", "test:", "production:"]) {
        assert.ok(yml.includes(`\n${section}`), section);
      }
      assert.ok((await Deno.stat(`${dir}/consumers`)).isDirectory);
      const denoJson = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
      assert.deepEqual(denoJson.tasks.start, "echo hi");
      assert.deepEqual(denoJson.fmt.lineWidth, 90);
      assert.ok(String(denoJson.tasks.liveness).endsWith("racecarctl.ts liveness_probe"));

      const again = racecar(["init"], { cwd: dir, env: cleanEnv() });
      assert.deepEqual((await again.status()).code, 2);
      assert.ok(again.stderr.includes("Cannot create config/racecar.yml: it already exists"));

      const generate = racecar(["generate", "consumer", "TapDance"], { cwd: dir, env: cleanEnv() });
      assert.deepEqual((await generate.status()).code, 0, generate.output);
      assert.ok(generate.stdout.includes("create  consumers/tap_dance_consumer.ts"));
      assert.ok(generate.stdout.includes("create  consumers/tap_dance_consumer_test.ts"));
      const twice = racecar(["generate", "consumer", "TapDance"], { cwd: dir, env: cleanEnv() });
      assert.deepEqual((await twice.status()).code, 2);
      assert.ok(twice.stderr.includes("consumers/tap_dance_consumer.ts: it already exists"));

      const test = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", "consumers/"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(test.stdout) + new TextDecoder().decode(test.stderr);
      assert.ok(test.success, out);
      assert.ok(out.includes("1 passed"), out);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test('initProject() for Node sets "type": "module" and a liveness script, and refuses CommonJS', async () => {
  const dir = await Deno.makeTempDir({ prefix: "racecar-init-node-" });
  try {
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({ name: "app", type: "commonjs" }),
    );
    await assert.rejects(
      () => initProject(dir, packageSource(), "node"),
      (error) => {
        assert.ok(error instanceof UsageError);
        assert.match(error.message, /its "type" is "commonjs"/);
        return true;
      },
    );
    await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify({ name: "app" }));
    const result = await initProject(dir, packageSource(), "node");
    assert.deepEqual(result.updated, ["package.json"]);
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/package.json`));
    assert.deepEqual(manifest.type, "module");
    assert.deepEqual(manifest.scripts.liveness, "racecarctl liveness_probe");
    assert.deepEqual(await exists(`${dir}/deno.json`), false);
    const generated = await generateConsumer("TapDance", { dir, runtime: "node" });
    assert.deepEqual(generated.created, [
      "consumers/tap_dance_consumer.js",
      "consumers/tap_dance_consumer.test.js",
    ]);
    const test = await Deno.readTextFile(`${dir}/consumers/tap_dance_consumer.test.js`);
    assert.ok(test.includes('from "racecar/testing"') && test.includes('from "node:test"'), test);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
