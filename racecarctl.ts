/**
 * The `racecarctl` command: `status`, `stop`, `produce`, `liveness_probe` and
 * `readiness_probe`. Exit codes: 0 ok, 1 failed check or operation, 2 usage.
 *
 * @example
 * ```sh
 * deno run -A jsr:@racecar/cli/racecarctl liveness_probe
 * ```
 *
 * @module
 */

import { args, exit } from "./src/_runtime.ts";
import { ctlMain } from "./src/cli/ctl.ts";

if (import.meta.main) {
  exit(await ctlMain(args()));
}
