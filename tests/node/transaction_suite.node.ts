/**
 * The exactly-once scenarios with the compiled `racecar` bin under Node.js on
 * the node-rdkafka adapter.
 *
 * @module
 */

import { createNodeRdkafkaTransport } from "../../src/kafka/node_rdkafka/mod.ts";
import { transactionScenarios } from "../suite/transaction_scenarios.ts";
import { racecarCommand } from "./_bins.ts";
import { registerScenarios } from "./_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/transactional_echo_consumer.ts";

registerScenarios(
  createNodeRdkafkaTransport(),
  transactionScenarios,
  racecarCommand("node-rdkafka"),
);
