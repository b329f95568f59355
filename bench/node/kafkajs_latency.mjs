// KafkaJS 2.2.4 as a contender of bench/latency.ts: eachMessage with default
// settings, printing per message the milliseconds between its create time and
// its handling (in chunks every 20 ms, as bench/latency_consumer.ts does), and
// disconnecting on SIGTERM.
//
// Environment: RACECAR_BROKERS, RACECAR_GROUP_ID, LATENCY_TOPIC.

// A computed specifier, so that `deno task check` does not resolve it: KafkaJS is
// installed into bench/node/ only, for the benchmark.
const KAFKAJS = "kafkajs";
const { Kafka, logLevel } = (await import(KAFKAJS)).default;

let pending = "";
let timer;
function flush() {
  timer = undefined;
  process.stdout.write(pending);
  pending = "";
}

const kafka = new Kafka({
  clientId: "bench-kafkajs",
  brokers: process.env.RACECAR_BROKERS.split(","),
  logLevel: logLevel.ERROR,
});
const consumer = kafka.consumer({ groupId: process.env.RACECAR_GROUP_ID });
process.on("SIGTERM", async () => {
  await consumer.disconnect();
  process.exit(0);
});
await consumer.connect();
await consumer.subscribe({ topic: process.env.LATENCY_TOPIC, fromBeginning: true });
// deno-lint-ignore require-await
const eachMessage = async ({ message }) => {
  pending += `latency ${Date.now() - Number(message.timestamp)}\n`;
  if (timer === undefined) timer = setTimeout(flush, 20);
};
await consumer.run({ eachMessage });
