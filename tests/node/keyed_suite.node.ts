/**
 * Key-ordered processing (`key_concurrency`) on the node-rdkafka adapter, in
 * process and with the compiled `racecar` bin killed with SIGKILL.
 *
 * @module
 */

import { createNodeRdkafkaTransport } from "../../src/kafka/node_rdkafka/mod.ts";
import { keyedScenarios } from "../suite/keyed_scenarios.ts";
import { racecarCommand } from "./_bins.ts";
import { registerScenarios } from "./_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/keyed_consumer.ts";

registerScenarios(createNodeRdkafkaTransport(), keyedScenarios, racecarCommand("node-rdkafka"));
