import assert from "node:assert/strict";
import {
  defaultConfig,
  inspectConfig,
  type RacecarConfig,
  redact,
  redactProperties,
} from "../../src/config/mod.ts";

const SECRET_CONFIG: RacecarConfig = {
  ...defaultConfig(),
  saslUsername: "alice",
  saslPassword: "hunter2",
  sslKeyPassword: "hunter2",
  sslKeystorePassword: "hunter2",
  sslKeyPem: "hunter2",
  saslOauthbearerConfig: "hunter2",
  consumer: [
    "ssl.key.password=hunter2",
    "sasl.password=hunter2",
    "ssl.key.pem=hunter2",
    "sasl.oauthbearer.client.secret=hunter2",
    "sasl.oauthbearer.config=hunter2",
    "fetch.min.bytes=1",
  ],
  producer: ["some.secret=hunter2", "linger.ms=5"],
};

Deno.test("`redact()` hides secret settings and secret pass-through values", () => {
  const safe = redact(SECRET_CONFIG);
  assert.equal(safe.saslPassword, "[REDACTED]");
  assert.equal(safe.sslKeyPassword, "[REDACTED]");
  assert.equal(safe.sslKeystorePassword, "[REDACTED]");
  assert.equal(safe.sslKeyPem, "[REDACTED]");
  assert.equal(safe.saslOauthbearerConfig, "[REDACTED]");
  assert.equal(safe.saslUsername, "alice");
  assert.deepEqual(safe.consumer, [
    "ssl.key.password=[REDACTED]",
    "sasl.password=[REDACTED]",
    "ssl.key.pem=[REDACTED]",
    "sasl.oauthbearer.client.secret=[REDACTED]",
    "sasl.oauthbearer.config=[REDACTED]",
    "fetch.min.bytes=1",
  ]);
  assert.deepEqual(safe.producer, ["some.secret=[REDACTED]", "linger.ms=5"]);
  assert.ok(!JSON.stringify(safe).includes("hunter2"));
});

Deno.test("`redact()` leaves unset secrets unset and the input untouched", () => {
  assert.equal(redact(defaultConfig()).saslPassword, undefined);
  redact(SECRET_CONFIG);
  assert.equal(SECRET_CONFIG.saslPassword, "hunter2");
  assert.equal(SECRET_CONFIG.consumer[0], "ssl.key.password=hunter2");
});

Deno.test("`inspectConfig()` prints every setting without secrets", () => {
  const text = inspectConfig(SECRET_CONFIG);
  assert.ok(!text.includes("hunter2"));
  assert.match(text, /^brokers = \["localhost:9092"\]$/m);
  assert.match(text, /^sasl_password = "\[REDACTED\]"$/m);
  assert.match(text, /^group_id = \(unset\)$/m);
});

Deno.test("`redactProperties()` hides secret librdkafka properties", () => {
  assert.deepEqual(
    redactProperties({ "sasl.password": "x", "ssl.key.pem": "x", "client.id": "c" }),
    { "sasl.password": "[REDACTED]", "ssl.key.pem": "[REDACTED]", "client.id": "c" },
  );
});
