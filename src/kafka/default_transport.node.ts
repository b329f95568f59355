/**
 * Picks the Kafka adapter when the application did not inject one (Node build).
 *
 * `scripts/build_npm.ts` copies this file over `default_transport.ts`, so the
 * npm package never contains or imports the Deno FFI adapter.
 * `RACECAR_TRANSPORT` chooses: `koffi` (the default: the FFI adapter's
 * librdkafka binding through the `koffi` package, which passes the Node suite
 * and is the faster; bench/README.md), `node-rdkafka` or `memory` (the
 * in-process broker); `deno-ffi` needs Deno.
 *
 * @module
 */

import { getEnv } from "../_runtime.ts";
import { ConfigError } from "../errors.ts";
import type { Transport } from "./transport.ts";
import { unknownTransport } from "./_transport_names.ts";

export { TRANSPORT_NAMES, type TransportName } from "./_transport_names.ts";

/**
 * Loads the adapter this runtime uses by default, or the one named by the
 * `RACECAR_TRANSPORT` environment variable.
 *
 * @example
 * ```ts ignore
 * import { loadDefaultTransport } from "./default_transport.ts";
 * const transport = await loadDefaultTransport();
 * console.log(transport.name); // "koffi"
 * ```
 */
export async function loadDefaultTransport(): Promise<Transport> {
  const name = getEnv("RACECAR_TRANSPORT") || "koffi";
  switch (name) {
    case "node-rdkafka": {
      let adapter: typeof import("./node_rdkafka.ts");
      try {
        adapter = await import("./node_rdkafka.ts");
      } catch (error) {
        throw new ConfigError(
          `Cannot load transport "node-rdkafka": the node-rdkafka addon failed to load ` +
            `(${error instanceof Error ? error.message : String(error)}); reinstall it with ` +
            `'npm rebuild node-rdkafka' (it builds librdkafka from source)`,
          { key: "RACECAR_TRANSPORT", cause: error },
        );
      }
      return adapter.createNodeRdkafkaTransport();
    }
    case "koffi": {
      const { createKoffiTransport } = await import("./ffi/koffi/mod.ts");
      return createKoffiTransport();
    }
    case "memory": {
      const { createMemoryTransport } = await import("./memory.ts");
      return createMemoryTransport();
    }
    case "deno-ffi":
      throw new ConfigError(
        `Cannot load transport "deno-ffi" under Node.js: it uses Deno.dlopen; ` +
          `use "koffi" (the default) or "node-rdkafka" under Node.js, or run Racecar with Deno`,
        { key: "RACECAR_TRANSPORT" },
      );
    default:
      throw unknownTransport(name);
  }
}
