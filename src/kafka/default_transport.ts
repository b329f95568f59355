/**
 * Picks the Kafka adapter when the application did not inject one, from two
 * small tables: the adapters and how each is loaded, and per runtime the one
 * it uses by default and those it cannot load. `RACECAR_TRANSPORT` chooses
 * another: `deno-ffi` (librdkafka through `Deno.dlopen`; the default under
 * Deno), `koffi` (the same binding through Node's `koffi` package; the default
 * under Node.js, and the faster there: bench/README.md), `bun-ffi` (the same
 * binding through `bun:ffi`; the default under Bun), `node-rdkafka` (the
 * addon, Node.js only) or `memory` (the in-process broker).
 *
 * An application that wants one adapter imports it from its subpath
 * (`jsr:@racecar/cli/adapters/koffi`, `racecar/adapters/koffi`, ...) and
 * passes it as `transport`.
 *
 * @module
 */

import { getEnv, isBun, isDeno } from "../_runtime.ts";
import { ConfigError } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Adapter names `RACECAR_TRANSPORT` accepts. */
export const TRANSPORT_NAMES = ["deno-ffi", "node-rdkafka", "koffi", "bun-ffi", "memory"] as const;

/** One of {@link TRANSPORT_NAMES}. */
export type TransportName = typeof TRANSPORT_NAMES[number];

/** The runtimes Racecar runs on. */
type Runtime = "deno" | "node" | "bun";

/** Per runtime: its name in messages, its default adapter, and why it cannot load the others. */
const RUNTIMES: Record<Runtime, {
  label: string;
  default: TransportName;
  refuses: Partial<Record<TransportName, string>>;
}> = {
  deno: {
    label: "Deno",
    default: "deno-ffi",
    refuses: {
      "node-rdkafka": `node-rdkafka is a NAN addon, which Deno cannot load; use "deno-ffi" ` +
        `(the default) under Deno, or run the npm package under Node.js`,
      koffi: `it is the same librdkafka binding as "deno-ffi" through Node's koffi package; ` +
        `use "deno-ffi" (the default) under Deno`,
      "bun-ffi": `it is the same librdkafka binding as "deno-ffi" through Bun's bun:ffi; ` +
        `use "deno-ffi" (the default) under Deno`,
    },
  },
  node: {
    label: "Node.js",
    default: "koffi",
    refuses: {
      "deno-ffi": `it uses Deno.dlopen; use "koffi" (the default) or "node-rdkafka" under ` +
        `Node.js, or run Racecar with Deno`,
      "bun-ffi": `it uses bun:ffi; use "koffi" (the default) or "node-rdkafka" under ` +
        `Node.js, or run Racecar with Bun`,
    },
  },
  bun: {
    label: "Bun",
    default: "bun-ffi",
    refuses: {
      "deno-ffi": `it uses Deno.dlopen; use "bun-ffi" (the default) under Bun`,
    },
  },
};

/**
 * How each adapter is loaded. Those only one runtime can load are imported by
 * a specifier built at run time, so neither build follows them: Deno never
 * fetches node-rdkafka or koffi, and the npm build (tsc, Node's types) never
 * compiles the Deno layer of the FFI adapter, which the package ships as
 * JavaScript for `deno run npm:racecar`.
 */
const ADAPTERS: Record<TransportName, () => Promise<Transport>> = {
  "deno-ffi": () => loadAdapter("./ffi/mod", "createFfiTransport"),
  koffi: () => loadAdapter("./ffi/koffi/mod", "createKoffiTransport"),
  "bun-ffi": () => loadAdapter("./ffi/bun/mod", "createBunTransport"),
  "node-rdkafka": () =>
    loadAdapter("./node_rdkafka/mod", "createNodeRdkafkaTransport", (error) =>
      new ConfigError(
        `Cannot load transport "node-rdkafka": the node-rdkafka addon failed to load ` +
          `(${error instanceof Error ? error.message : String(error)}); reinstall it with ` +
          `'npm rebuild node-rdkafka' (it builds librdkafka from source)`,
        { key: "RACECAR_TRANSPORT", cause: error },
      )),
  memory: async () => (await import("./memory/mod.ts")).createMemoryTransport(),
};

/**
 * Imports an adapter by its module's path without extension (`.ts` in the
 * source tree, `.js` in the npm package) and calls its `factory`; `explain`
 * turns a failed import into the error to throw.
 */
async function loadAdapter(
  path: string,
  factory: string,
  explain: (error: unknown) => Error = (error) => error as Error,
): Promise<Transport> {
  const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const url = new URL(`${path}${extension}`, import.meta.url).href;
  const adapter = await import(url).catch((error: unknown) => {
    throw explain(error);
  });
  return (adapter as Record<typeof factory, () => Transport>)[factory]!();
}

/**
 * Loads the adapter this runtime uses by default, or the one named by the
 * `RACECAR_TRANSPORT` environment variable.
 *
 * @example
 * ```ts ignore
 * import { loadDefaultTransport } from "./default_transport.ts";
 * const transport = await loadDefaultTransport();
 * console.log(transport.name); // "deno-ffi" under Deno, "koffi" under Node.js
 * ```
 */
export async function loadDefaultTransport(): Promise<Transport> {
  const runtime = RUNTIMES[isDeno ? "deno" : isBun ? "bun" : "node"];
  const name = getEnv("RACECAR_TRANSPORT") || runtime.default;
  if (!(TRANSPORT_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(
      `Cannot load transport "${name}": 'RACECAR_TRANSPORT' must be one of ` +
        `${TRANSPORT_NAMES.map((n) => `"${n}"`).join(", ")}`,
      { key: "RACECAR_TRANSPORT" },
    );
  }
  const refused = runtime.refuses[name as TransportName];
  if (refused !== undefined) {
    throw new ConfigError(`Cannot load transport "${name}" under ${runtime.label}: ${refused}`, {
      key: "RACECAR_TRANSPORT",
    });
  }
  return await ADAPTERS[name as TransportName]();
}
