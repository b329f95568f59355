/**
 * Builds the npm package into `npm/dist/`: `deno run -A scripts/build_npm.ts`.
 *
 * 1. Stages the modules reachable from the entry points (`mod.ts`, `cli.ts`,
 *    `testing.ts` and the Node test runners `tests/node/*.node.ts`) into a temp
 *    dir, with `src/kafka/default_transport.node.ts` standing in for
 *    `src/kafka/default_transport.ts`, so the Deno layer of the FFI adapter is
 *    never part of the package (the build fails if anything reaches
 *    `src/kafka/ffi/deno/` or `src/kafka/ffi/mod.ts`); its koffi layer is.
 * 2. Compiles them with `tsc` from the `typescript` package
 *    (`rewriteRelativeImportExtensions`, NodeNext, ES2022, declarations, the
 *    strict flags of deno.json).
 * 3. Writes `package.json` (derived from deno.json), the `racecar` and
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
const ENTRY_POINTS = ["mod.ts", "cli.ts", "racecarctl.ts", "testing.ts", "metrics.ts"];
/** Always part of the package, whether or not the entry points reach them yet. */
const ADAPTER_MODULES = [
  "src/kafka/default_transport.ts",
  "src/kafka/node_rdkafka.ts",
  "src/kafka/ffi/koffi/mod.ts",
];
const NODE_TESTS_DIR = "tests/node";
/** The Deno default transport and its Node replacement. */
const SWAPS: Record<string, string> = {
  "src/kafka/default_transport.ts": "src/kafka/default_transport.node.ts",
};
/** The Deno-only parts of the FFI adapter: its `Deno.dlopen` layer and entry (koffi shares the rest). */
const FORBIDDEN_PREFIXES = ["src/kafka/ffi/deno/", "src/kafka/ffi/mod.ts"];
/** deno.json imports that are only needed to build, never at run time. */
const BUILD_ONLY = new Set(["typescript", "node-gyp", "@types/node"]);
/**
 * Libraries loaded only when a feature that is off by default is enabled
 * (`src/metrics/_optional.ts`): optional peer dependencies, so installing the
 * package does not fetch them (hot-shots builds a native module).
 */
const OPTIONAL_PEERS = new Set(["hot-shots", "prom-client"]);

interface DenoJson {
  name: string;
  version: string;
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
    if (FORBIDDEN_PREFIXES.some((prefix) => rel.startsWith(prefix))) {
      throw new Error(
        `Cannot build the npm package: "${rel}" is part of the Deno FFI adapter and must not ` +
          `be reachable from the Node build (import it only from src/kafka/default_transport.ts)`,
      );
    }
    const sourcePath = path.join(ROOT, SWAPS[rel] ?? rel);
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

function packageJson(
  denoJson: DenoJson,
  dependencies: Record<string, string>,
  entries: { testing: boolean; metrics: boolean; cli: boolean },
): Record<string, unknown> {
  const exports: Record<string, unknown> = {
    ".": { types: "./mod.d.ts", import: "./mod.js" },
  };
  if (entries.testing) exports["./testing"] = { types: "./testing.d.ts", import: "./testing.js" };
  if (entries.metrics) exports["./metrics"] = { types: "./metrics.d.ts", import: "./metrics.js" };
  exports["./package.json"] = "./package.json";
  return {
    name: "racecar",
    version: denoJson.version,
    description: denoJson.description ??
      "A Kafka consumer framework for Deno and Node.js, a port of Zendesk's racecar",
    license: denoJson.license ?? "Apache-2.0",
    type: "module",
    main: "./mod.js",
    types: "./mod.d.ts",
    exports,
    ...(entries.cli
      ? { bin: { racecar: "./bin/racecar.js", racecarctl: "./bin/racecarctl.js" } }
      : {}),
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
 * A bin shim. cli.ts starts only when `import.meta.main`, which Node 20 does
 * not set, so the shim calls the CLI's `main()` itself.
 */
function shim(program: string, mainModule: string | undefined, mainName = "main"): string {
  const lines = ["#!/usr/bin/env node", `// ${program}: Racecar's command line under Node.js.`];
  if (program !== "racecar" && mainName === "main") {
    lines.push(`process.env.RACECAR_PROGRAM_NAME ??= "${program}";`);
  }
  if (mainModule === undefined) lines.push(`await import("../cli.js");`);
  else {
    lines.push(
      `import { args, exit } from "../src/_runtime.js";`,
      `import { ${mainName} } from "../${mainModule}";`,
      `exit(await ${mainName}(args()));`,
    );
  }
  return lines.join("\n") + "\n";
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

  const entries: string[] = [];
  for (const entry of ENTRY_POINTS) {
    if (await exists(path.join(ROOT, entry))) entries.push(entry);
  }
  if (!entries.includes("mod.ts")) {
    throw new Error("Cannot build the npm package: mod.ts is missing");
  }
  const modules = [...entries, ...ADAPTER_MODULES];
  try {
    for await (const item of Deno.readDir(path.join(ROOT, NODE_TESTS_DIR))) {
      if (item.isFile && item.name.endsWith(".node.ts")) {
        modules.push(`${NODE_TESTS_DIR}/${item.name}`);
      }
    }
  } catch {
    // No Node tests: build the library alone.
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

    const hasCli = entries.includes("cli.ts");
    if (hasCli) {
      await Deno.mkdir(path.join(outDir, "bin"), { recursive: true });
      const staged = async (rel: string) =>
        (await exists(path.join(stage, rel))) ? rel.replace(/\.ts$/, ".js") : undefined;
      const cliMain = await staged("src/cli/main.ts");
      const ctlMain = await staged("src/cli/ctl.ts");
      const shims = [["racecar", shim("racecar", cliMain)], [
        "racecarctl",
        ctlMain === undefined
          ? shim("racecarctl", cliMain)
          : shim("racecarctl", ctlMain, "ctlMain"),
      ]];
      for (const [name, text] of shims) {
        const file = path.join(outDir, "bin", `${name}.js`);
        await Deno.writeTextFile(file, text!);
        await Deno.chmod(file, 0o755);
      }
    }
    const manifest = packageJson(denoJson, dependencies, {
      testing: entries.includes("testing.ts"),
      metrics: entries.includes("metrics.ts"),
      cli: hasCli,
    });
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
