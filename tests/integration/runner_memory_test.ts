/**
 * The runner's processing semantics on the memory transport: the scenarios
 * that run against the real broker (runner_ffi_test.ts), so runner logic is
 * checked in seconds without Kafka. Sanitizers stay on: the runner and the
 * memory adapter must leave no timers or ops behind.
 *
 * A scenario that needs librdkafka itself is listed with the reason, and a
 * test of what the runner does over the memory adapter takes its place.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Consumer } from "../../src/consumer.ts";
import { createMemoryTransport } from "../../src/kafka/memory/mod.ts";
import type { ConsumerOptions } from "../../src/kafka/transport.ts";
import { runnerScenarios } from "../suite/runner_scenarios.ts";
import { testConsumer } from "../../testing.ts";
import { registerScenarios } from "./_deno_suite.ts";

/** Scenarios that need librdkafka, and why. */
const NOT_APPLICABLE: Record<string, string> = {
  "Runner.run() hands librdkafka's statistics to statisticsCallback":
    "statistics are librdkafka's own JSON; the memory adapter emits none",
};

registerScenarios(
  "memory",
  () => createMemoryTransport(),
  runnerScenarios.filter((scenario) => !(scenario.name in NOT_APPLICABLE)),
  undefined,
  { sanitize: true },
);

Deno.test("memory: every scenario named as not applicable exists", () => {
  const names = new Set(runnerScenarios.map((s) => s.name));
  for (const name of Object.keys(NOT_APPLICABLE)) {
    assert.ok(names.has(name), `No runner scenario is named "${name}"`);
  }
});

Deno.test("memory: Runner.run() parses what onStatistics reports and hands it to statisticsCallback and the statistics event", async () => {
  const memory = createMemoryTransport();
  let options: ConsumerOptions | undefined;
  const transport = {
    ...memory,
    createConsumer(consumerOptions: ConsumerOptions) {
      options = consumerOptions;
      return memory.createConsumer(consumerOptions);
    },
  };
  const received: Record<string, unknown>[] = [];
  class Watched extends Consumer {
    static {
      this.subscribesTo("watched");
    }
    override process(): void {}
    override statisticsCallback(statistics: Record<string, unknown>): void {
      received.push(statistics);
    }
  }
  const kit = await testConsumer(new Watched(), { transport });
  try {
    const events: unknown[] = [];
    kit.runner.events.on("statistics", (e) => events.push(e.statistics));
    options!.onStatistics!("not json");
    options!.onStatistics!(JSON.stringify({ type: "consumer", name: "memory" }));
    assert.deepEqual(received, [{ type: "consumer", name: "memory" }]);
    assert.deepEqual(events, [{ type: "consumer", name: "memory" }]);
  } finally {
    await kit.stop();
  }
});
