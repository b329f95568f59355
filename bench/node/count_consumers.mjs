// The consumers bench/compare.ts runs with the `racecar` command under Node
// (`node npm/dist/bin/racecar.js --require bench/node/count_consumers.mjs
// CountConsumer`, what `npx racecar` runs): they count messages and say when the
// first and the N-th arrived; the benchmark stops the process with SIGTERM. The
// Deno twin is bench/count_consumers.ts; this one imports the built package.
//
// Environment: BENCH_TOPIC, BENCH_MESSAGES, and BENCH_MEMORY=1 to print
// process.memoryUsage() every 100,000 messages (compare.ts --rss).

import { writeSync } from "node:fs";

// By a computed URL, so that `deno task check` does not need the build.
const { Consumer } = await import(new URL("../../npm/dist/mod.js", import.meta.url).href);

const topic = process.env.BENCH_TOPIC ?? "bench";
const total = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const memory = process.env.BENCH_MEMORY === "1";
let seen = 0;

function line(text) {
  writeSync(1, text + "\n");
}

function count(n) {
  if (seen === 0) line("bench-first");
  const before = seen;
  seen += n;
  if (before < total && seen >= total) line(`bench-last ${seen}`);
  if (memory && Math.floor(before / 100_000) !== Math.floor(seen / 100_000)) {
    const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
    line(`bench-memory ${seen} ${[rss, heapTotal, heapUsed, external].join(" ")}`);
  }
}

/** One message at a time: `process`. */
export class CountConsumer extends Consumer {
  static {
    this.subscribesTo(topic);
  }
  process(_message) {
    count(1);
  }
}

/** A batch at a time: `processBatch`. */
export class CountBatchConsumer extends Consumer {
  static {
    this.subscribesTo(topic);
  }
  processBatch(messages) {
    count(messages.length);
  }
}
