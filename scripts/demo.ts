/**
 * The demo: start a local Kafka (unless one is up or `RACECAR_BROKERS` names
 * one), produce sample greetings, run the example consumer through the real
 * `racecar` command until it processed them all, stop it with SIGTERM the way
 * a process supervisor would, and stop the broker again if the demo started it.
 *
 * Usage: `deno task demo [count]` (default 30 messages).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBroker } from "./kafka/mod.ts";
import { installDependencies } from "./setup.ts";
import { createFfiTransport } from "../src/kafka/ffi/mod.ts";
import { Producer } from "../src/producer.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const TOPIC = "racecar-demo-greetings";
const NAMES = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances"];

async function main(): Promise<number> {
  const count = Number(Deno.args[0] ?? 30);
  if (!Number.isInteger(count) || count < 1) {
    console.error(`Invalid message count "${Deno.args[0]}": expected a whole number >= 1`);
    return 2;
  }
  console.error("=> Installing dependencies (the first run builds librdkafka: 2-3 minutes)");
  if (!(await installDependencies({ quiet: true }))) return 1;
  const broker = await ensureBroker();
  try {
    const transport = createFfiTransport();
    console.error(`=> Using librdkafka ${transport.librdkafkaVersion} through Deno FFI`);
    const admin = transport.createAdmin({ config: { "bootstrap.servers": broker.brokers } });
    await admin.createTopics([
      { name: TOPIC, partitions: 3 },
      { name: "racecar-demo-replies", partitions: 1 },
    ], 30_000);
    await admin.close();

    const producer = new Producer(
      transport.createProducer({ config: { "bootstrap.servers": broker.brokers } }),
    );
    const runId = crypto.randomUUID().slice(0, 8);
    await producer.waitForDelivery(() => {
      for (let i = 1; i <= count; i++) {
        const name = NAMES[i % NAMES.length]!;
        producer.produceAsync(`Hello, ${name}! (#${i} of run ${runId})`, {
          topic: TOPIC,
          key: name,
        });
      }
    });
    await producer.close();
    console.error(`=> Produced ${count} greetings to "${TOPIC}"`);

    return await runConsumer(broker.brokers, runId, count);
  } finally {
    if (broker.startedHere) await broker.stop();
  }
}

/** Runs `racecar GreetingsConsumer` until it printed every greeting of this run. */
async function runConsumer(brokers: string, runId: string, count: number): Promise<number> {
  console.error("=> Starting: racecar GreetingsConsumer (in examples/)");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(root, "cli.ts"), "GreetingsConsumer"],
    cwd: join(root, "examples"),
    env: { RACECAR_BROKERS: brokers, RACECAR_GROUP_ID: `racecar-demo-${runId}` },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let seen = 0;
  let signalled = false;
  const timeout = setTimeout(() => {
    console.error("=> The consumer did not finish within 60 s; stopping it");
    child.kill("SIGTERM");
  }, 60_000);
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  let buffer = "";
  for await (const chunk of lines) {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      console.log(line);
      if (line.includes(`of run ${runId})`)) seen += 1;
      if (seen === count && !signalled) {
        signalled = true;
        console.error(`=> All ${count} greetings processed; sending SIGTERM`);
        child.kill("SIGTERM");
      }
    }
  }
  const status = await child.status;
  clearTimeout(timeout);
  console.error(`=> racecar exited with code ${status.code} after processing ${seen}/${count}`);
  return status.code === 0 && seen === count ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main());
}
