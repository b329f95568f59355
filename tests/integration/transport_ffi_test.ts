/**
 * Runs the shared transport scenarios against the Deno FFI adapter and the
 * real broker at `RACECAR_BROKERS` (default `127.0.0.1:9092`).
 *
 * @module
 */

import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import type { SuiteContext } from "../suite/_suite.ts";
import { transportScenarios } from "../suite/transport_scenarios.ts";

const brokers = Deno.env.get("RACECAR_BROKERS") ?? "127.0.0.1:9092";
const transport = createFfiTransport();

for (const scenario of transportScenarios) {
  Deno.test({
    name: `deno-ffi: ${scenario.name}`,
    // librdkafka's own threads and the pollers' worker-thread calls are not JS ops
    // the sanitizers understand; each scenario closes its clients itself.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const cleanups: (() => unknown)[] = [];
      const ctx: SuiteContext = {
        transport,
        brokers,
        uniqueName: (prefix) => `${prefix}-${crypto.randomUUID().slice(0, 12)}`,
        defer: (fn) => void cleanups.push(fn),
      };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const limit = scenario.timeoutMs ?? 60_000;
      try {
        await Promise.race([
          scenario.fn(ctx),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`Scenario timed out after ${limit} ms`)),
              limit,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
        for (const cleanup of cleanups.reverse()) await cleanup();
      }
    },
  });
}
