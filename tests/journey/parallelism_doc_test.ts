/**
 * docs/parallelism.md followed literally: its two commands run as written from
 * `examples/` (the documented broker replaced by the test one, the consumer
 * group unique to the run), and AccountEventsConsumer prints each account's
 * events in the order they were produced, the accounts in parallel.
 *
 * @module
 */

import { join } from "node:path";
import assert from "node:assert/strict";
import { BROKERS, cleanEnv, createTopics, Proc, ROOT, unique } from "../cli/_helpers.ts";
import { commandLines, parseCommand } from "../docs/_docs.ts";
import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";

const TOPIC = "racecar-demo-accounts";

function run(line: string, extraEnv: Record<string, string>): Proc {
  const { env, argv } = parseCommand(line.replaceAll("127.0.0.1:9092", BROKERS));
  assert.deepEqual(argv[0], "deno", `a docs/parallelism.md command that is not deno: ${line}`);
  return new Proc([Deno.execPath(), ...argv.slice(1)], {
    cwd: join(ROOT, "examples"),
    env: cleanEnv({ ...env, ...extraEnv }),
  });
}

/** The topic's end: this run's events are the ones from here on (earlier runs left theirs). */
async function highWatermark(): Promise<number> {
  const admin = createFfiTransport().createAdmin({ config: { "bootstrap.servers": BROKERS } });
  try {
    const [mark] = await admin.watermarks([{ topic: TOPIC, partition: 0 }], 10_000);
    return mark!.high;
  } finally {
    await admin.close();
  }
}

Deno.test({
  name:
    "docs/parallelism.md: AccountEventsConsumer prints every account's events in order, the accounts in parallel",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lines = await commandLines("docs/parallelism.md", /^(RACECAR_\w+=\S+ )*deno run -A /);
    assert.deepEqual(lines.length, 2, lines.join("\n"));
    const [start, produce] = lines as [string, string];
    assert.ok(start.includes("AccountEventsConsumer"), start);
    await createTopics([{ name: TOPIC, partitions: 1 }]).catch((error) => {
      if (!String(error).includes("already exists")) throw error;
    });
    const from = await highWatermark();
    const events = (await Deno.readTextFile(join(ROOT, "examples", "account_events.txt")))
      .split("\n").filter((line) => line !== "");
    const consumer = run(start, { RACECAR_GROUP_ID: unique("racecar-parallelism-doc") });
    try {
      await consumer.waitFor("Wrooooom!", 60_000);
      const producer = run(produce, {});
      assert.deepEqual((await producer.status(60_000)).code, 0, producer.output);

      // When each line of this run first showed up.
      const printed = new Map<string, number>();
      const pattern = /^(\w+): (.+) \(offset (\d+)\)$/gm;
      const deadline = Date.now() + 60_000;
      while (printed.size < events.length) {
        assert.ok(Date.now() < deadline, `not every event was printed:\n${consumer.output}`);
        for (const match of consumer.stdout.matchAll(pattern)) {
          if (Number(match[3]) >= from && !printed.has(match[0])) printed.set(match[0], Date.now());
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const order = [...printed.keys()].map((line) => {
        const [, account, event, offset] = /^(\w+): (.+) \(offset (\d+)\)$/.exec(line)!;
        return { account: account!, event: event!, offset: Number(offset) };
      });
      for (const account of ["alice", "bob", "carol"]) {
        assert.deepEqual(
          order.filter((e) => e.account === account).map((e) => `${account}:${e.event}`),
          events.filter((line) => line.startsWith(`${account}:`)),
          `${account}'s events in the order they were produced`,
        );
      }
      // One at a time, ten events of 200 ms would take 1.8 s from the first line to the last.
      const times = [...printed.values()];
      const spread = Math.max(...times) - Math.min(...times);
      assert.ok(spread < 1_500, `the accounts ran in parallel: ${spread} ms from first to last`);
      consumer.kill("SIGTERM");
      assert.deepEqual((await consumer.status(60_000)).code, 0, consumer.output);
    } finally {
      await consumer.dispose();
    }
  },
});
