/**
 * Metrics for Racecar consumers and producers: Datadog (DogStatsD) and a
 * Prometheus `/metrics` endpoint. Both subscribe to a runner's events; the
 * `racecar` command installs them from the configuration
 * (`datadog_enabled`, `prometheus_enabled`).
 *
 * A separate entry point, so applications that do not export metrics never
 * load the metrics libraries.
 *
 * @example
 * ```ts ignore
 * import { installPrometheus } from "@racecar/cli/metrics";
 * const prometheus = await installPrometheus(runner.events, { prometheusPort: 9394 });
 * // ... later
 * await prometheus.close();
 * ```
 *
 * @module
 */

export * from "./src/metrics/mod.ts";
