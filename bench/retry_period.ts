/**
 * Retry period of a failing message: runs the real `racecar FailingConsumer`
 * (Deno, FFI adapter; tests/fixtures/failing_consumer.ts) over one message with
 * `pause_timeout` and `max_wait_time` as given, records the times of its
 * attempts and prints the gaps between them. It runs `retryTimes()` from
 * tests/suite/timer_scenarios.ts, the run the test checks.
 *
 * Usage: `deno run -A bench/retry_period.ts [pause_timeout] [max_wait_time] [attempts] [racecar args...]`
 * (defaults: 1, racecar's default max_wait_time, 6; e.g. `1 5 6 --consumer
 * fetch.wait.max.ms=1000`). Starts a local broker when
 * none answers (and stops it afterwards), or uses `RACECAR_BROKERS`.
 *
 * @module
 */

import { ensureBroker } from "../scripts/kafka.ts";
import { createFfiTransport } from "../src/kafka/ffi/mod.ts";
import { denoRacecar } from "../tests/integration/_racecar_deno.ts";
import { retryTimes } from "../tests/suite/timer_scenarios.ts";
import type { SuiteContext } from "../tests/suite/_suite.ts";

const pauseTimeout = Number(Deno.args[0] ?? 1);
const maxWaitTime = Deno.args[1] === undefined ? undefined : Number(Deno.args[1]);
const attempts = Number(Deno.args[2] ?? 6);
const args = Deno.args.slice(3);

const broker = await ensureBroker();
const cleanups: (() => unknown)[] = [];
try {
  const ctx: SuiteContext = {
    transport: createFfiTransport(),
    brokers: broker.brokers,
    uniqueName: (prefix) => `${prefix}-${crypto.randomUUID().slice(0, 12)}`,
    defer: (fn) => void cleanups.push(fn),
    racecar: denoRacecar,
  };
  const times = await retryTimes(ctx, {
    pauseTimeout,
    ...(maxWaitTime === undefined ? {} : { maxWaitTime }),
    attempts,
    args,
  });
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  console.log(
    `pause_timeout ${pauseTimeout} s, max_wait_time ${maxWaitTime ?? "default"} s${
      args.length > 0 ? ` ${args.join(" ")}` : ""
    }: ` +
      `retries after ${gaps.join(", ")} ms (mean ${
        Math.round(gaps.reduce((a, b) => a + b, 0) / gaps.length)
      } ms)`,
  );
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await broker.stop();
}
