/**
 * Racecar's configuration: one schema, and everything derived from it: the
 * {@link RacecarConfig} type, defaults, loading from the consumer class,
 * `config/racecar.yml`, `config/racecar.ts`, `RACECAR_*` variables and flags
 * (in that order of increasing precedence), validation, librdkafka properties,
 * Heroku settings, redaction and flag descriptions for the CLI.
 *
 * @example
 * ```ts
 * import { consumerConfig, loadConfig } from "./mod.ts";
 * const config = await loadConfig({
 *   env: { RACECAR_BROKERS: "kafka1:9092,kafka2:9092" },
 *   flags: { groupId: "orders" },
 *   skipFiles: true,
 * });
 * const props = consumerConfig(config, { topic: "orders" });
 * console.assert(props["bootstrap.servers"] === "kafka1:9092,kafka2:9092");
 * console.assert(props["group.id"] === "orders");
 * ```
 *
 * @module
 */

export {
  camelCase,
  CODE_SETTINGS,
  type CodeSettings,
  defaultConfig,
  defaultValue,
  envVarName,
  type ErrorHandler,
  type ErrorInfo,
  GROUPS,
  isSettingName,
  kebabCase,
  type RacecarConfig,
  type RdkafkaScope,
  schema,
  type SettingDefinition,
  type SettingGroup,
  type SettingName,
  SETTINGS,
  type Settings,
  type SettingSpec,
  settingSpec,
  type SettingType,
  snakeCase,
  type ValueOf,
} from "./schema.ts";
export { type SourceKind, type ValueSource } from "./decode.ts";
export {
  ALLOWED_ENV_VARS,
  CODE_CONFIG_FILES,
  DEFAULT_CONFIG_FILE,
  findCodeConfig,
  type FlagValues,
  loadConfig,
  type LoadConfigOptions,
  loadConfigWithSources,
  type LoadedConfig,
  withClassSettings,
} from "./load.ts";
export { type SourceMap, validateConfig } from "./validate.ts";
export {
  consumerConfig,
  DEFAULT_MAX_BYTES_PER_PARTITION,
  parsePassThrough,
  producerConfig,
  type RdkafkaOptions,
  securityConfig,
  type SubscriptionConfig,
} from "./rdkafka.ts";
export { herokuConfig, type HerokuOptions, type HerokuSettings } from "./heroku.ts";
export { inspectConfig, isSecretProperty, redact, REDACTED, redactProperties } from "./redact.ts";
export { type FlagSpec, flagSpecs, formatDefault } from "./flags.ts";
export { renderConfigDocs } from "./docs.ts";
