import assert from "node:assert/strict";
import { loadConfig, loadConfigWithSources } from "../../src/config/mod.ts";
import { assertConfigError, withYaml } from "./_helpers.ts";

const NO_ENV = {};

// ---------------------------------------------------------------- environment

Deno.test("`loadConfig()` reads settings from RACECAR_* variables", async () => {
  const config = await loadConfig({
    env: {
      RACECAR_BROKERS: "kafka1:9092, kafka2:9092",
      RACECAR_MAX_WAIT_TIME: "2.5",
      RACECAR_FETCH_MESSAGES: "50",
      RACECAR_DAEMONIZE: "1",
      RACECAR_SSL_VERIFY_HOSTNAME: "false",
      RACECAR_SECURITY_PROTOCOL: "SASL_SSL",
      RACECAR_GROUP_ID: "orders",
      PATH: "/usr/bin",
    },
    skipFiles: true,
  });
  assert.deepEqual(config.brokers, ["kafka1:9092", "kafka2:9092"]);
  assert.equal(config.maxWaitTime, 2.5);
  assert.equal(config.fetchMessages, 50);
  assert.equal(config.daemonize, true);
  assert.equal(config.sslVerifyHostname, false);
  assert.equal(config.securityProtocol, "sasl_ssl");
  assert.equal(config.groupId, "orders");
});

Deno.test("`loadConfig()` ignores an empty RACECAR_* variable", async () => {
  const config = await loadConfig({ env: { RACECAR_CLIENT_ID: "" }, skipFiles: true });
  assert.equal(config.clientId, "racecar");
});

Deno.test("`loadConfig()` rejects an unknown RACECAR_* variable with a suggestion", async () => {
  await assertConfigError(
    () => loadConfig({ env: { RACECAR_MAX_WAIT_TME: "1" }, skipFiles: true }),
    /^Unknown environment variable RACECAR_MAX_WAIT_TME: did you mean 'RACECAR_MAX_WAIT_TIME'\?/,
    "RACECAR_MAX_WAIT_TME",
  );
});

Deno.test("`loadConfig()` rejects an unknown RACECAR_* variable that resembles nothing", async () => {
  const error = await assertConfigError(
    () => loadConfig({ env: { RACECAR_ZZZZZZZZZZZZ: "1" }, skipFiles: true }),
    /^Unknown environment variable RACECAR_ZZZZZZZZZZZZ; Racecar reserves/,
  );
  assert.match(error.message, /RACECAR_ENV, RACECAR_LIBRDKAFKA_PATH/);
});

Deno.test("`loadConfig()` allows racecar's own non-setting RACECAR_* variables", async () => {
  const config = await loadConfig({
    env: {
      RACECAR_ENV: "production",
      RACECAR_LIBRDKAFKA_PATH: "/opt/librdkafka.so",
      RACECAR_TRANSPORT: "memory",
      RACECAR_KAFKA_PORT: "9093",
      RACECAR_KAFKA_HOME: "/opt/kafka",
    },
    skipFiles: true,
  });
  assert.equal(config.clientId, "racecar");
});

Deno.test("`loadConfig()` names the variable, the value and what is allowed when a number is bad", async () => {
  await assertConfigError(
    () => loadConfig({ env: { RACECAR_MAX_WAIT_TIME: "abc" }, skipFiles: true }),
    `Invalid configuration 'max_wait_time' from RACECAR_MAX_WAIT_TIME: expected a number of ` +
      `seconds of at least 0.001, got "abc"`,
    "maxWaitTime",
  );
});

Deno.test("`loadConfig()` rejects a bad value of each type when read from the environment", async () => {
  const cases: [string, string, RegExp][] = [
    ["RACECAR_FETCH_MESSAGES", "1.5", /expected an integer of at least 1, got "1.5"/],
    ["RACECAR_FETCH_MESSAGES", "0", /expected an integer of at least 1, got "0"/],
    ["RACECAR_DATADOG_PORT", "70000", /expected an integer from 1 to 65535, got "70000"/],
    ["RACECAR_MAX_BYTES", "lots", /expected an integer \(bytes\) of at least 1, got "lots"/],
    ["RACECAR_DAEMONIZE", "yes", /expected true, false, 1 or 0, got "yes"/],
    [
      "RACECAR_SECURITY_PROTOCOL",
      "tls",
      /expected one of "plaintext", "ssl", "sasl_plaintext", "sasl_ssl", got "tls"/,
    ],
    ["RACECAR_SESSION_TIMEOUT", "30s", /expected a number of seconds of at least 0, got "30s"/],
    ["RACECAR_CONSUMER", "fetch.min.bytes", /expected entries of the form "key=value"/],
    ["RACECAR_CONSUMER", "=1", /got "=1"/],
    [
      "RACECAR_PAUSE_TIMEOUT",
      "-0.5",
      /expected -1 \(pause until restart\), 0 \(do not pause\) or a positive number/,
    ],
    ["RACECAR_PAUSE_TIMEOUT", "-2", /got "-2"/],
  ];
  for (const [name, value, message] of cases) {
    const error = await assertConfigError(
      () => loadConfig({ env: { [name]: value }, skipFiles: true }),
      message,
    );
    assert.ok(error.message.includes(`from ${name}:`), error.message);
  }
});

Deno.test("`loadConfig()` reads librdkafka pass-through values that hold commas (debug=cgrp,fetch)", async () => {
  const config = await loadConfig({
    env: { RACECAR_CONSUMER: "debug=cgrp,fetch,fetch.wait.max.ms=50, client.rack = r1,r2" },
    skipFiles: true,
  });
  assert.deepEqual(config.consumer, [
    "debug=cgrp,fetch",
    "fetch.wait.max.ms=50",
    "client.rack = r1,r2",
  ]);
  const brokers = await loadConfig({
    env: { RACECAR_BROKERS: "a:9092,b:9092" },
    skipFiles: true,
  });
  assert.deepEqual(brokers.brokers, ["a:9092", "b:9092"]);
});

Deno.test("`loadConfig()` accepts pause_timeout -1 and 0 when read from the environment", async () => {
  for (const value of ["-1", "0"]) {
    const config = await loadConfig({ env: { RACECAR_PAUSE_TIMEOUT: value }, skipFiles: true });
    assert.equal(config.pauseTimeout, Number(value));
  }
});

// ---------------------------------------------------------------------- flags

Deno.test("`loadConfig()` reads flags keyed by camelCase, kebab-case or the flag itself", async () => {
  const config = await loadConfig({
    env: NO_ENV,
    flags: {
      maxWaitTime: "3",
      "client-id": "cli",
      "--fetch-messages": "7",
      daemonize: true,
      sslVerifyHostname: false,
      datadogTags: ["env:prod", "team:a"],
      groupId: undefined,
    },
    skipFiles: true,
  });
  assert.equal(config.maxWaitTime, 3);
  assert.equal(config.clientId, "cli");
  assert.equal(config.fetchMessages, 7);
  assert.equal(config.daemonize, true);
  assert.equal(config.sslVerifyHostname, false);
  assert.deepEqual(config.datadogTags, ["env:prod", "team:a"]);
  assert.equal(config.groupId, undefined);
});

Deno.test("`loadConfig()` rejects an unknown flag with a suggestion", async () => {
  await assertConfigError(
    () => loadConfig({ env: NO_ENV, flags: { maxWaitTme: "1" }, skipFiles: true }),
    "Unknown option '--maxWaitTme': did you mean '--max-wait-time'?",
  );
  await assertConfigError(
    () => loadConfig({ env: NO_ENV, flags: { "max-wait-tim": "1" }, skipFiles: true }),
    "Unknown option '--max-wait-tim': did you mean '--max-wait-time'?",
  );
});

Deno.test("`loadConfig()` names the flag when a flag's value is bad", async () => {
  await assertConfigError(
    () => loadConfig({ env: NO_ENV, flags: { socketTimeout: "soon" }, skipFiles: true }),
    `Invalid configuration 'socket_timeout' from --socket-timeout: expected a number of seconds ` +
      `of at least 0, got "soon"`,
    "socketTimeout",
  );
});

// ----------------------------------------------------------------------- YAML

Deno.test("`loadConfig()` merges the RACECAR_ENV section over common when both exist", async () => {
  await withYaml(
    `common:
  client_id: shared
  max_wait_time: 2
production:
  max_wait_time: 4
  brokers:
    - kafka1:9092
    - kafka2:9092
development:
  client_id: dev
`,
    async (cwd) => {
      const config = await loadConfig({ cwd, env: { RACECAR_ENV: "production" } });
      assert.equal(config.clientId, "shared");
      assert.equal(config.maxWaitTime, 4);
      assert.deepEqual(config.brokers, ["kafka1:9092", "kafka2:9092"]);
      const dev = await loadConfig({ cwd, env: NO_ENV });
      assert.equal(dev.clientId, "dev");
      assert.equal(dev.maxWaitTime, 2);
    },
  );
});

Deno.test("`loadConfig()` uses common alone when the RACECAR_ENV section is missing", async () => {
  await withYaml("common:\n  client_id: shared\n", async (cwd) => {
    const config = await loadConfig({ cwd, env: { RACECAR_ENV: "staging" } });
    assert.equal(config.clientId, "shared");
  });
});

Deno.test("`loadConfig()` lists the sections when neither RACECAR_ENV's nor common exists", async () => {
  await withYaml("production:\n  client_id: p\ntest:\n  client_id: t\n", async (cwd) => {
    await assertConfigError(
      () => loadConfig({ cwd, env: { RACECAR_ENV: "staging" } }),
      "Cannot load config/racecar.yml: it has no section 'staging' (from RACECAR_ENV, default " +
        "'development') and no 'common' section; its sections are: 'production', 'test'",
    );
  });
});

Deno.test("`loadConfig()` rejects an unknown YAML key with its line and a suggestion", async () => {
  await withYaml("common:\n  client_id: x\n  max_wait_tme: 2\n", async (cwd) => {
    await assertConfigError(
      () => loadConfig({ cwd, env: NO_ENV }),
      "Unknown configuration key 'max_wait_tme' in config/racecar.yml:3: did you mean " +
        "'max_wait_time'?",
      "max_wait_tme",
    );
  });
});

Deno.test("`loadConfig()` rejects a camelCase YAML key and suggests the snake_case one", async () => {
  await withYaml("common:\n  maxWaitTime: 2\n", async (cwd) => {
    await assertConfigError(
      () => loadConfig({ cwd, env: NO_ENV }),
      /'maxWaitTime' in config\/racecar.yml:2: did you mean 'max_wait_time'\?/,
    );
  });
});

Deno.test("`loadConfig()` names the file and line when a YAML value has the wrong type", async () => {
  await withYaml("common:\n\n  daemonize: sometimes\n", async (cwd) => {
    await assertConfigError(
      () => loadConfig({ cwd, env: NO_ENV }),
      `Invalid configuration 'daemonize' from config/racecar.yml:3: expected true, false, 1 or ` +
        `0, got "sometimes"`,
      "daemonize",
    );
  });
  await withYaml("common:\n  brokers: {a: 1}\n", async (cwd) => {
    await assertConfigError(
      () => loadConfig({ cwd, env: NO_ENV }),
      /'brokers' from config\/racecar.yml:2: expected a list of "host:port" strings/,
    );
  });
  await withYaml("common:\n  max_wait_time: [1]\n", async (cwd) => {
    await assertConfigError(
      () => loadConfig({ cwd, env: NO_ENV }),
      /'max_wait_time' from config\/racecar.yml:2: expected a number of seconds of at least 0.001, got \[1\]/,
    );
  });
});

Deno.test("`loadConfig()` accepts YAML numbers for strings, strings for lists and merge keys", async () => {
  await withYaml(
    `base: &base
  max_wait_time: 3
common:
  group_id: 12345
  brokers: "a:1,b:2"
development:
  <<: *base
  fetch_messages: 10
`,
    async (cwd) => {
      const config = await loadConfig({ cwd, env: NO_ENV });
      assert.equal(config.groupId, "12345");
      assert.deepEqual(config.brokers, ["a:1", "b:2"]);
      assert.equal(config.maxWaitTime, 3);
      assert.equal(config.fetchMessages, 10);
    },
  );
});

Deno.test("`loadConfig()` rejects ERB and invalid YAML with the line", async () => {
  await withYaml("common:\n  brokers: <%= ENV['X'] %>\n", async (cwd) => {
    await assertConfigError(
      () => loadConfig({ cwd, env: NO_ENV }),
      /^Cannot load config\/racecar.yml:2: ERB tags/,
    );
  });
  await withYaml("common:\n  client_id: a\n  client_id: b\n", async (cwd) => {
    await assertConfigError(
      () => loadConfig({ cwd, env: NO_ENV }),
      /^Cannot load config\/racecar.yml:3: invalid YAML: /,
    );
  });
  await withYaml("- a\n- b\n", async (cwd) => {
    await assertConfigError(
      () => loadConfig({ cwd, env: NO_ENV }),
      /^Cannot load config\/racecar.yml: expected sections such as 'common'/,
    );
  });
});

Deno.test("`loadConfig()` skips a missing or empty YAML file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal((await loadConfig({ cwd: dir, env: NO_ENV })).clientId, "racecar");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await withYaml("", async (cwd) => {
    assert.equal((await loadConfig({ cwd, env: NO_ENV })).clientId, "racecar");
  });
});

Deno.test("`loadConfig()` ignores files and code config when skipFiles is set", async () => {
  await withYaml("common:\n  client_id: file\n", async (cwd) => {
    const config = await loadConfig({
      cwd,
      env: NO_ENV,
      skipFiles: true,
      codeConfig: { clientId: "code" },
    });
    assert.equal(config.clientId, "racecar");
  });
});

// ---------------------------------------------------------------------- code

Deno.test("`loadConfig()` applies a code config function, checking each assignment", async () => {
  const onError = () => {};
  const config = await loadConfig({
    env: NO_ENV,
    skipFiles: false,
    cwd: "/nonexistent",
    codeConfig: {
      default: (c: { brokers: string[]; onError?: unknown; maxWaitTime: number }) => {
        c.brokers = ["code:9092"];
        c.onError = onError;
        c.maxWaitTime = c.maxWaitTime + 1;
      },
    },
  });
  assert.deepEqual(config.brokers, ["code:9092"]);
  assert.equal(config.onError, onError);
  assert.equal(config.maxWaitTime, 2);
});

Deno.test("`loadConfig()` awaits an async code config function", async () => {
  const config = await loadConfig({
    env: NO_ENV,
    cwd: "/nonexistent",
    codeConfig: async (c: { clientId: string }) => {
      await Promise.resolve();
      c.clientId = "later";
    },
  });
  assert.equal(config.clientId, "later");
});

Deno.test("`loadConfig()` applies a code config object", async () => {
  const config = await loadConfig({
    env: NO_ENV,
    cwd: "/nonexistent",
    codeConfig: { default: { groupId: "g", pauseWithExponentialBackoff: true } },
  });
  assert.equal(config.groupId, "g");
  assert.equal(config.pauseWithExponentialBackoff, true);
});

Deno.test("`loadConfig()` rejects unknown names and bad values in code config", async () => {
  await assertConfigError(
    () =>
      loadConfig({
        env: NO_ENV,
        cwd: "/nonexistent",
        codeConfig: (c: Record<string, unknown>) => {
          c.maxWaitTim = 1;
        },
      }),
    "Unknown setting 'maxWaitTim' in config/racecar.ts: did you mean 'maxWaitTime'?",
    "maxWaitTim",
  );
  await assertConfigError(
    () =>
      loadConfig({
        env: NO_ENV,
        cwd: "/nonexistent",
        codeConfig: { maxWaitTime: true },
      }),
    "Invalid configuration 'maxWaitTime' from config/racecar.ts: expected a number of seconds of " +
      "at least 0.001, got true",
    "maxWaitTime",
  );
  await assertConfigError(
    () => loadConfig({ env: NO_ENV, cwd: "/nonexistent", codeConfig: { onError: "report" } }),
    `Invalid configuration 'onError' from config/racecar.ts: expected a function, got "report"`,
  );
  await assertConfigError(
    () => loadConfig({ env: NO_ENV, cwd: "/nonexistent", codeConfig: { default: 42 } }),
    /^Cannot load config\/racecar.ts: expected its default export to be a function/,
  );
  await assertConfigError(
    () => loadConfig({ env: NO_ENV, cwd: "/nonexistent", codeConfig: { default: undefined } }),
    /^Cannot load config\/racecar.ts: it has no default export/,
  );
});

// -------------------------------------------------------------- class settings

Deno.test("`loadConfig()` applies consumer class settings and skips undeclared ones", async () => {
  const config = await loadConfig({
    env: NO_ENV,
    skipFiles: true,
    classSettings: { groupId: "orders", maxWaitTime: 5, fetchMessages: undefined },
  });
  assert.equal(config.groupId, "orders");
  assert.equal(config.maxWaitTime, 5);
  assert.equal(config.fetchMessages, 1000);
});

Deno.test("`loadConfig()` names the consumer class when a class setting is wrong", async () => {
  await assertConfigError(
    () =>
      loadConfig({
        env: NO_ENV,
        skipFiles: true,
        className: "OrdersConsumer",
        classSettings: { groupID: "x" },
      }),
    "Unknown setting 'groupID' in OrdersConsumer: did you mean 'groupId'?",
  );
  await assertConfigError(
    () =>
      loadConfig({
        env: NO_ENV,
        skipFiles: true,
        className: "OrdersConsumer",
        classSettings: { fetchMessages: -1 },
      }),
    "Invalid configuration 'fetchMessages' from OrdersConsumer: expected an integer of at least " +
      "1, got -1",
  );
});

// ----------------------------------------------------------------- precedence

Deno.test("`loadConfig()` applies defaults < class < YAML < code < env < flags", async () => {
  const yaml = `common:
  client_id: yaml
  group_id: yaml
  fetch_messages: 30
  max_wait_time: 3
  session_timeout: 40
development:
  pause_timeout: 3
`;
  await withYaml(yaml, async (cwd) => {
    const { config, sources } = await loadConfigWithSources({
      cwd,
      classSettings: { groupId: "class", maxWaitTime: 2, fetchMessages: 20, concurrency: 2 },
      className: "OrdersConsumer",
      codeConfig: (c: { fetchMessages: number; maxWaitTime: number; clientId: string }) => {
        c.maxWaitTime = 4;
        c.clientId = "code";
      },
      env: { RACECAR_MAX_WAIT_TIME: "5", RACECAR_CLIENT_ID: "env" },
      flags: { maxWaitTime: "6" },
    });
    assert.equal(config.socketTimeout, 30);
    assert.equal(sources.socketTimeout.kind, "default");
    assert.equal(config.concurrency, 2);
    assert.deepEqual(sources.concurrency, {
      kind: "class",
      label: "OrdersConsumer",
      key: "concurrency",
    });
    assert.equal(config.groupId, "yaml");
    assert.equal(config.fetchMessages, 30);
    assert.deepEqual(sources.fetchMessages, {
      kind: "file",
      label: "config/racecar.yml:4",
      key: "fetch_messages",
    });
    assert.equal(config.pauseTimeout, 3);
    assert.equal(sources.pauseTimeout.label, "config/racecar.yml:8");
    assert.equal(config.sessionTimeout, 40);
    assert.equal(config.clientId, "env");
    assert.equal(sources.clientId.label, "RACECAR_CLIENT_ID");
    assert.equal(config.maxWaitTime, 6);
    assert.deepEqual(sources.maxWaitTime, {
      kind: "flag",
      label: "--max-wait-time",
      key: "max_wait_time",
    });
  });
});

Deno.test("`loadConfig()` lets a code config see and override YAML values", async () => {
  await withYaml("common:\n  fetch_messages: 30\n", async (cwd) => {
    let seen = 0;
    const config = await loadConfig({
      cwd,
      env: NO_ENV,
      codeConfig: (c: { fetchMessages: number }) => {
        seen = c.fetchMessages;
        c.fetchMessages = seen * 2;
      },
    });
    assert.equal(seen, 30);
    assert.equal(config.fetchMessages, 60);
  });
});

Deno.test("`loadConfig()` validates the merged result and names the winning source", async () => {
  await assertConfigError(
    () =>
      loadConfig({
        env: { RACECAR_MAX_WAIT_TIME: "31" },
        skipFiles: true,
      }),
    "Invalid configuration 'socket_timeout': must be longer than 'max_wait_time' (31 from " +
      "RACECAR_MAX_WAIT_TIME), got 30",
    "socketTimeout",
  );
  const config = await loadConfig({
    env: { RACECAR_MAX_WAIT_TIME: "31" },
    skipFiles: true,
    validate: false,
  });
  assert.equal(config.maxWaitTime, 31);
});

// ------------------------------------------------------------ bad input (issue 11)

Deno.test("`loadConfig()` rejects brokers that are not host:port when read from each source", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ RACECAR_BROKERS: "localhost" }, /got "localhost": the port is missing/],
    [{ RACECAR_BROKERS: "a:65536" }, /the port 65536 is outside 1-65535/],
    [{ RACECAR_BROKERS: "fe80::1:9092" }, /put an IPv6 address in brackets/],
  ];
  for (const [env, message] of cases) {
    await assertConfigError(() => loadConfig({ env, skipFiles: true }), message, "brokers");
  }
  const ok = await loadConfig({
    env: { RACECAR_BROKERS: "[::1]:9092,SSL://kafka-1.example.com:9093" },
    skipFiles: true,
  });
  assert.deepEqual(ok.brokers, ["[::1]:9092", "SSL://kafka-1.example.com:9093"]);
  await assertConfigError(
    () => loadConfig({ env: NO_ENV, cwd: "/nonexistent", codeConfig: { brokers: [9092] } }),
    /'brokers' from config\/racecar.ts: expected a list of "host:port" strings/,
  );
});

Deno.test("`loadConfig()` rejects an empty string where a setting needs text", async () => {
  await assertConfigError(
    () => loadConfig({ env: NO_ENV, flags: { clientId: "" }, skipFiles: true }),
    `Invalid configuration 'client_id' from --client-id: must not be empty, got "": give a ` +
      `value, or remove it to use the default ("racecar")`,
    "clientId",
  );
  const config = await loadConfig({ env: NO_ENV, flags: { groupIdPrefix: "" }, skipFiles: true });
  assert.equal(config.groupIdPrefix, "");
});

Deno.test("`loadConfig()` warns about an empty file and a RACECAR_ENV with no section", async () => {
  const warnings: string[] = [];
  const onWarning = (message: string) => void warnings.push(message);
  await withYaml("# nothing yet\n", async (cwd) => {
    await loadConfig({ cwd, env: NO_ENV, onWarning });
  });
  await withYaml("common:\n  client_id: a\n", async (cwd) => {
    await loadConfig({ cwd, env: { RACECAR_ENV: "prod" }, onWarning });
    await loadConfig({ cwd, env: NO_ENV, onWarning });
  });
  assert.deepEqual(warnings, [
    "config/racecar.yml is empty: expected sections such as 'common' and 'development'; using " +
    "the defaults, the environment and flags only",
    "config/racecar.yml has no section 'prod' (from RACECAR_ENV): only 'common' applies; its " +
    "sections are: 'common'",
  ]);
});
