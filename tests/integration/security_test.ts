/**
 * SASL/SCRAM and TLS against a real broker: a second, throw-away broker
 * (scripts/kafka_secure.ts, ports 29092-29095, its own directory) is started
 * for this file and stopped at its end, also when a test fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startSecureBroker } from "../../scripts/kafka_secure.ts";
import {
  cleanEnv,
  createTopics,
  ctl,
  FIXTURES,
  type Proc,
  racecar,
  unique,
} from "../cli/_helpers.ts";

const WRONG_PASSWORD = "wrong-S3cret-value-1234";

Deno.test({
  name: "secure broker: SCRAM and TLS connections work or fail clearly",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const broker = await startSecureBroker();
    const procs: Proc[] = [];
    const user = broker.users[0]!;
    const scram = (mechanism: string, password: string) => ({
      RACECAR_BROKERS: broker.sasl,
      RACECAR_SECURITY_PROTOCOL: "sasl_plaintext",
      RACECAR_SASL_MECHANISM: mechanism,
      RACECAR_SASL_USERNAME: user.name,
      RACECAR_SASL_PASSWORD: password,
    });
    const tls = (ca: string) => ({
      RACECAR_BROKERS: broker.ssl,
      RACECAR_SECURITY_PROTOCOL: "ssl",
      RACECAR_SSL_CA_LOCATION: ca,
      RACECAR_SSL_CERTIFICATE_LOCATION: broker.certs.clientCert,
      RACECAR_SSL_KEY_LOCATION: broker.certs.clientKey,
    });
    const consume = async (env: Record<string, string>, topic: string, value: string) => {
      const proc = racecar(["EchoConsumer", "--require", FIXTURES], {
        env: cleanEnv({ ...env, FIXTURE_TOPIC: topic, RACECAR_GROUP_ID: unique("sec-group") }),
      });
      procs.push(proc);
      await proc.waitFor(value, 60_000);
      proc.kill("SIGTERM");
      assert.deepEqual((await proc.status()).code, 0);
      return proc;
    };
    const failFast = async (env: Record<string, string>, topic: string) => {
      const dir = await Deno.makeTempDir();
      const started = Date.now();
      const proc = racecar(["EchoConsumer", "--require", FIXTURES, "--logfile", `${dir}/log`], {
        env: cleanEnv({ ...env, FIXTURE_TOPIC: topic, RACECAR_GROUP_ID: unique("sec-group") }),
      });
      procs.push(proc);
      const status = await proc.status(30_000);
      const seconds = (Date.now() - started) / 1000;
      const log = await Deno.readTextFile(`${dir}/log`).catch(() => "");
      await Deno.remove(dir, { recursive: true });
      return { proc, status, seconds, log };
    };

    try {
      const topic = unique("secure");
      await createTopics([{ name: topic, partitions: 1 }], broker.plaintext);

      await t.step(
        "`racecarctl produce` and `racecar` work over SCRAM-SHA-512 and -256",
        async () => {
          const value = unique("scram-value");
          const produced = await ctl(["produce", "-t", topic, "-v", value], {
            env: cleanEnv(scram("SCRAM-SHA-512", user.password)),
          });
          assert.deepEqual(produced.code, 0, produced.stderr);
          assert.ok(produced.stderr.includes("=> Delivered message to Kafka cluster"));
          const proc = await consume(scram("SCRAM-SHA-256", user.password), topic, value);
          assert.ok(!proc.output.includes(user.password), "the password was printed");
        },
      );

      await t.step(
        "`racecar` stops within seconds naming sasl_password when the password is wrong",
        async () => {
          const { proc, status, seconds, log } = await failFast(
            scram("SCRAM-SHA-256", WRONG_PASSWORD),
            topic,
          );
          console.log(`wrong password detected, racecar exited after ${seconds.toFixed(2)} s`);
          assert.deepEqual(status.code, 1, proc.output);
          assert.ok(seconds < 15, `took ${seconds} s`);
          assert.ok(proc.stderr.includes("'sasl_password'"), proc.stderr);
          // One librdkafka [FAIL] line per connection attempt that failed authentication.
          const attempts = log.match(/\[FAIL\].*Authentication failed/g)?.length ?? 0;
          console.log(`failed authentication attempts before the stop: ${attempts}`);
          assert.ok(attempts >= 1 && attempts <= 3, `${attempts} failed attempts: a retry storm`);
          for (const text of [proc.stdout, proc.stderr, log]) {
            assert.ok(!text.includes(WRONG_PASSWORD), "the password was printed");
          }
        },
      );

      await t.step(
        "`racecarctl produce` fails within seconds when the password is wrong",
        async () => {
          const started = Date.now();
          const produced = await ctl(["produce", "-t", topic, "-v", "x"], {
            env: cleanEnv(scram("SCRAM-SHA-512", WRONG_PASSWORD)),
          });
          const seconds = (Date.now() - started) / 1000;
          console.log(
            `racecarctl produce with a wrong password exited after ${seconds.toFixed(2)} s`,
          );
          assert.deepEqual(produced.code, 1);
          assert.ok(seconds < 15);
          assert.ok(produced.stderr.includes("'sasl_password'"), produced.stderr);
          assert.ok(!(produced.stdout + produced.stderr).includes(WRONG_PASSWORD));
        },
      );

      await t.step(
        "`racecarctl produce` and `racecar` work over TLS when the CA is trusted",
        async () => {
          const value = unique("tls-value");
          const produced = await ctl(["produce", "-t", topic, "-v", value], {
            env: cleanEnv(tls(broker.certs.ca)),
          });
          assert.deepEqual(produced.code, 0, produced.stderr);
          await consume(tls(broker.certs.ca), topic, value);
        },
      );

      await t.step(
        "`racecar` stops within seconds naming ssl_ca_location when the CA is untrusted",
        async () => {
          const { proc, status, seconds } = await failFast(tls(broker.certs.rogueCa), topic);
          console.log(`untrusted CA detected, racecar exited after ${seconds.toFixed(2)} s`);
          assert.deepEqual(status.code, 1, proc.output);
          assert.ok(seconds < 15, `took ${seconds} s`);
          assert.ok(proc.stderr.includes("'ssl_ca_location'"), proc.stderr);
        },
      );
    } finally {
      for (const proc of procs) await proc.dispose();
      await broker.stop();
    }
  },
});
