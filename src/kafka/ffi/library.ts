/**
 * Finds and loads librdkafka for the FFI adapters, through any call layer
 * (`_layer.ts`). The file checks use `node:fs`, which Deno, Node and Bun share.
 *
 * Search order: an explicit path (option, then `RACECAR_LIBRDKAFKA_PATH`), the
 * librdkafka that node-rdkafka builds under `node_modules` (npm and Deno
 * layouts) of the project, then the system library. The first file that is a
 * librdkafka 2.0 or newer wins; if none is, one {@link LibraryNotFoundError}
 * lists every candidate with the reason it failed and how to install the
 * library.
 *
 * Loading a shared library runs its code, so the search is kept to places the
 * user controls:
 * - `node_modules` is looked for from the working directory up to the project
 *   root only (the nearest directory holding `deno.json`, `deno.jsonc` or
 *   `package.json`; without one, the working directory alone), and likewise
 *   from this module's own location when it is a local file. A
 *   `node_modules` further up (say `/tmp/node_modules`) is never considered.
 * - A file is refused, unloaded, when another local user could have put it
 *   there: when it or its directory is writable by everyone, when any directory
 *   above it is writable by everyone without the sticky bit (anyone could
 *   rename what is inside), or when it or a directory below a sticky
 *   world-writable one (like `/tmp`) belongs to someone other than the current
 *   user or root. Group write access is not checked.
 * - Before a file is opened, its bytes must name `rd_kafka_version_str` (so
 *   an arbitrary library is never loaded), and node-rdkafka's `package.json`
 *   must name a librdkafka 2.0 or newer. Only then is the library opened to
 *   ask its version.
 *
 * @module
 */

import * as fs from "node:fs";
import process from "node:process";
import { LibraryNotFoundError } from "../../errors.ts";
import { getEnv } from "../../_runtime.ts";
import { ALL_SYMBOLS, type Librdkafka, OPTIONAL_SYMBOLS } from "./symbols.ts";
import type { FfiLayer, OpenedLibrary, SymbolTable } from "./_layer.ts";
import { cstr } from "./_memory.ts";

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
  /**
   * Where to start looking for `node_modules` (up to the project root). When
   * omitted: the working directory, then this module's own directory when it
   * is a local file (a clone of Racecar).
   */
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
  /** For node-rdkafka builds: the package directory, whose package.json names the version. */
  packageDir?: string;
}

const INSTALL_HINT = [
  "Get librdkafka 2.0 or newer in one of these ways:",
  "  - deno install --allow-scripts=npm:node-rdkafka (node-rdkafka builds librdkafka; " +
  "set npm_config_nodedir to a Node.js source or headers directory if node-gyp cannot find them)",
  "  - npm rebuild node-rdkafka (Node.js: the racecar package depends on node-rdkafka, whose " +
  "install builds librdkafka; it did not run if scripts were disabled)",
  "  - apt-get install librdkafka1 (Debian, Ubuntu) or brew install librdkafka (macOS)",
  "  - set RACECAR_LIBRDKAFKA_PATH to the full path of librdkafka.so.1 or librdkafka.dylib",
].join("\n");

/**
 * Loads the first usable librdkafka, or throws a {@link LibraryNotFoundError}
 * naming every path tried and why it failed.
 *
 * @example
 * ```ts ignore
 * import { denoLayer } from "./deno/layer.ts";
 * const lib = loadLibrdkafka(denoLayer);
 * console.log(lib.path, lib.version);
 * ```
 */
export function loadLibrdkafka(layer: FfiLayer, options: LoadOptions = {}): LoadedLibrary {
  const { candidates, searched } = candidatePaths(options);
  const failures: string[] = [];
  for (const candidate of candidates) {
    const result = tryLoad(layer, candidate);
    if (typeof result !== "string") return result;
    failures.push(`${candidate.path} (${candidate.origin}): ${result}`);
  }
  const lines = [...failures];
  if (searched.length > 0) {
    lines.push(
      `no node-rdkafka build of librdkafka under node_modules of ${searched.join(", ")}`,
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
 * `node_modules` it searched without finding a build.
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

  const os = process.platform === "win32" ? "windows" : process.platform;
  const names = os === "darwin"
    ? ["librdkafka.1.dylib", "librdkafka.dylib"]
    : os === "windows"
    ? ["librdkafka.dll"]
    : ["librdkafka.so.1", "librdkafka.so"];

  const searched: string[] = [];
  const starts = options.cwd !== undefined ? [options.cwd] : [safeCwd(), ownDirectory()];
  for (const start of starts) {
    if (start === undefined) continue;
    for (const dir of projectDirs(start)) {
      if (searched.includes(dir)) continue;
      searched.push(dir);
      for (const build of nodeRdkafkaBuilds(`${trimSlash(dir)}/node_modules`, names)) {
        if (!candidates.some((c) => c.path === build.path)) candidates.push(build);
      }
    }
  }
  const found = candidates.some((c) => c.origin === NODE_RDKAFKA_BUILD);

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

const NODE_RDKAFKA_BUILD = "node-rdkafka build";
const PROJECT_FILES = ["deno.json", "deno.jsonc", "package.json"];

/**
 * `start` and its parents up to the project root: the nearest directory with a
 * `deno.json`, `deno.jsonc` or `package.json`. Without one, `start` alone.
 */
export function projectDirs(start: string): string[] {
  const dirs: string[] = [];
  for (let dir = start;; dir = parentOf(dir)) {
    dirs.push(dir);
    if (PROJECT_FILES.some((name) => isFile(`${trimSlash(dir)}/${name}`))) return dirs;
    if (parentOf(dir) === dir) return [start];
  }
}

/** The directory of this module when it was loaded from a local file. */
function ownDirectory(): string | undefined {
  const url = new URL(".", import.meta.url);
  if (url.protocol !== "file:") return undefined;
  try {
    return trimSlash(decodeURIComponent(url.pathname)) || "/";
  } catch {
    return undefined;
  }
}

function nodeRdkafkaBuilds(nodeModules: string, names: readonly string[]): Candidate[] {
  const packages = [`${nodeModules}/node-rdkafka`];
  // Deno's node_modules keeps each package under .deno/<name>@<version>/node_modules/<name>.
  for (const entry of readDirNames(`${nodeModules}/.deno`).sort().reverse()) {
    if (entry.startsWith("node-rdkafka@")) {
      packages.push(`${nodeModules}/.deno/${entry}/node_modules/node-rdkafka`);
    }
  }
  const found: Candidate[] = [];
  for (const pkg of packages) {
    for (const name of names) {
      const path = `${pkg}/build/deps/${name}`;
      if (isFile(path)) found.push({ path, origin: NODE_RDKAFKA_BUILD, packageDir: pkg });
    }
  }
  return found;
}

function tryLoad(layer: FfiLayer, candidate: Candidate): LoadedLibrary | string {
  const path = candidate.path;
  // A bare name is left to the system loader's own search path.
  let target = path;
  if (path.includes("/")) {
    if (!isFile(path)) return "no such file";
    try {
      target = fs.realpathSync(path);
    } catch (error) {
      if (isPermissionError(error)) throw error;
      return `cannot resolve the path: ${messageOf(error)}`;
    }
    // Every check below runs without executing anything in the file.
    const unsafe = unsafeLocation(target);
    if (unsafe !== null) return `not loaded: ${unsafe}`;
    const notLibrdkafka = inspectFile(target);
    if (notLibrdkafka !== null) return notLibrdkafka;
    if (candidate.packageDir !== undefined) {
      const declared = declaredVersion(candidate.packageDir);
      if (declared !== undefined && versionNumberOf(declared) < MIN_VERSION) {
        return `librdkafka ${declared} is too old: Racecar needs 2.0.0 or newer`;
      }
    }
  }
  let probe: OpenedLibrary<typeof PROBE_SYMBOLS>;
  try {
    probe = layer.open(target, PROBE_SYMBOLS);
  } catch (error) {
    if (isPermissionError(error)) throw error;
    return explainDlopen(error);
  }
  let versionNumber: number;
  let version: string;
  try {
    versionNumber = probe.symbols.rd_kafka_version();
    version = layer.cstring(probe.symbols.rd_kafka_version_str()) ?? "unknown";
  } finally {
    probe.close();
  }
  if (versionNumber < MIN_VERSION) {
    return `librdkafka ${version} is too old: Racecar needs 2.0.0 or newer`;
  }
  let lib: OpenedLibrary<typeof ALL_SYMBOLS>;
  try {
    lib = layer.open(target, ALL_SYMBOLS);
  } catch (error) {
    return `librdkafka ${version} lacks a function Racecar needs: ${messageOf(error)}`;
  }
  const optionalSymbols = Object.keys(OPTIONAL_SYMBOLS).filter((name) =>
    (lib.symbols as Record<string, unknown>)[name] != null
  );
  const symbols: Librdkafka = { ...lib.symbols, mem: layer };
  return {
    path,
    symbols,
    version,
    versionNumber,
    builtin: builtinFeatures(symbols),
    optionalSymbols,
    close: () => lib.close(),
  };
}

/**
 * Why another local user could have placed or swapped the file at `real` (a
 * path without symbolic links), or `null` when only its owner and root could.
 */
export function unsafeLocation(real: string): string | null {
  if (process.platform === "win32") return null;
  const me = currentUid();
  const parts = real.split("/").filter((part) => part !== "");
  // From the root down, so that "inside a shared directory" is known on the way.
  const chain = ["/", ...parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`)];
  let shared: string | undefined;
  for (let i = 0; i < chain.length; i++) {
    const path = chain[i]!;
    let info: fs.Stats;
    try {
      info = fs.statSync(path);
    } catch (error) {
      if (isPermissionError(error)) throw error;
      return `cannot check ${path}: ${messageOf(error)}`;
    }
    const mode = info.mode ?? 0;
    const everyone = (mode & 0o002) !== 0;
    const sticky = (mode & 0o1000) !== 0;
    const near = i >= chain.length - 2; // the file itself or the directory holding it
    if (everyone && (near || !sticky)) {
      return `${path} is writable by every user, so anyone could have put the library there`;
    }
    if (shared !== undefined && info.uid !== 0 && info.uid !== me) {
      return `${path} belongs to user id ${info.uid}, not to ${
        me === undefined ? "root (the current user id is unknown: allow --allow-sys=uid)" : "you"
      }, inside the shared directory ${shared}`;
    }
    if (everyone && sticky) shared ??= path;
  }
  return null;
}

/** Reads the file (without loading it) and says why it is not librdkafka, or `null`. */
function inspectFile(path: string): string | null {
  try {
    return searchFile(path);
  } catch (error) {
    if (isPermissionError(error)) throw error;
    return `cannot read it: ${messageOf(error)}`;
  }
}

const VERSION_SYMBOL = new TextEncoder().encode("rd_kafka_version_str");

/**
 * How much of the file {@link searchFile} reads at a time. An ELF librdkafka
 * names its functions in `.dynstr`, within its first 32 KiB, so one read
 * usually settles it; reading the whole file (12 MB for node-rdkafka's build)
 * took 15-50 ms at every start.
 */
const INSPECT_CHUNK_BYTES = 64 * 1024;

/** Reads the file until its bytes name `rd_kafka_version_str`, or to its end. */
function searchFile(path: string): string | null {
  const fd = fs.openSync(path, "r");
  try {
    // The tail of each chunk is carried over, so a name across two chunks is found.
    const carry = VERSION_SYMBOL.length - 1;
    const buffer = new Uint8Array(carry + INSPECT_CHUNK_BYTES);
    let carried = 0;
    for (let first = true;; first = false) {
      const read = fs.readSync(fd, buffer, carried, INSPECT_CHUNK_BYTES, null);
      const filled = buffer.subarray(0, carried + read);
      if (first && !hasLibraryMagic(filled)) return "not a shared library for this platform";
      if (indexOfBytes(filled, VERSION_SYMBOL) >= 0) return null;
      if (read === 0) return "not librdkafka (it has no rd_kafka_version)";
      carried = Math.min(carry, filled.length);
      buffer.copyWithin(0, filled.length - carried, filled.length);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function hasLibraryMagic(bytes: Uint8Array): boolean {
  const [a, b, c, d] = bytes;
  if (a === 0x7f && b === 0x45 && c === 0x4c && d === 0x46) return true; // ELF
  if (a === 0x4d && b === 0x5a) return true; // PE (Windows DLL)
  const magic = ((a ?? 0) << 24 | (b ?? 0) << 16 | (c ?? 0) << 8 | (d ?? 0)) >>> 0;
  // Mach-O 32/64-bit in either byte order, and universal binaries.
  return [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic);
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]!;
  for (let i = haystack.indexOf(first); i >= 0; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** The librdkafka version node-rdkafka's `package.json` says it builds. */
function declaredVersion(packageDir: string): string | undefined {
  try {
    const json = JSON.parse(fs.readFileSync(`${packageDir}/package.json`, "utf8"));
    return typeof json?.librdkafka === "string" ? json.librdkafka : undefined;
  } catch {
    return undefined;
  }
}

/** `2.12.0` -> `0x020c0000`, comparable with `rd_kafka_version()`. */
function versionNumberOf(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version.split(".").map((n) => parseInt(n, 10) || 0);
  return ((major << 24) | (minor << 16) | (patch << 8)) >>> 0;
}

function currentUid(): number | undefined {
  try {
    return process.getuid?.();
  } catch {
    return undefined;
  }
}

const PROBE_SYMBOLS = {
  rd_kafka_version: { parameters: [], result: "i32" },
  rd_kafka_version_str: { parameters: [], result: "pointer" },
} as const satisfies SymbolTable;

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

/** Deno's refusal for a missing `--allow-*` flag: reported as such, not as a bad candidate. */
function isPermissionError(error: unknown): boolean {
  return error instanceof Error &&
    (error.name === "NotCapable" || error.name === "PermissionDenied");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function readEnv(name: string): string | undefined {
  return getEnv(name) || undefined;
}

function safeCwd(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

function readDirNames(path: string): string[] {
  try {
    return fs.readdirSync(path);
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return fs.statSync(path).isFile();
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
