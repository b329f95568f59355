/**
 * The adapters' subpaths of the npm package, imported the way README's "Entry
 * points" shows (`racecar/adapters/...`), from a module inside the built
 * package so Node resolves `racecar` to it by name.
 *
 * @module
 */

import { strict as assert } from "node:assert";
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

function runInPackage(source: string): Promise<string> {
  const file = join(DIST, `adapters-check-${crypto.randomUUID().slice(0, 8)}.mjs`);
  return writeFile(file, source).then(() =>
    new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [file], { env: CLEAN_ENV }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      });
    }).finally(() => rm(file, { force: true }))
  );
}

test("racecar/adapters/memory injected into createRunner() delivers a message", async () => {
  const output = await runInPackage(`
import { Consumer, createRunner, loadConfig } from "racecar";
import { createMemoryTransport } from "racecar/adapters/memory";

class GreetingsConsumer extends Consumer {
  static {
    this.subscribesTo("greetings");
  }
  process(message) {
    console.log(\`Hello, \${message.text()}!\`);
    runner.stop();
  }
}

const transport = createMemoryTransport();
transport.broker.createTopic("greetings", 1);
transport.broker.append({ topic: "greetings", value: new TextEncoder().encode("world") });
const runner = await createRunner(new GreetingsConsumer(), await loadConfig(), { transport });
await runner.run();
`);
  assert.match(output, /^Hello, world!$/m);
});

test("racecar/adapters/koffi and racecar/adapters/node-rdkafka create their adapters", async () => {
  const output = await runInPackage(`
import { loadDefaultTransport } from "racecar";
import { createKoffiTransport } from "racecar/adapters/koffi";
import { createNodeRdkafkaTransport } from "racecar/adapters/node-rdkafka";
const picked = await loadDefaultTransport();
console.log("names:", createKoffiTransport().name, createNodeRdkafkaTransport().name, picked.name);
`);
  assert.match(output, /^names: koffi node-rdkafka koffi$/m);
});
