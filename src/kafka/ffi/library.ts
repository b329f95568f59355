/**
 * Finds and loads librdkafka for the FFI adapter.
 *
 * Search order: an explicit path (option, then `RACECAR_LIBRDKAFKA_PATH`), the
 * librdkafka that node-rdkafka builds under `node_modules` of the working
 * directory or any parent (npm and Deno layouts), then the system library.
 * The first file that is a librdkafka 2.0 or newer wins; if none is, one
 * {@link LibraryNotFoundError} lists every candidate with the reason it failed
 * and how to install the library.
 *
 * @module
 */

import { LibraryNotFoundError } from "../../errors.ts";
import { ALL_SYMBOLS, type Librdkafka, OPTIONAL_SYMBOLS } from "./symbols.ts";
import { cstr, readCString } from "./_memory.ts";

/** The oldest librdkafka the adapter accepts: 2.0.0. */
export const MIN_VERSION = 0x02000000;

/** How to look for librdkafka. */
export interface LoadOptions {
  /** Try this file first. */
  libraryPath?: string;
  /**
   * Also try `RACECAR_LIBRDKAFKA_PATH`, node-rdkafka's build and the system
   * library when the explicit path does not load.
   * @default true
   */
  fallbacks?: boolean;
  /** Where to start looking for `node_modules`. @default Deno.cwd() */
  cwd?: string;
}

/** A loaded librdkafka. */
export interface LoadedLibrary {
  /** The path or name it was loaded from. */
  path: string;
  /** The bound functions. */
  symbols: Librdkafka;
  /** `rd_kafka_version_str()`, e.g. `2.12.0`. */
  version: string;
  /** `rd_kafka_version()`, e.g. `0x020c00ff`. */
  versionNumber: number;
  /** `builtin.features`, split at commas. */
  builtin: string[];
  /** Optional (newer-only) symbols this build exports. */
  optionalSymbols: string[];
  /** Unloads the library. Only safe once no client of it is alive. */
  close(): void;
}

interface Candidate {
  path: string;
  origin: string;
}

const INSTALL_HINT = [
  "Get librdkafka 2.0 or newer in one of these ways:",
  "  - deno install --allow-scripts=npm:node-rdkafka (node-rdkafka builds librdkafka; " +
  "set npm_config_nodedir to a Node.js source or headers directory if node-gyp cannot find them)",
  "  - apt-get install librdkafka1 (Debian, Ubuntu) or brew install librdkafka (macOS)",
  "  - set RACECAR_LIBRDKAFKA_PATH to the full path of librdkafka.so.1 or librdkafka.dylib",
].join("\n");

/**
 * Loads the first usable librdkafka, or throws a {@link LibraryNotFoundError}
 * naming every path tried and why it failed.
 *
 * @example
 * ```ts ignore
 * const lib = loadLibrdkafka();
 * console.log(lib.path, lib.version);
 * ```
 */
export function loadLibrdkafka(options: LoadOptions = {}): LoadedLibrary {
  const { candidates, searched } = candidatePaths(options);
  const failures: string[] = [];
  for (const candidate of candidates) {
    const result = tryLoad(candidate.path);
    if (typeof result !== "string") return result;
    failures.push(`${candidate.path} (${candidate.origin}): ${result}`);
  }
  const lines = [...failures];
  if (searched.length > 0) {
    lines.push(
      `no node-rdkafka build of librdkafka under node_modules of ${searched[0]} ` +
        `or any parent directory`,
    );
  }
  const list = lines.map((line) => `  - ${line}`).join("\n");
  throw new LibraryNotFoundError(
    `Cannot load librdkafka: no usable library in the ${lines.length} place(s) tried:\n` +
      `${list}\n${INSTALL_HINT}`,
    lines,
  );
}

/**
 * Where {@link loadLibrdkafka} looks, in order, and the directories whose
 * `node_modules` it searched.
 */
export function candidatePaths(
  options: LoadOptions = {},
): { candidates: Candidate[]; searched: string[] } {
  const candidates: Candidate[] = [];
  if (options.libraryPath !== undefined) {
    candidates.push({ path: options.libraryPath, origin: "libraryPath option" });
  }
  if (options.fallbacks === false) return { candidates, searched: [] };

  const fromEnv = readEnv("RACECAR_LIBRDKAFKA_PATH");
  if (fromEnv) candidates.push({ path: fromEnv, origin: "RACECAR_LIBRDKAFKA_PATH" });

  const os = Deno.build.os;
  const names = os === "darwin"
    ? ["librdkafka.1.dylib", "librdkafka.dylib"]
    : os === "windows"
    ? ["librdkafka.dll"]
    : ["librdkafka.so.1", "librdkafka.so"];

  const start = options.cwd ?? safeCwd();
  const searched: string[] = [];
  let found = false;
  if (start !== undefined) {
    for (let dir = start;; dir = parentOf(dir)) {
      searched.push(dir);
      for (const path of nodeRdkafkaBuilds(`${trimSlash(dir)}/node_modules`, names)) {
        candidates.push({ path, origin: "node-rdkafka build" });
        found = true;
      }
      if (parentOf(dir) === dir) break;
    }
  }

  const system = os === "darwin"
    ? [
      "librdkafka.1.dylib",
      "/opt/homebrew/lib/librdkafka.dylib",
      "/usr/local/lib/librdkafka.dylib",
    ]
    : os === "windows"
    ? ["librdkafka.dll"]
    : ["librdkafka.so.1", "librdkafka.so"];
  for (const path of system) candidates.push({ path, origin: "system library" });
  return { candidates, searched: found ? [] : searched };
}

function nodeRdkafkaBuilds(nodeModules: string, names: readonly string[]): string[] {
  const packages = [`${nodeModules}/node-rdkafka`];
  // Deno's node_modules keeps each package under .deno/<name>@<version>/node_modules/<name>.
  for (const entry of readDirNames(`${nodeModules}/.deno`).sort().reverse()) {
    if (entry.startsWith("node-rdkafka@")) {
      packages.push(`${nodeModules}/.deno/${entry}/node_modules/node-rdkafka`);
    }
  }
  const found: string[] = [];
  for (const pkg of packages) {
    for (const name of names) {
      const path = `${pkg}/build/deps/${name}`;
      if (isFile(path)) found.push(path);
    }
  }
  return found;
}

function tryLoad(path: string): LoadedLibrary | string {
  if (path.includes("/") && !isFile(path)) return "no such file";
  let probe: Deno.DynamicLibrary<typeof PROBE_SYMBOLS>;
  try {
    probe = Deno.dlopen(path, PROBE_SYMBOLS);
  } catch (error) {
    if (isPermissionError(error)) throw error;
    return explainDlopen(error);
  }
  let versionNumber: number;
  let version: string;
  try {
    versionNumber = probe.symbols.rd_kafka_version();
    version = readCString(probe.symbols.rd_kafka_version_str()) ?? "unknown";
  } finally {
    probe.close();
  }
  if (versionNumber < MIN_VERSION) {
    return `librdkafka ${version} is too old: Racecar needs 2.0.0 or newer`;
  }
  let lib: Deno.DynamicLibrary<typeof ALL_SYMBOLS>;
  try {
    lib = Deno.dlopen(path, ALL_SYMBOLS);
  } catch (error) {
    return `librdkafka ${version} lacks a function Racecar needs: ${messageOf(error)}`;
  }
  const optionalSymbols = Object.keys(OPTIONAL_SYMBOLS).filter((name) =>
    (lib.symbols as Record<string, unknown>)[name] != null
  );
  return {
    path,
    symbols: lib.symbols,
    version,
    versionNumber,
    builtin: builtinFeatures(lib.symbols),
    optionalSymbols,
    close: () => lib.close(),
  };
}

const PROBE_SYMBOLS = {
  rd_kafka_version: { parameters: [], result: "i32" },
  rd_kafka_version_str: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

function builtinFeatures(lib: Librdkafka): string[] {
  const conf = lib.rd_kafka_conf_new();
  try {
    const dest = new Uint8Array(1024);
    const size = new BigUint64Array([BigInt(dest.length)]);
    const res = lib.rd_kafka_conf_get(conf, cstr("builtin.features"), dest, size);
    if (res !== 0) return [];
    const end = dest.indexOf(0);
    const text = new TextDecoder().decode(dest.subarray(0, end < 0 ? dest.length : end));
    return text.split(",").filter((feature) => feature.length > 0);
  } finally {
    lib.rd_kafka_conf_destroy(conf);
  }
}

function explainDlopen(error: unknown): string {
  // Deno repeats its own prefix; the loader's reason is what helps.
  const message = messageOf(error).replace(/^(Could not open library: )+/, "");
  if (/rd_kafka_version/.test(message)) return "not librdkafka (it has no rd_kafka_version)";
  if (/invalid ELF header|file too short|not a mach-o|wrong ELF class/i.test(message)) {
    return `not a shared library for this platform: ${message}`;
  }
  return message;
}

function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

function safeCwd(): string | undefined {
  try {
    return Deno.cwd();
  } catch {
    return undefined;
  }
}

function readDirNames(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((entry) => entry.name);
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function trimSlash(dir: string): string {
  return dir.length > 1 && dir.endsWith("/") ? dir.slice(0, -1) : dir === "/" ? "" : dir;
}

function parentOf(dir: string): string {
  const trimmed = trimSlash(dir);
  const cut = trimmed.lastIndexOf("/");
  if (cut <= 0) return "/";
  return trimmed.slice(0, cut);
}
