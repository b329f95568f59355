/**
 * The consumers `bench/compare.ts` runs with the `racecar` command under Deno
 * (`deno run -A cli.ts --require bench/count_consumers.ts CountConsumer`):
 * they count messages and say when the first and the N-th arrived, and the
 * benchmark stops the process with SIGTERM, as a supervisor would. The Node
 * twin is `bench/node/count_consumers.mjs`.
 *
 * Environment: `BENCH_TOPIC`, `BENCH_MESSAGES`, and `BENCH_MEMORY=1` to print
 * `Deno.memoryUsage()` every 100,000 messages (`compare.ts --rss`).
 *
 * @module
 */

import { Consumer, type Message } from "../mod.ts";

const topic = Deno.env.get("BENCH_TOPIC") ?? "bench";
const total = Number(Deno.env.get("BENCH_MESSAGES") ?? 1_000_000);
const memory = Deno.env.get("BENCH_MEMORY") === "1";
const encoder = new TextEncoder();
let seen = 0;

function line(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text + "\n"));
}

function count(n: number): void {
  if (seen === 0) line("bench-first");
  const before = seen;
  seen += n;
  if (before < total && seen >= total) line(`bench-last ${seen}`);
  if (memory && Math.floor(before / 100_000) !== Math.floor(seen / 100_000)) {
    const { rss, heapTotal, heapUsed, external } = Deno.memoryUsage();
    line(`bench-memory ${seen} ${[rss, heapTotal, heapUsed, external].join(" ")}`);
  }
}

/** One message at a time: `process`. */
export class CountConsumer extends Consumer {
  static {
    this.subscribesTo(topic);
  }
  override process(_message: Message): void {
    count(1);
  }
}

/** A batch at a time: `processBatch`. */
export class CountBatchConsumer extends Consumer {
  static {
    this.subscribesTo(topic);
  }
  override processBatch(messages: Message[]): void {
    count(messages.length);
  }
}
