/**
 * The shared transport scenarios under Bun, against the `bun:ffi` adapter, as
 * `tests/node/transport_suite_koffi.node.ts` runs them on koffi. Run from the
 * compiled package: `bun test npm/dist/tests/bun/*.bun.js`.
 *
 * @module
 */

import { createBunTransport } from "../../src/kafka/ffi/bun/mod.ts";
import { ffiScenarios } from "../suite/ffi_scenarios.ts";
import { nodeExtraScenarios } from "../suite/node_extra_scenarios.ts";
import { transportScenarios } from "../suite/transport_scenarios.ts";
import { registerScenarios } from "../node/_register.ts";

const transport = createBunTransport();
registerScenarios(transport, transportScenarios);
registerScenarios(transport, nodeExtraScenarios);
registerScenarios(transport, ffiScenarios);
