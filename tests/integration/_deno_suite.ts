/**
 * Registers runtime-neutral scenarios with `Deno.test`, against an adapter and
 * the real broker at `RACECAR_BROKERS` (default `127.0.0.1:9092`).
 *
 * @module
 */

import type { Transport } from "../../src/kafka/transport.ts";
import type { RacecarCommand, Scenario, SuiteContext } from "../suite/_suite.ts";

/** The broker the integration tests use. */
export const brokers: string = Deno.env.get("RACECAR_BROKERS") ?? "127.0.0.1:9092";

/**
 * Registers each scenario as a Deno test named `<label>: <scenario>`; `transport`
 * may be a factory, called once per scenario.
 */
export function registerScenarios(
  label: string,
  transport: Transport | (() => Transport),
  scenarios: readonly Scenario[],
  racecar?: RacecarCommand,
  options: { sanitize?: boolean } = {},
): void {
  for (const scenario of scenarios) {
    Deno.test({
      name: `${label}: ${scenario.name}`,
      // librdkafka's threads and the adapters' worker-thread calls are not JS ops
      // the sanitizers understand; each scenario closes its clients itself. An
      // in-process adapter (memory) keeps them on.
      sanitizeOps: options.sanitize ?? false,
      sanitizeResources: options.sanitize ?? false,
      async fn() {
        const cleanups: (() => unknown)[] = [];
        const ctx: SuiteContext = {
          transport: typeof transport === "function" ? transport() : transport,
          brokers,
          uniqueName: (prefix) => `${prefix}-${crypto.randomUUID().slice(0, 12)}`,
          defer: (fn) => void cleanups.push(fn),
          ...(racecar === undefined ? {} : { racecar }),
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
}
