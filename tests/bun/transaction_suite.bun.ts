/**
 * Exactly-once processing (`transactional`) on the `bun:ffi` adapter: the
 * scenarios `tests/node/transaction_suite*.node.ts` run on Node, in process
 * and with the compiled `racecar` bin run by Bun and killed with SIGKILL.
 *
 * @module
 */

import { createBunTransport } from "../../src/kafka/ffi/bun/mod.ts";
import { transactionScenarios } from "../suite/transaction_scenarios.ts";
import { racecarCommand } from "../node/_bins.ts";
import { registerScenarios } from "../node/_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/transactional_echo_consumer.ts";

// No RACECAR_TRANSPORT: the bin must pick bun-ffi by itself under Bun.
registerScenarios(createBunTransport(), transactionScenarios, racecarCommand());
