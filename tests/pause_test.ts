import assert from "node:assert/strict";
import { Pause } from "../src/pause.ts";

Deno.test("Pause.pause() pauses for the timeout when backoff is off", () => {
  const pause = new Pause({ timeout: 10 });
  pause.pause(1_000);
  assert.ok(pause.paused);
  assert.deepEqual(pause.pausedUntil, 11_000);
  assert.ok(!pause.expired(10_999));
  assert.ok(pause.expired(11_000));
  assert.deepEqual(pause.duration(6_000), 5);
});

Deno.test("Pause.backoffInterval() doubles per failure and honours the cap", () => {
  const pause = new Pause({ timeout: 10, exponentialBackoff: true, maxTimeout: 30 });
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) {
    seen.push(pause.backoffInterval());
    pause.pause(0);
    pause.resume();
  }
  assert.deepEqual(seen, [10, 20, 30, 30]);
  assert.deepEqual(pause.pausesCount, 4);
});

Deno.test("Pause.reset() forgets failures after a success", () => {
  const pause = new Pause({ timeout: 1, exponentialBackoff: true });
  pause.pause(0);
  pause.reset();
  assert.ok(!pause.paused);
  assert.deepEqual(pause.pausesCount, 0);
  assert.deepEqual(pause.backoffInterval(), 1);
});

Deno.test("Pause.pause() never expires when the timeout is -1", () => {
  const pause = new Pause({ timeout: -1 });
  pause.pause(0);
  assert.deepEqual(pause.pausedUntil, Infinity);
  assert.ok(!pause.expired(Number.MAX_SAFE_INTEGER));
});

Deno.test("new Pause() rejects a negative timeout other than -1", () => {
  assert.throws(
    () => new Pause({ timeout: -5 }),
    (error: unknown) =>
      error instanceof RangeError &&
      String((error as Error).message).includes("-1, 0 or a positive number"),
  );
});
