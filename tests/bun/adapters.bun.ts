/**
 * The `racecar/adapters/bun-ffi` subpath of the npm package under Bun,
 * imported the way README's "Entry points" shows, from a module inside the
 * built package (so `racecar` resolves to it), as `tests/node/adapters.node.ts`
 * does for the Node adapters.
 *
 * @module
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const DIST = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The environment without RACECAR_* (RACECAR_TRANSPORT would change the default). */
const CLEAN_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith("RACECAR_")),
);

test("racecar/adapters/bun-ffi creates the adapter loadDefaultTransport() picks under Bun", async () => {
  const file = join(DIST, `adapters-check-${crypto.randomUUID().slice(0, 8)}.mjs`);
  await writeFile(
    file,
    `import { loadDefaultTransport } from "racecar";
import { createBunTransport } from "racecar/adapters/bun-ffi";
const injected = createBunTransport();
const picked = await loadDefaultTransport();
console.log("names:", injected.name, picked.name, injected.librdkafkaVersion === picked.librdkafkaVersion);
`,
  );
  try {
    const output = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [file], { env: CLEAN_ENV }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      });
    });
    assert.match(output, /^names: bun-ffi bun-ffi true$/m);
  } finally {
    await rm(file, { force: true });
  }
});
