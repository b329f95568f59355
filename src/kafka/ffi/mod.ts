/**
 * The Deno FFI transport: Racecar's Kafka port implemented over librdkafka's
 * C API with `Deno.dlopen` (the call layer in `deno/layer.ts`; the logic is
 * shared with the koffi transport for Node in `koffi/mod.ts`). Needs `--allow-ffi` (plus `--allow-read` and
 * `--allow-env` to find the library).
 *
 * @example
 * ```ts ignore
 * import { createFfiTransport } from "./mod.ts";
 * const transport = createFfiTransport();
 * console.log(transport.librdkafkaVersion, transport.features.builtin);
 * ```
 *
 * @module
 */

import { type LoadedLibrary, loadLibrdkafka as loadWith, type LoadOptions } from "./library.ts";
import { denoLayer } from "./deno/layer.ts";
import { type FfiTransport, transportOver } from "./_transport.ts";

export { LibraryNotFoundError } from "../../errors.ts";
export { MIN_VERSION } from "./library.ts";
export type { LoadOptions } from "./library.ts";
export type { FfiTransport, FfiTransportFeatures } from "./_transport.ts";

/**
 * Loads librdkafka (see {@link LoadOptions} for where it looks) and returns a
 * transport over it. Throws a `LibraryNotFoundError` listing every path tried
 * when no librdkafka 2.0 or newer loads.
 *
 * @example
 * ```ts ignore
 * const transport = createFfiTransport();
 * const producer = transport.createProducer({ config: { "bootstrap.servers": "127.0.0.1:9092" } });
 * await producer.produce({ topic: "greetings", value: new TextEncoder().encode("hi") });
 * await producer.close();
 * ```
 */
export function createFfiTransport(options: LoadOptions = {}): FfiTransport {
  return transportOver(loadLibrdkafka(options), "deno-ffi");
}

/**
 * Finds and loads librdkafka through `Deno.dlopen`; see `library.ts` for the
 * search and the checks.
 *
 * @example
 * ```ts ignore
 * const lib = loadLibrdkafka();
 * console.log(lib.path, lib.version);
 * ```
 */
export function loadLibrdkafka(options: LoadOptions = {}): LoadedLibrary {
  return loadWith(denoLayer, options);
}
