/**
 * OpenTelemetry tracing on the Deno FFI adapter and the real broker at
 * `RACECAR_BROKERS`: the shared scenarios of `tests/suite/tracing_scenarios.ts`
 * (Node runs them in `tests/node/tracing_suite.node.ts`).
 */

import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import { tracingScenarios } from "../suite/tracing_scenarios.ts";
import { registerScenarios } from "./_deno_suite.ts";

registerScenarios("deno-ffi", createFfiTransport(), tracingScenarios);
