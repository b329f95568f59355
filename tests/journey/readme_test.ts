/**
 * The README followed literally, as a newcomer would, in an empty directory:
 * its consumer file saved as it names it, its commands run as written. The only
 * changes: `jsr:@racecar/cli...` resolves to this checkout (a `deno.json`
 * import map in the directory), the broker address is the test cluster's, and
 * the greeting is unique to the run.
 *
 * @module
 */

import { join } from "node:path";
import assert from "node:assert/strict";
import { BROKERS, cleanEnv, Proc, unique } from "../cli/_helpers.ts";
import { checkoutImportMap, commandLines, fileBlock, parseCommand } from "../docs/_docs.ts";

/** An empty project directory whose deno.json maps the published specifiers to the checkout. */
async function emptyProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "racecar-journey-" });
  await Deno.writeTextFile(
    join(dir, "deno.json"),
    JSON.stringify(await checkoutImportMap(), null, 2),
  );
  return dir;
}

/** Runs a documented command line in `dir` (the documented broker replaced by the test one). */
function run(line: string, dir: string, replace: Record<string, string> = {}): Proc {
  let text = line.replaceAll("127.0.0.1:9092", BROKERS);
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  const { env, argv } = parseCommand(text);
  assert.deepEqual(argv[0], "deno", `a README command that is not deno: ${line}`);
  return new Proc([Deno.execPath(), ...argv.slice(1)], { cwd: dir, env: cleanEnv(env) });
}

Deno.test({
  name:
    "README: the first consumer runs as written, greets what racecarctl produces, stops on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await emptyProject();
    const block = await fileBlock("README.md", "consumers/greetings_consumer.ts");
    await Deno.mkdir(join(dir, "consumers"));
    await Deno.writeTextFile(join(dir, "consumers/greetings_consumer.ts"), block.text);
    const [start, produce, ...rest] = await commandLines(
      "README.md",
      /^(RACECAR_\w+=\S+ )*deno run -A jsr:@racecar\/cli(\/racecarctl)? (GreetingsConsumer|produce)/,
    );
    if (start === undefined || produce === undefined) throw new Error("README lost its commands");
    assert.ok(start.includes("GreetingsConsumer"), `README's first command: ${start}`);
    assert.ok(produce.includes("racecarctl produce"), `README's produce command: ${produce}`);
    assert.deepEqual(rest, []);
    const name = unique("World");
    const consumer = run(start, dir);
    try {
      await consumer.waitFor("Wrooooom!", 60_000);
      const producer = run(produce, dir, { "--value World": `--value ${name}` });
      const produced = await producer.status(60_000);
      assert.deepEqual(produced.code, 0, producer.output);
      await consumer.waitFor(`Hello, ${name}!`, 60_000);
      consumer.kill("SIGTERM");
      assert.deepEqual((await consumer.status(60_000)).code, 0, consumer.output);
      assert.ok(consumer.output.includes("GreetingsConsumer stopped"), consumer.output);
    } finally {
      await consumer.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "README: racecar init, generate consumer and the generated test run as written",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await emptyProject();
    try {
      const lines = await commandLines(
        "README.md",
        /^deno (run -A jsr:@racecar\/cli (init|generate)|test )/,
      );
      assert.deepEqual(lines.length, 3, lines.join("\n"));
      for (const line of lines) {
        const proc = run(line, dir);
        const status = await proc.status(120_000);
        assert.deepEqual(status.code, 0, `${line}\n${proc.output}`);
        if (line.startsWith("deno test")) assert.ok(proc.output.includes("1 passed"), proc.output);
      }
      const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
      assert.ok(String(config.tasks.liveness).includes("liveness_probe"), JSON.stringify(config));
      assert.ok(String(config.tasks.racecarctl).includes("racecarctl"), JSON.stringify(config));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
