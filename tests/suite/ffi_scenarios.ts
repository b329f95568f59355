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
      "a fresh group starts its partitions at offsets looked up before the assignment, without librdkafka's 100 ms reset backoff",
    async fn(ctx) {
      const topic = await newTopic(ctx, 2);
      await produceMessages(ctx, topic, 4, 2); // offsets 0 and 1 on each partition
      for (const [reset, expected] of [["earliest", "0"], ["latest", "2"]] as const) {
        const logs: ClientLogEntry[] = [];
        // librdkafka's "cgrp" debug context logs where each assigned partition starts,
        // its "topic" context every offset reset, with its reason.
        const consumer = newConsumer(ctx, {
          config: consumerConfig(ctx, ctx.uniqueName("g"), {
            "auto.offset.reset": reset,
            debug: "cgrp,topic",
          }),
          onLog: (entry) => void logs.push(entry),
        });
        consumer.subscribe([topic]);
        const startedAt = (partition: number) =>
          logs.map((e) =>
            new RegExp(`Start consuming ${topic} \\[${partition}\\] at offset (\\S+)`)
              .exec(e.message)?.[1]
          ).filter((offset) => offset !== undefined);
        await waitFor(async () => {
          await consumer.consume(100, 100);
          return startedAt(0).length > 0 && startedAt(1).length > 0;
        }, `both partitions started (${reset})`);
        // An absolute offset, not BEGINNING, END or INVALID (librdkafka's own lookup).
        assert.deepEqual([...startedAt(0), ...startedAt(1)], [expected, expected]);
        // Without a start offset, librdkafka's reason is "no previously committed offset
        // available", and it waits 100 ms before the offset query.
        const resets = logs.filter((e) => e.message.includes(`${topic} [`)).map((e) => e.message);
        assert.ok(
          resets.every((line) => !line.includes("no previously committed offset")),
          resets.join("\n"),
        );
        await consumer.close();
      }
    },
  },
];
