/**
 * The adapters' subpaths, used the way README's "Entry points" shows: its
 * block that injects the memory adapter runs as written, and the Deno adapter
 * loads from `jsr:@racecar/cli/adapters/deno-ffi`. (Under Node the same
 * subpaths of the npm package are used by tests/node/adapters.node.ts.)
 *
 * @module
 */

import { join } from "node:path";
import assert from "node:assert/strict";
import { cleanEnv, ROOT } from "../cli/_helpers.ts";
import { codeBlocks, writeCheckoutImportMap } from "./_docs.ts";

async function runApp(source: string): Promise<{ code: number; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: "racecar-adapters-" });
  try {
    await writeCheckoutImportMap(dir);
    await Deno.writeTextFile(join(dir, "app.ts"), source);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--import-map=import_map.json", "app.ts"],
      cwd: dir,
      env: cleanEnv(),
      clearEnv: true,
    }).output();
    return { code, output: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("README's block that injects jsr:@racecar/cli/adapters/memory runs as written", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const block = codeBlocks(readme).find((b) =>
    b.lang === "ts" && b.text.includes('"jsr:@racecar/cli/adapters/memory"')
  );
  assert.ok(block !== undefined, "README has no block importing the memory adapter");
  const { code, output } = await runApp(block.text);
  assert.equal(code, 0, output);
  assert.match(output, /^Hello, world!$/m);
});

Deno.test("jsr:@racecar/cli/adapters/deno-ffi creates the adapter loadDefaultTransport() picks under Deno", async () => {
  const { code, output } = await runApp(`
import { loadDefaultTransport } from "jsr:@racecar/cli";
import { createFfiTransport } from "jsr:@racecar/cli/adapters/deno-ffi";
const injected = createFfiTransport();
const picked = await loadDefaultTransport();
console.log("names:", injected.name, picked.name, injected.librdkafkaVersion === picked.librdkafkaVersion);
`);
  assert.equal(code, 0, output);
  assert.match(output, /^names: deno-ffi deno-ffi true$/m);
});
