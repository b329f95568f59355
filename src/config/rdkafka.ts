/**
 * Translating a {@link RacecarConfig} into librdkafka properties for consumers
 * and producers. Settings declare their librdkafka property in the schema; this
 * module converts units (seconds become integer milliseconds) and applies the
 * merge order: derived properties < pass-through `consumer`/`producer` entries <
 * a subscription's `additionalConfig`.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { show } from "./decode.ts";
import { type RacecarConfig, schema, type SettingDefinition, type SettingName } from "./schema.ts";

/** One topic a consumer subscribes to, as far as librdkafka properties go. */
export interface SubscriptionConfig {
  /** The topic. */
  topic: string;
  /** Start from the earliest offset when the group has none committed. @default true */
  startFromBeginning?: boolean;
  /** The most data fetched per partition (`max.partition.fetch.bytes`). @default 1048576 */
  maxBytesPerPartition?: number;
  /** librdkafka properties for this subscription only; they win over everything else. */
  additionalConfig?: Record<string, string | number | boolean>;
}

/** Options of {@link consumerConfig} and {@link producerConfig}. */
export interface RdkafkaOptions {
  /**
   * Someone consumes statistics (a `statisticsCallback`, a metrics exporter), so
   * emit them every `statistics_interval`; otherwise `statistics.interval.ms` is 0.
   * @default false
   */
  statistics?: boolean;
}

/** `max.partition.fetch.bytes` when a subscription does not say. */
export const DEFAULT_MAX_BYTES_PER_PARTITION = 1048576;

const SECURITY_GROUPS = new Set(["SSL", "SASL"]);
// Mapped by hand: their values are not the setting's value as text.
const SPECIAL = new Set<SettingName>([
  "statisticsInterval",
  "sslVerifyHostname",
  "sslVerifyCertificate",
]);

/**
 * librdkafka properties for a consumer of `subscription` (or of no particular
 * subscription).
 *
 * @throws {ConfigError} for a malformed pass-through entry.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./schema.ts";
 * import { consumerConfig } from "./rdkafka.ts";
 * const props = consumerConfig(
 *   { ...defaultConfig(), groupId: "orders", consumer: ["fetch.error.backoff.ms=100"] },
 *   { topic: "orders", startFromBeginning: false },
 * );
 * console.assert(props["auto.offset.reset"] === "latest");
 * console.assert(props["session.timeout.ms"] === "30000");
 * console.assert(props["fetch.error.backoff.ms"] === "100");
 * ```
 */
export function consumerConfig(
  config: RacecarConfig,
  subscription?: SubscriptionConfig,
  options: RdkafkaOptions = {},
): Record<string, string> {
  const props: Record<string, string> = {
    "enable.auto.offset.store": "false",
    "enable.partition.eof": "false",
    "auto.offset.reset": (subscription?.startFromBeginning ?? true) ? "earliest" : "latest",
    "max.partition.fetch.bytes": String(
      subscription?.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION,
    ),
    ...mapped(config, "consumer", false),
    "statistics.interval.ms": statisticsMs(config, options),
    ...securityConfig(config),
    ...parsePassThrough(config.consumer, "consumer"),
  };
  for (const [key, value] of Object.entries(subscription?.additionalConfig ?? {})) {
    props[key] = String(value);
  }
  return props;
}

/**
 * librdkafka properties for a producer.
 *
 * @throws {ConfigError} for a malformed pass-through entry.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./schema.ts";
 * import { producerConfig } from "./rdkafka.ts";
 * const props = producerConfig({ ...defaultConfig(), producerCompressionCodec: "zstd" });
 * console.assert(props["compression.codec"] === "zstd");
 * console.assert(props["message.timeout.ms"] === "300000");
 * console.assert(props["enable.idempotence"] === "true");
 * ```
 */
export function producerConfig(
  config: RacecarConfig,
  options: RdkafkaOptions = {},
): Record<string, string> {
  return {
    // Retries neither duplicate nor reorder within a partition; `producer` entries may turn it off.
    "enable.idempotence": "true",
    ...mapped(config, "producer", false),
    "statistics.interval.ms": statisticsMs(config, options),
    ...securityConfig(config),
    ...parsePassThrough(config.producer, "producer"),
  };
}

/**
 * librdkafka properties for TLS and SASL, shared by consumers and producers.
 * Certificate checks are sent when TLS is in use or when they are turned off,
 * so builds of librdkafka without TLS are not handed properties they reject.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./schema.ts";
 * import { securityConfig } from "./rdkafka.ts";
 * const props = securityConfig({
 *   ...defaultConfig(),
 *   securityProtocol: "sasl_ssl",
 *   saslMechanism: "PLAIN",
 *   sslVerifyHostname: false,
 * });
 * console.assert(props["ssl.endpoint.identification.algorithm"] === "none");
 * console.assert(props["enable.ssl.certificate.verification"] === "true");
 * ```
 */
export function securityConfig(config: RacecarConfig): Record<string, string> {
  const props = mapped(config, "producer", true);
  const tls = config.securityProtocol === "ssl" || config.securityProtocol === "sasl_ssl";
  if (tls || !config.sslVerifyHostname) {
    props["ssl.endpoint.identification.algorithm"] = config.sslVerifyHostname ? "https" : "none";
  }
  if (tls || !config.sslVerifyCertificate) {
    props["enable.ssl.certificate.verification"] = String(config.sslVerifyCertificate);
  }
  return props;
}

/**
 * Parses `key=value` entries (the `consumer` and `producer` settings): split on
 * the first `=`, both sides trimmed; later entries win.
 *
 * @throws {ConfigError} naming the setting and the entry when one is malformed.
 *
 * @example
 * ```ts
 * import { parsePassThrough } from "./rdkafka.ts";
 * const props = parsePassThrough([" sasl.oauthbearer.config = a=b "], "consumer");
 * console.assert(props["sasl.oauthbearer.config"] === "a=b");
 * ```
 */
export function parsePassThrough(
  entries: readonly string[],
  setting: "consumer" | "producer",
): Record<string, string> {
  const props: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const key = eq < 0 ? "" : entry.slice(0, eq).trim();
    if (key === "") {
      throw new ConfigError(
        `Invalid configuration '${setting}': expected entries of the form "key=value", got ` +
          show(entry),
        { key: setting },
      );
    }
    props[key] = entry.slice(eq + 1).trim();
  }
  return props;
}

function mapped(
  config: RacecarConfig,
  client: "consumer" | "producer",
  security: boolean,
): Record<string, string> {
  const props: Record<string, string> = {};
  for (const def of schema()) {
    if (def.rdkafka === undefined || SPECIAL.has(def.name)) continue;
    if (SECURITY_GROUPS.has(def.group) !== security) continue;
    if (!security && def.scope !== client && def.scope !== "both") continue;
    const value = config[def.name];
    if (value === undefined) continue;
    props[def.rdkafka] = asProperty(def, value);
  }
  return props;
}

function asProperty(def: SettingDefinition, value: unknown): string {
  if (def.type === "duration") return String(Math.round((value as number) * 1000));
  if (Array.isArray(value)) return value.join(",");
  return String(value);
}

function statisticsMs(config: RacecarConfig, options: RdkafkaOptions): string {
  return options.statistics ? String(Math.round(config.statisticsInterval * 1000)) : "0";
}
