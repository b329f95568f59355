/**
 * `racecar init` and `racecar generate consumer <Name>`: the files a new
 * project starts from. Existing files are never overwritten.
 *
 * `init` writes `config/racecar.yml` (sections `common`, `development`,
 * `test`, `production`), creates `consumers/`, and adds to `deno.json`
 * (created when missing, other content kept) a `liveness` task and an import
 * of `@racecar/cli`. `generate consumer TapDance` writes
 * `consumers/tap_dance_consumer.ts` and `consumers/tap_dance_consumer_test.ts`.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  cwd as runtimeCwd,
  makeDir,
  modifiedAt,
  readTextFile,
  writeTextFile,
} from "../_runtime.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./_exit.ts";
import { pascalCase, snakeCase } from "../_case.ts";

/** What a generator did, relative to the project directory. */
export interface GenerateResult {
  /** Files written (created). */
  created: string[];
  /** Files changed. */
  updated: string[];
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
        "@racecar/cli": join(root, "mod.ts"),
        "@racecar/cli/testing": join(root, "testing.ts"),
      },
      racecarctl: join(root, "racecarctl.ts"),
    };
  }
  return {
    imports: {
      "@racecar/cli": `jsr:@racecar/cli@^${VERSION}/lib`,
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

/** `racecar init`: config file, consumers folder, `deno.json` task and import. */
export async function initProject(
  dir: string = runtimeCwd(),
  source: PackageSource = packageSource(),
): Promise<GenerateResult> {
  const result: GenerateResult = { created: [], updated: [] };
  const yml = "config/racecar.yml";
  await refuseExisting(dir, [yml]);

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

function asRecord(value: unknown, key: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`Cannot update deno.json: "${key}" must be an object`);
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
  /** Where the generated files import Racecar from. @default "@racecar/cli" */
  importFrom?: string;
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
  const consumerFile = `${folder}/${file}.ts`;
  const testFile = `${folder}/${file}_test.ts`;
  await refuseExisting(dir, [consumerFile, testFile]);
  const topic = file.replace(/_consumer$/, "").replaceAll("_", "-");
  const from = options.importFrom ?? "@racecar/cli";
  await makeDir(join(dir, folder));
  await writeTextFile(join(dir, consumerFile), consumerTemplate(className, topic, from));
  await writeTextFile(join(dir, testFile), testTemplate(className, file, topic, from));
  return { created: [consumerFile, testFile], updated: [] };
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
