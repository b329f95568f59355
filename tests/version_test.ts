import { assertEquals } from "./_assert.ts";
import { VERSION } from "../src/version.ts";

Deno.test("VERSION matches the version in deno.json", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assertEquals(VERSION, denoJson.version);
});
