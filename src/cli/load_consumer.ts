/**
 * Finds the consumer class `racecar` was asked to run: by module path, in the
 * modules given with `--require`, or by convention in the consumers directory
 * (`OrdersConsumer` in `consumers/orders_consumer.ts`).
 *
 * @module
 */

import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { snakeCase } from "../_case.ts";
import { isDeno, modifiedAt } from "../_runtime.ts";
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

async function importFile(path: string): Promise<Record<string, unknown>> {
  return await import(pathToFileURL(path).href);
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
    const found = pick(await importFile(path), undefined);
    if (found === undefined) {
      throw new UsageError(
        `Cannot find a consumer class in "${spec}": export one class that extends Consumer ` +
          `(as the default export, or the module's only consumer class)`,
      );
    }
    return found;
  }

  const looked: string[] = [];
  for (const required of options.requires ?? []) {
    const path = isAbsolute(required) ? required : resolve(options.cwd, required);
    if ((await modifiedAt(path)) === undefined) {
      throw new UsageError(`Cannot load --require "${required}": there is no file ${path}`);
    }
    const found = pick(await importFile(path), spec);
    if (found !== undefined) return found;
    looked.push(path);
  }

  const dir = join(options.cwd, options.consumersDir ?? "consumers");
  // Node (20) cannot import TypeScript; look for compiled modules there.
  const extensions = isDeno ? [".ts", ".js", ".mjs"] : [".js", ".mjs"];
  for (const extension of extensions) {
    const path = join(dir, snakeCase(spec) + extension);
    looked.push(path);
    if ((await modifiedAt(path)) === undefined) continue;
    const found = pick(await importFile(path), spec);
    if (found !== undefined) return found;
    throw new UsageError(
      `Cannot find consumer class ${spec} in ${path}: export it by that name ` +
        `(export class ${spec} extends Consumer { ... })`,
    );
  }
  throw new UsageError(
    `Cannot find consumer class ${spec}. Looked in:\n${
      looked.map((p) => `  - ${p}`).join("\n")
    }\n` +
      `Put it in ${join(options.consumersDir ?? "consumers", snakeCase(spec))}.ts, pass its ` +
      `module with --require, or give the module's path instead of the class name`,
  );
}
