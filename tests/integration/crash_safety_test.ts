/**
 * The process scenarios (SIGKILL at random points; restarts with and without
 * static membership) with `deno run cli.ts`.
 *
 * @module
 */

import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import { processScenarios } from "../suite/process_scenarios.ts";
import { registerScenarios } from "./_deno_suite.ts";
import { denoRacecar } from "./_racecar_deno.ts";

registerScenarios("deno", createFfiTransport(), processScenarios, denoRacecar);
