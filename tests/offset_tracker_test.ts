import assert from "node:assert/strict";
import { OffsetTracker } from "../src/offset_tracker.ts";

Deno.test("OffsetTracker.take() moves only over the contiguous finished prefix", () => {
  const tracker = new OffsetTracker();
  for (const offset of [10, 11, 12, 13]) tracker.begin(offset);
  assert.equal(tracker.finish(12), false);
  assert.equal(tracker.finish(13), false);
  assert.equal(tracker.take(), undefined);
  assert.equal(tracker.finish(10), true);
  assert.equal(tracker.take(), 11);
  assert.equal(tracker.finish(11), true);
  assert.equal(tracker.take(), 14);
  assert.equal(tracker.pending, 0);
  assert.equal(tracker.take(), undefined);
});

Deno.test("OffsetTracker.finish() follows gaps between offsets", () => {
  const tracker = new OffsetTracker();
  tracker.begin(3);
  tracker.begin(7);
  tracker.finish(7);
  tracker.finish(3);
  assert.equal(tracker.next, 8);
});

Deno.test("OffsetTracker.finish() ignores offsets never begun or already in the prefix", () => {
  const tracker = new OffsetTracker();
  tracker.begin(1);
  assert.equal(tracker.finish(0), false);
  assert.equal(tracker.finish(2), false);
  assert.equal(tracker.finish(1), true);
  assert.equal(tracker.finish(1), false);
  assert.equal(tracker.next, 2);
});

Deno.test("OffsetTracker.begin() rejects offsets out of order", () => {
  const tracker = new OffsetTracker();
  tracker.begin(5);
  assert.throws(() => tracker.begin(5), RangeError);
  assert.throws(() => tracker.begin(4), /ascending order and 5 was begun/);
  assert.throws(() => tracker.begin(-1), RangeError);
});

Deno.test("OffsetTracker.discard() drops unfinished work so it can begin again", () => {
  const tracker = new OffsetTracker();
  for (const offset of [0, 1, 2, 3]) tracker.begin(offset);
  tracker.finish(0);
  tracker.finish(2); // finished, but after the failed 1: not in the prefix
  tracker.discard();
  assert.equal(tracker.pending, 0);
  assert.equal(tracker.next, 1);
  tracker.finish(2); // a late completion of discarded work changes nothing
  assert.equal(tracker.next, 1);
  tracker.begin(1);
  tracker.finish(1);
  assert.equal(tracker.next, 2);
});

Deno.test("OffsetTracker keeps its prefix over many offsets finished out of order", () => {
  const tracker = new OffsetTracker();
  const count = 5_000;
  for (let i = 0; i < count; i++) tracker.begin(i);
  for (let i = count - 1; i > 0; i--) tracker.finish(i);
  assert.equal(tracker.next, undefined);
  tracker.finish(0);
  assert.equal(tracker.next, count);
  assert.equal(tracker.pending, 0);
});
