/**
 * The process scenarios (SIGKILL at random points, static membership, crash
 * and echo fixtures) with the compiled `racecar` bin run by Bun, whose default
 * adapter is `bun-ffi`.
 *
 * @module
 */

import { createBunTransport } from "../../src/kafka/ffi/bun/mod.ts";
import { processScenarios } from "../suite/process_scenarios.ts";
import { racecarCommand } from "../node/_bins.ts";
import { registerScenarios } from "../node/_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/ledger_consumer.ts";
import "../fixtures/member_consumer.ts";
import "../fixtures/failing_consumer.ts";
import "../fixtures/echo_consumer.ts";

// No RACECAR_TRANSPORT: the bin must pick bun-ffi by itself under Bun.
registerScenarios(createBunTransport(), processScenarios, racecarCommand());
