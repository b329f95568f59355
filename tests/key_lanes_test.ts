/** Unit tests of the pure key-lane scheduler (`src/key_lanes.ts`). */

import assert from "node:assert/strict";
import { laneOf, runByKey } from "../src/key_lanes.ts";

interface Item {
  key: string | null;
  offset: number;
}

function items(keys: (string | null)[]): Item[] {
  return keys.map((key, offset) => ({ key, offset }));
}

const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("runByKey() keeps each key's order and never runs more than `limit` keys at once", async () => {
  const all = items(Array.from({ length: 120 }, (_, i) => `k${i % 12}`));
  const done: Item[] = [];
  const admitted: number[] = [];
  let running = 0;
  let most = 0;
  const busy = new Set<string | null>();
  await runByKey(all, {
    limit: 5,
    keyOf: (item) => item.key,
    admit: (item) => {
      admitted.push(item.offset);
      return true;
    },
    run: async (item) => {
      assert.ok(!busy.has(item.key), `key ${item.key} ran twice at once`);
      busy.add(item.key);
      most = Math.max(most, ++running);
      await tick(item.offset % 3);
      running -= 1;
      busy.delete(item.key);
      done.push(item);
      return true;
    },
  });
  assert.deepEqual(admitted, all.map((item) => item.offset), "admitted in offset order");
  assert.equal(done.length, all.length);
  assert.equal(most, 5, "five keys ran at once, no more");
  for (let k = 0; k < 12; k++) {
    const order = done.filter((item) => item.key === `k${k}`).map((item) => item.offset);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), `k${k} in order`);
  }
});

Deno.test("runByKey() runs messages without a key in order, as one lane", async () => {
  const all = items([null, "a", null, "b", null]);
  const done: number[] = [];
  await runByKey(all, {
    limit: 10,
    keyOf: (item) => item.key,
    admit: () => true,
    run: async (item) => {
      // Earlier messages take longer: only the lane keeps nulls in order.
      await tick(10 - item.offset * 2);
      done.push(item.offset);
      return true;
    },
  });
  assert.deepEqual(done.filter((offset) => offset % 2 === 0), [0, 2, 4]);
});

Deno.test("runByKey() admits nothing more after a failure and lets the other lanes decide on what they hold", async () => {
  const all = items(["a", "b", "c", "a", "d"]);
  const started: number[] = [];
  const finished: number[] = [];
  await runByKey(all, {
    limit: 3,
    keyOf: (item) => item.key,
    admit: () => true,
    run: async (item) => {
      started.push(item.offset);
      if (item.offset === 1) {
        await tick(5);
        return false; // b fails while a and c run; d waits for a free lane
      }
      await tick(20);
      finished.push(item.offset);
      return true;
    },
  });
  assert.deepEqual(started.sort(), [0, 1, 2, 3], "d was never admitted; a went on with 3");
  assert.deepEqual(finished.sort(), [0, 2, 3], "the running lanes finished before it resolved");
});

Deno.test("runByKey() stops admitting when admit() says no", async () => {
  const all = items(["a", "b", "c"]);
  const ran: number[] = [];
  await runByKey(all, {
    limit: 3,
    keyOf: (item) => item.key,
    admit: (item) => item.offset < 1,
    run: (item) => {
      ran.push(item.offset);
      return Promise.resolve(true);
    },
  });
  assert.deepEqual(ran, [0]);
});

Deno.test("runByKey() rejects with an unexpected error only after every lane stopped", async () => {
  let slowDone = false;
  await assert.rejects(
    runByKey(items(["a", "b"]), {
      limit: 2,
      keyOf: (item) => item.key,
      admit: () => true,
      run: async (item) => {
        if (item.key === "b") throw new Error("bug");
        await tick(20);
        slowDone = true;
        return true;
      },
    }),
    /bug/,
  );
  assert.ok(slowDone, "the other lane finished first");
});

Deno.test("runByKey() refuses a limit below 1", async () => {
  await assert.rejects(
    runByKey([], {
      limit: 0,
      keyOf: () => null,
      admit: () => true,
      run: () => Promise.resolve(true),
    }),
    /limit must be an integer >= 1, got 0/,
  );
});

Deno.test("laneOf() keeps keys that differ in any byte apart", () => {
  const a = laneOf(new Uint8Array([0xff, 0xfe]));
  const b = laneOf(new Uint8Array([0xff, 0xfd]));
  assert.notEqual(a, b);
  assert.equal(laneOf(new Uint8Array(10_000).fill(65))!.length, 10_000);
  assert.equal(laneOf(null), null);
});
