/**
 * `racecar` under Node finding TypeScript consumers: where Node strips types a
 * `.ts` consumer loads, by class name or path; where it cannot (Node 20), the
 * error says so and names the options, instead of Node's
 * "Unknown file extension" or a suggestion to use a `.ts` file.
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConsumerClass } from "../../src/cli/load_consumer.ts";
import { UsageError } from "../../src/cli/_exit.ts";

const CONSUMER = `import { Consumer } from "${
  new URL("../../mod.js", import.meta.url).href
}";\nexport class TypedConsumer extends Consumer {\n  static {\n    this.subscribesTo("typed");\n  }\n  process(): void {}\n}\n`;

/** Whether this Node runs `.ts` files by stripping types. */
const stripsTypes = Boolean(
  (process as { features?: { typescript?: unknown } }).features?.typescript,
);

test("loadConsumerClass() finds consumers/<name>.ts by class name, or explains why Node cannot load it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "racecar-node-ts-"));
  try {
    await mkdir(join(dir, "consumers"));
    await writeFile(join(dir, "consumers", "typed_consumer.ts"), CONSUMER);
    for (const spec of ["TypedConsumer", "./consumers/typed_consumer.ts"]) {
      if (stripsTypes) {
        const found = await loadConsumerClass(spec, { cwd: dir });
        assert.equal(found.name, "TypedConsumer");
      } else {
        await assert.rejects(loadConsumerClass(spec, { cwd: dir }), (error: unknown) => {
          assert.ok(error instanceof UsageError, String(error));
          assert.match(error.message, /typed_consumer\.ts: Node\.js v\d+.* cannot run TypeScript/);
          assert.match(error.message, /node --import tsx node_modules\/\.bin\/racecar/);
          return true;
        });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
