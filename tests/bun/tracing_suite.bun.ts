/**
 * The OpenTelemetry tracing scenarios on the `bun:ffi` adapter.
 *
 * @module
 */

import { createBunTransport } from "../../src/kafka/ffi/bun/mod.ts";
import { tracingScenarios } from "../suite/tracing_scenarios.ts";
import { registerScenarios } from "../node/_register.ts";

registerScenarios(createBunTransport(), tracingScenarios);
