/**
 * The `racecar` command, and the package's default entry: `deno run -A
 * jsr:@racecar/cli MyConsumer` runs a consumer, while importing this module
 * gives the library API of `mod.ts`.
 *
 * @example
 * ```sh
 * deno run -A jsr:@racecar/cli OrdersConsumer --brokers kafka1:9092
 * ```
 *
 * @module
 */

import { args, exit } from "./src/_runtime.ts";
import { main } from "./src/cli/main.ts";

export * from "./mod.ts";

if (import.meta.main) {
  exit(await main(args()));
}
