/**
 * The shared transport scenarios under Node.js, against the node-rdkafka
 * adapter: `deno task test:node` (builds npm/dist, then `node --test`). Named
 * `.node.ts` so `deno test` never picks it up (Deno cannot load the addon).
 *
 * @module
 */

import { createNodeRdkafkaTransport } from "../../src/kafka/node_rdkafka/mod.ts";
import { nodeExtraScenarios } from "../suite/node_extra_scenarios.ts";
import { transportScenarios } from "../suite/transport_scenarios.ts";
import { registerScenarios } from "./_register.ts";

const transport = createNodeRdkafkaTransport();
registerScenarios(transport, transportScenarios);
registerScenarios(transport, nodeExtraScenarios);
