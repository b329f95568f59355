import assert from "node:assert/strict";
import {
  defaultConfig,
  envVarName,
  flagSpecs,
  type RacecarConfig,
  schema,
  SETTINGS,
  snakeCase,
} from "../../src/config/mod.ts";

// Reference 2.1: all 59 racecar settings.
const RACECAR_SETTINGS = [
  "brokers",
  "client_id",
  "offset_commit_interval",
  "heartbeat_interval",
  "min_message_queue_size",
  "partition_assignment_strategy",
  "consumer",
  "producer",
  "fetch_messages",
  "fetch_min_bytes",
  "synchronous_commits",
  "pause_timeout",
  "max_pause_timeout",
  "pause_with_exponential_backoff",
  "session_timeout",
  "max_poll_interval",
  "socket_timeout",
  "max_wait_time",
  "message_timeout",
  "max_bytes",
  "group_id_prefix",
  "group_id",
  "logfile",
  "log_level",
  "partitioner",
  "security_protocol",
  "ssl_ca_location",
  "ssl_crl_location",
  "ssl_keystore_location",
  "ssl_keystore_password",
  "ssl_certificate_location",
  "ssl_key_location",
  "ssl_key_password",
  "sasl_mechanism",
  "sasl_kerberos_service_name",
  "sasl_kerberos_principal",
  "sasl_kerberos_kinit_cmd",
  "sasl_kerberos_keytab",
  "sasl_kerberos_min_time_before_relogin",
  "sasl_username",
  "sasl_password",
  "sasl_over_ssl",
  "pidfile",
  "daemonize",
  "producer_compression_codec",
  "datadog_enabled",
  "datadog_host",
  "datadog_port",
  "datadog_socket_path",
  "datadog_namespace",
  "datadog_tags",
  "ssl_verify_hostname",
  "without_rails",
  "statistics_interval",
  "liveness_probe_enabled",
  "liveness_probe_file_path",
  "liveness_probe_max_interval",
  "liveness_probe_skip_config_files",
  "multi_subscription_strategy",
];

const DROPPED = ["without_rails", "sasl_over_ssl"];

Deno.test("`schema()` has every racecar setting except the dropped ones", () => {
  assert.equal(RACECAR_SETTINGS.length, 59);
  const keys = new Set(schema().map((d) => d.fileKey));
  for (const key of RACECAR_SETTINGS) {
    assert.equal(keys.has(key), !DROPPED.includes(key), key);
  }
});

Deno.test("`schema()` has the settings this port adds", () => {
  const names = new Set(schema().map((d) => d.name));
  for (
    const name of [
      "maxRetries",
      "deadLetterTopic",
      "deadLetterSafetyLimit",
      "concurrency",
      "consumersDir",
      "readinessProbeFilePath",
      "prometheusEnabled",
      "prometheusPort",
      "prometheusHost",
      "saslOauthbearerConfig",
      "sslVerifyCertificate",
    ]
  ) assert.ok(names.has(name as never), name);
  assert.ok(!names.has("env" as never));
});

Deno.test("`defaultConfig()` returns racecar's defaults when nothing is configured", () => {
  const config = defaultConfig();
  assert.deepEqual(config.brokers, ["localhost:9092"]);
  assert.equal(config.clientId, "racecar");
  assert.equal(config.offsetCommitInterval, 10);
  assert.equal(config.heartbeatInterval, 10);
  assert.equal(config.minMessageQueueSize, 2000);
  assert.equal(config.partitionAssignmentStrategy, "range,roundrobin");
  assert.equal(config.fetchMessages, 1000);
  assert.equal(config.fetchMinBytes, 1);
  assert.equal(config.synchronousCommits, false);
  assert.equal(config.pauseTimeout, 10);
  assert.equal(config.maxPauseTimeout, undefined);
  assert.equal(config.pauseWithExponentialBackoff, false);
  assert.equal(config.sessionTimeout, 30);
  assert.equal(config.maxPollInterval, 300);
  assert.equal(config.socketTimeout, 30);
  assert.equal(config.maxWaitTime, 1);
  assert.equal(config.messageTimeout, 300);
  assert.equal(config.maxBytes, 10485760);
  assert.equal(config.logLevel, "info");
  assert.equal(config.partitioner, "consistent_random");
  assert.equal(config.sslVerifyHostname, true);
  assert.equal(config.statisticsInterval, 1);
  assert.equal(config.livenessProbeMaxInterval, 5);
  assert.match(config.livenessProbeFilePath, /\/racecar-liveness$/);
  assert.equal(config.multiSubscriptionStrategy, "exhaust-topic");
  assert.equal(config.maxRetries, undefined);
  assert.equal(config.concurrency, 1);
  assert.equal(config.consumersDir, "consumers");
  assert.deepEqual(config.consumer, []);
});

Deno.test("`defaultConfig()` returns a fresh copy each time", () => {
  const a = defaultConfig();
  a.brokers.push("other:9092");
  assert.deepEqual(defaultConfig().brokers, ["localhost:9092"]);
});

Deno.test("`schema()` derives file keys, environment variables and flags from names", () => {
  const def = schema().find((d) => d.name === "saslKerberosMinTimeBeforeRelogin")!;
  assert.equal(def.fileKey, "sasl_kerberos_min_time_before_relogin");
  assert.equal(def.envVar, "RACECAR_SASL_KERBEROS_MIN_TIME_BEFORE_RELOGIN");
  assert.equal(def.flag, "--sasl-kerberos-min-time-before-relogin");
  assert.equal(envVarName("clientId"), "RACECAR_CLIENT_ID");
  assert.equal(snakeCase("sslCaPem"), "ssl_ca_pem");
});

Deno.test("`schema()` declares defaults within their allowed values and ranges", () => {
  for (const def of schema()) {
    if (def.type === "enum" && def.default !== undefined) {
      assert.ok(def.allowed.includes(def.default), def.name);
    }
    if ((def.type === "integer" || def.type === "duration") && def.default !== undefined) {
      if (def.min !== undefined) assert.ok(def.default >= def.min, def.name);
      if (def.max !== undefined) assert.ok(def.default <= def.max, def.name);
    }
    assert.ok(def.description.length > 10, def.name);
  }
});

Deno.test("`schema()` marks every password, key and token as secret", () => {
  const secrets = schema().filter((d) => d.secret).map((d) => d.name).sort();
  assert.deepEqual(secrets, [
    "saslOauthbearerConfig",
    "saslPassword",
    "sslKeyPassword",
    "sslKeyPem",
    "sslKeystorePassword",
  ]);
});

Deno.test("`schema()` accepts OAUTHBEARER and zstd", () => {
  assert.ok((SETTINGS.saslMechanism.allowed as readonly string[]).includes("OAUTHBEARER"));
  assert.ok((SETTINGS.producerCompressionCodec.allowed as readonly string[]).includes("zstd"));
});

Deno.test("`RacecarConfig` types values from the schema", () => {
  const config: RacecarConfig = defaultConfig();
  const wait: number = config.maxWaitTime;
  const group: string | undefined = config.groupId;
  const protocol: "plaintext" | "ssl" | "sasl_plaintext" | "sasl_ssl" | undefined =
    config.securityProtocol;
  // @ts-expect-error: groupId may be undefined
  const mustBeString: string = config.groupId;
  // @ts-expect-error: "tls" is not a security protocol
  config.securityProtocol = "tls";
  assert.equal(typeof wait, "number");
  void [group, protocol, mustBeString];
});

Deno.test("`flagSpecs()` describes one flag per setting with its default", () => {
  const specs = flagSpecs();
  assert.equal(specs.length, schema().length);
  const wait = specs.find((s) => s.name === "maxWaitTime")!;
  assert.equal(wait.usage, "--max-wait-time <seconds>");
  assert.match(wait.description, /\(default: 1\)$/);
  const daemonize = specs.find((s) => s.name === "daemonize")!;
  assert.equal(daemonize.usage, "--daemonize");
  assert.equal(daemonize.negation, "--no-daemonize");
  assert.match(daemonize.description, /\(default: false\)$/);
  const brokers = specs.find((s) => s.name === "brokers")!;
  assert.match(brokers.description, /\(default: localhost:9092\)$/);
  const protocol = specs.find((s) => s.name === "securityProtocol")!;
  assert.deepEqual(protocol.choices, ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"]);
  assert.match(protocol.description, /\(default: none\)$/);
  const password = specs.find((s) => s.name === "saslPassword")!;
  assert.ok(password.secret);
  assert.equal(specs.find((s) => s.name === "consumer")!.usage, "--consumer <key=value,...>");
});
