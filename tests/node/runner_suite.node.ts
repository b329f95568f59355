/**
 * The runner's processing semantics on the node-rdkafka adapter and a real
 * broker: the same scenarios the Deno suite runs on the FFI adapter.
 *
 * @module
 */

import { createNodeRdkafkaTransport } from "../../src/kafka/node_rdkafka/mod.ts";
import { runnerScenarios } from "../suite/runner_scenarios.ts";
import { registerScenarios } from "./_register.ts";

registerScenarios(createNodeRdkafkaTransport(), runnerScenarios);
