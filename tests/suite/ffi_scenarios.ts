/**
 * Scenarios for the FFI adapters only (Deno FFI, koffi, bun:ffi: one consumer
 * in src/kafka/ffi/), where they differ from node-rdkafka on purpose.
 * Runtime-neutral like the other suites.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ClientLogEntry } from "../../src/kafka/transport.ts";
import type { Scenario } from "./_suite.ts";
import {
  newConsumer,
  newTopic,
  produceMessages,
  testConsumerConfig as consumerConfig,
  waitFor,
} from "./_kafka.ts";

/** The scenarios, in the order they run. */
export const ffiScenarios: Scenario[] = [
  {
    name:
      "a fresh group starts its partitions at auto.offset.reset's end without librdkafka's 100 ms reset backoff",
    async fn(ctx) {
      const topic = await newTopic(ctx, 2);
      await produceMessages(ctx, topic, 4, 2);
      for (const reset of ["earliest", "latest"]) {
        const logs: ClientLogEntry[] = [];
        // librdkafka's "topic" debug context logs every offset reset, with its reason.
        const consumer = newConsumer(ctx, {
          config: consumerConfig(ctx, ctx.uniqueName("g"), {
            "auto.offset.reset": reset,
            debug: "topic",
          }),
          onLog: (entry) => void logs.push(entry),
        });
        consumer.subscribe([topic]);
        const resets = (partition: number) =>
          logs.filter((e) => e.message.includes(`${topic} [${partition}]: offset reset`));
        await waitFor(async () => {
          await consumer.consume(100, 100);
          return resets(0).length > 0 && resets(1).length > 0;
        }, `both partitions were reset (${reset})`);
        const where = reset === "earliest" ? "BEGINNING" : "END";
        for (const partition of [0, 1]) {
          const lines = resets(partition).map((e) => e.message);
          // Without a start offset, librdkafka's reason is "no previously committed offset
          // available", and it waits 100 ms before the offset query.
          assert.ok(
            lines.every((line) => !line.includes("no previously committed offset")),
            lines.join("\n"),
          );
          assert.ok(lines.some((line) => line.includes(`to offset ${where}`)), lines.join("\n"));
        }
        await consumer.close();
      }
    },
  },
];
