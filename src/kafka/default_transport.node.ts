/**
 * Picks the Kafka adapter when the application did not inject one (Node build).
 *
 * `scripts/build_npm.ts` copies this file over `default_transport.ts`, so Node
 * never imports the Deno layer of the FFI adapter. The package still ships that
 * layer as JavaScript: when Deno runs the npm package (`deno run -A
 * npm:racecar`), it is the default, because node-rdkafka (a NAN addon) and
 * koffi do not load in Deno. `RACECAR_TRANSPORT` chooses: `koffi` (the default
 * under Node: the FFI adapter's librdkafka binding through the `koffi` package,
 * which passes the Node suite and is the faster; bench/README.md),
 * `node-rdkafka`, `deno-ffi` (the default under Deno, an error under Node) or
 * `memory` (the in-process broker).
 *
 * @module
 */

import { getEnv, isDeno } from "../_runtime.ts";
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
 * console.log(transport.name); // "koffi"
 * ```
 */
export async function loadDefaultTransport(): Promise<Transport> {
  const name = getEnv("RACECAR_TRANSPORT") || (isDeno ? "deno-ffi" : "koffi");
  switch (name) {
    case "node-rdkafka": {
      if (isDeno) throw nodeRdkafkaUnderDeno();
      let adapter: typeof import("./node_rdkafka/mod.ts");
      try {
        adapter = await import("./node_rdkafka/mod.ts");
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
      const { createMemoryTransport } = await import("./memory/mod.ts");
      return createMemoryTransport();
    }
    case "deno-ffi": {
      if (isDeno) {
        // Not a literal: the Node compilation must not follow it (the adapter needs Deno's types).
        const ffi = "./ffi/mod.js";
        const { createFfiTransport } = await import(ffi);
        return createFfiTransport();
      }
      throw new ConfigError(
        `Cannot load transport "deno-ffi" under Node.js: it uses Deno.dlopen; ` +
          `use "koffi" (the default) or "node-rdkafka" under Node.js, or run Racecar with Deno`,
        { key: "RACECAR_TRANSPORT" },
      );
    }
    default:
      throw unknownTransport(name);
  }
}
