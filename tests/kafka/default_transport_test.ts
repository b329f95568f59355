/**
 * `loadDefaultTransport()` under Deno for the adapter names that belong to Node.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError } from "../../src/errors.ts";
import { loadDefaultTransport } from "../../src/kafka/default_transport.ts";

async function withTransport<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const before = Deno.env.get("RACECAR_TRANSPORT");
  Deno.env.set("RACECAR_TRANSPORT", name);
  try {
    return await fn();
  } finally {
    if (before === undefined) Deno.env.delete("RACECAR_TRANSPORT");
    else Deno.env.set("RACECAR_TRANSPORT", before);
  }
}

Deno.test("loadDefaultTransport() refuses koffi under Deno and names deno-ffi instead", async () => {
  await withTransport("koffi", async () => {
    await assert.rejects(loadDefaultTransport(), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.key, "RACECAR_TRANSPORT");
      assert.match(error.message, /Cannot load transport "koffi" under Deno: .*use "deno-ffi"/);
      return true;
    });
  });
});

Deno.test("loadDefaultTransport() lists koffi among the names it accepts", async () => {
  await withTransport("kofi", async () => {
    await assert.rejects(loadDefaultTransport(), /must be one of .*"koffi"/);
  });
});
