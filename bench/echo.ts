/**
 * Consumers that produce: the throughput of an echo consumer (each message of
 * topic A produced to topic B with its key, `acks=all`) as a ratio of the same
 * consumer that does not produce, both through the `Runner` in-process on the
 * Deno FFI adapter, on the same topic.
 *
 * Usage: `deno run -A bench/echo.ts [--transactional] [messages] [partitions] [rounds]`
 * (defaults 100,000 messages of 100 bytes, 6 partitions, 3 rounds).
 * `--transactional` adds a third contender, the same echo with
 * `transactional` on (one Kafka transaction per polled batch of
 * `fetch_messages` = 1000), and its throughput as a ratio of the plain echo. The
 * brokers are `RACECAR_BROKERS` (a local one is started when unset); with the
 * 3-broker cluster of `scripts/kafka_cluster.ts` the output topic gets
 * replication factor 3, so `acks=all` waits for the replicas. Needs `kcat`.
 *
 * Each run reads the whole input with a fresh group; its time runs from
 * `run()` until the runner stopped after the last message, so the echo
 * includes the last deliveries and both include the join and leave.
 *
 * @module
 */

import { ensureBroker } from "../scripts/kafka.ts";
import { Consumer } from "../src/consumer.ts";
import { createFfiTransport } from "../src/kafka/ffi/mod.ts";
import type { Transport } from "../src/kafka/transport.ts";
import type { Message } from "../src/message.ts";
import { Runner } from "../src/runner.ts";
import { MESSAGE_BYTES, produceWithKcat } from "./_produce.ts";

const transactional = Deno.args.includes("--transactional");
const args = Deno.args.filter((arg) => arg !== "--transactional");
const total = Number(args[0] ?? 100_000);
const partitions = Number(args[1] ?? 6);
const rounds = Number(args[2] ?? 3);

async function runnerSeconds(
  transport: Transport,
  brokers: string,
  input: string,
  output: string | undefined,
  inTransactions = false,
): Promise<number> {
  let seen = 0;
  const stop = { runner: undefined as Runner | undefined };
  class BenchConsumer extends Consumer {
    static {
      this.subscribesTo(input);
    }
    override process(message: Message): void {
      if (output !== undefined) {
        this.produce(message.value, { topic: output, key: message.key });
      }
      seen += 1;
      if (seen === total) stop.runner!.stop();
    }
  }
  const groupId = `bench-echo-${crypto.randomUUID()}`;
  const runner = new Runner({
    consumer: new BenchConsumer(),
    transport,
    consumerConfig: {
      "bootstrap.servers": brokers,
      "group.id": groupId,
      "auto.offset.reset": "earliest",
    },
    producerConfig: {
      "bootstrap.servers": brokers,
      "acks": "all",
      "enable.idempotence": "true",
      ...(inTransactions ? { "transactional.id": groupId } : {}),
    },
    settings: { clientId: "bench", groupId, fetchMessages: 1000, transactional: inTransactions },
  });
  stop.runner = runner;
  const started = performance.now();
  await runner.run();
  return (performance.now() - started) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const broker = await ensureBroker();
  try {
    const transport = createFfiTransport();
    const admin = transport.createAdmin({ config: { "bootstrap.servers": broker.brokers } });
    const brokerCount = broker.brokers.split(",").length;
    const replication = brokerCount >= 3 ? 3 : 1;
    const id = crypto.randomUUID().slice(0, 8);
    const input = `bench-echo-in-${id}`;
    const output = `bench-echo-out-${id}`;
    await admin.createTopics([
      { name: input, partitions, replicationFactor: replication },
      {
        name: output,
        partitions,
        replicationFactor: replication,
        ...(replication === 3 ? { config: { "min.insync.replicas": "2" } } : {}),
      },
    ], 30_000);
    console.error(`Producing ${total} messages of ${MESSAGE_BYTES} bytes to ${input}...`);
    await produceWithKcat(broker.brokers, input, total);

    // Warm up once, then alternate the two so a slow moment hits both alike.
    await runnerSeconds(transport, broker.brokers, input, undefined);
    const plain: number[] = [];
    const echo: number[] = [];
    const txn: number[] = [];
    for (let round = 0; round < rounds; round++) {
      plain.push(await runnerSeconds(transport, broker.brokers, input, undefined));
      echo.push(await runnerSeconds(transport, broker.brokers, input, output));
      if (transactional) {
        txn.push(await runnerSeconds(transport, broker.brokers, input, output, true));
      }
    }
    await admin.deleteTopics([input, output], 30_000);
    await admin.close();

    const rate = (seconds: number) => Math.round(total / seconds).toLocaleString("en-US");
    console.log(
      `librdkafka ${transport.librdkafkaVersion}, ${total} x ${MESSAGE_BYTES} B, ` +
        `${partitions} partitions, ${brokerCount} broker(s), replication ${replication}, ` +
        `acks=all, ${rounds} rounds (median; every round in brackets)`,
    );
    console.log(
      `no produce  ${rate(median(plain))} msg/s  [${plain.map(rate).join(", ")}]`,
    );
    console.log(
      `echo        ${rate(median(echo))} msg/s  [${echo.map(rate).join(", ")}]`,
    );
    console.log(`ratio       ${(median(plain) / median(echo)).toFixed(2)}`);
    if (transactional) {
      console.log(
        `echo (transactional)  ${rate(median(txn))} msg/s  [${txn.map(rate).join(", ")}]`,
      );
      console.log(`transactional / echo  ${(median(echo) / median(txn)).toFixed(2)}`);
    }
  } finally {
    if (broker.startedHere) await broker.stop();
  }
}

if (import.meta.main) await main();
