/**
 * The operability scenarios (logs, `racecarctl` cluster commands) with the
 * compiled bins run by Bun on their default adapter (`bun-ffi`), and the admin
 * transport scenarios over `bun:ffi`.
 *
 * @module
 */

import { createBunTransport } from "../../src/kafka/ffi/bun/mod.ts";
import { adminScenarios } from "../suite/admin_scenarios.ts";
import { opsScenarios } from "../suite/ops_scenarios.ts";
import { ctlCommand, racecarCommand } from "../node/_bins.ts";
import { registerScenarios } from "../node/_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/ledger_consumer.ts";

const transport = createBunTransport();
registerScenarios(transport, opsScenarios(ctlCommand()), racecarCommand());
registerScenarios(transport, adminScenarios);
