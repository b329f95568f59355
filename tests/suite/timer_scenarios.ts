/**
 * Timers that keep their word, on the real broker: a failing message is
 * retried every `pause_timeout`, however long `max_wait_time` is, because the
 * loop's poll waits only until the next pause ends. Runs the real `racecar`
 * command; `bench/retry_period.ts` runs {@link retryTimes} for the figures.
 *
 * @module
 */

import assert from "node:assert/strict";
import { newTopic, produceMessages, waitFor } from "./_kafka.ts";
import type { Scenario, SuiteContext } from "./_suite.ts";

/** How to run `racecar FailingConsumer` for {@link retryTimes}. */
export interface RetryRun {
  /** `pause_timeout`, seconds. */
  pauseTimeout: number;
  /** `max_wait_time`, seconds; racecar's default when omitted. */
  maxWaitTime?: number;
  /** Attempts to record. */
  attempts: number;
  /** More command-line arguments, e.g. `["--consumer", "fetch.wait.max.ms=100"]`. */
  args?: readonly string[];
}

/**
 * Runs `racecar FailingConsumer` over one message and returns the times (ms)
 * of its first `attempts` attempts; stops the process with SIGTERM.
 */
export async function retryTimes(ctx: SuiteContext, run: RetryRun): Promise<number[]> {
  const racecar = ctx.racecar;
  assert.ok(racecar !== undefined, "this scenario needs ctx.racecar");
  const topic = await newTopic(ctx, 1, "racecar-retry");
  await produceMessages(ctx, topic, 1, 1);
  const child = racecar.start([
    racecar.fixture("failing_consumer"),
    "--group-id",
    ctx.uniqueName("racecar-retry"),
    "--pause-timeout",
    String(run.pauseTimeout),
    ...(run.maxWaitTime === undefined ? [] : ["--max-wait-time", String(run.maxWaitTime)]),
    ...run.args ?? [],
  ], { RACECAR_BROKERS: ctx.brokers, FIXTURE_TOPIC: topic });
  const times: number[] = [];
  child.onLine((line) => {
    const [word, , , at] = line.split(" ");
    if (word === "attempt") times.push(Number(at));
  });
  try {
    await waitFor(() => times.length >= run.attempts, `${run.attempts} attempts`, {
      timeoutMs: 60_000,
      everyMs: 20,
    });
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal(await child.exited, 0, "a SIGTERM stop exits cleanly");
  return times.slice(0, run.attempts);
}

/** The scenarios, in the order they run. */
export const timerScenarios: Scenario[] = [
  {
    name: "racecar retries a failing message every pause_timeout when max_wait_time is longer",
    timeoutMs: 90_000,
    async fn(ctx) {
      // max_wait_time 5 s: before the fix each retry waited for a whole poll (5 s). The broker
      // may hold a fetch open for fetch.wait.max.ms (max_wait_time by default), and librdkafka
      // sends one fetch at a time, so that is lowered here as docs/configuration.md says.
      const times = await retryTimes(ctx, {
        pauseTimeout: 1,
        maxWaitTime: 5,
        attempts: 4,
        args: ["--consumer", "fetch.wait.max.ms=100"],
      });
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      for (const gap of gaps) {
        // Generous: a pause of 1 s plus librdkafka's refetch (up to 1 s), well below 5 s.
        assert.ok(
          gap >= 1000 && gap < 3000,
          `retries 1 s apart, got gaps of ${gaps.join(", ")} ms`,
        );
      }
    },
  },
];
