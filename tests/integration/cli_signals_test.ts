/**
 * How `racecar` reacts to signals while it is busy: the first SIGTERM waits for
 * the message in hand, a second one exits at once with code 1.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  BROKERS,
  cleanEnv,
  createTopics,
  ctl,
  FIXTURES,
  racecar,
  unique,
} from "../cli/_helpers.ts";

Deno.test({
  name: "`racecar` exits 1 at once on a second SIGTERM while the first waits for in-flight work",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const topic = unique("signals");
    await createTopics([{ name: topic, partitions: 1 }]);
    const env = cleanEnv({
      RACECAR_BROKERS: BROKERS,
      RACECAR_GROUP_ID: unique("signals-group"),
      FIXTURE_TOPIC: topic,
      FIXTURE_STALL_MS: "20000",
    });
    const proc = racecar(["StallConsumer", "--require", FIXTURES], { env });
    try {
      await proc.waitFor("Wrooooom!");
      const produced = await ctl(["produce", "-t", topic, "-v", "stall"], { env });
      assert.deepEqual(produced.code, 0, produced.stderr);
      await proc.waitFor(/processed pid=\d+ 0@\d+ stall/);

      proc.kill("SIGTERM");
      await proc.waitFor("finishing in-flight work");
      const second = Date.now();
      proc.kill("SIGTERM");
      const status = await proc.status(10_000);
      assert.deepEqual(status.code, 1, proc.output);
      assert.ok(Date.now() - second < 5_000, "the second signal did not wait for the 20 s stall");
      assert.ok(proc.output.includes("received again: exiting now"), proc.output);
      assert.ok(!proc.output.includes("stall over"), "the in-flight work was not waited for");
    } finally {
      await proc.dispose();
    }
  },
});
