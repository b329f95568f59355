/**
 * Key-ordered processing (`key_concurrency`) on the koffi adapter
 * (`RACECAR_TRANSPORT=koffi`), in process and with the compiled `racecar` bin
 * killed with SIGKILL.
 *
 * @module
 */

import { createKoffiTransport } from "../../src/kafka/ffi/koffi/mod.ts";
import { keyedScenarios } from "../suite/keyed_scenarios.ts";
import { racecarCommand } from "./_bins.ts";
import { registerScenarios } from "./_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/keyed_consumer.ts";

registerScenarios(createKoffiTransport(), keyedScenarios, racecarCommand("koffi"));
