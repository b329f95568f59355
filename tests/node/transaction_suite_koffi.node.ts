/**
 * The exactly-once scenarios with the compiled `racecar` bin under Node.js on
 * the koffi adapter (`RACECAR_TRANSPORT=koffi`).
 *
 * @module
 */

import { createKoffiTransport } from "../../src/kafka/ffi/koffi/mod.ts";
import { transactionScenarios } from "../suite/transaction_scenarios.ts";
import { racecarCommand } from "./_bins.ts";
import { registerScenarios } from "./_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/transactional_echo_consumer.ts";

registerScenarios(createKoffiTransport(), transactionScenarios, racecarCommand("koffi"));
