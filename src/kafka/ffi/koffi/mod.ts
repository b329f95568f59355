/**
 * The koffi transport: the FFI adapter's librdkafka binding on Node.js,
 * through the `koffi` package. It shares the symbol table, struct layouts and
 * consumer, producer and admin logic with the Deno adapter (`../mod.ts`); only
 * the call layer (`layer.ts`) differs. It finds librdkafka the same way:
 * node-rdkafka's build under the project's `node_modules`, then the system
 * library (see `../library.ts`). Selected with `RACECAR_TRANSPORT=koffi`.
 *
 * @example
 * ```ts ignore
 * import { createKoffiTransport } from "./mod.ts";
 * const transport = createKoffiTransport();
 * console.log(transport.librdkafkaVersion, transport.features.libraryPath);
 * ```
 *
 * @module
 */

import { loadLibrdkafka, type LoadOptions } from "../library.ts";
import { type FfiTransport, transportOver } from "../_transport.ts";
import { koffiLayer } from "./layer.ts";

export type { LoadOptions } from "../library.ts";
export type { FfiTransport, FfiTransportFeatures } from "../_transport.ts";

/**
 * Loads librdkafka through koffi and returns a transport over it. Throws a
 * `LibraryNotFoundError` listing every path tried when no librdkafka 2.0 or
 * newer loads.
 *
 * @example
 * ```ts ignore
 * const transport = createKoffiTransport();
 * const producer = transport.createProducer({ config: { "bootstrap.servers": "127.0.0.1:9092" } });
 * await producer.produce({ topic: "greetings", value: new TextEncoder().encode("hi") });
 * await producer.close();
 * ```
 */
export function createKoffiTransport(options: LoadOptions = {}): FfiTransport {
  return transportOver(loadLibrdkafka(koffiLayer, options), "koffi");
}
