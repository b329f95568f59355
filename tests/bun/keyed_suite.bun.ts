/**
 * Key-ordered processing (`key_concurrency`) on the `bun:ffi` adapter: the
 * scenarios `tests/node/keyed_suite*.node.ts` run on Node, in process and with
 * the compiled `racecar` bin run by Bun and killed with SIGKILL.
 *
 * @module
 */

import { createBunTransport } from "../../src/kafka/ffi/bun/mod.ts";
import { keyedScenarios } from "../suite/keyed_scenarios.ts";
import { racecarCommand } from "../node/_bins.ts";
import { registerScenarios } from "../node/_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/keyed_consumer.ts";

// No RACECAR_TRANSPORT: the bin must pick bun-ffi by itself under Bun.
registerScenarios(createBunTransport(), keyedScenarios, racecarCommand());
