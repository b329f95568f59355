/**
 * The shared transport scenarios against the Deno FFI adapter and a real broker.
 *
 * @module
 */

import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import { ffiScenarios } from "../suite/ffi_scenarios.ts";
import { nodeExtraScenarios } from "../suite/node_extra_scenarios.ts";
import { transportScenarios } from "../suite/transport_scenarios.ts";
import { registerScenarios } from "./_deno_suite.ts";

registerScenarios("deno-ffi", createFfiTransport(), [
  ...transportScenarios,
  ...nodeExtraScenarios,
  ...ffiScenarios,
]);
