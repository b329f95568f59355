/**
 * The shared transport scenarios under Node.js, against the koffi adapter (the
 * FFI adapter's librdkafka binding through the `koffi` package), exactly as
 * `transport_suite.node.ts` runs them against node-rdkafka; and how it reports
 * a missing librdkafka.
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { LibraryNotFoundError } from "../../src/errors.ts";
import { createKoffiTransport } from "../../src/kafka/ffi/koffi/mod.ts";
import { ffiScenarios } from "../suite/ffi_scenarios.ts";
import { nodeExtraScenarios } from "../suite/node_extra_scenarios.ts";
import { transportScenarios } from "../suite/transport_scenarios.ts";
import { registerScenarios } from "./_register.ts";

const transport = createKoffiTransport();
registerScenarios(transport, transportScenarios);
registerScenarios(transport, nodeExtraScenarios);
registerScenarios(transport, ffiScenarios);

test("koffi: createKoffiTransport() names the path it tried and how to get librdkafka", () => {
  assert.throws(
    () => createKoffiTransport({ libraryPath: "/nowhere/librdkafka.so.1", fallbacks: false }),
    (error: unknown) => {
      assert.ok(error instanceof LibraryNotFoundError);
      assert.match(
        error.message,
        /\/nowhere\/librdkafka\.so\.1 \(libraryPath option\): no such file/,
      );
      assert.match(error.message, /npm rebuild node-rdkafka/);
      return true;
    },
  );
});

test("koffi: createKoffiTransport() loads node-rdkafka's librdkafka and reports its features", () => {
  assert.equal(transport.name, "koffi");
  assert.match(transport.librdkafkaVersion, /^2\./);
  assert.match(transport.features.libraryPath, /node-rdkafka\/build\/deps\/librdkafka\.so\.1$/);
  assert.ok(transport.features.builtin.includes("ssl"), transport.features.builtin.join(","));
});
