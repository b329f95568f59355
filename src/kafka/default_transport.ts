/**
 * Picks the Kafka adapter when the application did not inject one (Deno build).
 *
 * `RACECAR_TRANSPORT` chooses: `deno-ffi` (the default: librdkafka through
 * `Deno.dlopen`), `memory` (the in-process broker), or `node-rdkafka` and
 * `koffi`, which are for Node.js. The npm build replaces this file with
 * `default_transport.node.ts`, so the Node package never contains the FFI
 * adapter and this file never loads the addon.
 *
 * @module
 */

import { getEnv } from "../_runtime.ts";
import { ConfigError } from "../errors.ts";
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
      const { createMemoryTransport } = await import("./memory/mod.ts");
      return createMemoryTransport();
    }
    case "node-rdkafka":
      throw nodeRdkafkaUnderDeno();
    case "koffi":
      throw new ConfigError(
        `Cannot load transport "koffi" under Deno: it is the same librdkafka binding as ` +
          `"deno-ffi" through Node's koffi package; use "deno-ffi" (the default) under Deno`,
        { key: "RACECAR_TRANSPORT" },
      );
    default:
      throw unknownTransport(name);
  }
}
