/**
 * Subprocess tests of `racecarctl` against the real broker: the command list
 * and usage errors, `produce`, `--daemonize` with `status` and `stop`, and the
 * liveness and readiness probes over a consumer's whole life.
 *
 * @module
 */

import { assert, assertEquals } from "../_assert.ts";
import {
  alive,
  BROKERS,
  cleanEnv,
  createTopics,
  ctl,
  FIXTURES,
  racecar,
  unique,
  waitUntil,
} from "../cli/_helpers.ts";

Deno.test("`racecarctl` lists its commands and exits 0 when given no command", async () => {
  const result = await ctl([]);
  assertEquals(result.code, 0);
  assert(result.stdout.startsWith("No command specified. Commands:"));
  for (const name of ["status", "stop", "produce", "liveness_probe", "readiness_probe"]) {
    assert(result.stdout.includes(` - ${name}`), name);
  }
});

Deno.test("`racecarctl` exits 2 with racecar's message when the command is unknown", async () => {
  const result = await ctl(["bogus"]);
  assertEquals(result.code, 2);
  assertEquals(result.stderr, "Error: invalid command: bogus\n");
});

Deno.test("`racecarctl status` exits 2 when no pidfile is given", async () => {
  const result = await ctl(["status"]);
  assertEquals(result.code, 2);
  assert(result.stderr.includes("No pidfile specified"));
});

Deno.test("`racecarctl produce` exits 2 when topic or value is missing", async () => {
  const noTopic = await ctl(["produce", "-v", "x"]);
  assertEquals(noTopic.code, 2);
  assertEquals(noTopic.stderr, "Error: no topic specified\n");
  const noValue = await ctl(["produce", "-t", "x"]);
  assertEquals(noValue.code, 2);
  assert(noValue.stderr.startsWith("Error: no message value specified: pass --value"));
});

Deno.test({
  name: "`racecarctl produce` delivers key, value, headers and partition when given them",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const topic = unique("ctl-produce");
    await createTopics([{ name: topic, partitions: 3 }]);
    const result = await ctl(
      ["produce", "-t", topic, "-k", "k1", "-v", "hello", "-H", "a=1", "-H", "b=2", "-p", "2"],
      { env: cleanEnv({ RACECAR_BROKERS: BROKERS }) },
    );
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stderr, "=> Delivered message to Kafka cluster\n");
    assertEquals(result.stdout, `${topic}/2@0\n`);
  },
});

Deno.test({
  name: "`racecar --daemonize` runs in the background until `racecarctl stop` when started",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "racecar-daemon-" });
    const pidfile = `${dir}/consumer.pid`;
    const env = cleanEnv({
      RACECAR_BROKERS: BROKERS,
      FIXTURE_TOPIC: unique("daemon"),
      RACECAR_GROUP_ID: unique("daemon-group"),
    });
    const args = ["EchoConsumer", "--require", FIXTURES, "--daemonize", "--pidfile", pidfile];
    let daemonPid: number | undefined;
    try {
      const started = Date.now();
      const parent = racecar([...args, "--log", `${dir}/racecar.log`], { cwd: dir, env });
      assertEquals((await parent.status()).code, 0, parent.output);
      console.log(`daemon started (pid file written) in ${Date.now() - started} ms`);
      assert(parent.stderr.includes("=> Starting background process"));
      assert(parent.stderr.includes(`=> Writing PID to ${pidfile}`));
      daemonPid = Number((await Deno.readTextFile(pidfile)).trim());
      assert(alive(daemonPid));

      const status = await ctl(["status", "--pidfile", pidfile], { cwd: dir, env });
      assertEquals(status.code, 0);
      assertEquals(status.stdout, `running (PID = ${daemonPid})\n`);

      const second = racecar(args, { cwd: dir, env });
      assertEquals((await second.status()).code, 1);
      assert(
        second.stderr.includes(`=> Racecar is already running with that PID file (${pidfile})`),
      );

      const stop = await ctl(["stop", "--pidfile", pidfile], { cwd: dir, env });
      assertEquals(stop.code, 0, stop.stderr);
      assert(stop.stdout.endsWith("Racecar stopped\n"), stop.stdout);
      assert(!alive(daemonPid));
      await waitUntil("the pid file to be removed", async () => {
        try {
          await Deno.stat(pidfile);
          return false;
        } catch {
          return true;
        }
      }, 5000);
      const after = await ctl(["status", "--pidfile", pidfile], { cwd: dir, env });
      assertEquals(after.code, 1);
      assertEquals(after.stdout, "exited\n");
      const log = await Deno.readTextFile(`${dir}/racecar.log`);
      assert(log.includes("=> EchoConsumer stopped"), log);
    } finally {
      if (daemonPid !== undefined && alive(daemonPid)) Deno.kill(daemonPid, "SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "`racecar --daemonize` removes a stale pid file when its process is gone",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "racecar-daemon-" });
    const pidfile = `${dir}/stale.pid`;
    // A pid far above pid_max on Linux: never a live process.
    await Deno.writeTextFile(pidfile, "999999999\n");
    const env = cleanEnv({ RACECAR_TRANSPORT: "memory", FIXTURE_TOPIC: unique("stale") });
    let daemonPid: number | undefined;
    try {
      const parent = racecar(
        ["EchoConsumer", "--require", FIXTURES, "--daemonize", "--pidfile", pidfile],
        { cwd: dir, env },
      );
      assertEquals((await parent.status()).code, 0, parent.output);
      daemonPid = Number((await Deno.readTextFile(pidfile)).trim());
      assert(daemonPid !== 999999999 && alive(daemonPid));
      assertEquals((await ctl(["stop", "--pidfile", pidfile], { cwd: dir, env })).code, 0);
    } finally {
      if (daemonPid !== undefined && alive(daemonPid)) Deno.kill(daemonPid, "SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "`racecarctl liveness_probe` and `readiness_probe` follow a consumer's life when it starts, stalls and stops",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "racecar-probe-" });
    const topic = unique("probe");
    await createTopics([{ name: topic, partitions: 1 }]);
    const probeEnv = {
      RACECAR_LIVENESS_PROBE_FILE_PATH: `${dir}/live`,
      RACECAR_LIVENESS_PROBE_MAX_INTERVAL: "2",
      RACECAR_READINESS_PROBE_FILE_PATH: `${dir}/ready`,
    };
    const env = cleanEnv({
      ...probeEnv,
      RACECAR_BROKERS: BROKERS,
      RACECAR_LIVENESS_PROBE_ENABLED: "true",
      RACECAR_GROUP_ID: unique("probe-group"),
      FIXTURE_TOPIC: topic,
      FIXTURE_STALL_MS: "4000",
    });
    const probe = (name: string) => ctl([name], { cwd: dir, env: cleanEnv(probeEnv) });
    // Before the consumer starts (not merely before it got going: that would race).
    const before = await probe("liveness_probe");
    assertEquals(before.code, 1);
    assert(before.stderr.includes("Racecar healthcheck failed: Liveness file not found"));
    const proc = racecar(["StallConsumer", "--require", FIXTURES], { cwd: dir, env });
    try {
      await proc.waitFor("Liveness probe enabled");
      await waitUntil("liveness to pass", async () => (await probe("liveness_probe")).code === 0);
      await waitUntil("readiness to pass", async () => (await probe("readiness_probe")).code === 0);

      const produced = await ctl(["produce", "-t", topic, "-v", "stall"], { env });
      assertEquals(produced.code, 0, produced.stderr);
      await proc.waitFor(/processed pid=\d+ 0@\d+ stall/);
      let failure = "";
      await waitUntil("liveness to fail during the stall", async () => {
        const result = await probe("liveness_probe");
        failure = result.stderr;
        return result.code === 1;
      }, 4000);
      assert(failure.includes("No liveness within interval 2s"), failure);
      await proc.waitFor("stall over");
      await waitUntil(
        "liveness to pass again",
        async () => (await probe("liveness_probe")).code === 0,
      );

      proc.kill("SIGTERM");
      assertEquals((await proc.status()).code, 0, proc.output);
      const after = await probe("liveness_probe");
      assertEquals(after.code, 1);
      assert(after.stderr.includes("Liveness file not found"));
      const notReady = await probe("readiness_probe");
      assertEquals(notReady.code, 1);
      assert(notReady.stderr.includes("Racecar readiness check failed"));
    } finally {
      await proc.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("`racecarctl liveness_probe` skips config files when RACECAR_LIVENESS_PROBE_SKIP_CONFIG_FILES is true", async () => {
  const dir = await Deno.makeTempDir({ prefix: "racecar-probe-" });
  try {
    await Deno.mkdir(`${dir}/config`);
    await Deno.writeTextFile(`${dir}/config/racecar.yml`, "common:\n  no_such_key: 1\n");
    const base = { RACECAR_LIVENESS_PROBE_FILE_PATH: `${dir}/live` };
    const reading = await ctl(["liveness_probe"], { cwd: dir, env: cleanEnv(base) });
    assertEquals(reading.code, 2);
    assert(reading.stderr.includes("no_such_key"), reading.stderr);
    await Deno.writeTextFile(`${dir}/live`, "");
    const skipping = await ctl(["liveness_probe"], {
      cwd: dir,
      env: cleanEnv({ ...base, RACECAR_LIVENESS_PROBE_SKIP_CONFIG_FILES: "true" }),
    });
    assertEquals(skipping.code, 0, skipping.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`racecarctl readiness_probe` exits 2 when no readiness file is configured", async () => {
  const result = await ctl(["readiness_probe"], { env: cleanEnv() });
  assertEquals(result.code, 2);
  assert(result.stderr.includes("readiness_probe_file_path"));
});
