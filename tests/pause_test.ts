import { assert, assertEquals, assertFalse, assertThrows } from "./_assert.ts";
import { Pause } from "../src/pause.ts";

Deno.test("Pause.pause() pauses for the timeout when backoff is off", () => {
  const pause = new Pause({ timeout: 10 });
  pause.pause(1_000);
  assert(pause.paused);
  assertEquals(pause.pausedUntil, 11_000);
  assertFalse(pause.expired(10_999));
  assert(pause.expired(11_000));
  assertEquals(pause.duration(6_000), 5);
});

Deno.test("Pause.backoffInterval() doubles per failure and honours the cap", () => {
  const pause = new Pause({ timeout: 10, exponentialBackoff: true, maxTimeout: 30 });
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) {
    seen.push(pause.backoffInterval());
    pause.pause(0);
    pause.resume();
  }
  assertEquals(seen, [10, 20, 30, 30]);
  assertEquals(pause.pausesCount, 4);
});

Deno.test("Pause.reset() forgets failures after a success", () => {
  const pause = new Pause({ timeout: 1, exponentialBackoff: true });
  pause.pause(0);
  pause.reset();
  assertFalse(pause.paused);
  assertEquals(pause.pausesCount, 0);
  assertEquals(pause.backoffInterval(), 1);
});

Deno.test("Pause.pause() never expires when the timeout is -1", () => {
  const pause = new Pause({ timeout: -1 });
  pause.pause(0);
  assertEquals(pause.pausedUntil, Infinity);
  assertFalse(pause.expired(Number.MAX_SAFE_INTEGER));
});

Deno.test("new Pause() rejects a negative timeout other than -1", () => {
  assertThrows(() => new Pause({ timeout: -5 }), RangeError, "-1, 0 or a positive number");
});
