/**
 * The exactly-once scenarios (transactional producing; a `transactional`
 * racecar killed with SIGKILL at random points) with the Deno FFI adapter and
 * `deno run cli.ts`.
 *
 * @module
 */

import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import { transactionScenarios } from "../suite/transaction_scenarios.ts";
import { registerScenarios } from "./_deno_suite.ts";
import { denoRacecar } from "./_racecar_deno.ts";

registerScenarios("deno", createFfiTransport(), transactionScenarios, denoRacecar);
