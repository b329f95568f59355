/**
 * Hiding secrets before a configuration is printed (the SIGUSR1 dump, start-up
 * banners, `racecar config`). Racecar printed passwords; we do not.
 *
 * @module
 */

import { type RacecarConfig, schema, snakeCase } from "./schema.ts";

/** What a hidden value is replaced with. */
export const REDACTED = "[REDACTED]";

const SECRET_PROPERTY = /password|secret|key\.pem|sasl\.oauthbearer/i;

/** Whether a librdkafka property name holds a secret. */
export function isSecretProperty(key: string): boolean {
  return SECRET_PROPERTY.test(key);
}

/**
 * A copy of `config` safe to print: every `secret` setting that is set becomes
 * `[REDACTED]`, and so does the value of every `consumer`/`producer`
 * pass-through entry whose key contains `password`, `secret`, `key.pem` or
 * `sasl.oauthbearer`.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./schema.ts";
 * import { redact } from "./redact.ts";
 * const safe = redact({
 *   ...defaultConfig(),
 *   saslPassword: "hunter2",
 *   consumer: ["ssl.key.password=hunter2", "fetch.min.bytes=1"],
 * });
 * console.assert(safe.saslPassword === "[REDACTED]");
 * console.assert(safe.consumer.join() === "ssl.key.password=[REDACTED],fetch.min.bytes=1");
 * ```
 */
export function redact(config: RacecarConfig): RacecarConfig {
  const copy: Record<string, unknown> = { ...config };
  for (const def of schema()) {
    if (def.secret && copy[def.name] !== undefined) copy[def.name] = REDACTED;
  }
  copy.consumer = redactEntries(config.consumer);
  copy.producer = redactEntries(config.producer);
  return copy as unknown as RacecarConfig;
}

/**
 * A copy of librdkafka properties safe to print.
 *
 * @example
 * ```ts
 * import { redactProperties } from "./redact.ts";
 * console.assert(redactProperties({ "sasl.password": "x" })["sasl.password"] === "[REDACTED]");
 * ```
 */
export function redactProperties(props: Record<string, string>): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [key, value] of Object.entries(props)) {
    copy[key] = isSecretProperty(key) ? REDACTED : value;
  }
  return copy;
}

/**
 * `name = value` lines for every setting, secrets hidden, as racecar's SIGUSR1
 * dump printed them.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./schema.ts";
 * import { inspectConfig } from "./redact.ts";
 * console.assert(inspectConfig(defaultConfig()).includes('client_id = "racecar"'));
 * ```
 */
export function inspectConfig(config: RacecarConfig): string {
  const safe = redact(config) as unknown as Record<string, unknown>;
  return schema().map((def) => {
    const value = safe[def.name];
    return `${snakeCase(def.name)} = ${value === undefined ? "(unset)" : JSON.stringify(value)}`;
  }).join("\n");
}

function redactEntries(entries: readonly string[]): string[] {
  return entries.map((entry) => {
    const eq = entry.indexOf("=");
    if (eq < 0) return entry;
    const key = entry.slice(0, eq);
    return isSecretProperty(key) ? `${key}=${REDACTED}` : entry;
  });
}
