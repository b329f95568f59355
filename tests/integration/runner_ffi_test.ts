/**
 * The runner's processing semantics on the Deno FFI adapter and a real broker.
 *
 * @module
 */

import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import { runnerScenarios } from "../suite/runner_scenarios.ts";
import { registerScenarios } from "./_deno_suite.ts";

registerScenarios("deno-ffi", createFfiTransport(), runnerScenarios);
