/**
 * The runner's processing semantics on the `bun:ffi` adapter and a real
 * broker: the scenarios `tests/node/runner_suite.node.ts` runs on Node.
 *
 * @module
 */

import { createBunTransport } from "../../src/kafka/ffi/bun/mod.ts";
import { runnerScenarios } from "../suite/runner_scenarios.ts";
import { registerScenarios } from "../node/_register.ts";

registerScenarios(createBunTransport(), runnerScenarios);
