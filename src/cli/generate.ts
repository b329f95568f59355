/**
 * `racecar init` and `racecar generate consumer <Name>`: the files a new
 * project starts from. Existing files are never overwritten.
 *
 * Under Deno, `init` writes `config/racecar.yml` (sections `common`,
 * `development`, `test`, `production`), creates `consumers/`, and adds to
 * `deno.json` (created when missing, other content kept) `liveness` and
 * `racecarctl` tasks and imports of `@racecar/cli`; `generate consumer
 * TapDance` writes `consumers/tap_dance_consumer.ts` and
 * `consumers/tap_dance_consumer_test.ts`. Under Node.js (the npm package),
 * `init` writes the same config and folder and adds to `package.json`
 * `"type": "module"` and a `liveness` script; `generate` writes
 * `consumers/tap_dance_consumer.js` and a `node:test` test,
 * `consumers/tap_dance_consumer.test.js`.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { cwd as runtimeCwd, isDeno, modifiedAt, readTextFile, writeTextFile } from "../_runtime.ts";
import { makeDir } from "./_process.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./_exit.ts";
import { pascalCase, snakeCase } from "../_case.ts";

/** What a generator did, relative to the project directory. */
export interface GenerateResult {
  /** Files written (created). */
  created: string[];
  /** Files changed. */
  updated: string[];
  /** What the user must still do for the files to work. */
  notes?: string[];
}

/** Where `@racecar/cli` comes from in generated projects. */
export interface PackageSource {
  /** Import map entries for the user's `deno.json`. */
  imports: Record<string, string>;
  /** The `racecarctl` entry point for tasks. */
  racecarctl: string;
}

/**
 * The package as the generated project should import it: from JSR, or from
 * this checkout when the command runs from local files (development).
 */
export function packageSource(moduleUrl: string = import.meta.url): PackageSource {
  if (moduleUrl.startsWith("file:")) {
    const root = join(dirname(fileURLToPath(moduleUrl)), "..", "..");
    return {
      imports: {
        "@racecar/cli": join(root, "cli.ts"),
        "@racecar/cli/testing": join(root, "testing.ts"),
      },
      racecarctl: join(root, "racecarctl.ts"),
    };
  }
  return {
    imports: {
      "@racecar/cli": `jsr:@racecar/cli@^${VERSION}`,
      "@racecar/cli/testing": `jsr:@racecar/cli@^${VERSION}/testing`,
    },
    racecarctl: `jsr:@racecar/cli@^${VERSION}/racecarctl`,
  };
}

const RACECAR_YML =
  `# Racecar configuration. Sections: \`common\` applies everywhere, then the section
# named by RACECAR_ENV (default: development). Precedence, lowest first: consumer
# class settings < this file < config/racecar.ts < RACECAR_* variables < flags.
# Every setting: docs/configuration.md, or \`racecar --help\`.

common:
  brokers:
    - 127.0.0.1:9092
  client_id: my-app
  # group_id_prefix: my-app-
  log_level: info

development:
  max_wait_time: 1

test:
  brokers:
    - 127.0.0.1:9092

production:
  # Prefer RACECAR_BROKERS and secrets (RACECAR_SASL_PASSWORD) from the environment.
  liveness_probe_enabled: true
  # liveness_probe_file_path: /tmp/racecar-liveness
  # liveness_probe_max_interval: 5
`;

async function exists(path: string): Promise<boolean> {
  return (await modifiedAt(path)) !== undefined;
}

async function refuseExisting(dir: string, files: readonly string[]): Promise<void> {
  for (const file of files) {
    if (await exists(join(dir, file))) {
      throw new UsageError(
        `Cannot create ${file}: it already exists; move it away or edit it by hand`,
      );
    }
  }
}

/** The runtime a generated project is for. */
export type ProjectRuntime = "deno" | "node";

/** The runtime this process runs on, as a generator target. */
export const CURRENT_RUNTIME: ProjectRuntime = isDeno ? "deno" : "node";

/**
 * `racecar init`: config file, consumers folder, and the project file of the
 * runtime (`deno.json` tasks and imports, or `package.json` type and script).
 */
export async function initProject(
  dir: string = runtimeCwd(),
  source: PackageSource = packageSource(),
  runtime: ProjectRuntime = CURRENT_RUNTIME,
): Promise<GenerateResult> {
  const result: GenerateResult = { created: [], updated: [] };
  const yml = "config/racecar.yml";
  await refuseExisting(dir, [yml]);
  if (runtime === "node") return await initNodeProject(dir, result);

  // Read and check deno.json before writing anything, so a bad file changes nothing.
  const denoJsonPath = join(dir, "deno.json");
  const text = await readTextFile(denoJsonPath);
  let denoJson: Record<string, unknown> = {};
  if (text !== undefined) {
    try {
      const parsed = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new TypeError("not an object");
      }
      denoJson = parsed;
    } catch (error) {
      throw new UsageError(
        `Cannot update deno.json: it is not a JSON object (${(error as Error).message}); ` +
          `fix it, or add the task "liveness": "deno run -A ${source.racecarctl} ` +
          `liveness_probe" by hand`,
      );
    }
  }
  const tasks = asRecord(denoJson.tasks, "tasks");
  const imports = asRecord(denoJson.imports, "imports");
  if (tasks.liveness !== undefined) {
    throw new UsageError(
      `Cannot add the task "liveness" to deno.json: it already has one ("${tasks.liveness}")`,
    );
  }

  await makeDir(join(dir, "config"));
  await writeTextFile(join(dir, yml), RACECAR_YML);
  result.created.push(yml);
  if (!(await exists(join(dir, "consumers")))) {
    await makeDir(join(dir, "consumers"));
    result.created.push("consumers/");
  }
  tasks.liveness = `deno run -A ${source.racecarctl} liveness_probe`;
  tasks.racecarctl ??= `deno run -A ${source.racecarctl}`;
  for (const [name, target] of Object.entries(source.imports)) imports[name] ??= target;
  denoJson.tasks = tasks;
  denoJson.imports = imports;
  await writeTextFile(denoJsonPath, JSON.stringify(denoJson, null, 2) + "\n");
  (text === undefined ? result.created : result.updated).push("deno.json");
  return result;
}

/** The script `init` adds to package.json; `npm run liveness` finds the bin. */
const NODE_LIVENESS_SCRIPT = "racecarctl liveness_probe";

async function initNodeProject(dir: string, result: GenerateResult): Promise<GenerateResult> {
  const packageJsonPath = join(dir, "package.json");
  const text = await readTextFile(packageJsonPath);
  let manifest: Record<string, unknown> = { name: "racecar-app", private: true };
  if (text !== undefined) {
    try {
      const parsed = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new TypeError("not an object");
      }
      manifest = parsed;
    } catch (error) {
      throw new UsageError(
        `Cannot update package.json: it is not a JSON object (${(error as Error).message}); ` +
          `fix it, or add "type": "module" and the script "liveness": ` +
          `"${NODE_LIVENESS_SCRIPT}" by hand`,
      );
    }
  }
  if (manifest.type !== undefined && manifest.type !== "module") {
    throw new UsageError(
      `Cannot set up package.json for Racecar: its "type" is ${JSON.stringify(manifest.type)}; ` +
        `consumers are ES modules, so set "type": "module" (or name consumer files .mjs and ` +
        `skip init)`,
    );
  }
  const scripts = asRecord(manifest.scripts, "scripts", "package.json");
  if (scripts.liveness !== undefined) {
    throw new UsageError(
      `Cannot add the script "liveness" to package.json: it already has one ` +
        `("${scripts.liveness}")`,
    );
  }
  await makeDir(join(dir, "config"));
  await writeTextFile(join(dir, "config/racecar.yml"), RACECAR_YML);
  result.created.push("config/racecar.yml");
  if (!(await exists(join(dir, "consumers")))) {
    await makeDir(join(dir, "consumers"));
    result.created.push("consumers/");
  }
  manifest.type = "module";
  scripts.liveness = NODE_LIVENESS_SCRIPT;
  manifest.scripts = scripts;
  await writeTextFile(packageJsonPath, JSON.stringify(manifest, null, 2) + "\n");
  (text === undefined ? result.created : result.updated).push("package.json");
  return result;
}

function asRecord(value: unknown, key: string, file = "deno.json"): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`Cannot update ${file}: "${key}" must be an object`);
  }
  return value as Record<string, unknown>;
}

/** `TapDance`, `tap_dance` or `TapDanceConsumer` -> `TapDanceConsumer`. */
export function consumerClassName(name: string): string {
  const pascal = pascalCase(name);
  if (!/^[A-Z][A-Za-z0-9]*$/.test(pascal)) {
    throw new UsageError(
      `Invalid consumer name "${name}": use letters and digits, e.g. TapDance`,
    );
  }
  return pascal.endsWith("Consumer") ? pascal : `${pascal}Consumer`;
}

/** Options of {@link generateConsumer}. */
export interface GenerateConsumerOptions {
  /** The project directory. @default the working directory */
  dir?: string;
  /** The consumers folder, relative to `dir`. @default "consumers" */
  consumersDir?: string;
  /** Where the generated files import Racecar from. @default "@racecar/cli", "racecar" on Node */
  importFrom?: string;
  /** The runtime the files are for. @default the one running */
  runtime?: ProjectRuntime;
}

/** `racecar generate consumer TapDance`: the consumer and its test. */
export async function generateConsumer(
  name: string,
  options: GenerateConsumerOptions = {},
): Promise<GenerateResult> {
  const dir = options.dir ?? runtimeCwd();
  const className = consumerClassName(name);
  const file = snakeCase(className);
  const folder = options.consumersDir ?? "consumers";
  const node = (options.runtime ?? CURRENT_RUNTIME) === "node";
  const consumerFile = node ? `${folder}/${file}.js` : `${folder}/${file}.ts`;
  const testFile = node ? `${folder}/${file}.test.js` : `${folder}/${file}_test.ts`;
  await refuseExisting(dir, [consumerFile, testFile]);
  const topic = file.replace(/_consumer$/, "").replaceAll("_", "-");
  const from = options.importFrom ?? (node ? "racecar" : "@racecar/cli");
  await makeDir(join(dir, folder));
  await writeTextFile(
    join(dir, consumerFile),
    node ? nodeConsumerTemplate(className, topic, from) : consumerTemplate(className, topic, from),
  );
  await writeTextFile(
    join(dir, testFile),
    node
      ? nodeTestTemplate(className, file, topic, from)
      : testTemplate(className, file, topic, from),
  );
  const result: GenerateResult = { created: [consumerFile, testFile], updated: [] };
  if (options.importFrom === undefined && !(await importMapped(dir, from))) {
    const target = packageSource().imports[from];
    result.notes = [
      node
        ? `${consumerFile} imports "${from}", which nothing here maps (no package.json ` +
          `dependency, nothing in node_modules): run \`npm install racecar\` in ${dir}`
        : `${consumerFile} imports "${from}", which nothing here maps (no deno.json "imports" ` +
          `entry, no package.json dependency): run \`racecar init\` in ${dir} to add it to ` +
          `deno.json, or add "${from}": "${target}" to the "imports" of your deno.json`,
    ];
  }
  return result;
}

/**
 * Whether a bare import resolves from `dir`: the nearest deno.json(c) maps it,
 * or a package.json in `dir` or above lists it, or it is installed in node_modules.
 */
async function importMapped(dir: string, specifier: string): Promise<boolean> {
  for (let at = dir;; at = dirname(at)) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const text = await readTextFile(join(at, name));
      if (text === undefined) continue;
      try {
        const imports = (JSON.parse(text) as { imports?: Record<string, unknown> }).imports;
        if (imports !== undefined && Object.hasOwn(imports, specifier)) return true;
      } catch {
        // deno.jsonc with comments: look for the key as text.
        if (text.includes(`"${specifier}"`)) return true;
      }
    }
    const pkg = await readTextFile(join(at, "package.json"));
    if (pkg !== undefined && pkg.includes(`"${specifier}"`)) return true;
    if ((await modifiedAt(join(at, "node_modules", specifier))) !== undefined) return true;
    if (dirname(at) === at) return false;
  }
}

function nodeConsumerTemplate(className: string, topic: string, from: string): string {
  return `/**
 * ${className}: consumes "${topic}". Run it with \`node node_modules/.bin/racecar ${className}\`.
 */

import { Consumer } from "${from}";

export class ${className} extends Consumer {
  static {
    this.subscribesTo("${topic}");
  }

  /** The last values processed (the generated test reads them; replace with your own logic). */
  processed = [];

  /** @param {import("${from}").Message} message */
  process(message) {
    this.processed.push(message.text() ?? "(tombstone)");
  }
}
`;
}

function nodeTestTemplate(className: string, file: string, topic: string, from: string): string {
  return `/**
 * Tests ${className} without a broker: the public test kit runs the real
 * runner over an in-memory broker. Run with \`node --test consumers/${file}.test.js\`.
 */

import { strictEqual } from "node:assert";
import { test } from "node:test";
import { testConsumer } from "${from}/testing";
import { ${className} } from "./${file}.js";

test("${className}.process() records each message's value when messages arrive", async () => {
  const consumer = new ${className}();
  const kit = await testConsumer(consumer);
  try {
    kit.send("${topic}", "hello", { key: "k1" });
    await kit.drain();
    strictEqual(consumer.processed[0], "hello");
  } finally {
    await kit.stop();
  }
});
`;
}

function consumerTemplate(className: string, topic: string, from: string): string {
  return `/**
 * ${className}: consumes "${topic}". Run it with \`racecar ${className}\`.
 */

import { Consumer, type Message } from "${from}";

export class ${className} extends Consumer {
  static {
    this.subscribesTo("${topic}");
  }

  /** The last values processed (the generated test reads them; replace with your own logic). */
  readonly processed: string[] = [];

  override process(message: Message): void {
    this.processed.push(message.text() ?? "(tombstone)");
  }
}
`;
}

function testTemplate(className: string, file: string, topic: string, from: string): string {
  return `/**
 * Tests ${className} without a broker: the public test kit runs the real
 * runner over an in-memory broker. Run with \`deno test -A ${file}_test.ts\`.
 */

import { testConsumer } from "${from}/testing";
import { ${className} } from "./${file}.ts";

Deno.test("${className}.process() records each message's value when messages arrive", async () => {
  const consumer = new ${className}();
  const kit = await testConsumer(consumer);
  try {
    kit.send("${topic}", "hello", { key: "k1" });
    await kit.drain();
    if (consumer.processed[0] !== "hello") {
      throw new Error(\`expected "hello", got \${JSON.stringify(consumer.processed)}\`);
    }
  } finally {
    await kit.stop();
  }
});
`;
}

/** Formats a generator's result the way `racecar` prints it. */
export function describeResult(result: GenerateResult, dir: string, cwd: string): string {
  const prefix = relative(cwd, dir);
  const show = (f: string) => prefix === "" ? f : join(prefix, f);
  return [
    ...result.created.map((f) => `      create  ${show(f)}`),
    ...result.updated.map((f) => `      update  ${show(f)}`),
  ].join("\n") + "\n";
}
