// Plain node-rdkafka as a contender of bench/compare.ts: the loop a
// node-rdkafka user writes without Racecar, non-flowing `consume(1000, cb)`
// over and over with librdkafka's defaults. Prints "bench-first" and
// "bench-last N" like the other contenders, then disconnects and exits.
// node-rdkafka resolves from the repository's node_modules.
//
// Environment: BENCH_BROKERS, BENCH_TOPIC, BENCH_MESSAGES, BENCH_GROUP.

import { writeSync } from "node:fs";
import Kafka from "node-rdkafka";

const total = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const consumer = new Kafka.KafkaConsumer({
  "bootstrap.servers": process.env.BENCH_BROKERS,
  "group.id": process.env.BENCH_GROUP,
  "enable.auto.commit": false,
}, { "auto.offset.reset": "earliest" });
await new Promise((resolve, reject) => {
  consumer.connect({ timeout: 10_000 }, (error) => error ? reject(error) : resolve());
});
consumer.subscribe([process.env.BENCH_TOPIC]);
consumer.setDefaultConsumeTimeout(1000);
let seen = 0;
await new Promise((resolve, reject) => {
  const next = () => {
    consumer.consume(1000, (error, messages) => {
      if (error && error.code !== Kafka.CODES.ERRORS.ERR__TIMED_OUT) return reject(error);
      const n = messages?.length ?? 0;
      if (seen === 0 && n > 0) writeSync(1, "bench-first\n");
      seen += n;
      if (seen >= total) {
        writeSync(1, `bench-last ${seen}\n`);
        resolve();
      } else next();
    });
  };
  next();
});
await new Promise((resolve) => consumer.disconnect(() => resolve()));
