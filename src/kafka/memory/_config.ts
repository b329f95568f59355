/**
 * Reading the few librdkafka properties the memory adapter honours. Any other
 * key is accepted as given: the memory adapter does not pretend to validate
 * librdkafka's configuration, only the values it acts on.
 *
 * @module
 */

import { ConfigError } from "../../errors.ts";
import type { ConfigMap } from "../transport.ts";

/** Reads a librdkafka boolean (`true`/`t`/`1`, `false`/`f`/`0`). */
export function readBoolean(
  config: ConfigMap,
  key: string,
  fallback: boolean,
  action: string,
): boolean {
  const raw = config[key];
  if (raw === undefined) return fallback;
  const value = raw.trim().toLowerCase();
  if (value === "true" || value === "t" || value === "1") return true;
  if (value === "false" || value === "f" || value === "0") return false;
  throw new ConfigError(
    `${action}: "${key}" is "${raw}", expected true or false`,
    { key },
  );
}

/** Reads a librdkafka integer within `[min, max]`. */
export function readInteger(
  config: ConfigMap,
  key: string,
  fallback: number,
  action: string,
  range: { min: number; max: number },
): number {
  const raw = config[key];
  if (raw === undefined) return fallback;
  const value = Number(raw.trim());
  if (raw.trim() === "" || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ConfigError(
      `${action}: "${key}" is "${raw}", expected an integer from ${range.min} to ${range.max}`,
      { key },
    );
  }
  return value;
}

/** Reads one of `allowed` (case-insensitive), mapping synonyms through `aliases`. */
export function readChoice<T extends string>(
  config: ConfigMap,
  key: string,
  fallback: T,
  action: string,
  aliases: Readonly<Record<string, T>>,
): T {
  const raw = config[key];
  if (raw === undefined) return fallback;
  const value = aliases[raw.trim().toLowerCase()];
  if (value !== undefined) return value;
  throw new ConfigError(
    `${action}: "${key}" is "${raw}", expected one of ${Object.keys(aliases).join(", ")}`,
    { key },
  );
}
