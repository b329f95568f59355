import assert from "node:assert/strict";
import { consumerConfig, defaultConfig, herokuConfig, loadConfig } from "../../src/config/mod.ts";
import { assertConfigError } from "./_helpers.ts";

const ENV = {
  KAFKA_URL:
    "kafka+ssl://ec2-1.compute.amazonaws.com:9096,kafka+ssl://ec2-2.compute.amazonaws.com:9096",
  KAFKA_TRUSTED_CERT: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
  KAFKA_CLIENT_CERT: "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n",
  KAFKA_CLIENT_CERT_KEY: "-----BEGIN RSA PRIVATE KEY-----\nKEY\n-----END RSA PRIVATE KEY-----\n",
};

Deno.test("`herokuConfig()` reads brokers and PEM certificates from Heroku's variables", () => {
  assert.deepEqual(herokuConfig(ENV), {
    brokers: ["ec2-1.compute.amazonaws.com:9096", "ec2-2.compute.amazonaws.com:9096"],
    securityProtocol: "ssl",
    sslCaPem: ENV.KAFKA_TRUSTED_CERT,
    sslCertificatePem: ENV.KAFKA_CLIENT_CERT,
    sslKeyPem: ENV.KAFKA_CLIENT_CERT_KEY,
    sslVerifyHostname: false,
  });
});

Deno.test("`herokuConfig()` feeds in-memory PEM properties to librdkafka", () => {
  const props = consumerConfig({ ...defaultConfig(), ...herokuConfig(ENV) });
  assert.equal(props["ssl.ca.pem"], ENV.KAFKA_TRUSTED_CERT);
  assert.equal(props["ssl.certificate.pem"], ENV.KAFKA_CLIENT_CERT);
  assert.equal(props["ssl.key.pem"], ENV.KAFKA_CLIENT_CERT_KEY);
  assert.equal(props["ssl.ca.location"], undefined);
  assert.equal(props["security.protocol"], "ssl");
  assert.equal(props["bootstrap.servers"]?.includes("kafka+ssl://"), false);
});

Deno.test("`herokuConfig()` names the missing variable when one is not set", async () => {
  for (const name of Object.keys(ENV)) {
    const env: Record<string, string | undefined> = { ...ENV, [name]: undefined };
    await assertConfigError(
      () => herokuConfig(env),
      new RegExp(`^Cannot configure Kafka on Heroku: environment variable ${name} is not set`),
      name,
    );
  }
});

Deno.test("`herokuConfig()` reads another attachment's variables when given a prefix", () => {
  const env = Object.fromEntries(
    Object.entries(ENV).map(([k, v]) => [k.replace("KAFKA", "HEROKU_KAFKA_ORANGE"), v]),
  );
  assert.equal(herokuConfig(env, { prefix: "HEROKU_KAFKA_ORANGE" }).brokers.length, 2);
});

Deno.test("`loadConfig()` applies Heroku settings from a code config", async () => {
  const config = await loadConfig({
    env: {},
    cwd: "/nonexistent",
    codeConfig: { default: herokuConfig(ENV) },
  });
  assert.equal(config.securityProtocol, "ssl");
  assert.equal(config.sslKeyPem, ENV.KAFKA_CLIENT_CERT_KEY);
});
