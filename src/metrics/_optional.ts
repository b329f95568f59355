/**
 * Loading an exporter's client library only when the exporter is enabled.
 * Under Node the libraries are optional peer dependencies of the npm package
 * (`hot-shots` builds a native module), so a missing one is a configuration
 * mistake with a clear fix, not a crash.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";

/** The exporters' client libraries and the setting that enables each. */
export const OPTIONAL_PACKAGES = {
  "hot-shots": { exporter: "Datadog metrics", setting: "datadog_enabled" },
  "prom-client": { exporter: "Prometheus metrics", setting: "prometheus_enabled" },
  "@opentelemetry/api": { exporter: "OpenTelemetry tracing", setting: "tracing_enabled" },
} as const;

/** Whether `error` says that the package `name` itself could not be found. */
export function isMissingPackage(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (!message.includes(`'${name}'`) && !message.includes(`"${name}"`)) return false;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND" ||
    /cannot find (module|package)|not found|relative import path/i.test(message);
}

/**
 * Imports an exporter's client library with `load` (a literal `import()` so
 * bundlers and Deno see the specifier). Throws a {@link ConfigError} naming the
 * package to install when it is missing.
 *
 * @example
 * ```ts
 * import { importOptional } from "./_optional.ts";
 * const promClient = await importOptional("prom-client", () => import("prom-client"));
 * console.assert(typeof promClient.Registry === "function");
 * ```
 */
export async function importOptional<T>(
  name: keyof typeof OPTIONAL_PACKAGES,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingPackage(error, name)) throw error;
    const { exporter, setting } = OPTIONAL_PACKAGES[name];
    throw new ConfigError(
      `Cannot enable ${exporter} ('${setting}'): the package "${name}" is not installed; ` +
        `install it next to racecar with 'npm install ${name}'`,
      { key: setting, cause: error },
    );
  }
}
