/**
 * Key-ordered processing (`key_concurrency`) on the Deno FFI adapter and a
 * real broker, in process and with `deno run cli.ts` killed with SIGKILL.
 *
 * @module
 */

import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import { keyedScenarios } from "../suite/keyed_scenarios.ts";
import { registerScenarios } from "./_deno_suite.ts";
import { denoRacecar } from "./_racecar_deno.ts";

registerScenarios("deno-ffi", createFfiTransport(), keyedScenarios, denoRacecar);
