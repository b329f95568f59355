import assert from "node:assert/strict";
import { FETCH_WAIT_MAX_MS, withConsumerDefaults } from "../../src/kafka/_defaults.ts";

const V2_0_2 = 0x02000200;
const V2_12_0 = 0x020c0000;

Deno.test("withConsumerDefaults() sets fetch.wait.max.ms whatever the library version", () => {
  for (const version of [V2_0_2, V2_12_0]) {
    assert.equal(
      withConsumerDefaults({}, version)["fetch.wait.max.ms"],
      String(FETCH_WAIT_MAX_MS),
    );
  }
});

Deno.test("withConsumerDefaults() sets fetch.queue.backoff.ms only where librdkafka has it (2.2+)", () => {
  assert.equal(withConsumerDefaults({}, V2_0_2)["fetch.queue.backoff.ms"], undefined);
  assert.equal(withConsumerDefaults({}, V2_12_0)["fetch.queue.backoff.ms"], "10");
});

Deno.test("withConsumerDefaults() keeps what the user set", () => {
  const config = withConsumerDefaults(
    { "fetch.wait.max.ms": "500", "fetch.queue.backoff.ms": "1000" },
    V2_12_0,
  );
  assert.equal(config["fetch.wait.max.ms"], "500");
  assert.equal(config["fetch.queue.backoff.ms"], "1000");
});
