/**
 * The process scenarios (SIGKILL at random points, static membership) with
 * the compiled `racecar` bin under Node.js on the koffi adapter
 * (`RACECAR_TRANSPORT=koffi`).
 *
 * @module
 */

import { createKoffiTransport } from "../../src/kafka/ffi/koffi/mod.ts";
import { processScenarios } from "../suite/process_scenarios.ts";
import { racecarCommand } from "./_bins.ts";
import { registerScenarios } from "./_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/ledger_consumer.ts";
import "../fixtures/member_consumer.ts";

registerScenarios(createKoffiTransport(), processScenarios, racecarCommand("koffi"));
