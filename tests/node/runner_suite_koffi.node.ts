/**
 * The runner's processing semantics on the koffi adapter and a real broker:
 * the scenarios `runner_suite.node.ts` runs on node-rdkafka.
 *
 * @module
 */

import { createKoffiTransport } from "../../src/kafka/ffi/koffi/mod.ts";
import { runnerScenarios } from "../suite/runner_scenarios.ts";
import { registerScenarios } from "./_register.ts";

registerScenarios(createKoffiTransport(), runnerScenarios);
