/**
 * Registers shared scenarios (`tests/suite/`) with `node:test`, against a Node
 * adapter (node-rdkafka or koffi) and the broker at `RACECAR_BROKERS` (default
 * `127.0.0.1:9092`). Runs from the compiled package: `deno task test:node`.
 *
 * @module
 */

import { test } from "node:test";
import { getEnv } from "../../src/_runtime.ts";
import type { Transport } from "../../src/kafka/transport.ts";
import type { RacecarCommand, Scenario, SuiteContext } from "../suite/_suite.ts";

/** Bootstrap servers of the broker the suite runs against. */
export const brokers: string = getEnv("RACECAR_BROKERS") ?? "127.0.0.1:9092";

/**
 * Shared scenarios the node-rdkafka adapter cannot pass, with the reason. They
 * still run, reported as TODO; `limitations.node.ts` pins the actual behaviour.
 */
export const KNOWN_LIMITATIONS: Readonly<Record<string, string>> = {};

/** Registers each scenario as one `node:test` test. */
export function registerScenarios(
  transport: Transport,
  scenarios: readonly Scenario[],
  racecar?: RacecarCommand,
): void {
  // The limitations are node-rdkafka's; other adapters (koffi) name themselves in each test.
  const nodeRdkafka = transport.name === "node-rdkafka";
  for (const scenario of scenarios) {
    const todo = nodeRdkafka ? KNOWN_LIMITATIONS[scenario.name] : undefined;
    const options = { timeout: scenario.timeoutMs ?? 60_000, ...(todo ? { todo } : {}) };
    const name = nodeRdkafka ? scenario.name : `${transport.name}: ${scenario.name}`;
    test(name, options, async () => {
      const cleanups: (() => unknown)[] = [];
      const ctx: SuiteContext = {
        transport,
        brokers,
        uniqueName: (prefix) => `${prefix}-${crypto.randomUUID().slice(0, 12)}`,
        defer: (fn) => void cleanups.push(fn),
        ...(racecar === undefined ? {} : { racecar }),
      };
      try {
        await scenario.fn(ctx);
      } finally {
        for (const cleanup of cleanups.reverse()) {
          try {
            await cleanup();
          } catch (error) {
            console.warn(`clean-up of "${scenario.name}" failed:`, error);
          }
        }
      }
    });
  }
}
