/**
 * Turns Kafka client errors that no retry will fix (wrong credentials, an
 * untrusted certificate) into one clear message naming the settings to check.
 * librdkafka reports them as ordinary, non-fatal errors and reconnects
 * forever; the commands stop at the first one instead.
 *
 * @module
 */

import type { RacecarConfig } from "../config/mod.ts";
import { ErrorCode, KafkaError, RacecarError } from "../errors.ts";

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
