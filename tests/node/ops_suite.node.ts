/**
 * The operability scenarios (logs, `racecarctl` cluster commands) with the
 * compiled `racecar` and `racecarctl` bins under Node.js, and the admin
 * transport scenarios over node-rdkafka.
 *
 * @module
 */

import { createNodeRdkafkaTransport } from "../../src/kafka/node_rdkafka/mod.ts";
import { adminScenarios } from "../suite/admin_scenarios.ts";
import { opsScenarios } from "../suite/ops_scenarios.ts";
import { ctlCommand, racecarCommand } from "./_bins.ts";
import { registerScenarios } from "./_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/ledger_consumer.ts";

registerScenarios(
  createNodeRdkafkaTransport(),
  opsScenarios(ctlCommand("node-rdkafka")),
  racecarCommand("node-rdkafka"),
);

registerScenarios(createNodeRdkafkaTransport(), adminScenarios);
