/**
 * One source of truth for behaviour scenarios that run on every runtime.
 *
 * A scenario is a plain async function over a {@link SuiteContext}. Thin runner
 * files register the same scenarios with `Deno.test` (tests/integration/*_test.ts)
 * and with `node:test` (the Node suite run on the compiled package), so the Deno
 * FFI adapter and the node-rdkafka adapter are held to the same behaviour.
 * Scenarios use `node:assert/strict`, which both runtimes provide.
 *
 * @module
 */

import type { Transport } from "../../src/kafka/transport.ts";

/** What a scenario gets. */
export interface SuiteContext {
  /** The adapter under test. */
  transport: Transport;
  /** Bootstrap servers of the real broker, e.g. `127.0.0.1:9092`. */
  brokers: string;
  /** A name no other test uses: `${prefix}-<random>`. */
  uniqueName(prefix: string): string;
  /** Registers clean-up work that runs after the scenario, last registered first. */
  defer(fn: () => unknown | Promise<unknown>): void;
}

/** One behaviour to check. */
export interface Scenario {
  /** Test name: "`symbol()` does X when Y". */
  name: string;
  /** The check. Throws (assertion) to fail. */
  fn: (ctx: SuiteContext) => Promise<void>;
  /** Upper bound for the whole scenario. @default 60_000 */
  timeoutMs?: number;
}
