/**
 * The runner's timers on a fake clock: a pause, a retry backoff and the loop
 * turn (the liveness touch listens to `start_main_loop`) fall due on time
 * whatever `max_wait_time` is, because the loop's poll waits no longer than
 * the next due time. The memory transport's consumer is wrapped so that a poll
 * that finds nothing moves the fake clock on by the time it was allowed to
 * wait, instead of waiting: the fake times seen are exactly the times the
 * runner chose.
 *
 * The commit interval is not the loop's: librdkafka commits stored offsets on
 * its own timer (`auto.commit.interval.ms`), which the memory transport models
 * inside polls. Its test runs on the broker (tests/suite/timer_scenarios.ts).
 */

import assert from "node:assert/strict";
import { Consumer } from "../src/consumer.ts";
import type { Message } from "../src/message.ts";
import { Runner, type RunnerSettings } from "../src/runner.ts";
import { fakeTime } from "./_fake_time.ts";
import { waitFor } from "./suite/_kafka.ts";

/** Runs a consumer of topic "timed" until `done()` holds; returns what `record` saw. */
async function runUntil(
  settings: Partial<RunnerSettings>,
  fn: (message: Message) => void,
  done: () => boolean,
  time = fakeTime(),
  onLoop?: (at: number) => void,
): Promise<void> {
  time.transport.broker.createTopic("timed", 1);
  time.transport.broker.append({ topic: "timed", value: new TextEncoder().encode("m0") });
  class TimedConsumer extends Consumer {
    static {
      this.subscribesTo("timed");
    }
    override process(message: Message): void {
      fn(message);
    }
  }
  const runner = new Runner({
    consumer: new TimedConsumer(),
    transport: time.transport,
    consumerConfig: { "group.id": "timed", "auto.offset.reset": "earliest" },
    producerConfig: {},
    settings: { clientId: "timers", groupId: "timed", ...settings },
    clock: time.now,
  });
  if (onLoop) runner.events.on("start_main_loop", () => onLoop(time.now()));
  const running = runner.run();
  try {
    await waitFor(done, "the expected turns", { timeoutMs: 10_000, everyMs: 1 });
  } finally {
    runner.stop();
    await running;
  }
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

Deno.test("Runner.run() retries a failing message every pause_timeout when max_wait_time is longer", async () => {
  const time = fakeTime();
  const attempts: number[] = [];
  await runUntil(
    { pauseTimeout: 1, maxWaitTime: 10 },
    () => {
      attempts.push(time.now());
      throw new Error("always fails");
    },
    () => attempts.length >= 4,
    time,
  );
  for (const gap of gaps(attempts)) {
    assert.ok(gap >= 1000 && gap <= 1100, `retries 1 s apart, got ${gaps(attempts).join(", ")} ms`);
  }
});

Deno.test("Runner.run() retries on the exponential backoff's due times when max_wait_time is longer", async () => {
  const time = fakeTime();
  const attempts: number[] = [];
  await runUntil(
    { pauseTimeout: 1, pauseWithExponentialBackoff: true, maxWaitTime: 30 },
    () => {
      attempts.push(time.now());
      throw new Error("always fails");
    },
    () => attempts.length >= 4,
    time,
  );
  const expected = [1000, 2000, 4000];
  gaps(attempts).forEach((gap, i) => {
    assert.ok(
      gap >= expected[i]! && gap <= expected[i]! + 100,
      `backoff of 1, 2, 4 s, got ${gaps(attempts).join(", ")} ms`,
    );
  });
});

Deno.test("Runner.run() turns its loop (the liveness touch) at least every second when max_wait_time is longer", async () => {
  const time = fakeTime();
  const loops: number[] = [];
  await runUntil(
    { maxWaitTime: 10 },
    () => {},
    () => loops.length >= 6,
    time,
    (at) => loops.push(at),
  );
  const longest = Math.max(...gaps(loops));
  assert.ok(longest <= 1100, `the loop turned at least every 1.1 s, longest gap ${longest} ms`);
});
