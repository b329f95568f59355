/**
 * Builds the npm package into `npm/dist/`: `deno run -A scripts/build_npm.ts`.
 *
 * 1. Stages the modules reachable from the entry points (`mod.ts`, the exports
 *    of deno.json and the Node test runners `tests/node/*.node.ts`) into a
 *    temp dir. The Deno layer of the FFI adapter is never part of that (the
 *    build fails if anything reaches `src/kafka/ffi/deno/` or
 *    `src/kafka/ffi/mod.ts`: `src/kafka/default_transport.ts` loads it by a
 *    specifier built at run time); its koffi layer is. The Deno layer is
 *    emitted as JavaScript on its own (step 3), for Deno running the npm
 *    package (`deno run -A npm:racecar`), and keeps its subpath export
 *    (`racecar/adapters/deno-ffi`, without types).
 * 2. Compiles them with `tsc` from the `typescript` package
 *    (`rewriteRelativeImportExtensions`, NodeNext, ES2022, declarations, the
 *    strict flags of deno.json).
 * 3. Emits the FFI adapter as plain JavaScript next to them: the package's
 *    default transport loads it only under Deno (`deno run -A npm:racecar`).
 * 4. Writes `package.json` (its export map derived from deno.json's, so a
 *    subpath means the same module on JSR and npm), the `racecar` and
 *    `racecarctl` bin shims, README.md and LICENSE.
 *
 * Bare imports are already package names (deno.json maps them to `npm:`), so
 * they pass through unchanged and become `dependencies`.
 *
 * Flags: `--out=DIR` (default `npm/dist`), `--keep-stage` (print and keep the
 * staging dir).
 *
 * @module
 */

import * as path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const NODE_TESTS_DIR = "tests/node";
/** The Bun suite (`bun test npm/dist/tests/bun/*.bun.js`), compiled like the Node one. */
const BUN_TESTS_DIR = "tests/bun";
/** Started as a Worker by the bun:ffi layer (by URL), so no import reaches it. */
const BUN_WORKER = "src/kafka/ffi/bun/_worker.ts";
/** The Deno-only parts of the FFI adapter: its `Deno.dlopen` layer and entry (koffi shares the rest). */
const FORBIDDEN_PREFIXES = ["src/kafka/ffi/deno/", "src/kafka/ffi/mod.ts"];

/** Whether a module belongs to the Deno layer of the FFI adapter (emitted without tsc). */
function denoOnly(rel: string): boolean {
  return FORBIDDEN_PREFIXES.some((prefix) => rel.startsWith(prefix));
}
/** deno.json imports that are only needed to build, never at run time. */
const BUILD_ONLY = new Set([
  "typescript",
  "node-gyp",
  "@types/node",
  // The OpenTelemetry SDK of the tests (tests/suite/tracing_scenarios.ts): applications bring their own.
  "@opentelemetry/sdk-trace-base",
  "@opentelemetry/core",
  "@opentelemetry/context-async-hooks",
  "@opentelemetry/sdk-metrics",
]);
/**
 * Libraries loaded only when a feature that is off by default is enabled
 * (`src/metrics/_optional.ts`): optional peer dependencies, so installing the
 * package does not fetch them (hot-shots builds a native module).
 */
const OPTIONAL_PEERS = new Set(["hot-shots", "prom-client", "@opentelemetry/api"]);

interface DenoJson {
  name: string;
  version: string;
  exports?: Record<string, string>;
  license?: string;
  description?: string;
  imports?: Record<string, string>;
  compilerOptions?: Record<string, unknown>;
}

/** `npm:@scope/name@^1.2` -> `["@scope/name", "^1.2"]`. */
function parseNpmSpecifier(specifier: string): [string, string] | undefined {
  const match = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)(?:@([^/]+))?(\/.*)?$/.exec(specifier);
  if (!match) return undefined;
  return [match[1]!, match[2] ?? "*"];
}

/** Every specifier a module imports, found by TypeScript's scanner (not fooled by strings). */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

/** Relative specifiers imported by a module (static, dynamic, re-exports, `import type`). */
function relativeImports(source: string): string[] {
  return importsOf(source).filter((s) => s.startsWith("./") || s.startsWith("../"));
}

/** Bare package specifiers imported by a module. */
function bareImports(source: string): string[] {
  return importsOf(source).filter((s) =>
    !s.startsWith(".") && !s.startsWith("/") && !s.startsWith("node:")
  );
}

function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

async function exists(file: string): Promise<boolean> {
  try {
    await Deno.stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Copies every module reachable from `entries` into `stage`; returns the bare packages used. */
async function stageModules(entries: string[], stage: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const rel = queue.shift()!;
    if (seen.has(rel)) continue;
    seen.add(rel);
    if (denoOnly(rel)) {
      throw new Error(
        `Cannot build the npm package: "${rel}" is part of the Deno FFI adapter and must not ` +
          `be reachable from the Node build (src/kafka/default_transport.ts loads it by a specifier built at run time)`,
      );
    }
    const sourcePath = path.join(ROOT, rel);
    let source: string;
    try {
      source = await Deno.readTextFile(sourcePath);
    } catch (error) {
      throw new Error(`Cannot build the npm package: cannot read "${rel}"`, { cause: error });
    }
    const target = path.join(stage, rel);
    await Deno.mkdir(path.dirname(target), { recursive: true });
    await Deno.writeTextFile(target, source);
    for (const specifier of relativeImports(source)) {
      const next = path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, rel)), specifier));
      queue.push(next.split(path.sep).join("/"));
    }
    for (const specifier of bareImports(source)) packages.add(packageOf(specifier));
  }
  return packages;
}

async function run(command: string, args: string[], cwd: string): Promise<void> {
  const { code } = await new Deno.Command(command, {
    args,
    cwd,
    stdout: "inherit",
    stderr: "inherit",
  })
    .output();
  if (code !== 0) {
    throw new Error(`Cannot build the npm package: "${command} ${args.join(" ")}" exited ${code}`);
  }
}

/**
 * The Deno FFI adapter's files, and the modules outside it they import. Under
 * Deno (`deno run -A npm:racecar`) the package's default transport loads this
 * adapter, since node-rdkafka does not load there.
 */
async function ffiAdapterModules(): Promise<{ files: string[]; imports: string[] }> {
  const files: string[] = [];
  const imports = new Set<string>();
  const candidates: string[] = [];
  for (const prefix of FORBIDDEN_PREFIXES) {
    if (prefix.endsWith(".ts")) {
      candidates.push(prefix);
      continue;
    }
    for await (const item of Deno.readDir(path.join(ROOT, prefix))) {
      if (item.isFile && item.name.endsWith(".ts")) candidates.push(`${prefix}${item.name}`);
    }
  }
  for (const rel of candidates) {
    files.push(rel);
    const source = await Deno.readTextFile(path.join(ROOT, rel));
    for (const specifier of relativeImports(source)) {
      const target = path.relative(
        ROOT,
        path.resolve(path.dirname(path.join(ROOT, rel)), specifier),
      )
        .split(path.sep).join("/");
      if (!denoOnly(target)) imports.add(target);
    }
  }
  return { files: files.sort(), imports: [...imports].sort() };
}

/**
 * Emits the FFI adapter as JavaScript without type-checking it: it is written
 * against Deno's types, which the Node compilation does not have, and it is
 * type-checked by `deno check` already. No declarations: it is not public API.
 */
async function transpileFfiAdapter(files: string[], outDir: string): Promise<void> {
  for (const rel of files) {
    const source = await Deno.readTextFile(path.join(ROOT, rel));
    const { outputText } = ts.transpileModule(source, {
      fileName: rel,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
      },
    });
    const target = path.join(outDir, rel.replace(/\.ts$/, ".js"));
    await Deno.mkdir(path.dirname(target), { recursive: true });
    await Deno.writeTextFile(target, outputText);
  }
}

function tsconfig(denoJson: DenoJson, outDir: string): unknown {
  const strict = { ...denoJson.compilerOptions };
  delete strict.lib;
  delete strict.jsx;
  return {
    compilerOptions: {
      ...strict,
      target: "ES2022",
      lib: ["ES2023"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      rewriteRelativeImportExtensions: true,
      declaration: true,
      outDir,
      rootDir: ".",
      types: ["node"],
      skipLibCheck: true,
      newLine: "lf",
      removeComments: false,
    },
    include: ["**/*.ts"],
    exclude: ["node_modules"],
  };
}

/** One subpath of the npm export map. */
export type NpmExport = { types?: string; import: string } | string;

/**
 * The npm export map, derived from deno.json's: each subpath names the same
 * module on JSR and npm (`./cli.ts` becomes `./cli.js` with `./cli.d.ts`). The
 * Deno layer of the FFI adapter has no declarations: only Deno can load it.
 */
export function npmExports(denoExports: Record<string, string>): Record<string, NpmExport> {
  const exports: Record<string, NpmExport> = {};
  for (const [subpath, target] of Object.entries(denoExports)) {
    const base = target.replace(/\.ts$/, "");
    exports[subpath] = denoOnly(target.replace(/^\.\//, ""))
      ? { import: `${base}.js` }
      : { types: `${base}.d.ts`, import: `${base}.js` };
  }
  exports["./package.json"] = "./package.json";
  return exports;
}

/** The commands the package installs, each a shim in `bin/`. */
export const NPM_BINS = { racecar: "./bin/racecar.js", racecarctl: "./bin/racecarctl.js" };

/** The npm package.json. */
export function packageJson(
  denoJson: DenoJson,
  dependencies: Record<string, string>,
): Record<string, unknown> {
  const exports = npmExports(denoJson.exports ?? {});
  const main = exports["."];
  if (main === undefined || typeof main === "string" || main.types === undefined) {
    throw new Error('Cannot build the npm package: deno.json has no "." export');
  }
  return {
    name: "racecar",
    version: denoJson.version,
    description: denoJson.description ??
      "A Kafka consumer framework for Deno and Node.js, a port of Zendesk's racecar",
    license: denoJson.license ?? "Apache-2.0",
    type: "module",
    main: main.import,
    types: main.types,
    exports,
    bin: NPM_BINS,
    files: [
      "*.js",
      "*.d.ts",
      "src/",
      "bin/",
      "README.md",
      "LICENSE",
    ],
    engines: { node: ">=20" },
    keywords: ["kafka", "consumer", "racecar", "librdkafka", "node-rdkafka"],
    dependencies: sorted(dependencies, (name) => !OPTIONAL_PEERS.has(name)),
    peerDependencies: sorted(dependencies, (name) => OPTIONAL_PEERS.has(name)),
    peerDependenciesMeta: Object.fromEntries(
      [...OPTIONAL_PEERS].sort().map((name) => [name, { optional: true }]),
    ),
  };
}

function sorted(
  entries: Record<string, string>,
  keep: (name: string) => boolean,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(entries).filter(([name]) => keep(name)).sort(([a], [b]) => a.localeCompare(b)),
  );
}

/**
 * A bin shim. Node 20 does not set `import.meta.main`, so the shim starts the
 * command itself (under Node, and under Deno for `deno run -A npm:racecar`).
 */
function shim(program: keyof typeof NPM_BINS): string {
  return [
    "#!/usr/bin/env node",
    `// ${program}: Racecar's command line.`,
    `import { start } from "../src/cli/start.js";`,
    `await start("${program}");`,
  ].join("\n") + "\n";
}

/** What Deno declares and @types/node 20 does not; only for compiling. */
const NODE_GLOBALS = `interface ImportMeta {
  /** Whether this module is the entry point (Deno; Node.js from 24.2). */
  readonly main: boolean;
}
`;

/** Builds the package; returns the output directory. */
export async function buildNpm(
  options: { outDir?: string; keepStage?: boolean } = {},
): Promise<string> {
  const outDir = path.resolve(ROOT, options.outDir ?? "npm/dist");
  const denoJson = JSON.parse(await Deno.readTextFile(path.join(ROOT, "deno.json"))) as DenoJson;

  // The library and every export (cli.ts, racecarctl.ts, testing.ts, metrics.ts, the adapters).
  const entries = ["mod.ts", ...Object.values(denoJson.exports ?? {}).map((e) => e.slice(2))];
  for (const entry of entries) {
    if (!(await exists(path.join(ROOT, entry)))) {
      throw new Error(`Cannot build the npm package: ${entry} is missing`);
    }
  }
  const ffiModules = await ffiAdapterModules();
  const modules = [
    ...entries.filter((entry) => !denoOnly(entry)),
    ...ffiModules.imports,
    BUN_WORKER,
  ];
  try {
    for await (const item of Deno.readDir(path.join(ROOT, NODE_TESTS_DIR))) {
      if (item.isFile && item.name.endsWith(".node.ts")) {
        modules.push(`${NODE_TESTS_DIR}/${item.name}`);
      }
    }
  } catch {
    // No Node tests: build the library alone.
  }
  try {
    for await (const item of Deno.readDir(path.join(ROOT, BUN_TESTS_DIR))) {
      if (item.isFile && item.name.endsWith(".bun.ts")) {
        modules.push(`${BUN_TESTS_DIR}/${item.name}`);
      }
    }
  } catch {
    // No Bun tests.
  }

  const stage = await Deno.makeTempDir({ prefix: "racecar-npm-" });
  try {
    const used = await stageModules(modules, stage);
    used.add("node-rdkafka");

    const imports = denoJson.imports ?? {};
    const dependencies: Record<string, string> = {};
    for (const [name, target] of Object.entries(imports)) {
      if (BUILD_ONLY.has(name)) continue;
      const parsed = parseNpmSpecifier(target);
      if (!parsed) {
        throw new Error(
          `Cannot build the npm package: deno.json import "${name}" maps to "${target}"; ` +
            `only npm: packages can be dependencies of the Node package`,
        );
      }
      dependencies[parsed[0]] = parsed[1];
    }
    for (const name of used) {
      if (!(name in dependencies) && !BUILD_ONLY.has(name)) {
        throw new Error(
          `Cannot build the npm package: "${name}" is imported but not mapped in deno.json imports`,
        );
      }
    }

    await Deno.writeTextFile(path.join(stage, "package.json"), JSON.stringify({ type: "module" }));
    await Deno.writeTextFile(path.join(stage, "_node_globals.d.ts"), NODE_GLOBALS);
    await Deno.symlink(path.join(ROOT, "node_modules"), path.join(stage, "node_modules"));
    await Deno.writeTextFile(
      path.join(stage, "tsconfig.json"),
      JSON.stringify(tsconfig(denoJson, outDir), null, 2),
    );

    await Deno.remove(outDir, { recursive: true }).catch(() => {});
    const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
    if (!(await exists(tsc))) {
      throw new Error(
        `Cannot build the npm package: "${tsc}" is missing; run 'deno install' first`,
      );
    }
    await run("node", [tsc, "-p", path.join(stage, "tsconfig.json")], stage);

    await transpileFfiAdapter(ffiModules.files, outDir);
    await Deno.mkdir(path.join(outDir, "bin"), { recursive: true });
    for (const name of Object.keys(NPM_BINS) as (keyof typeof NPM_BINS)[]) {
      const file = path.join(outDir, "bin", `${name}.js`);
      await Deno.writeTextFile(file, shim(name));
      await Deno.chmod(file, 0o755);
    }
    const manifest = packageJson(denoJson, dependencies);
    await Deno.writeTextFile(
      path.join(outDir, "package.json"),
      JSON.stringify(manifest, null, 2) + "\n",
    );
    for (const file of ["README.md", "LICENSE"]) {
      if (await exists(path.join(ROOT, file))) {
        await Deno.copyFile(path.join(ROOT, file), path.join(outDir, file));
      } else console.warn(`warning: ${file} is missing; the package ships without it`);
    }
    return outDir;
  } finally {
    if (options.keepStage) console.log(`staging dir kept: ${stage}`);
    else await Deno.remove(stage, { recursive: true });
  }
}

if (import.meta.main) {
  const outFlag = Deno.args.find((a) => a.startsWith("--out="));
  const outDir = await buildNpm({
    ...(outFlag ? { outDir: outFlag.slice("--out=".length) } : {}),
    keepStage: Deno.args.includes("--keep-stage"),
  });
  console.log(`npm package built in ${path.relative(Deno.cwd(), outDir) || "."}`);
}
