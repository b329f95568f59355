/**
 * docs/exactly_once.md followed literally: its commands run as written from
 * `examples/` (the documented broker replaced by the test one, the consumer
 * group and the word unique to the run). ShoutConsumer fails the word once
 * after producing its shout, retries, and the shouts topic then holds the
 * aborted copy too for a read_uncommitted reader, and one copy for a
 * read_committed one.
 *
 * @module
 */

import { join } from "node:path";
import assert from "node:assert/strict";
import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import { BROKERS, cleanEnv, Proc, ROOT, unique } from "../cli/_helpers.ts";
import { commandLines, parseCommand } from "../docs/_docs.ts";

const DOC_WORD = "hello!";

function run(line: string, replace: Record<string, string>, extraEnv: Record<string, string>) {
  let text = line.replaceAll("127.0.0.1:9092", BROKERS);
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  const { env, argv } = parseCommand(text);
  assert.deepEqual(argv[0], "deno", `a docs/exactly_once.md command that is not deno: ${line}`);
  return new Proc([Deno.execPath(), ...argv.slice(1)], {
    cwd: join(ROOT, "examples"),
    env: cleanEnv({ ...env, ...extraEnv }),
  });
}

/** The values of `topic` equal to `value`, read with `isolation` until the log stays quiet. */
async function copies(topic: string, value: string, isolation: string): Promise<number> {
  const consumer = createFfiTransport().createConsumer({
    config: {
      "bootstrap.servers": BROKERS,
      "group.id": unique("racecar-eos-doc-reader"),
      "auto.offset.reset": "earliest",
      "isolation.level": isolation,
    },
  });
  try {
    consumer.subscribe([topic]);
    let count = 0;
    let quietSince = Date.now();
    let seen = false;
    // Until the value was seen, then until nothing new came for 2 s.
    while (!seen || Date.now() - quietSince < 2_000) {
      const messages = await consumer.consume(1_000, 200);
      if (messages.length > 0) quietSince = Date.now();
      for (const message of messages) {
        if (new TextDecoder().decode(message.value ?? new Uint8Array()) === value) {
          count += 1;
          seen = true;
        }
      }
      if (!seen && Date.now() - quietSince > 60_000) break;
    }
    return count;
  } finally {
    await consumer.close();
  }
}

Deno.test({
  name: "docs/exactly_once.md: ShoutConsumer's aborted shout is hidden from read_committed readers",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lines = await commandLines("docs/exactly_once.md", /^(RACECAR_\w+=\S+ )*deno run -A /);
    assert.deepEqual(lines.length, 4, lines.join("\n"));
    const [createWords, createShouts, start, produce] = lines as [string, string, string, string];
    assert.ok(start.includes("ShoutConsumer"), start);
    assert.ok(produce.includes(`--value ${DOC_WORD}`), produce);
    for (const create of [createWords, createShouts]) {
      const proc = run(create, {}, {});
      assert.deepEqual((await proc.status(60_000)).code, 0, proc.output);
    }
    const word = `${unique("hello")}!`;
    const consumer = run(start, {}, { RACECAR_GROUP_ID: unique("racecar-eos-doc") });
    try {
      await consumer.waitFor("Wrooooom!", 60_000);
      const producer = run(produce, { [`--value ${DOC_WORD}`]: `--value ${word}` }, {});
      assert.deepEqual((await producer.status(60_000)).code, 0, producer.output);
      const shout = word.toUpperCase();
      await consumer.waitFor(`shouted ${shout}`, 60_000);
      assert.ok(consumer.output.includes(`${shout} fails once, after producing`), consumer.output);
      // Printing is a side effect: it may come from a transaction that another word's failure
      // aborted. The shout is committed once a read_committed reader sees it.
      assert.deepEqual(await copies("racecar-demo-shouts", shout, "read_committed"), 1);
      consumer.kill("SIGTERM");
      assert.deepEqual((await consumer.status(60_000)).code, 0, consumer.output);
      // At least the aborted copy and the committed one; words of earlier runs, read again by
      // this new group, abort transactions of their own that may have held another copy.
      const all = await copies("racecar-demo-shouts", shout, "read_uncommitted");
      assert.ok(all >= 2, `${all} copies in the log`);
      assert.deepEqual(await copies("racecar-demo-shouts", shout, "read_committed"), 1);
    } finally {
      await consumer.dispose();
    }
  },
});
