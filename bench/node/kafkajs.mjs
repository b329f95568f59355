// KafkaJS 2.2.4 (pure JavaScript) as a contender of bench/compare.ts:
// `node bench/node/kafkajs.mjs eachBatch|eachMessage`, default settings, reading
// the topic from the beginning with a fresh group. Prints "bench-first" and
// "bench-last N" like the other contenders, then disconnects and exits.
//
// Environment: BENCH_BROKERS, BENCH_TOPIC, BENCH_MESSAGES, BENCH_GROUP.

import { writeSync } from "node:fs";

// A computed specifier, so that `deno task check` does not resolve it: KafkaJS is
// installed into bench/node/ only, for the benchmark.
const KAFKAJS = "kafkajs";
const { Kafka, logLevel } = (await import(KAFKAJS)).default;

const shape = process.argv[2];
if (shape !== "eachBatch" && shape !== "eachMessage") {
  console.error(`Cannot run KafkaJS: the shape must be eachBatch or eachMessage, got "${shape}"`);
  process.exit(2);
}
const total = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
let seen = 0;
let done;
const finished = new Promise((resolve) => (done = resolve));

function count(n) {
  if (seen === 0) writeSync(1, "bench-first\n");
  const before = seen;
  seen += n;
  if (before < total && seen >= total) {
    writeSync(1, `bench-last ${seen}\n`);
    done();
  }
}

const kafka = new Kafka({
  clientId: "bench-kafkajs",
  brokers: process.env.BENCH_BROKERS.split(","),
  logLevel: logLevel.ERROR,
});
const consumer = kafka.consumer({ groupId: process.env.BENCH_GROUP });
await consumer.connect();
await consumer.subscribe({ topic: process.env.BENCH_TOPIC, fromBeginning: true });
// Async handlers, as KafkaJS's documentation writes them.
// deno-lint-ignore require-await
const eachBatch = async ({ batch }) => count(batch.messages.length);
// deno-lint-ignore require-await
const eachMessage = async () => count(1);
await consumer.run(shape === "eachBatch" ? { eachBatch } : { eachMessage });
await finished;
await consumer.disconnect();
