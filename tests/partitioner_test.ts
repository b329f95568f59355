import { assertEquals, assertThrows } from "./_assert.ts";
import { crc32, fnv1a, murmur2, partitionFor } from "../src/partitioner.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("crc32() matches the IEEE check value", () => {
  assertEquals(crc32(bytes("123456789")), 0xcbf43926);
});

Deno.test("murmur2() matches Kafka's Java client", () => {
  // Values from Kafka's own Utils.murmur2 tests.
  assertEquals(murmur2(bytes("21")), -973932308);
  assertEquals(murmur2(bytes("foobar")), -790332482);
  assertEquals(murmur2(bytes("a-little-bit-long-string")), -985981536);
  assertEquals(murmur2(bytes("a-little-bit-longer-string")), -1486304829);
  assertEquals(murmur2(bytes("abc")), 479470107);
  assertEquals(murmur2(bytes("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")), -58897971);
});

Deno.test("fnv1a() of the empty key is the offset basis", () => {
  assertEquals(fnv1a(new Uint8Array()) >>> 0, 0x811c9dc5);
  assertEquals(fnv1a(bytes("a")) >>> 0, 0xe40c292c);
  assertEquals(fnv1a(bytes("foobar")) >>> 0, 0xbf9cf968);
});

Deno.test("partitionFor() is stable and in range for every partitioner", () => {
  for (const name of ["consistent_random", "murmur2_random", "fnv1a"] as const) {
    const first = partitionFor(bytes("order-42"), 6, name);
    assertEquals(partitionFor(bytes("order-42"), 6, name), first);
    assertEquals(first >= 0 && first < 6, true);
  }
});

Deno.test("partitionFor() rejects a partition count below 1", () => {
  assertThrows(() => partitionFor(bytes("k"), 0, "consistent"), RangeError, "partition count");
});
