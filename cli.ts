/**
 * The package's default entry (`jsr:@racecar/cli`): the library API of
 * `mod.ts` when imported, the `racecar` command when run.
 *
 * Importing it never loads or waits on the command line: the command's module
 * graph (commander, the daemon, the supervisor) is imported only when this is
 * the main module, and without a top-level `await`, so a consumer that imports
 * `jsr:@racecar/cli` while `deno run -A jsr:@racecar/cli MyConsumer` loads it
 * does not wait on its own loader.
 *
 * @example
 * ```sh
 * deno run -A jsr:@racecar/cli OrdersConsumer --brokers kafka1:9092
 * ```
 *
 * @module
 */

export * from "./mod.ts";

if (import.meta.main) {
  void import("./src/cli/start.ts").then(({ start }) => start("racecar"));
}
