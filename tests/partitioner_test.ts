import assert from "node:assert/strict";
import { crc32, fnv1a, murmur2, partitionFor } from "../src/partitioner.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("crc32() matches the IEEE check value", () => {
  assert.deepEqual(crc32(bytes("123456789")), 0xcbf43926);
});

Deno.test("murmur2() matches Kafka's Java client", () => {
  // Values from Kafka's own Utils.murmur2 tests.
  assert.deepEqual(murmur2(bytes("21")), -973932308);
  assert.deepEqual(murmur2(bytes("foobar")), -790332482);
  assert.deepEqual(murmur2(bytes("a-little-bit-long-string")), -985981536);
  assert.deepEqual(murmur2(bytes("a-little-bit-longer-string")), -1486304829);
  assert.deepEqual(murmur2(bytes("abc")), 479470107);
  assert.deepEqual(murmur2(bytes("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")), -58897971);
});

Deno.test("fnv1a() of the empty key is the offset basis", () => {
  assert.deepEqual(fnv1a(new Uint8Array()) >>> 0, 0x811c9dc5);
  assert.deepEqual(fnv1a(bytes("a")) >>> 0, 0xe40c292c);
  assert.deepEqual(fnv1a(bytes("foobar")) >>> 0, 0xbf9cf968);
});

Deno.test("partitionFor() is stable and in range for every partitioner", () => {
  for (const name of ["consistent_random", "murmur2_random", "fnv1a"] as const) {
    const first = partitionFor(bytes("order-42"), 6, name);
    assert.deepEqual(partitionFor(bytes("order-42"), 6, name), first);
    assert.deepEqual(first >= 0 && first < 6, true);
  }
});

Deno.test("partitionFor() rejects a partition count below 1", () => {
  assert.throws(
    () => partitionFor(bytes("k"), 0, "consistent"),
    (error: unknown) =>
      error instanceof RangeError && String((error as Error).message).includes("partition count"),
  );
});
