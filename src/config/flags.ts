/**
 * Command-line flags derived from the schema, described for the CLI to register
 * (with commander or anything else): one `--kebab-case` flag per setting, a
 * `--no-` form for booleans, and help text ending in `(default: X)`.
 *
 * @module
 */

import {
  schema,
  type SettingDefinition,
  type SettingGroup,
  type SettingName,
  type SettingType,
} from "./schema.ts";

/** How one setting appears on the command line. */
export interface FlagSpec {
  /** The setting, camelCase; also the key commander stores the value under. */
  name: SettingName;
  /** The flag, e.g. `--max-wait-time`. */
  flag: string;
  /** For booleans, the flag that turns the setting off, e.g. `--no-daemonize`. */
  negation?: string;
  /** The value placeholder, e.g. `<seconds>`; absent for booleans. */
  placeholder?: string;
  /** Flag and placeholder together, e.g. `--max-wait-time <seconds>` (commander's syntax). */
  usage: string;
  /** Help text: the description plus `(default: X)`. */
  description: string;
  /** The setting's type. */
  type: SettingType;
  /** The allowed values of an enum. */
  choices?: readonly string[];
  /** The environment variable for the same setting. */
  envVar: string;
  /** The help section. */
  group: SettingGroup;
  /** The value is a secret; prefer the environment variable. */
  secret: boolean;
}

/**
 * One {@link FlagSpec} per setting, in documentation order. Register them
 * without defaults: `loadConfig()` applies defaults itself, and a flag the user
 * did not pass must stay `undefined` so it does not override other sources.
 *
 * @example
 * ```ts
 * import { flagSpecs } from "./flags.ts";
 * const wait = flagSpecs().find((f) => f.name === "maxWaitTime")!;
 * console.assert(wait.usage === "--max-wait-time <seconds>");
 * console.assert(wait.description.endsWith("(default: 1)"));
 * ```
 */
export function flagSpecs(): FlagSpec[] {
  return schema().map((def) => {
    const placeholder = placeholderOf(def);
    const spec: FlagSpec = {
      name: def.name,
      flag: def.flag,
      usage: placeholder ? `${def.flag} ${placeholder}` : def.flag,
      description: `${def.description}${
        def.secret ? " Prefer the environment variable: flags show up in process lists." : ""
      } (default: ${formatDefault(def)})`,
      type: def.type,
      envVar: def.envVar,
      group: def.group,
      secret: def.secret ?? false,
    };
    if (placeholder) spec.placeholder = placeholder;
    if (def.type === "boolean") spec.negation = `--no-${def.flag.slice(2)}`;
    if (def.type === "enum") spec.choices = def.allowed;
    return spec;
  });
}

/** A setting's default as help and docs show it, e.g. `1`, `localhost:9092` or `none`. */
export function formatDefault(def: SettingDefinition): string {
  if (def.defaultText !== undefined) return def.defaultText.replaceAll("`", "");
  const value = def.default;
  if (value === undefined) return "none";
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(",");
  return String(value);
}

function placeholderOf(def: SettingDefinition): string | undefined {
  switch (def.type) {
    case "boolean":
      return undefined;
    case "duration":
      return "<seconds>";
    case "integer":
    case "float":
      return def.unit ? `<${def.unit}>` : "<n>";
    case "list":
      return def.itemFormat === "keyValue" ? "<key=value,...>" : "<list>";
    default:
      return "<value>";
  }
}
