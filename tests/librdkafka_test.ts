/**
 * The one table of librdkafka facts (`src/_librdkafka.ts`) held against the
 * librdkafka the FFI adapter loads, and the modules that take their facts from
 * it: `errors.ts`, the config schema and the memory adapter.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  errnoFromText,
  errorName,
  errorText,
  isRetriable,
  KEY_PARTITIONERS,
  LIBRDKAFKA_DEFAULTS,
  LIBRDKAFKA_ERRORS,
  PARTITIONERS,
} from "../src/_librdkafka.ts";
import { ErrorCode, KafkaError } from "../src/errors.ts";
import { SETTINGS } from "../src/config/schema.ts";
import { loadLibrdkafka } from "../src/kafka/ffi/mod.ts";
import { cstr } from "../src/kafka/ffi/_memory.ts";
import { createMemoryTransport } from "../src/kafka/memory/mod.ts";

const loaded = loadLibrdkafka();
const lib = loaded.symbols;

/** librdkafka's own answer for a property's default (topic-level ones too). */
function librdkafkaDefault(key: string): string {
  const conf = lib.rd_kafka_conf_new();
  try {
    const errstr = new Uint8Array(256);
    // Setting a topic-level property makes the conf hold a default topic conf,
    // which rd_kafka_conf_get then also answers from.
    lib.rd_kafka_conf_set(conf, cstr("acks"), cstr("all"), errstr, BigInt(errstr.length));
    const dest = new Uint8Array(1024);
    const size = new BigUint64Array([BigInt(dest.length)]);
    assert.equal(lib.rd_kafka_conf_get(conf, cstr(key), dest, size), 0, `no property "${key}"`);
    return new TextDecoder().decode(dest.subarray(0, dest.indexOf(0)));
  } finally {
    lib.rd_kafka_conf_destroy(conf);
  }
}

Deno.test("LIBRDKAFKA_ERRORS has librdkafka's name and text for every code it knows", () => {
  const known = new Map<number, string>();
  for (let errno = -300; errno < 1000; errno++) {
    const name = lib.mem.cstring(lib.rd_kafka_err2name(errno)) ?? "";
    if (name.endsWith("?")) continue; // librdkafka's spelling of "no such code"
    known.set(errno, name);
    assert.equal(errorName(errno), `ERR_${name}`, `name of ${errno}`);
    assert.equal(
      errorText(errno),
      lib.mem.cstring(lib.rd_kafka_err2str(errno)),
      `text of ${errno}`,
    );
  }
  const table = Object.entries(LIBRDKAFKA_ERRORS).map(([name, [errno]]) => [errno, name]);
  assert.deepEqual(new Map(table as [number, string][]), known, `librdkafka ${loaded.version}`);
});

Deno.test("errorName() and errorText() fall back to the number for an unknown code", () => {
  assert.equal(errorName(-12345), "ERR_-12345");
  assert.equal(errorText(-12345), "Err--12345?");
});

Deno.test("errnoFromText() finds a code back from librdkafka's text, ignoring case", () => {
  assert.equal(errnoFromText("Local: Broker transport failure"), ErrorCode.TRANSPORT);
  assert.equal(errnoFromText("local: all broker connections are down"), -187);
  assert.equal(errnoFromText("something else"), undefined);
});

Deno.test("isRetriable() is true for transient conditions only", () => {
  for (const errno of [-192, -195, -187, -184, -185, -166, -147, -142, 5, 6, 7, 13, 14, 15, 16]) {
    assert.equal(isRetriable(errno), true, `${errno} (${errorName(errno)})`);
  }
  for (const errno of [19, 20, 27]) assert.equal(isRetriable(errno), true, errorName(errno));
  for (const errno of [-196, -172, -168, -150, 3, 10, 29, 36, -12345]) {
    assert.equal(isRetriable(errno), false, `${errno} (${errorName(errno)})`);
  }
  assert.equal(new KafkaError(ErrorCode.TRANSPORT, "ERR__TRANSPORT", "down").retriable, true);
});

Deno.test("ErrorCode names librdkafka's numbers", () => {
  for (const [key, errno] of Object.entries(ErrorCode)) {
    assert.equal(errorName(errno), `ERR_${errno < 0 ? "_" : ""}${key}`, key);
  }
});

Deno.test("LIBRDKAFKA_DEFAULTS are the loaded librdkafka's defaults", () => {
  for (const [key, value] of Object.entries(LIBRDKAFKA_DEFAULTS)) {
    assert.equal(librdkafkaDefault(key), String(value), key);
  }
});

Deno.test("the partitioner setting offers librdkafka's key partitioners, its default by default", () => {
  const spec = SETTINGS.partitioner;
  assert.deepEqual(spec.allowed, KEY_PARTITIONERS);
  assert.equal(spec.default, LIBRDKAFKA_DEFAULTS.partitioner);
  assert.deepEqual(PARTITIONERS, ["random", ...KEY_PARTITIONERS]);
});

Deno.test("the memory adapter's errors carry librdkafka's name and text", async () => {
  const transport = createMemoryTransport();
  const producer = transport.createProducer({ config: {} });
  await producer.close();
  const error = await producer.produce({ topic: "t", value: null }).then(
    () => assert.fail("produce() after close() resolved"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof KafkaError);
  assert.equal(error.errno, ErrorCode.STATE);
  assert.equal(error.code, "ERR__STATE");
  assert.match(error.message, /^Local: Erroneous state: Cannot produce/);
});
