/**
 * Key-ordered parallelism inside a partition: wall time of one partition of
 * 2,000 messages over 100 keys, `process` taking 5 ms (an awaited call to a
 * slow service), with `key_concurrency` 1 (strictly in order: the baseline),
 * 10 and 100, as ratios of the baseline. Through the `Runner` in-process on the
 * Deno FFI adapter; the contenders alternate round after round.
 *
 * Usage: `deno run -A bench/key_concurrency.ts [rounds]` (default 3). The
 * broker is `RACECAR_BROKERS` (a local one is started when unset).
 *
 * Each run reads the whole topic with a fresh group; its time runs from the
 * first `process` call to the end of the last, so the group join (the same
 * for every contender) is left out.
 *
 * @module
 */

import { ensureBroker } from "../scripts/kafka.ts";
import { Consumer } from "../src/consumer.ts";
import { createFfiTransport } from "../src/kafka/ffi/mod.ts";
import type { Transport } from "../src/kafka/transport.ts";
import type { Message } from "../src/message.ts";
import { Runner } from "../src/runner.ts";

const MESSAGES = 2_000;
const KEYS = 100;
const WORK_MS = 5;
const CONTENDERS = [1, 10, 100];
const rounds = Number(Deno.args[0] ?? 3);

async function seconds(
  transport: Transport,
  brokers: string,
  topic: string,
  keyConcurrency: number,
): Promise<number> {
  let seen = 0;
  let first: number | undefined;
  let last = 0;
  const stop = { runner: undefined as Runner | undefined };
  class SlowConsumer extends Consumer {
    static {
      this.subscribesTo(topic);
    }
    override async process(_message: Message): Promise<void> {
      first ??= performance.now();
      await new Promise((resolve) => setTimeout(resolve, WORK_MS));
      last = performance.now();
      if (++seen === MESSAGES) stop.runner!.stop();
    }
  }
  const groupId = `bench-keyed-${crypto.randomUUID()}`;
  const runner = new Runner({
    consumer: new SlowConsumer(),
    transport,
    consumerConfig: {
      "bootstrap.servers": brokers,
      "group.id": groupId,
      "auto.offset.reset": "earliest",
    },
    producerConfig: { "bootstrap.servers": brokers },
    settings: { clientId: "bench", groupId, keyConcurrency },
  });
  stop.runner = runner;
  await runner.run();
  return (last - first!) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const broker = await ensureBroker();
  const transport = createFfiTransport();
  const topic = `bench-keyed-${crypto.randomUUID().slice(0, 8)}`;
  const admin = transport.createAdmin({ config: { "bootstrap.servers": broker.brokers } });
  try {
    await admin.createTopics([{ name: topic, partitions: 1, replicationFactor: 1 }], 10_000);
    const producer = transport.createProducer({
      config: { "bootstrap.servers": broker.brokers, "linger.ms": "5" },
    });
    const encoder = new TextEncoder();
    await Promise.all(
      Array.from({ length: MESSAGES }, (_, i) =>
        producer.produce({
          topic,
          partition: 0,
          key: encoder.encode(`k${i % KEYS}`),
          value: encoder.encode(String(i)),
        })),
    );
    await producer.close(10_000);
    const times = new Map<number, number[]>(CONTENDERS.map((c) => [c, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const keyConcurrency of CONTENDERS) {
        const s = await seconds(transport, broker.brokers, topic, keyConcurrency);
        times.get(keyConcurrency)!.push(s);
        console.error(`round ${round}: key_concurrency ${keyConcurrency}: ${s.toFixed(3)} s`);
      }
    }
    const base = median(times.get(1)!);
    console.log(
      `${MESSAGES} messages, ${KEYS} keys, 1 partition, process ${WORK_MS} ms, ` +
        `median of ${rounds} rounds`,
    );
    console.log("| key_concurrency | wall time (s) | speed-up vs 1 (in order) | rounds (s) |");
    console.log("| --- | --- | --- | --- |");
    for (const [keyConcurrency, values] of times) {
      const m = median(values);
      console.log(
        `| ${keyConcurrency} | ${m.toFixed(3)} | ${(base / m).toFixed(1)}x | ${
          values.map((v) => v.toFixed(3)).join(", ")
        } |`,
      );
    }
  } finally {
    await admin.deleteTopics([topic], 10_000).catch(() => {});
    await admin.close();
    await broker.stop();
  }
}

await main();
