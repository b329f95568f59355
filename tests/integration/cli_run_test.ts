/**
 * Subprocess tests of `racecar` itself: precedence of every configuration
 * source, error messages and exit codes, the SIGUSR2 configuration dump, `--version` and
 * `--help`. They run over the in-memory transport (`RACECAR_TRANSPORT=memory`)
 * where no broker is needed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { cleanEnv, FIXTURES, racecar, unique, waitUntil } from "../cli/_helpers.ts";
import { CONFIG_DUMP_SIGNAL } from "../../src/cli/_process.ts";

const memoryEnv = (extra: Record<string, string> = {}) =>
  cleanEnv({ RACECAR_TRANSPORT: "memory", FIXTURE_TOPIC: unique("run"), ...extra });

async function project(files: Record<string, string> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "racecar-cli-" });
  await Deno.mkdir(`${dir}/config`);
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return dir;
}

/** Starts EchoConsumer, asks for the configuration dump, stops it; returns the dump. */
async function configDump(dir: string, env: Record<string, string>, flags: string[] = []) {
  const proc = racecar(["EchoConsumer", "--require", FIXTURES, ...flags], { cwd: dir, env });
  try {
    await proc.waitFor("Wrooooom!");
    proc.kill(CONFIG_DUMP_SIGNAL);
    await proc.waitFor(/fetch_messages = \d+/);
    proc.kill("SIGTERM");
    assert.deepEqual((await proc.status()).code, 0, proc.output);
    return proc.stderr;
  } finally {
    await proc.dispose();
  }
}

function fetchMessages(dump: string): number {
  return Number(dump.match(/fetch_messages = (\d+)/)![1]);
}

Deno.test({
  name: "`racecar` applies class < yml < racecar.ts < env < flag when all sources set a value",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const yml = "common:\n  fetch_messages: 22\n";
    const code = "export default { fetchMessages: 33 };\n";
    const cases: [Record<string, string>, Record<string, string>, string[], number][] = [
      [{}, {}, [], 11],
      [{ "config/racecar.yml": yml }, {}, [], 22],
      [{ "config/racecar.yml": yml, "config/racecar.ts": code }, {}, [], 33],
      [
        { "config/racecar.yml": yml, "config/racecar.ts": code },
        { RACECAR_FETCH_MESSAGES: "44" },
        [],
        44,
      ],
      [
        { "config/racecar.yml": yml, "config/racecar.ts": code },
        { RACECAR_FETCH_MESSAGES: "44" },
        ["--fetch-messages", "55"],
        55,
      ],
    ];
    for (const [files, env, flags, expected] of cases) {
      const dir = await project(files);
      try {
        const dump = await configDump(dir, memoryEnv(env), flags);
        assert.deepEqual(
          fetchMessages(dump),
          expected,
          `files ${Object.keys(files)}, env ${JSON.stringify(env)}, flags ${flags}`,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  },
});

Deno.test({
  name: "`racecar` prints the configuration on its dump signal without opening the V8 inspector",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await project();
    try {
      const proc = racecar(["EchoConsumer", "--require", FIXTURES], { cwd: dir, env: memoryEnv() });
      try {
        await proc.waitFor("Wrooooom!");
        proc.kill(CONFIG_DUMP_SIGNAL);
        await proc.waitFor(/fetch_messages = \d+/);
        // Deno prints "Debugger listening on ws://127.0.0.1:9229/..." when a signal opened the
        // inspector; a second dump and a clean stop give it every chance to show.
        proc.kill(CONFIG_DUMP_SIGNAL);
        await waitUntil("a second dump", () => proc.stderr.split("fetch_messages =").length > 2);
        proc.kill("SIGTERM");
        assert.deepEqual((await proc.status()).code, 0, proc.output);
        assert.ok(
          !proc.output.includes("Debugger listening"),
          `a debugger opened:\n${proc.output}`,
        );
      } finally {
        await proc.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "`racecar` SIGUSR2 prints the configuration with secrets redacted when secrets are set",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await project();
    try {
      const secret = "hunter2-" + crypto.randomUUID();
      const dump = await configDump(
        dir,
        memoryEnv({
          RACECAR_SASL_PASSWORD: secret,
          RACECAR_PRODUCER: `ssl.key.password=${secret}`,
        }),
      );
      assert.ok(dump.includes('sasl_password = "[REDACTED]"'), dump);
      assert.ok(dump.includes("ssl.key.password=[REDACTED]"), dump);
      assert.ok(!dump.includes(secret), "the secret was printed");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

async function runToEnd(args: string[], env: Record<string, string> = memoryEnv()) {
  const dir = await project();
  const proc = racecar(args, { cwd: dir, env });
  try {
    const status = await proc.status(60_000);
    return { code: status.code, stdout: proc.stdout, stderr: proc.stderr };
  } finally {
    await proc.dispose();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`racecar` exits 2 naming the flag when a flag is unknown", async () => {
  const result = await runToEnd(["EchoConsumer", "--require", FIXTURES, "--fetch-mesages", "3"]);
  assert.deepEqual(result.code, 2);
  assert.ok(result.stderr.includes("unknown option '--fetch-mesages'"), result.stderr);
});

Deno.test("`racecar` exits 2 with a did-you-mean when a RACECAR_ variable is unknown", async () => {
  const result = await runToEnd(
    ["EchoConsumer", "--require", FIXTURES],
    memoryEnv({ RACECAR_FETCH_MESAGES: "3" }),
  );
  assert.deepEqual(result.code, 2);
  assert.ok(result.stderr.includes("Unknown environment variable RACECAR_FETCH_MESAGES"));
  assert.ok(result.stderr.includes("did you mean 'RACECAR_FETCH_MESSAGES'?"), result.stderr);
});

Deno.test("`racecar` exits 2 naming the setting when a value is invalid", async () => {
  const result = await runToEnd(["EchoConsumer", "--require", FIXTURES, "--fetch-messages", "x"]);
  assert.deepEqual(result.code, 2);
  assert.ok(result.stderr.includes("fetch"), result.stderr);
  assert.ok(!result.stderr.includes("Crashed"), result.stderr);
});

Deno.test("`racecar` exits 2 naming both settings when pause_timeout -1 meets max_retries", async () => {
  const result = await runToEnd([
    "EchoConsumer",
    "--require",
    FIXTURES,
    "--pause-timeout",
    "-1",
    "--max-retries",
    "2",
    "--dead-letter-topic",
    "echo-dlq",
  ]);
  assert.deepEqual(result.code, 2);
  assert.ok(result.stderr.includes("'pause_timeout'"), result.stderr);
  assert.ok(result.stderr.includes("'max_retries'"), result.stderr);
  assert.ok(!result.stderr.includes("Crashed"), result.stderr);
});

Deno.test("`racecar` exits 2 listing where it looked when the consumer does not exist", async () => {
  const result = await runToEnd(["NoSuchConsumer"]);
  assert.deepEqual(result.code, 2);
  assert.ok(result.stderr.includes("Cannot find consumer class NoSuchConsumer"), result.stderr);
  assert.ok(result.stderr.includes("no_such_consumer.ts"), result.stderr);
});

Deno.test("`racecar` exits 2 when the consumer implements no process method", async () => {
  const result = await runToEnd(["NoProcessConsumer", "--require", FIXTURES]);
  assert.deepEqual(result.code, 2);
  // The loader does not recognise a class without process as a consumer (see the report).
  assert.ok(result.stderr.includes("NoProcessConsumer"), result.stderr);
  assert.ok(!result.stderr.includes("Crashed"), result.stderr);
});

Deno.test({
  name: "`racecar` exits 1 with the cause chain when setup crashes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const result = await runToEnd(["CrashInSetupConsumer", "--require", FIXTURES]);
    assert.deepEqual(result.code, 1);
    assert.ok(
      result.stderr.includes("=> Crashed: Error: Cannot open the fixture database"),
      result.stderr,
    );
    assert.ok(result.stderr.includes("--- Caused by: ---"));
    assert.ok(result.stderr.includes("connection refused by the fixture database"));
  },
});

Deno.test("`racecar --version` prints the version and exits 0", async () => {
  const result = await runToEnd(["--version"]);
  assert.deepEqual(result.code, 0);
  assert.ok(/^Racecar \d+\.\d+\.\d+/.test(result.stdout + result.stderr));
});

Deno.test("`racecar --help` lists the setting flags and the subcommands and exits 0", async () => {
  const result = await runToEnd(["--help"]);
  assert.deepEqual(result.code, 0);
  for (const text of ["--max-wait-time", "--daemonize", "--pidfile", "init", "generate"]) {
    assert.ok(result.stdout.includes(text), `${text} missing from --help`);
  }
});

Deno.test("`racecar` with no consumer exits 2", async () => {
  const result = await runToEnd([]);
  assert.deepEqual(result.code, 2);
  assert.ok(result.stderr.includes("missing required argument 'consumer'"));
});
