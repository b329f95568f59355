// A local single-node Kafka (KRaft) broker: the command line
// (`deno run -A scripts/kafka.ts up|down|status|logs|create-topic`, `deno task kafka:up`).
// The library is scripts/kafka/mod.ts, re-exported here for the scripts that import this file.
// See docs/local-kafka.md.

import { runCli } from "./kafka/_cli.ts";

export * from "./kafka/mod.ts";

/**
 * Runs the CLI with `args` and returns the exit code: 0 success, 1 failure, 2 usage error or
 * missing tool, 3 for `status` when no broker answers.
 *
 * @example
 * ```ts ignore
 * import { main } from "./scripts/kafka.ts";
 * Deno.exitCode = await main(["status", "--port", "19092"]);
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCli(args);
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
