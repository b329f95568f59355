/**
 * The `racecar` command that runs bench/latency_consumer on one runtime: the
 * sources on Deno, the npm build (`deno task build:npm`) on Node and Bun.
 * Shared by latency.ts and idle.ts.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname;

/** `bun` is the Bun executable to use (scripts/bun.ts `ensureBun()`). */
export function latencyConsumerCommand(runtime: "deno" | "node" | "bun", bun = "bun"): string[] {
  if (runtime === "deno") {
    return [
      Deno.execPath(),
      "run",
      "-A",
      `${ROOT}cli.ts`,
      "LatencyConsumer",
      "--require",
      `${ROOT}bench/latency_consumer.ts`,
    ];
  }
  return [
    runtime === "bun" ? bun : "node",
    `${ROOT}npm/dist/bin/racecar.js`,
    "LatencyConsumer",
    "--require",
    `${ROOT}bench/latency_consumer.mjs`,
  ];
}
