/**
 * The README and docs as tests that need no broker: every TypeScript block
 * type-checks against this checkout, and every entry point the docs and the
 * generators name exists, with the same meaning on JSR and npm.
 *
 * Convention: a block marked ```` ```ts ignore ```` is deliberately partial
 * (it uses names the reader's application defines) and is not checked; it
 * says why in its first line.
 *
 * @module
 */

import { dirname, join } from "node:path";
import assert from "node:assert/strict";
import { ROOT } from "../cli/_helpers.ts";
import { NPM_BINS, npmExports } from "../../scripts/build_npm.ts";
import { packageSource } from "../../src/cli/generate.ts";
import { codeBlocks, denoJson, documents, writeCheckoutImportMap } from "./_docs.ts";

Deno.test("README.md and docs/*.md: every TypeScript block type-checks against the checkout", async () => {
  const importMap = await writeCheckoutImportMap();
  try {
    const docs = await documents();
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--import-map", importMap, "--doc-only", ...docs],
      cwd: ROOT,
    }).output();
    const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.deepEqual(code, 0, output);
    // The check really reads Markdown blocks: a wrong one fails it.
    const probe = join(await Deno.makeTempDir({ prefix: "racecar-docs-" }), "probe.md");
    await Deno.writeTextFile(
      probe,
      '```ts\nimport { Consumer } from "jsr:@racecar/cli";\nConsumer.subscribesTo(42);\n```\n',
    );
    const wrong = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--import-map", importMap, "--doc-only", probe],
      cwd: ROOT,
    }).output();
    await Deno.remove(dirname(probe), { recursive: true });
    assert.deepEqual(wrong.code, 1, "a wrong block passed the check");
  } finally {
    await Deno.remove(importMap);
  }
});

Deno.test("every partial (ignored) TypeScript block says why in its first line", async () => {
  for (const doc of await documents()) {
    for (const block of codeBlocks(await Deno.readTextFile(join(ROOT, doc)))) {
      if (!["ts", "typescript"].includes(block.lang) || !block.attributes.includes("ignore")) {
        continue;
      }
      assert.ok(
        block.text.startsWith("// Partial:"),
        `${doc}:${block.line}: start with "// Partial:"`,
      );
    }
  }
});

/** Subpaths (".", "./testing", ...) the text names under the JSR or npm name. */
function namedSubpaths(text: string): { jsr: Set<string>; npm: Set<string> } {
  const jsr = new Set<string>();
  const npm = new Set<string>();
  const subpath = (tail: string | undefined) => tail === undefined ? "." : `.${tail}`;
  for (const m of text.matchAll(/jsr:@racecar\/cli(?:@[^/\s"'`]+)?((?:\/[\w-]+)+)?/g)) {
    jsr.add(subpath(m[1]));
  }
  // Bare `@racecar/cli` (a project's import map maps it to the JSR package).
  for (const m of text.matchAll(/(?<![\w:])@racecar\/cli((?:\/[\w-]+)+)?/g)) jsr.add(subpath(m[1]));
  for (const m of text.matchAll(/npm:racecar(?:@[^/\s"'`]+)?((?:\/[\w-]+)+)?/g)) {
    npm.add(subpath(m[1]));
  }
  for (const m of text.matchAll(/(?:from |import\()\s*["']racecar((?:\/[\w-]+)+)?["']/g)) {
    npm.add(subpath(m[1]));
  }
  return { jsr, npm };
}

Deno.test("the JSR and npm export maps agree, and every entry point the docs and generators name exists", async () => {
  const config = await denoJson();
  const jsrSubpaths = Object.keys(config.exports).sort();
  const npm = npmExports(config.exports);
  const npmSubpaths = Object.keys(npm).filter((s) => s !== "./package.json").sort();
  assert.deepEqual(npmSubpaths, jsrSubpaths, "npm and JSR export different subpaths");
  for (const subpath of jsrSubpaths) {
    const entry = npm[subpath] as { import: string };
    assert.deepEqual(
      entry.import,
      config.exports[subpath]!.replace(/\.ts$/, ".js"),
      `${subpath} means different modules on JSR and npm`,
    );
  }
  // `npm:racecar` with no subpath runs the `racecar` bin.
  assert.ok("racecar" in NPM_BINS && "racecarctl" in NPM_BINS);

  const sources: [string, string][] = [];
  for (const doc of await documents()) {
    sources.push([doc, await Deno.readTextFile(join(ROOT, doc))]);
  }
  // What `racecar init` and `racecar generate` write when run from JSR.
  const published = packageSource(`https://jsr.io/@racecar/cli/${config.version}/src/cli/x.ts`);
  sources.push(["racecar init", JSON.stringify(published)]);
  for (const entry of ["cli.ts", "mod.ts", "racecarctl.ts", "testing.ts", "metrics.ts"]) {
    sources.push([entry, await Deno.readTextFile(join(ROOT, entry))]);
  }
  let named = 0;
  for (const [where, text] of sources) {
    const { jsr, npm: npmNamed } = namedSubpaths(text);
    for (const subpath of jsr) {
      named += 1;
      assert.ok(
        jsrSubpaths.includes(subpath),
        `${where} names jsr:@racecar/cli${subpath.slice(1)}`,
      );
    }
    for (const subpath of npmNamed) {
      named += 1;
      assert.ok(npmSubpaths.includes(subpath), `${where} names racecar${subpath.slice(1)} (npm)`);
    }
  }
  assert.ok(named > 10, `only ${named} specifiers found: is the pattern still right?`);
});

Deno.test("README's Node.js commands are ones docs/node.md runs (tested by the Node journey)", async () => {
  const readme = codeBlocks(await Deno.readTextFile(join(ROOT, "README.md")));
  const nodeDoc = codeBlocks(await Deno.readTextFile(join(ROOT, "docs/node.md")))
    .filter((b) => b.lang === "sh")
    .flatMap((b) => b.text.split("\n"));
  const nodeBlock = readme.find((b) => b.lang === "sh" && b.text.includes("npm install racecar"));
  if (nodeBlock === undefined) throw new Error("README has no Node.js block");
  for (const line of nodeBlock.text.split("\n").filter((l) => l.trim() !== "")) {
    assert.ok(nodeDoc.some((l) => l.startsWith(line)), `README's "${line}" is not in docs/node.md`);
  }
});
