/** Unit tests of the instrumenter's hooks around work (`around`). */

import { Instrumenter } from "../src/events.ts";
import assert from "node:assert/strict";

const payload = () => ({ clientId: "c", deliveredMessageCount: 0 });

Deno.test("Instrumenter.around() runs hooks outermost first around the work, and events after", async () => {
  const seen: string[] = [];
  const events = new Instrumenter();
  for (const name of ["a", "b"]) {
    events.around("deliver_messages", async (_p, work) => {
      seen.push(`${name}>`);
      const value = await work();
      seen.push(`<${name}`);
      return value;
    });
  }
  events.on("deliver_messages", (p) => seen.push(`event ${p.error === undefined}`));
  const result = await events.instrument("deliver_messages", payload, () => {
    seen.push("work");
    return 42;
  });
  assert.deepEqual(result, 42);
  assert.deepEqual(seen, ["a>", "b>", "work", "<b", "<a", "event true"]);
});

Deno.test("Instrumenter.around() passes the work's error through even when a hook swallows it", async () => {
  const events = new Instrumenter();
  events.around("deliver_messages", async (_p, work) => {
    try {
      return await work();
    } catch {
      return undefined as never;
    }
  });
  await assert.rejects(
    () => events.instrument("deliver_messages", payload, () => Promise.reject(new Error("boom"))),
    (error) => {
      assert.ok(error instanceof Error);
      assert.ok(error.message.includes("boom"));
      return true;
    },
  );
});

Deno.test("Instrumenter.around() runs the work once and reports a hook that fails", async () => {
  const reported: unknown[] = [];
  const events = new Instrumenter({ onListenerError: (error) => reported.push(error) });
  events.around("deliver_messages", () => Promise.reject<never>(new Error("hook before")));
  events.around("deliver_messages", async (_p, work) => {
    await work();
    throw new Error("hook after");
  });
  let runs = 0;
  const result = await events.instrument("deliver_messages", payload, () => ++runs);
  assert.deepEqual(result, 1);
  assert.deepEqual(runs, 1);
  assert.deepEqual(reported.map((e) => (e as Error).message), ["hook before", "hook after"]);
});

Deno.test("Instrumenter.around() stops wrapping once removed", async () => {
  const events = new Instrumenter();
  let wrapped = 0;
  const off = events.around("deliver_messages", (_p, work) => (wrapped++, work()));
  assert.deepEqual(events.wraps("deliver_messages"), true);
  off();
  assert.deepEqual(events.wraps("deliver_messages"), false);
  await events.instrument("deliver_messages", payload, () => {});
  assert.deepEqual(wrapped, 0);
});
