/**
 * `racecar init` and `racecar generate consumer`: files written, existing
 * ones refused, and the generated test passing.
 *
 * @module
 */

import { assert, assertEquals, assertRejects } from "../_assert.ts";
import {
  consumerClassName,
  generateConsumer,
  initProject,
  packageSource,
} from "../../src/cli/generate.ts";
import { UsageError } from "../../src/cli/_exit.ts";
import { cleanEnv, racecar } from "./_helpers.ts";

Deno.test("consumerClassName() appends Consumer when the name lacks it", () => {
  assertEquals(consumerClassName("TapDance"), "TapDanceConsumer");
  assertEquals(consumerClassName("tap_dance"), "TapDanceConsumer");
  assertEquals(consumerClassName("TapDanceConsumer"), "TapDanceConsumer");
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
      assertEquals((await init.status()).code, 0, init.output);
      const yml = await Deno.readTextFile(`${dir}/config/racecar.yml`);
      for (const section of ["common:", "development:", "test:", "production:"]) {
        assert(yml.includes(`\n${section}`), section);
      }
      assert((await Deno.stat(`${dir}/consumers`)).isDirectory);
      const denoJson = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
      assertEquals(denoJson.tasks.start, "echo hi");
      assertEquals(denoJson.fmt.lineWidth, 90);
      assert(String(denoJson.tasks.liveness).endsWith("racecarctl.ts liveness_probe"));

      const again = racecar(["init"], { cwd: dir, env: cleanEnv() });
      assertEquals((await again.status()).code, 2);
      assert(again.stderr.includes("Cannot create config/racecar.yml: it already exists"));

      const generate = racecar(["generate", "consumer", "TapDance"], { cwd: dir, env: cleanEnv() });
      assertEquals((await generate.status()).code, 0, generate.output);
      assert(generate.stdout.includes("create  consumers/tap_dance_consumer.ts"));
      assert(generate.stdout.includes("create  consumers/tap_dance_consumer_test.ts"));
      const twice = racecar(["generate", "consumer", "TapDance"], { cwd: dir, env: cleanEnv() });
      assertEquals((await twice.status()).code, 2);
      assert(twice.stderr.includes("consumers/tap_dance_consumer.ts: it already exists"));

      const test = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", "consumers/"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(test.stdout) + new TextDecoder().decode(test.stderr);
      assert(test.success, out);
      assert(out.includes("1 passed"), out);
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
    await assertRejects(
      () => initProject(dir, packageSource(), "node"),
      UsageError,
      `its "type" is "commonjs"`,
    );
    await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify({ name: "app" }));
    const result = await initProject(dir, packageSource(), "node");
    assertEquals(result.updated, ["package.json"]);
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/package.json`));
    assertEquals(manifest.type, "module");
    assertEquals(manifest.scripts.liveness, "racecarctl liveness_probe");
    assertEquals(await exists(`${dir}/deno.json`), false);
    const generated = await generateConsumer("TapDance", { dir, runtime: "node" });
    assertEquals(generated.created, [
      "consumers/tap_dance_consumer.js",
      "consumers/tap_dance_consumer.test.js",
    ]);
    const test = await Deno.readTextFile(`${dir}/consumers/tap_dance_consumer.test.js`);
    assert(test.includes('from "racecar/testing"') && test.includes('from "node:test"'), test);
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
