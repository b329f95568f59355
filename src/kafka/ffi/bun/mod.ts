/**
 * The Bun transport: the FFI adapter's librdkafka binding under Bun, through
 * `bun:ffi`. It shares the symbol table, struct layouts and consumer, producer
 * and admin logic with the Deno adapter (`../mod.ts`) and the koffi adapter
 * (`../koffi/mod.ts`); only the call layer (`layer.ts`) differs. It finds
 * librdkafka the same way (see `../library.ts`). The default under Bun;
 * `RACECAR_TRANSPORT=bun-ffi` names it.
 *
 * @example
 * ```ts ignore
 * import { createBunTransport } from "./mod.ts";
 * const transport = createBunTransport();
 * console.log(transport.librdkafkaVersion, transport.features.libraryPath);
 * ```
 *
 * @module
 */

import { loadLibrdkafka, type LoadOptions } from "../library.ts";
import { type FfiTransport, transportOver } from "../_transport.ts";
import { bunLayer } from "./layer.ts";

export type { LoadOptions } from "../library.ts";
export type { FfiTransport, FfiTransportFeatures } from "../_transport.ts";

/**
 * Loads librdkafka through `bun:ffi` and returns a transport over it. Throws a
 * `LibraryNotFoundError` listing every path tried when no librdkafka 2.0 or
 * newer loads.
 *
 * @example
 * ```ts ignore
 * const transport = createBunTransport();
 * const producer = transport.createProducer({ config: { "bootstrap.servers": "127.0.0.1:9092" } });
 * await producer.produce({ topic: "greetings", value: new TextEncoder().encode("hi") });
 * await producer.close();
 * ```
 */
export function createBunTransport(options: LoadOptions = {}): FfiTransport {
  return transportOver(loadLibrdkafka(bunLayer, options), "bun-ffi");
}
