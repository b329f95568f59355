import {
  defaultConfig,
  loadConfig,
  type RacecarConfig,
  validateConfig,
} from "../../src/config/mod.ts";
import { assertConfigError, withYaml } from "./_helpers.ts";

function config(overrides: Partial<RacecarConfig>): RacecarConfig {
  return { ...defaultConfig(), ...overrides };
}

Deno.test("`validateConfig()` accepts the defaults", () => {
  validateConfig(defaultConfig());
});

Deno.test("`validateConfig()` rejects empty brokers", async () => {
  await assertConfigError(
    () => validateConfig(config({ brokers: [] })),
    `Invalid configuration 'brokers': must list at least one broker as "host:port", got []`,
    "brokers",
  );
});

Deno.test("`loadConfig()` rejects empty brokers when the YAML or environment empties them", async () => {
  await assertConfigError(
    () => loadConfig({ env: { RACECAR_BROKERS: "," }, skipFiles: true }),
    /^Invalid configuration 'brokers' from RACECAR_BROKERS: must list at least one broker/,
  );
});

Deno.test("`validateConfig()` rejects socket_timeout not longer than max_wait_time", async () => {
  await assertConfigError(
    () => validateConfig(config({ socketTimeout: 5, maxWaitTime: 5 })),
    "Invalid configuration 'socket_timeout': must be longer than 'max_wait_time' (5), got 5",
    "socketTimeout",
  );
});

Deno.test("`validateConfig()` rejects max_pause_timeout without exponential backoff", async () => {
  await assertConfigError(
    () => validateConfig(config({ maxPauseTimeout: 60 })),
    /^Invalid configuration 'max_pause_timeout': only makes sense when 'pause_with_exponential_backoff' is enabled/,
    "maxPauseTimeout",
  );
  validateConfig(config({ maxPauseTimeout: 60, pauseWithExponentialBackoff: true }));
});

Deno.test("`validateConfig()` rejects timeouts librdkafka would refuse", async () => {
  await assertConfigError(
    () => validateConfig(config({ maxPollInterval: 10 })),
    "Invalid configuration 'max_poll_interval': must be at least 'session_timeout' (30), got 10",
  );
  await assertConfigError(
    () => validateConfig(config({ heartbeatInterval: 30 })),
    "Invalid configuration 'heartbeat_interval': must be shorter than 'session_timeout' (30), " +
      "got 30",
  );
});

Deno.test("`validateConfig()` rejects unknown or mixed partition assignors", async () => {
  await assertConfigError(
    () => validateConfig(config({ partitionAssignmentStrategy: "range,sticky" })),
    /expected a comma-separated list of "range", "roundrobin", "cooperative-sticky", got "sticky"/,
  );
  await assertConfigError(
    () => validateConfig(config({ partitionAssignmentStrategy: "cooperative-sticky,range" })),
    /"cooperative-sticky" cannot be combined with other assignors/,
  );
  validateConfig(config({ partitionAssignmentStrategy: "cooperative-sticky" }));
});

Deno.test("`validateConfig()` requires max_retries and dead_letter_topic together", async () => {
  await assertConfigError(
    () => validateConfig(config({ maxRetries: 3 })),
    /^Invalid configuration 'max_retries': needs 'dead_letter_topic'/,
    "maxRetries",
  );
  await assertConfigError(
    () => validateConfig(config({ deadLetterTopic: "dlq" })),
    /^Invalid configuration 'dead_letter_topic': needs 'max_retries'/,
    "deadLetterTopic",
  );
  validateConfig(config({ maxRetries: 0, deadLetterTopic: "dlq" }));
});

Deno.test("`validateConfig()` rejects retries when pause_timeout stops or pauses forever", async () => {
  await assertConfigError(
    () => validateConfig(config({ maxRetries: 3, deadLetterTopic: "dlq", pauseTimeout: 0 })),
    /'pause_timeout': must be positive when 'max_retries' is set, got 0: 0 stops the consumer/,
  );
  await assertConfigError(
    () => validateConfig(config({ maxRetries: 3, deadLetterTopic: "dlq", pauseTimeout: -1 })),
    /got -1: -1 pauses until restart/,
  );
});

Deno.test("`validateConfig()` names the key as written and its source", async () => {
  await assertConfigError(
    () =>
      validateConfig(config({ maxPauseTimeout: 5 }), {
        maxPauseTimeout: { kind: "code", label: "config/racecar.ts", key: "maxPauseTimeout" },
      }),
    /^Invalid configuration 'maxPauseTimeout' from config\/racecar.ts: /,
  );
});

Deno.test("`validateConfig()` accepts a group_instance_id of Kafka's characters up to 249 long", () => {
  validateConfig(config({ groupInstanceId: "Payments_consumer.0-a" }));
  validateConfig(config({ groupInstanceId: "x".repeat(249) }));
});

Deno.test("`validateConfig()` rejects a group_instance_id Kafka would refuse", async () => {
  const cases: [string, string][] = [
    ["", `must not be empty: unset it to be a dynamic member, got ""`],
    ["x".repeat(250), "must be at most 249 characters long, got 250"],
    ["pod/0", `may contain only ASCII letters, digits, ".", "_" and "-", got "pod/0"`],
    ["pödd", `may contain only ASCII letters, digits, ".", "_" and "-", got "pödd"`],
    ["..", `must not be "." or "..", got ".."`],
  ];
  for (const [id, detail] of cases) {
    await assertConfigError(
      () => validateConfig(config({ groupInstanceId: id })),
      `Invalid configuration 'group_instance_id': ${detail}`,
      "groupInstanceId",
    );
  }
});

Deno.test("`loadConfig()` names the file key when group_instance_id in racecar.yml is invalid", async () => {
  await withYaml("development:\n  group_instance_id: payments 0\n", async (cwd) => {
    await assertConfigError(
      () => loadConfig({ cwd, env: {} }),
      /^Invalid configuration 'group_instance_id' from config\/racecar\.yml(:\d+)?: may contain only/,
      "groupInstanceId",
    );
  });
});

Deno.test("`validateConfig()` rejects brokers set in code that are not host:port", async () => {
  await assertConfigError(
    () => validateConfig(config({ brokers: ["kafka"] })),
    `Invalid configuration 'brokers': expected "host:port" entries, got "kafka": the port is ` +
      `missing: write "kafka:9092" for Kafka's usual port`,
    "brokers",
  );
});
