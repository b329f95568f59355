/**
 * Runs the shared transport scenarios against the memory adapter, so the
 * in-process broker is held to the behaviour the real adapters show.
 *
 * Scenarios are selected by name: a new scenario does not run here until
 * someone decides whether it applies to an in-memory broker. Those that do not
 * apply are replaced by a test that pins what the memory adapter does instead.
 * Sanitizers stay on: the memory adapter must leave no timers or ops behind.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createMemoryTransport } from "../../src/kafka/memory/mod.ts";
import type { Scenario } from "../suite/_suite.ts";
import { transportScenarios } from "../suite/transport_scenarios.ts";
import { registerScenarios } from "./_deno_suite.ts";

/** Scenarios the memory adapter must pass. */
const APPLICABLE = new Set([
  "produce() and consume() round-trip key, null value, repeated headers and timestamp",
  "consume() hands over every key and value intact: null, empty, small, large, compressed",
  "consume() returns at most max messages, in offset order per partition",
  "consume() resolves with the first message at once instead of waiting to fill the batch",
  "wakeup() makes a pending consume() with a long timeout return early, and the next one too",
  "storeOffsets() and commit({ sync: true }) persist offsets that committed() reads back",
  "a new consumer in the same group resumes after the committed offset",
  "a new member starts each partition at the group's committed offset, else where auto.offset.reset says",
  "a partition that moves to a new member resumes where its previous owner committed",
  "pause() stops delivery and resume() restarts it",
  "seek() re-delivers from an earlier offset",
  "onRebalance() revoke runs before unassign and can commit (eager range)",
  "onRebalance() with cooperative-sticky revokes only the partitions that move",
  "onRebalance() tells an idle member it joined with an empty assign (eager range)",
  "onRebalance() tells an idle member it joined with an empty assign (cooperative-sticky)",
  "consume() labels each message with its topic after topics are deleted and re-created",
  "createTopics() is idempotent and deleteTopics() ignores unknown topics",
  "partitionCount() waits for a topic created a moment ago instead of failing as unknown",
  "createPartitions() grows a topic and refuses a count that is not larger",
  "produce() rejects a message larger than message.max.bytes with ERR_MSG_SIZE_TOO_LARGE",
  "close() is idempotent for consumers, producers and admin clients",
]);

/** Scenarios that do not apply to an in-memory broker, and why. */
const NOT_APPLICABLE: Record<string, string> = {
  "createConsumer() and createProducer() throw a ConfigError naming an unknown property":
    "librdkafka validates property names; the memory adapter accepts any key by design " +
    "(it does not pretend to know librdkafka's configuration)",
};

const applicable: Scenario[] = [];
for (const scenario of transportScenarios) {
  const reason = NOT_APPLICABLE[scenario.name];
  if (reason !== undefined) {
    // Pin the memory adapter's own behaviour instead of skipping the test.
    Deno.test(`memory: accepts what librdkafka would reject (${reason})`, async () => {
      const transport = createMemoryTransport();
      const consumer = transport.createConsumer({
        config: { "group.id": "pinned", "no.such.property": "1" },
      });
      const producer = transport.createProducer({ config: { "no.such.property": "1" } });
      await consumer.close();
      await producer.close();
    });
    continue;
  }
  if (!APPLICABLE.has(scenario.name)) {
    Deno.test(`memory: ${scenario.name}`, () => {
      assert.fail(
        "New transport scenario: add it to APPLICABLE or NOT_APPLICABLE (with the reason) in " +
          "tests/integration/transport_memory_test.ts",
      );
    });
    continue;
  }
  applicable.push(scenario);
}

registerScenarios(
  "memory",
  () => createMemoryTransport({ numPartitions: 1 }),
  applicable,
  undefined,
  { sanitize: true },
);

Deno.test("memory: every scenario named in the selection exists", () => {
  const names = new Set(transportScenarios.map((s) => s.name));
  for (const name of [...APPLICABLE, ...Object.keys(NOT_APPLICABLE)]) {
    assert.ok(names.has(name), `No transport scenario is named "${name}"`);
  }
});
