/**
 * Loading the configuration from all its sources in one documented order,
 * lowest to highest precedence:
 *
 * 1. schema defaults;
 * 2. consumer class settings (`static groupId`, `static maxWaitTime`, ...);
 * 3. `config/racecar.yml`: section `common`, then the section named by
 *    `RACECAR_ENV` (default `development`);
 * 4. `config/racecar.ts`: its default export, a function `(config) => void` or a
 *    partial object;
 * 5. `RACECAR_*` environment variables;
 * 6. command-line flags.
 *
 * The closer a source is to the invocation, the more it wins: a flag typed for
 * one run beats the environment, which beats files checked into the app.
 * (Racecar let `config/racecar.yml` silently override flags; that was a defect.)
 *
 * @module
 */

import { allEnv, cwd as runtimeCwd, modifiedAt, readTextFile } from "../_runtime.ts";
import { ConfigError } from "../errors.ts";
import { logger } from "../logger.ts";
import { coerce, show, suggestion, type ValueSource } from "./decode.ts";
import {
  camelCase,
  CODE_SETTINGS,
  defaultConfig,
  ENV_PREFIX,
  isSettingName,
  kebabCase,
  type RacecarConfig,
  schema,
  type SettingName,
  snakeCase,
} from "./schema.ts";
import { validateConfig } from "./validate.ts";

/**
 * `RACECAR_*` variables that are not settings and are therefore allowed:
 * - `RACECAR_ENV`: which section of `config/racecar.yml` to use;
 * - `RACECAR_LIBRDKAFKA_PATH`: where the Deno adapter finds librdkafka;
 * - `RACECAR_TRANSPORT`: overrides the Kafka adapter;
 * - `RACECAR_KAFKA_PORT`, `RACECAR_KAFKA_HOME`: used by the local Kafka scripts.
 */
export const ALLOWED_ENV_VARS: readonly string[] = [
  "RACECAR_ENV",
  "RACECAR_LIBRDKAFKA_PATH",
  "RACECAR_TRANSPORT",
  "RACECAR_KAFKA_PORT",
  "RACECAR_KAFKA_HOME",
];

/** The YAML file read by default, relative to the working directory. */
export const DEFAULT_CONFIG_FILE = "config/racecar.yml";

/** Code configuration files looked for by {@link findCodeConfig}, in order. */
export const CODE_CONFIG_FILES: readonly string[] = [
  "config/racecar.ts",
  "config/racecar.js",
  "config/racecar.mjs",
];

/** Values the command line may carry: strings, booleans, or repeated strings. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** The environment. @default the process environment */
  env?: Record<string, string | undefined>;
  /**
   * Parsed command-line flags, keyed by camelCase name (as commander gives them),
   * kebab-case name, or the flag itself (`--max-wait-time`).
   * @default {}
   */
  flags?: FlagValues;
  /** The directory `config/` is looked up in. @default the working directory */
  cwd?: string;
  /** Settings declared on the consumer class, e.g. `{ groupId: "orders", maxWaitTime: 5 }`. */
  classSettings?: Record<string, unknown>;
  /** The consumer class's name, for messages. @default "the consumer class" */
  className?: string;
  /**
   * The imported `config/racecar.ts` module (or its default export): a function
   * `(config) => void | Promise<void>` or a partial configuration object.
   */
  codeConfig?: unknown;
  /** How to name the code configuration in messages. @default "config/racecar.ts" */
  codeConfigLabel?: string;
  /** The YAML file, relative to `cwd`. @default "config/racecar.yml" */
  configFile?: string;
  /** Skip `config/racecar.yml` and `codeConfig` (for a fast liveness probe). @default false */
  skipFiles?: boolean;
  /** Run {@link validateConfig} at the end. @default true */
  validate?: boolean;
  /**
   * Receives warnings about configuration that is probably not what was meant
   * but still works (an empty `config/racecar.yml`, a `RACECAR_ENV` the file
   * has no section for).
   * @default a warning on the `racecar.config` logger
   */
  onWarning?: (message: string) => void;
}

/** A loaded configuration with the source of every value. */
export interface LoadedConfig {
  /** The configuration. */
  config: RacecarConfig;
  /** Where each setting's value came from. */
  sources: Record<SettingName, ValueSource>;
  /** The `config/racecar.yml` section used (`RACECAR_ENV`). */
  environment: string;
}

/**
 * Loads the configuration from defaults, class settings, `config/racecar.yml`,
 * `config/racecar.ts`, the environment and flags, in that order of increasing
 * precedence, then validates it.
 *
 * @throws {ConfigError} for an unknown key, a badly typed value, an unreadable
 * file or a failed validation rule; the message names the key and its source.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./load.ts";
 * const config = await loadConfig({
 *   env: { RACECAR_MAX_WAIT_TIME: "2" },
 *   flags: { clientId: "orders" },
 *   skipFiles: true,
 * });
 * console.assert(config.maxWaitTime === 2 && config.clientId === "orders");
 * ```
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<RacecarConfig> {
  return (await loadConfigWithSources(options)).config;
}

/**
 * Like {@link loadConfig}, but also tells where every value came from, for
 * `racecar config`-style explanations and for validation messages.
 *
 * @example
 * ```ts
 * import { loadConfigWithSources } from "./load.ts";
 * const { sources } = await loadConfigWithSources({
 *   env: { RACECAR_CLIENT_ID: "x" },
 *   skipFiles: true,
 * });
 * console.assert(sources.clientId.label === "RACECAR_CLIENT_ID");
 * ```
 */
export async function loadConfigWithSources(
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const env = options.env ?? allEnv();
  const environment = nonEmpty(env.RACECAR_ENV) ?? "development";
  const builder = new Builder();

  if (options.classSettings) {
    applyClassSettings(builder, options.classSettings, options.className ?? "the consumer class");
  }
  if (!options.skipFiles) {
    const file = options.configFile ?? DEFAULT_CONFIG_FILE;
    const path = joinPath(options.cwd ?? runtimeCwd(), file);
    const text = await readTextFile(path);
    const warn = options.onWarning ?? ((message: string) => logger("config").warn(message));
    if (text !== undefined) {
      await applyYaml(
        builder,
        text,
        file,
        environment,
        nonEmpty(env.RACECAR_ENV) !== undefined,
        warn,
      );
    }
    if (options.codeConfig !== undefined) {
      await applyCodeConfig(
        builder,
        options.codeConfig,
        options.codeConfigLabel ?? "config/racecar.ts",
      );
    }
  }
  applyEnv(builder, env);
  if (options.flags) applyFlags(builder, options.flags);

  if (options.validate ?? true) validateConfig(builder.config, builder.sources);
  return { config: builder.config, sources: builder.sources, environment };
}

/**
 * Puts a consumer class's settings under a configuration loaded without them,
 * then validates the result. A class setting takes effect where the loaded
 * value still is the default, which is where the order above places class
 * settings. This lets the CLI read the files and run `config/racecar.ts` once,
 * before it knows the class (the files say where consumers live). Unlike a
 * class setting passed to {@link loadConfig}, it is not visible to a
 * `config/racecar.ts` function that reads the configuration.
 *
 * @throws {ConfigError} for an unknown or invalid class setting, or a failed
 * validation rule.
 *
 * @example
 * ```ts
 * import { loadConfigWithSources, withClassSettings } from "./load.ts";
 * const loaded = await loadConfigWithSources({
 *   env: { RACECAR_FETCH_MESSAGES: "10" },
 *   skipFiles: true,
 *   validate: false,
 * });
 * const { config } = withClassSettings(loaded, { fetchMessages: 5, maxWaitTime: 2 }, "Orders");
 * console.assert(config.fetchMessages === 10 && config.maxWaitTime === 2);
 * ```
 */
export function withClassSettings(
  loaded: LoadedConfig,
  classSettings: Record<string, unknown>,
  className: string,
): LoadedConfig {
  const builder = new Builder();
  Object.assign(builder.config, loaded.config);
  Object.assign(builder.sources, loaded.sources);
  const below: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(classSettings)) {
    if (!isSettingName(key) || builder.sources[key].kind === "default") below[key] = value;
  }
  applyClassSettings(builder, below, className);
  validateConfig(builder.config, builder.sources);
  return { config: builder.config, sources: builder.sources, environment: loaded.environment };
}

/**
 * The first of {@link CODE_CONFIG_FILES} that exists under `cwd`, as an absolute
 * path, for the CLI to `import()`; `undefined` when there is none.
 *
 * @example
 * ```ts
 * import { findCodeConfig } from "./load.ts";
 * console.assert((await findCodeConfig("/nonexistent")) === undefined);
 * ```
 */
export async function findCodeConfig(cwd?: string): Promise<string | undefined> {
  const dir = cwd ?? runtimeCwd();
  for (const file of CODE_CONFIG_FILES) {
    const path = joinPath(dir, file);
    if ((await modifiedAt(path)) !== undefined) return path;
  }
  return undefined;
}

/** Holds values and their sources while sources are applied in order. */
class Builder {
  readonly config: RacecarConfig = defaultConfig();
  readonly sources: Record<SettingName, ValueSource>;

  constructor() {
    const sources: Partial<Record<SettingName, ValueSource>> = {};
    for (const def of schema()) {
      sources[def.name] = { kind: "default", label: "the defaults", key: def.fileKey };
    }
    this.sources = sources as Record<SettingName, ValueSource>;
  }

  set(name: SettingName, raw: unknown, source: ValueSource): void {
    const value = coerce(name, raw, source);
    writable(this.config)[name] = value;
    this.sources[name] = source;
  }
}

const SETTING_NAMES: readonly string[] = schema().map((d) => d.name);
const FILE_KEYS: readonly string[] = schema().map((d) => d.fileKey);
const ENV_VARS: readonly string[] = schema().map((d) => d.envVar);
const FLAGS: readonly string[] = schema().map((d) => d.flag);
const BY_FILE_KEY = new Map(schema().map((d) => [d.fileKey, d.name]));
const BY_ENV_VAR = new Map(schema().map((d) => [d.envVar, d.name]));

function applyClassSettings(builder: Builder, settings: Record<string, unknown>, label: string) {
  for (const [key, value] of Object.entries(settings)) {
    // A class that does not declare a setting leaves it undefined.
    if (value === undefined || value === null) continue;
    if (!isSettingName(key)) {
      throw new ConfigError(
        `Unknown setting '${key}' in ${label}${suggestion(key, SETTING_NAMES)}`,
        { key },
      );
    }
    builder.set(key, value, { kind: "class", label, key });
  }
}

/**
 * Applies `config/racecar.yml`. The YAML parser is imported here, when there is
 * a file to parse: it is the largest module a start would otherwise load for
 * nothing (about 60 ms of a Node.js start: bench/README.md).
 */
async function applyYaml(
  builder: Builder,
  text: string,
  file: string,
  environment: string,
  environmentChosen: boolean,
  warn: (message: string) => void,
): Promise<void> {
  const erb = /<%/.exec(text);
  if (erb) {
    const line = text.slice(0, erb.index).split("\n").length;
    throw new ConfigError(
      `Cannot load ${file}:${line}: ERB tags (<% %>) are not supported: use RACECAR_* ` +
        `environment variables or config/racecar.ts for computed values`,
    );
  }
  const { isMap, isScalar, LineCounter, parseDocument } = await import("yaml");
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: true });
  const firstError = doc.errors[0];
  if (firstError) {
    const line = firstError.linePos?.[0].line;
    const where = line === undefined ? file : `${file}:${line}`;
    throw new ConfigError(
      `Cannot load ${where}: invalid YAML: ${firstError.message.split("\n")[0]}`,
      { cause: firstError },
    );
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    warn(
      `${file} is empty: expected sections such as 'common' and '${environment}'; using ` +
        `the defaults, the environment and flags only`,
    );
    return;
  }
  if (!isMap(contents)) {
    throw new ConfigError(
      `Cannot load ${file}: expected sections such as 'common' and '${environment}' at the ` +
        `top level, got ${show(doc.toJS())}`,
    );
  }
  const data = doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown>;
  // Line numbers of every key, per section, for messages.
  const lines = new Map<string, { line: number; keys: Map<string, number> }>();
  for (const pair of contents.items) {
    if (!isScalar(pair.key)) continue;
    const section = String(pair.key.value);
    const keys = new Map<string, number>();
    if (isMap(pair.value)) {
      for (const item of pair.value.items) {
        if (isScalar(item.key) && item.key.range) {
          keys.set(String(item.key.value), lineCounter.linePos(item.key.range[0]).line);
        }
      }
    }
    const line = pair.key.range ? lineCounter.linePos(pair.key.range[0]).line : 1;
    lines.set(section, { line, keys });
  }

  const sectionNames = Object.keys(data);
  const hasCommon = Object.hasOwn(data, "common");
  if (!Object.hasOwn(data, environment) && !hasCommon) {
    throw new ConfigError(
      `Cannot load ${file}: it has no section '${environment}' (from RACECAR_ENV, default ` +
        `'development') and no 'common' section; its sections are: ${
          sectionNames.map((s) => `'${s}'`).join(", ")
        }`,
    );
  }
  if (environmentChosen && !Object.hasOwn(data, environment)) {
    warn(
      `${file} has no section '${environment}' (from RACECAR_ENV): only 'common' applies; ` +
        `its sections are: ${sectionNames.map((s) => `'${s}'`).join(", ")}`,
    );
  }
  const sections = environment === "common" ? ["common"] : ["common", environment];
  for (const section of sections) {
    if (!Object.hasOwn(data, section)) continue;
    const body = data[section];
    const sectionLine = lines.get(section)?.line ?? 1;
    if (body === null || body === undefined) continue;
    if (typeof body !== "object" || Array.isArray(body)) {
      throw new ConfigError(
        `Cannot load ${file}:${sectionLine}: section '${section}' must map setting names to ` +
          `values, got ${show(body)}`,
      );
    }
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      const line = lines.get(section)?.keys.get(key) ?? sectionLine;
      const label = `${file}:${line}`;
      const name = BY_FILE_KEY.get(key);
      if (name === undefined) {
        throw new ConfigError(
          `Unknown configuration key '${key}' in ${label}${suggestion(key, FILE_KEYS)}`,
          { key },
        );
      }
      builder.set(name, value, { kind: "file", label, key });
    }
  }
}

/**
 * Applies the default export of `config/racecar.ts`. A function receives the
 * configuration built so far; assignments are checked as they happen, so a typo
 * fails at the line that made it.
 */
async function applyCodeConfig(builder: Builder, moduleValue: unknown, label: string) {
  const exported = isRecord(moduleValue) && "default" in moduleValue
    ? moduleValue.default
    : moduleValue;
  if (exported === undefined) {
    throw new ConfigError(
      `Cannot load ${label}: it has no default export: export a function ` +
        `\`(config) => void\` or a configuration object`,
    );
  }
  const assign = (key: string, value: unknown): void => {
    if (isSettingName(key)) {
      builder.set(key, value, { kind: "code", label, key });
    } else if ((CODE_SETTINGS as readonly string[]).includes(key)) {
      if (value !== undefined && typeof value !== "function") {
        throw new ConfigError(
          `Invalid configuration '${key}' from ${label}: expected a function, got ${show(value)}`,
          { key },
        );
      }
      writable(builder.config)[key] = value;
    } else {
      throw new ConfigError(
        `Unknown setting '${key}' in ${label}${
          suggestion(key, [...SETTING_NAMES, ...CODE_SETTINGS])
        }`,
        { key },
      );
    }
  };

  if (typeof exported === "function") {
    const proxy = new Proxy(builder.config, {
      set(_target, key, value) {
        assign(String(key), value);
        return true;
      },
      defineProperty(_target, key, descriptor) {
        assign(String(key), descriptor.value);
        return true;
      },
      deleteProperty(_target, key) {
        assign(String(key), undefined);
        return true;
      },
    });
    await (exported as (config: RacecarConfig) => unknown)(proxy);
    return;
  }
  if (isRecord(exported)) {
    for (const [key, value] of Object.entries(exported)) assign(key, value);
    return;
  }
  throw new ConfigError(
    `Cannot load ${label}: expected its default export to be a function \`(config) => void\` ` +
      `or a configuration object, got ${show(exported)}`,
  );
}

function applyEnv(builder: Builder, env: Record<string, string | undefined>): void {
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(ENV_PREFIX) || ALLOWED_ENV_VARS.includes(name)) continue;
    const setting = BY_ENV_VAR.get(name);
    if (setting === undefined) {
      throw new ConfigError(
        `Unknown environment variable ${name}${
          suggestion(name, [...ENV_VARS, ...ALLOWED_ENV_VARS])
        }; Racecar reserves the RACECAR_ prefix for settings and allows only ${
          ALLOWED_ENV_VARS.join(", ")
        } besides`,
        { key: name },
      );
    }
    const value = env[name];
    // `RACECAR_X=` in a shell or .env file means "not set".
    if (value === undefined || value === "") continue;
    builder.set(setting, value, { kind: "env", label: name, key: snakeCase(setting) });
  }
}

function applyFlags(builder: Builder, flags: FlagValues): void {
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const bare = key.replace(/^--?/, "");
    const name = camelCase(bare);
    if (!isSettingName(name)) {
      const written = `--${bare}`;
      throw new ConfigError(`Unknown option '${written}'${suggestion(written, FLAGS)}`, {
        key,
      });
    }
    const flag = value === false ? `--no-${kebabCase(name)}` : `--${kebabCase(name)}`;
    builder.set(name, value, { kind: "flag", label: flag, key: snakeCase(name) });
  }
}

function writable(config: RacecarConfig): Record<string, unknown> {
  return config as unknown as Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function joinPath(dir: string, file: string): string {
  if (file.startsWith("/") || /^[A-Za-z]:[\\/]/.test(file)) return file;
  return `${dir.replace(/[\\/]+$/, "")}/${file}`;
}
