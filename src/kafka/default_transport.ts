/**
 * Picks the Kafka adapter when the application did not inject one (Deno build).
 *
 * `RACECAR_TRANSPORT` chooses: `deno-ffi` (the default: librdkafka through
 * `Deno.dlopen`), `memory` (the in-process broker) or `node-rdkafka`, which
 * Deno cannot load. The npm build replaces this file with
 * `default_transport.node.ts`, so the Node package never contains the FFI
 * adapter and this file never loads the addon.
 *
 * @module
 */

import { getEnv } from "../_runtime.ts";
import type { Transport } from "./transport.ts";
import { nodeRdkafkaUnderDeno, unknownTransport } from "./_transport_names.ts";

export { TRANSPORT_NAMES, type TransportName } from "./_transport_names.ts";

/**
 * Loads the adapter this runtime uses by default, or the one named by the
 * `RACECAR_TRANSPORT` environment variable.
 *
 * @example
 * ```ts ignore
 * import { loadDefaultTransport } from "./default_transport.ts";
 * const transport = await loadDefaultTransport();
 * console.log(transport.name); // "deno-ffi"
 * ```
 */
export async function loadDefaultTransport(): Promise<Transport> {
  const name = getEnv("RACECAR_TRANSPORT") || "deno-ffi";
  switch (name) {
    case "deno-ffi": {
      const { createFfiTransport } = await import("./ffi/mod.ts");
      return createFfiTransport();
    }
    case "memory": {
      const { createMemoryTransport } = await import("./memory.ts");
      return createMemoryTransport();
    }
    case "node-rdkafka":
      throw nodeRdkafkaUnderDeno();
    default:
      throw unknownTransport(name);
  }
}
