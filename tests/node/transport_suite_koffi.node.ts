/**
 * The shared transport scenarios under Node.js, against the koffi adapter (the
 * FFI adapter's librdkafka binding through the `koffi` package), exactly as
 * `transport_suite.node.ts` runs them against node-rdkafka.
 *
 * @module
 */

import { createKoffiTransport } from "../../src/kafka/ffi/koffi/mod.ts";
import { nodeExtraScenarios } from "../suite/node_extra_scenarios.ts";
import { transportScenarios } from "../suite/transport_scenarios.ts";
import { registerScenarios } from "./_register.ts";

const transport = createKoffiTransport();
registerScenarios(transport, transportScenarios);
registerScenarios(transport, nodeExtraScenarios);
