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
  /** How to start the real `racecar` command in this runtime (process scenarios). */
  racecar?: RacecarCommand;
}

/** Starts the real `racecar` command of one runtime, and finds its fixture consumers. */
export interface RacecarCommand {
  /** Starts `racecar <args>` with this environment (and nothing else of the parent's RACECAR_*). */
  start(args: readonly string[], env: Record<string, string>): RacecarProcess;
  /** Path of a fixture module in `tests/fixtures/`, by base name (`ledger_consumer`). */
  fixture(name: string): string;
}

/** A running `racecar` child process. */
export interface RacecarProcess {
  /** Calls `fn` for each line the process prints on stdout. */
  onLine(fn: (line: string) => void): void;
  /** Sends a signal. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
  /** The exit code; `null` when a signal ended the process. */
  exited: Promise<number | null>;
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
