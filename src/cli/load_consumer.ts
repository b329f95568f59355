/**
 * Finds the consumer class `racecar` was asked to run: by module path, in the
 * modules given with `--require`, or by convention in the consumers directory
 * (`OrdersConsumer` in `consumers/orders_consumer.ts`).
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { readdir } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isDeno, modifiedAt, runtimeDescription } from "../_runtime.ts";
import { readTextFileSync, selfCommand } from "./_process.ts";
import { closest, suggestion } from "../config/decode.ts";
import { snakeCase } from "../_case.ts";
import type { ConsumerClass } from "../consumer.ts";
import { UsageError } from "./_exit.ts";

/** Where to look. */
export interface LoadConsumerOptions {
  /** The working directory. */
  cwd: string;
  /** Modules to import first (from `--require`). */
  requires?: readonly string[];
  /** The consumers directory, relative to `cwd`. @default "consumers" */
  consumersDir?: string;
}

/**
 * Whether a value looks like a Racecar consumer class (works across copies of
 * the library). A class without `process` still counts, so the runner can say
 * what is missing.
 */
export function isConsumerClass(value: unknown): value is ConsumerClass {
  return typeof value === "function" && "subscriptions" in value &&
    typeof (value as { subscribesTo?: unknown }).subscribesTo === "function";
}

function looksLikePath(spec: string): boolean {
  return spec.includes("/") || spec.includes("\\") || /\.(m?[jt]s)$/.test(spec);
}

/**
 * What to do when Node.js cannot import a `.ts` consumer: Node 22.18 and 23.6
 * strip types by default, 22.6 with `--experimental-strip-types`; older ones
 * need a loader such as tsx.
 */
export function nodeTypeScriptAdvice(path: string, runtime = runtimeDescription()): string {
  return `Cannot load consumer module ${path}: ${runtime} cannot run TypeScript by itself; ` +
    `start racecar with a loader (npm install --save-dev tsx, then ` +
    `node --import tsx node_modules/.bin/racecar ...), use Node.js 22.18 or newer ` +
    `(22.6 with --experimental-strip-types), or compile the consumer to .js`;
}

/**
 * Imports a user's module. A syntax error or a missing import in it is the
 * user's mistake: it becomes a {@link UsageError} naming the file, the line and
 * the message once, without the runtime's internal frames.
 */
export async function importUserModule(path: string): Promise<Record<string, unknown>> {
  try {
    return await import(pathToFileURL(path).href);
  } catch (error) {
    if ((error as { code?: string })?.code === "ERR_UNKNOWN_FILE_EXTENSION") {
      throw new UsageError(nodeTypeScriptAdvice(path));
    }
    const explained = explainImportError(error, path);
    if (explained === undefined) throw error;
    throw new UsageError(explained);
  }
}

/** The message for a module that cannot be loaded as written; `undefined` for other errors. */
function explainImportError(error: unknown, path: string): string | undefined {
  const message = (error as Error)?.message ?? "";
  // Deno: TypeError("SyntaxError: <message>\n<code frame>\n    at file:///...:4:55").
  const deno = /^SyntaxError: ([^\n]*)\n([\s\S]*?)\n\s+at (file:\/\/\S+?):(\d+):(\d+)\s*$/
    .exec(message);
  if (deno !== undefined && deno !== null) {
    const [, text, frame, url, line, column] = deno;
    return `Cannot load ${fileURLToPath(url!)}:${line}:${column}: SyntaxError: ${text}\n${frame}`;
  }
  // Bun: AggregateError('N errors building "<file>"') of BuildMessages with a position.
  const built = (error as { errors?: { message?: string; position?: BunPosition }[] })?.errors;
  const first = Array.isArray(built) ? built.find((e) => e?.position?.file) : undefined;
  if (first !== undefined && error instanceof AggregateError) {
    const { file, line, column, lineText } = first.position!;
    return `Cannot load ${file}:${line}:${column}: SyntaxError: ${first.message}\n${lineText}`;
  }
  if (error instanceof SyntaxError) {
    // Node keeps the location out of the error; its syntax check prints it.
    const report = nodeSyntaxReport(path);
    if (report !== undefined) {
      return `Cannot load ${path}:${report.line}: SyntaxError: ${report.text}\n${report.frame}`;
    }
    return `Cannot load ${path} (or a module it imports): SyntaxError: ${message}`;
  }
  const code = (error as { code?: string })?.code;
  if (code === "ERR_MODULE_NOT_FOUND" || /^Module not found/.test(message)) {
    return `Cannot load ${path}: ${message.split("\n")[0]}`;
  }
  return undefined;
}

/** Where Bun's bundler found a syntax error. */
interface BunPosition {
  file: string;
  line: number;
  column: number;
  lineText: string;
}

/** Node's own report of a module's syntax error: line, message and code frame. */
function nodeSyntaxReport(
  path: string,
): { line: string; text: string; frame: string } | undefined {
  const source = readTextFileSync(path);
  if (source === undefined) return undefined;
  try {
    execFileSync(selfCommand()[0]!, ["--input-type=module", "--check"], {
      input: source,
      stdio: ["pipe", "ignore", "pipe"],
    });
    return undefined;
  } catch (error) {
    const output = String((error as { stderr?: unknown }).stderr ?? "");
    const match = /^\[stdin\]:(\d+)\n([\s\S]*?)\n\n?SyntaxError: ([^\n]*)/.exec(output);
    if (match === null) return undefined;
    return { line: match[1]!, frame: match[2]!, text: match[3]! };
  }
}

function pick(
  module: Record<string, unknown>,
  name: string | undefined,
): ConsumerClass | undefined {
  if (name !== undefined && isConsumerClass(module[name])) return module[name];
  if (name === undefined) {
    if (isConsumerClass(module.default)) return module.default;
    const found = Object.values(module).filter(isConsumerClass);
    if (found.length === 1) return found[0];
  }
  return undefined;
}

/**
 * Loads the consumer class named by `spec` (a class name or a module path).
 * Throws a {@link UsageError} that lists every place it looked.
 */
export async function loadConsumerClass(
  spec: string,
  options: LoadConsumerOptions,
): Promise<ConsumerClass> {
  if (looksLikePath(spec)) {
    const path = isAbsolute(spec) ? spec : resolve(options.cwd, spec);
    if ((await modifiedAt(path)) === undefined) {
      throw new UsageError(`Cannot load consumer module "${spec}": there is no file ${path}`);
    }
    const found = pick(await importUserModule(path), undefined);
    if (found === undefined) {
      throw new UsageError(
        `Cannot find a consumer class in "${spec}": export one class that extends Consumer ` +
          `(as the default export, or the module's only consumer class)`,
      );
    }
    return found;
  }

  const looked: string[] = [];
  // Consumer classes seen on the way, by name, with where they are: for a did-you-mean.
  const known = new Map<string, string>();
  for (const required of options.requires ?? []) {
    const path = isAbsolute(required) ? required : resolve(options.cwd, required);
    if ((await modifiedAt(path)) === undefined) {
      throw new UsageError(`Cannot load --require "${required}": there is no file ${path}`);
    }
    const module = await importUserModule(path);
    const found = pick(module, spec);
    if (found !== undefined) return found;
    for (const name of consumerExports(module)) known.set(name, path);
    looked.push(path);
  }

  const dir = join(options.cwd, options.consumersDir ?? "consumers");
  // Node prefers compiled modules; a .ts one loads where Node strips types or a loader runs.
  const extensions = isDeno ? [".ts", ".js", ".mjs"] : [".js", ".mjs", ".ts"];
  for (const extension of extensions) {
    const path = join(dir, snakeCase(spec) + extension);
    looked.push(path);
    if ((await modifiedAt(path)) === undefined) continue;
    const module = await importUserModule(path);
    const found = pick(module, spec);
    if (found !== undefined) return found;
    throw new UsageError(wrongExport(spec, path, consumerExports(module)));
  }
  for (const [name, path] of await conventionalClasses(dir, extensions)) {
    if (!known.has(name)) known.set(name, path);
  }
  // `tap_dance_consumr` is compared as a file name, `TapDanceConsumr` as a class name.
  const best = isClassName(spec)
    ? closest(spec, known.keys())
    : [...known.keys()].find((name) =>
      snakeCase(name) === closest(spec, [...known.keys()].map(snakeCase))
    );
  const hint = best === undefined ? "" : `: did you mean ${best} (in ${known.get(best)})?`;
  const expected = isClassName(spec)
    ? ""
    : ` (racecar expects a consumer class name such as ${best ?? "OrdersConsumer"})`;
  throw new UsageError(
    `Cannot find consumer class ${spec}${expected}${hint}\nLooked in:\n${
      looked.map((p) => `  - ${p}`).join("\n")
    }\n` +
      `Put it in ${join(options.consumersDir ?? "consumers", snakeCase(spec))}` +
      `${isDeno ? ".ts" : ".js"}, pass its ` +
      `module with --require, or give the module's path instead of the class name`,
  );
}

/** Whether `spec` reads like a class name (`OrdersConsumer`), not a file name. */
function isClassName(spec: string): boolean {
  return /^[A-Z][A-Za-z0-9]*$/.test(spec);
}

/** The names under which a module exports consumer classes (`default` as the class's name). */
function consumerExports(module: Record<string, unknown>): string[] {
  return Object.entries(module)
    .filter(([, value]) => isConsumerClass(value))
    .map(([name, value]) => name === "default" ? (value as ConsumerClass).name : name);
}

/** The message for a consumer file that does not export the class asked for. */
function wrongExport(spec: string, path: string, exported: string[]): string {
  const exports = exported.length === 0
    ? "it exports no consumer class"
    : `it exports ${exported.join(", ")}`;
  if (!isClassName(spec)) {
    return `Cannot run "${spec}": racecar expects a consumer class name, not a file name; ` +
      `${path}: ${exports}${exported.length === 0 ? "" : `: run racecar ${exported[0]}`}`;
  }
  return `Cannot find consumer class ${spec} in ${path}: ${exports}${
    suggestion(spec, exported)
  }; export it by that name (export class ${spec} extends Consumer { ... })`;
}

/**
 * The class names the consumers directory holds by convention
 * (`tap_dance_consumer.ts` -> `TapDanceConsumer`), with their files.
 */
async function conventionalClasses(
  dir: string,
  extensions: readonly string[],
): Promise<Map<string, string>> {
  const classes = new Map<string, string>();
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return classes;
  }
  for (const entry of entries.sort()) {
    const extension = extensions.find((e) => entry.endsWith(e));
    if (extension === undefined || /_test\.|\.d\.ts$/.test(entry)) continue;
    const base = entry.slice(0, -extension.length);
    const name = base.split("_").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
    if (!classes.has(name)) classes.set(name, join(dir, entry));
  }
  return classes;
}
