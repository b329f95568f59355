/**
 * The process scenarios (SIGKILL at random points) with the compiled
 * `racecar` bin under Node.js.
 *
 * @module
 */

import { createNodeRdkafkaTransport } from "../../src/kafka/node_rdkafka/mod.ts";
import { processScenarios } from "../suite/process_scenarios.ts";
import { racecarCommand } from "./_bins.ts";
import { registerScenarios } from "./_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/ledger_consumer.ts";
import "../fixtures/member_consumer.ts";
import "../fixtures/failing_consumer.ts";
import "../fixtures/echo_consumer.ts";

registerScenarios(
  createNodeRdkafkaTransport(),
  processScenarios,
  racecarCommand("node-rdkafka"),
);
