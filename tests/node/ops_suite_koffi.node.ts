/**
 * The operability scenarios (logs, `racecarctl` cluster commands) with the
 * compiled bins on the koffi adapter (`RACECAR_TRANSPORT=koffi`), and the
 * admin transport scenarios over koffi.
 *
 * @module
 */

import { createKoffiTransport } from "../../src/kafka/ffi/koffi/mod.ts";
import { adminScenarios } from "../suite/admin_scenarios.ts";
import { opsScenarios } from "../suite/ops_scenarios.ts";
import { ctlCommand, racecarCommand } from "./_bins.ts";
import { registerScenarios } from "./_register.ts";
// Compiled alongside this file; the scenarios start it by path.
import "../fixtures/ledger_consumer.ts";

const transport = createKoffiTransport();
registerScenarios(transport, opsScenarios(ctlCommand("koffi")), racecarCommand("koffi"));
registerScenarios(transport, adminScenarios);
