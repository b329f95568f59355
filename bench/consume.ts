/**
 * Consume throughput: Racecar's Deno FFI adapter and its runner against
 * `kcat -C -e -q` (plain librdkafka in C) on the same topic, in one script,
 * so the figures are ratios measured on the same machine at the same time.
 *
 * Usage: `deno run -A bench/consume.ts [messages] [partitions]`
 * (default 1,000,000 messages of 100 bytes over 6 partitions). Needs `kcat`
 * (Debian: `apt-get install kcat`) and a broker (started if none is up).
 *
 * Each contender reads the whole topic from the beginning with a fresh group;
 * the time runs from creating the client until the last message arrived, so
 * connection set-up counts for everyone alike.
 *
 * @module
 */

import { ensureBroker } from "../scripts/kafka.ts";
import { Consumer } from "../src/consumer.ts";
import { createFfiTransport } from "../src/kafka/ffi/mod.ts";
import type { Transport } from "../src/kafka/transport.ts";
import { Runner } from "../src/runner.ts";
import { MESSAGE_BYTES, produceWithKcat } from "./_produce.ts";

const total = Number(Deno.args[0] ?? 1_000_000);
const partitions = Number(Deno.args[1] ?? 6);

async function kcatSeconds(brokers: string, topic: string): Promise<number> {
  const started = performance.now();
  const out = await new Deno.Command("kcat", {
    args: ["-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\n"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const lines = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).length;
  if (lines !== total) throw new Error(`kcat read ${lines} messages, expected ${total}`);
  return seconds;
}

async function adapterSeconds(
  transport: Transport,
  brokers: string,
  topic: string,
): Promise<number> {
  const started = performance.now();
  const consumer = transport.createConsumer({
    config: {
      "bootstrap.servers": brokers,
      "group.id": `bench-adapter-${crypto.randomUUID()}`,
      "auto.offset.reset": "earliest",
      "enable.auto.commit": "false",
    },
  });
  consumer.subscribe([topic]);
  let seen = 0;
  while (seen < total) seen += (await consumer.consume(1000, 1000)).length;
  const seconds = (performance.now() - started) / 1000;
  await consumer.close();
  return seconds;
}

async function runnerSeconds(
  transport: Transport,
  brokers: string,
  topic: string,
): Promise<number> {
  let seen = 0;
  const stop = { runner: undefined as Runner | undefined };
  class NoopConsumer extends Consumer {
    static {
      this.subscribesTo(topic);
    }
    override process(): void {
      seen += 1;
      if (seen === total) stop.runner!.stop();
    }
  }
  const groupId = `bench-runner-${crypto.randomUUID()}`;
  const runner = new Runner({
    consumer: new NoopConsumer(),
    transport,
    consumerConfig: {
      "bootstrap.servers": brokers,
      "group.id": groupId,
      "auto.offset.reset": "earliest",
    },
    producerConfig: { "bootstrap.servers": brokers },
    settings: { clientId: "bench", groupId, fetchMessages: 1000 },
  });
  stop.runner = runner;
  const started = performance.now();
  await runner.run();
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const broker = await ensureBroker();
  try {
    const transport = createFfiTransport();
    const topic = `bench-consume-${crypto.randomUUID().slice(0, 8)}`;
    const admin = transport.createAdmin({ config: { "bootstrap.servers": broker.brokers } });
    await admin.createTopics([{ name: topic, partitions }], 30_000);
    console.error(`Producing ${total} messages of ${MESSAGE_BYTES} bytes to ${topic}...`);
    await produceWithKcat(broker.brokers, topic, total);

    // Warm the page cache and the JIT once, then measure.
    await kcatSeconds(broker.brokers, topic);
    const kcat = await kcatSeconds(broker.brokers, topic);
    const adapter = await adapterSeconds(transport, broker.brokers, topic);
    const runner = await runnerSeconds(transport, broker.brokers, topic);
    await admin.deleteTopics([topic], 30_000);
    await admin.close();

    const rate = (seconds: number) => Math.round(total / seconds).toLocaleString("en-US");
    console.log(
      `librdkafka ${transport.librdkafkaVersion}, ${total} x ${MESSAGE_BYTES} B, ${partitions} partitions`,
    );
    console.log(`kcat -C -e -q          ${kcat.toFixed(2)} s  ${rate(kcat)} msg/s  (baseline)`);
    console.log(
      `FFI adapter, batch 1000 ${adapter.toFixed(2)} s  ${rate(adapter)} msg/s  ${
        (kcat / adapter * 100).toFixed(0)
      }% of kcat`,
    );
    console.log(
      `Runner, no-op process   ${runner.toFixed(2)} s  ${rate(runner)} msg/s  ${
        (kcat / runner * 100).toFixed(0)
      }% of kcat`,
    );
  } finally {
    if (broker.startedHere) await broker.stop();
  }
}

if (import.meta.main) await main();
