/**
 * The `racecarctl` command: `status`, `stop`, `produce`, `liveness_probe` and
 * `readiness_probe`. Exit codes: 0 ok, 1 failed check or operation, 2 usage.
 * Importing this module does nothing; it only runs as the main module.
 *
 * @example
 * ```sh
 * deno run -A jsr:@racecar/cli/racecarctl liveness_probe
 * ```
 *
 * @module
 */

export {};

if (import.meta.main) {
  void import("./src/cli/start.ts").then(({ start }) => start("racecarctl"));
}
