/**
 * Configuration for Apache Kafka on Heroku, from the add-on's config vars.
 *
 * Certificates are handed to librdkafka as in-memory PEM strings
 * (`ssl.ca.pem`, `ssl.certificate.pem`, `ssl.key.pem`). Racecar wrote them to
 * temp files it did not keep a reference to, so the garbage collector could
 * delete them while the process still needed them.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import type { Settings } from "./schema.ts";

/** Options of {@link herokuConfig}. */
export interface HerokuOptions {
  /**
   * The add-on's attachment name, the prefix of its config vars (`KAFKA_URL`,
   * `KAFKA_TRUSTED_CERT`, ...). Use it when the add-on is attached under
   * another name, e.g. `HEROKU_KAFKA_ORANGE`.
   * @default "KAFKA"
   */
  prefix?: string;
}

/** The settings {@link herokuConfig} provides. */
export type HerokuSettings = Pick<
  Settings,
  | "brokers"
  | "securityProtocol"
  | "sslCaPem"
  | "sslCertificatePem"
  | "sslKeyPem"
  | "sslVerifyHostname"
>;

/**
 * Settings for Heroku Kafka from `<prefix>_URL`, `<prefix>_TRUSTED_CERT`,
 * `<prefix>_CLIENT_CERT` and `<prefix>_CLIENT_CERT_KEY`. Broker URLs lose their
 * `kafka+ssl://` scheme. Heroku's broker certificates do not name the brokers'
 * host names, so host name verification is off; the certificate chain is still
 * verified against the trusted certificate.
 *
 * Use it from `config/racecar.ts`:
 * `export default (config) => Object.assign(config, herokuConfig(process.env))`.
 *
 * @throws {ConfigError} naming the first missing variable.
 *
 * @example
 * ```ts
 * import { herokuConfig } from "./heroku.ts";
 * const settings = herokuConfig({
 *   KAFKA_URL: "kafka+ssl://b1:9096,kafka+ssl://b2:9096",
 *   KAFKA_TRUSTED_CERT: "-----BEGIN CERTIFICATE-----...",
 *   KAFKA_CLIENT_CERT: "-----BEGIN CERTIFICATE-----...",
 *   KAFKA_CLIENT_CERT_KEY: "-----BEGIN RSA PRIVATE KEY-----...",
 * });
 * console.assert(settings.brokers.join() === "b1:9096,b2:9096");
 * ```
 */
export function herokuConfig(
  env: Record<string, string | undefined>,
  options: HerokuOptions = {},
): HerokuSettings {
  const prefix = options.prefix ?? "KAFKA";
  const need = (suffix: string): string => {
    const name = `${prefix}_${suffix}`;
    const value = env[name];
    if (value === undefined || value.trim() === "") {
      throw new ConfigError(
        `Cannot configure Kafka on Heroku: environment variable ${name} is not set: attach the ` +
          `Kafka add-on${prefix === "KAFKA" ? " as KAFKA" : ` as ${prefix}`} or pass its ` +
          `attachment name as 'prefix'`,
        { key: name },
      );
    }
    return value;
  };
  const url = need("URL");
  const brokers = url.split(",").map((b) => b.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, ""))
    .filter((b) => b !== "");
  return {
    brokers,
    securityProtocol: "ssl",
    sslCaPem: need("TRUSTED_CERT"),
    sslCertificatePem: need("CLIENT_CERT"),
    sslKeyPem: need("CLIENT_CERT_KEY"),
    sslVerifyHostname: false,
  };
}
