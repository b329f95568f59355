/**
 * Turns Kafka client errors that no retry will fix (wrong credentials, an
 * untrusted certificate) into one clear message naming the settings to check.
 * librdkafka reports them as ordinary, non-fatal errors and reconnects
 * forever; the commands stop at the first one instead.
 *
 * Also turns librdkafka's refusal to create a client (an unknown property, a
 * CA file it cannot read) into a configuration error that names the Racecar
 * setting, or the pass-through entry, and where its value came from.
 *
 * @module
 */

import { modifiedAt } from "../_runtime.ts";
import {
  isSecretProperty,
  type RacecarConfig,
  schema,
  snakeCase,
  type SourceMap,
} from "../config/mod.ts";
import { ConfigError, ErrorCode, KafkaError, RacecarError } from "../errors.ts";

/** A client error that stops the command, with what to check. */
export class ConnectionSetupError extends RacecarError {
  /** The settings the user should check, snake_case. */
  readonly settings: readonly string[];

  /** Wraps `cause` with an explanation. */
  constructor(message: string, settings: readonly string[], cause: unknown) {
    super("CONNECTION_SETUP", message, { cause });
    this.name = "ConnectionSetupError";
    this.settings = settings;
  }
}

/**
 * The explanation of `error` when it is an authentication or TLS failure that
 * retrying cannot fix; `undefined` for everything else.
 */
export function explainClientError(
  error: unknown,
  config: RacecarConfig,
): ConnectionSetupError | undefined {
  if (!(error instanceof KafkaError)) return undefined;
  const text = error.message;
  const brokers = config.brokers.join(",");
  if (
    error.errno === ErrorCode.AUTHENTICATION ||
    error.errno === ErrorCode.SASL_AUTHENTICATION_FAILED
  ) {
    if (/SSL|certificate|handshake/i.test(text) && !/SASL/i.test(text)) {
      return sslError(error, config, brokers);
    }
    const user = config.saslUsername === undefined ? "(none)" : `"${config.saslUsername}"`;
    return new ConnectionSetupError(
      `Cannot connect to Kafka at ${brokers}: authentication failed for SASL user ${user} ` +
        `with mechanism ${config.saslMechanism ?? "(none)"}: check 'sasl_username' and ` +
        `'sasl_password' (RACECAR_SASL_USERNAME, RACECAR_SASL_PASSWORD), 'sasl_mechanism' ` +
        `and 'security_protocol' (librdkafka: ${text})`,
      ["sasl_username", "sasl_password", "sasl_mechanism", "security_protocol"],
      error,
    );
  }
  if (error.errno === ErrorCode.SSL) return sslError(error, config, brokers);
  return undefined;
}

function sslError(error: KafkaError, config: RacecarConfig, brokers: string) {
  const text = error.message;
  if (/certificate verify failed|unable to get local issuer|self[- ]signed/i.test(text)) {
    const ca = config.sslCaLocation === undefined
      ? "the system's CA store"
      : `"${config.sslCaLocation}"`;
    return new ConnectionSetupError(
      `Cannot connect to Kafka at ${brokers}: the broker's TLS certificate is not trusted by ` +
        `${ca}: check 'ssl_ca_location' (RACECAR_SSL_CA_LOCATION) names the CA that signed ` +
        `the broker's certificate (librdkafka: ${text})`,
      ["ssl_ca_location"],
      error,
    );
  }
  if (/hostname|subject alternative|name mismatch/i.test(text)) {
    return new ConnectionSetupError(
      `Cannot connect to Kafka at ${brokers}: the broker's certificate does not name the host ` +
        `connected to: connect with a name the certificate lists, or set ` +
        `'ssl_verify_hostname' to false (librdkafka: ${text})`,
      ["ssl_verify_hostname"],
      error,
    );
  }
  return new ConnectionSetupError(
    `Cannot connect to Kafka at ${brokers}: the TLS handshake failed: check ` +
      `'security_protocol' (${config.securityProtocol ?? "plaintext"}) matches the broker's ` +
      `listener, and 'ssl_ca_location', 'ssl_certificate_location' and 'ssl_key_location' ` +
      `(librdkafka: ${text})`,
    ["security_protocol", "ssl_ca_location", "ssl_certificate_location", "ssl_key_location"],
    error,
  );
}

/**
 * A client error that is really librdkafka refusing the configuration while
 * the client was being created (node-rdkafka creates it on connect and reports
 * `ssl.ca.location failed: ...` as an ordinary error), as a `ConfigError`;
 * `undefined` for every other error.
 */
export function clientCreationFailure(error: unknown): ConfigError | undefined {
  if (!(error instanceof KafkaError)) return undefined;
  const cause = error.cause as { message?: string; origin?: string } | undefined;
  // node-rdkafka keeps "ssl.ca.location failed" apart, as the cause's `origin`.
  const texts = [error.message, `${cause?.origin ?? ""}: ${cause?.message ?? ""}`];
  for (const text of texts) {
    const match = /\b([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+ failed: .*)$/.exec(text);
    if (match !== null) {
      return new ConfigError(`Cannot create client: ${match[1]}`, { cause: error });
    }
  }
  return undefined;
}

/** Where the properties of the clients a command creates came from. */
export interface ClientOrigins {
  /** The configuration the properties were derived from. */
  config: RacecarConfig;
  /** Where each setting's value came from. */
  sources: SourceMap;
  /** Properties added by the consumer class's `subscribesTo(..., { additionalConfig })`. */
  additionalConfig?: Record<string, string | number | boolean> | undefined;
  /** The consumer class, for messages about `additionalConfig`. */
  className?: string;
}

/**
 * The configuration mistake behind librdkafka's refusal to create a client:
 * the Racecar setting (or `consumer`/`producer` entry, or `additionalConfig`)
 * that produced the property, its value and where it came from, with
 * librdkafka's own words at the end.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "../config/mod.ts";
 * import { ConfigError } from "../errors.ts";
 * import { explainClientConfigError } from "./_explain.ts";
 * const error = new ConfigError('Invalid librdkafka property "no.such": No such property', {
 *   key: "no.such",
 * });
 * const explained = await explainClientConfigError(error, {
 *   config: { ...defaultConfig(), consumer: ["no.such=1"] },
 *   sources: { consumer: { kind: "flag", label: "--consumer", key: "consumer" } },
 * });
 * console.assert(explained.message.startsWith("Invalid configuration 'consumer' from --consumer"));
 * ```
 */
export async function explainClientConfigError(
  error: ConfigError,
  origins: ClientOrigins,
): Promise<ConfigError> {
  const detail = librdkafkaText(error.message);
  const property = refusedProperty(error, origins);
  const client = /\bproducer\b/.test(error.message) ? "producer" : "consumer";
  if (property === undefined) {
    return new ConfigError(
      `Invalid configuration: librdkafka cannot create the ${client}: ${detail}`,
      { cause: error },
    );
  }
  const { config, sources } = origins;

  if (origins.additionalConfig && property in origins.additionalConfig) {
    const value = isSecretProperty(property)
      ? ""
      : ` = ${JSON.stringify(origins.additionalConfig[property])}`;
    return new ConfigError(
      `Invalid librdkafka property "${property}"${value} from the 'additionalConfig' of ` +
        `${origins.className ?? "the consumer class"}'s subscribesTo(): ${detail}`,
      { cause: error, key: property },
    );
  }
  for (const setting of [client, client === "consumer" ? "producer" : "consumer"] as const) {
    const entry = config[setting].find((e) => e.slice(0, e.indexOf("=")).trim() === property);
    if (entry === undefined) continue;
    const shown = isSecretProperty(property) ? `"${property}=..."` : JSON.stringify(entry);
    return new ConfigError(
      `Invalid configuration '${setting}'${from(sources, setting)}: librdkafka refused ${shown}: ` +
        detail,
      { cause: error, key: setting },
    );
  }
  const def = schema().find((d) => d.rdkafka === property);
  if (def !== undefined) {
    const value = config[def.name];
    const key = sources[def.name]?.key ?? snakeCase(def.name);
    const missing = /location|keytab/i.test(property) && typeof value === "string" &&
      (await modifiedAt(value)) === undefined;
    const problem = missing
      ? `there is no file or directory ${JSON.stringify(value)} (librdkafka: ${detail})`
      : `librdkafka cannot use ${def.secret ? "its value" : JSON.stringify(value)} for ` +
        `${property}: ${detail}`;
    return new ConfigError(`Invalid configuration '${key}'${from(sources, def.name)}: ${problem}`, {
      cause: error,
      key: def.name,
    });
  }
  return new ConfigError(
    `Invalid librdkafka property "${property}" (set by Racecar for the ${client}): ${detail}`,
    { cause: error, key: property },
  );
}

function from(sources: SourceMap, name: keyof SourceMap): string {
  const source = sources[name];
  return source === undefined || source.kind === "default"
    ? " (its default)"
    : ` from ${source.label}`;
}

/** librdkafka's own words, without the adapters' prefixes. */
function librdkafkaText(message: string): string {
  return message
    .replace(/^Invalid librdkafka property "[^"]*": /, "")
    .replace(/^Cannot create [a-z ]+?: /, "")
    .replace(/^librdkafka refused the configuration: /, "");
}

/** The property librdkafka refused, from the error's key or its text. */
function refusedProperty(error: ConfigError, origins: ClientOrigins): string | undefined {
  if (error.key !== undefined && error.key.includes(".")) return error.key;
  const text = librdkafkaText(error.message);
  const named = /^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+) failed\b/.exec(text)?.[1] ??
    /property:? "([^"]+)"/.exec(text)?.[1];
  if (named !== undefined) return named;
  // The longest known property the text mentions.
  const known = [
    ...Object.keys(origins.additionalConfig ?? {}),
    ...[...origins.config.consumer, ...origins.config.producer].map((e) =>
      e.slice(0, e.indexOf("=")).trim()
    ),
    ...schema().flatMap((d) => d.rdkafka === undefined ? [] : [d.rdkafka]),
  ].sort((a, b) => b.length - a.length);
  return known.find((p) => text.includes(p));
}
