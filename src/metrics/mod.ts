/**
 * Metrics exporters: Datadog (DogStatsD via `hot-shots`) and Prometheus (via
 * `prom-client`). Both are subscribers to a runner's {@link Instrumenter}; the
 * runner knows nothing about them.
 *
 * @example
 * ```ts ignore
 * import { installMetrics } from "./mod.ts";
 * const metrics = await installMetrics(runner.events, config);
 * await runner.run();
 * await metrics.close();
 * ```
 *
 * @module
 */

import type { RacecarConfig } from "../config/mod.ts";
import type { Instrumenter } from "../events.ts";
import { type DatadogConfig, installDatadog, type MetricsHandle } from "./datadog.ts";
import { installOpenTelemetry } from "./opentelemetry.ts";
import { installPrometheus, type PrometheusConfig } from "./prometheus.ts";

export {
  DATADOG_DEFAULTS,
  type DatadogConfig,
  type DatadogOptions,
  installDatadog,
  type MetricsHandle,
  pollErrorCode,
} from "./datadog.ts";
export {
  installOpenTelemetry,
  INSTRUMENTATION_SCOPE,
  type OpenTelemetryOptions,
} from "./opentelemetry.ts";
export {
  installPrometheus,
  type PartitionLag,
  partitionLags,
  PROMETHEUS_DEFAULTS,
  type PrometheusConfig,
  type PrometheusHandle,
  type PrometheusOptions,
} from "./prometheus.ts";

/**
 * Installs the exporters the configuration enables (`datadogEnabled`,
 * `prometheusEnabled`, `tracingEnabled`); the handle closes them all.
 *
 * @example
 * ```ts
 * import { Instrumenter } from "../events.ts";
 * import { installMetrics } from "./mod.ts";
 * const metrics = await installMetrics(new Instrumenter(), {});
 * await metrics.close();
 * ```
 */
export async function installMetrics(
  instrumenter: Instrumenter,
  config:
    & DatadogConfig
    & PrometheusConfig
    & Partial<Pick<RacecarConfig, "datadogEnabled" | "tracingEnabled">>,
): Promise<MetricsHandle> {
  const handles: MetricsHandle[] = [];
  if (config.datadogEnabled === true) handles.push(await installDatadog(instrumenter, config));
  try {
    if (config.prometheusEnabled === true) {
      handles.push(await installPrometheus(instrumenter, config));
    }
    if (config.tracingEnabled === true) handles.push(await installOpenTelemetry(instrumenter));
  } catch (error) {
    await Promise.all(handles.map((h) => h.close()));
    throw error;
  }
  return { close: async () => void await Promise.all(handles.map((h) => h.close())) };
}
