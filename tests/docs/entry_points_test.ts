/**
 * Importing the package is the library only: `import { Consumer } from
 * "jsr:@racecar/cli"` must not load the command line's modules (commander, the
 * daemon, the supervisor), while running the same specifier is the `racecar`
 * command. Measured with an import map that turns those modules into ones that
 * throw when loaded.
 *
 * @module
 */

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import assert from "node:assert/strict";
import { cleanEnv, ROOT } from "../cli/_helpers.ts";
import { checkoutImportMap } from "./_docs.ts";

/** The command line's modules, which only running the package may load. */
const CLI_MODULES = [
  "src/cli/main.ts",
  "src/cli/ctl.ts",
  "src/cli/daemon.ts",
  "src/cli/supervisor.ts",
];

/** A project whose import map makes loading any CLI module throw "CLI module loaded". */
async function trappedProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "racecar-entry-" });
  const trap = join(dir, "trap.js");
  await Deno.writeTextFile(trap, 'throw new Error("CLI module loaded");\n');
  const map = await checkoutImportMap();
  map.imports.commander = pathToFileURL(trap).href;
  for (const module of CLI_MODULES) {
    map.imports[pathToFileURL(join(ROOT, module)).href] = pathToFileURL(trap).href;
  }
  await Deno.writeTextFile(join(dir, "import_map.json"), JSON.stringify(map));
  return dir;
}

async function deno(dir: string, args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: dir,
    env: cleanEnv(),
    clearEnv: true,
  }).output();
  return { code, output: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr) };
}

Deno.test("importing jsr:@racecar/cli and its library subpaths loads none of the command line's modules", async () => {
  const dir = await trappedProject();
  try {
    await Deno.writeTextFile(
      join(dir, "app.ts"),
      `import { Consumer, produceSync } from "jsr:@racecar/cli";
import { testConsumer } from "jsr:@racecar/cli/testing";
import "jsr:@racecar/cli/racecarctl";
console.log("library:", typeof Consumer, typeof produceSync, typeof testConsumer);
`,
    );
    const imported = await deno(dir, ["run", "-A", "--import-map=import_map.json", "app.ts"]);
    assert.deepEqual(imported.code, 0, imported.output);
    assert.ok(imported.output.includes("library: function function function"), imported.output);

    // The trap works: running the same specifier loads the command line.
    const ran = await deno(dir, [
      "run",
      "-A",
      "--import-map=import_map.json",
      "jsr:@racecar/cli",
      "--version",
    ]);
    assert.ok(ran.output.includes("CLI module loaded"), ran.output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("running jsr:@racecar/cli and jsr:@racecar/cli/racecarctl starts the commands", async () => {
  const map = await checkoutImportMap();
  const dir = await Deno.makeTempDir({ prefix: "racecar-entry-" });
  try {
    await Deno.writeTextFile(join(dir, "import_map.json"), JSON.stringify(map));
    const flags = ["run", "-A", "--import-map=import_map.json"];
    const version = await deno(dir, [...flags, "jsr:@racecar/cli", "--version"]);
    assert.deepEqual(version.code, 0, version.output);
    assert.ok(/^Racecar \d+\.\d+\.\d+/m.test(version.output), version.output);
    const ctl = await deno(dir, [...flags, "jsr:@racecar/cli/racecarctl", "nonsense"]);
    assert.deepEqual(ctl.code, 2, ctl.output);
    assert.ok(ctl.output.includes("invalid command: nonsense"), ctl.output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
