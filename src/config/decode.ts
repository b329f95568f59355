/**
 * Turning what a user wrote (a YAML value, an environment string, a flag, a
 * value assigned in code) into a typed setting value, with errors that name the
 * key as written, where it came from, what was expected and what was found.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { type SettingName, type SettingSpec, settingSpec } from "./schema.ts";

/** A comma that begins the next `key=value` entry of a list written as one string. */
const NEXT_KEY_VALUE = /,(?=\s*[A-Za-z0-9_.-]+\s*=)/;

/** The kinds of place a value can come from, lowest precedence first. */
export type SourceKind = "default" | "class" | "file" | "code" | "env" | "flag";

/** Where one value came from. */
export interface ValueSource {
  /** The kind of source. */
  kind: SourceKind;
  /** Where, for messages: `config/racecar.yml:12`, `RACECAR_MAX_WAIT_TIME`, `--max-wait-time`. */
  label: string;
  /** The key as the user wrote it: `max_wait_time` in files, `maxWaitTime` in code. */
  key: string;
}

/** Builds the error for a bad value of `name`. */
export function invalid(name: string, source: ValueSource, detail: string): ConfigError {
  return new ConfigError(
    `Invalid configuration '${source.key}' from ${source.label}: ${detail}`,
    { key: name },
  );
}

/** Renders a value for an error message: strings quoted, the rest as JSON. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Describes what a setting accepts, e.g. `a number of seconds of at least 0`. */
export function expectation(spec: SettingSpec): string {
  switch (spec.type) {
    case "string":
      return "a string";
    case "boolean":
      return "true, false, 1 or 0";
    case "list":
      return spec.itemFormat === "keyValue"
        ? 'a list of "key=value" strings'
        : spec.itemFormat === "hostPort"
        ? 'a list of "host:port" strings (such as "kafka1:9092" or "[::1]:9092") or a ' +
          "comma-separated string of them"
        : "a list of strings or a comma-separated string";
    case "enum":
      return `one of ${spec.allowed.map((a) => JSON.stringify(a)).join(", ")}`;
    default: {
      const noun = spec.type === "integer"
        ? "an integer"
        : spec.type === "duration"
        ? "a number of seconds"
        : "a number";
      const unit = spec.unit && spec.type !== "duration" ? ` (${spec.unit})` : "";
      if (spec.min !== undefined && spec.max !== undefined) {
        return `${noun}${unit} from ${spec.min} to ${spec.max}`;
      }
      if (spec.min !== undefined) return `${noun}${unit} of at least ${spec.min}`;
      if (spec.max !== undefined) return `${noun}${unit} of at most ${spec.max}`;
      return `${noun}${unit}`;
    }
  }
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Converts `raw` into the value of setting `name`.
 *
 * Strings are decoded the way environment variables are (lists comma-separated,
 * booleans `true/false/1/0`); native values (from YAML or code) must already
 * have the right type. `null` and `undefined` unset a setting that has no
 * default and are an error for one that has.
 *
 * @throws {ConfigError} naming the key, the source, what was expected and what was given.
 */
export function coerce(name: SettingName, raw: unknown, source: ValueSource): unknown {
  const spec = settingSpec(name);
  const fail = (detail = `expected ${expectation(spec)}, got ${show(raw)}`) =>
    invalid(name, source, detail);

  if (raw === null || raw === undefined) {
    if (spec.default === undefined) return undefined;
    throw fail();
  }

  switch (spec.type) {
    case "string":
      if (typeof raw === "string") {
        if (raw.trim() === "" && !spec.allowEmpty) {
          throw fail(
            `must not be empty, got ${show(raw)}: ${
              spec.default === undefined && !spec.computeDefault && spec.defaultText === undefined
                ? "give a value, or remove it to leave the setting unset"
                : `give a value, or remove it to use the default (${
                  spec.defaultText?.replaceAll("`", "") ?? show(spec.default)
                })`
            }`,
          );
        }
        return raw;
      }
      // YAML reads `group_id: 12345` as a number; the user meant the text.
      if (typeof raw === "number" && Number.isFinite(raw)) return String(raw);
      throw fail();

    case "boolean":
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "number" && (raw === 0 || raw === 1)) return raw === 1;
      if (typeof raw === "string") {
        const text = raw.trim().toLowerCase();
        if (text === "true" || text === "1") return true;
        if (text === "false" || text === "0") return false;
      }
      throw fail();

    case "list": {
      let items: unknown[];
      if (typeof raw === "string") {
        // `key=value` entries split only where the next one begins, so a value may
        // hold commas itself (librdkafka's `debug=cgrp,fetch`).
        items = spec.itemFormat === "keyValue" ? raw.split(NEXT_KEY_VALUE) : raw.split(",");
      } else if (Array.isArray(raw)) items = raw;
      else throw fail();
      const list: string[] = [];
      for (const item of items) {
        // A broker is never a bare number: `brokers: [9092]` forgot the host.
        if (typeof item === "number" && Number.isFinite(item) && spec.itemFormat !== "hostPort") {
          list.push(String(item));
        } else if (typeof item === "string") {
          const trimmed = item.trim();
          if (trimmed !== "") list.push(trimmed);
        } else throw fail();
      }
      if (spec.itemFormat === "hostPort") {
        for (const entry of list) {
          const problem = brokerProblem(entry);
          if (problem !== undefined) {
            throw fail(
              `expected "host:port" entries such as "kafka1:9092" or "[::1]:9092", got ` +
                `${show(entry)}: ${problem}`,
            );
          }
        }
      }
      if (spec.itemFormat === "keyValue") {
        for (const entry of list) {
          const eq = entry.indexOf("=");
          if (eq <= 0 || entry.slice(0, eq).trim() === "") {
            throw fail(`expected entries of the form "key=value", got ${show(entry)}`);
          }
        }
      }
      return list;
    }

    case "enum": {
      if (typeof raw !== "string") throw fail();
      const text = raw.trim();
      // Racecar took symbols and strings alike; case is not significant.
      const match = spec.allowed.find((a) => a.toLowerCase() === text.toLowerCase());
      if (match === undefined) throw fail();
      return match;
    }

    default: {
      let value: number;
      if (typeof raw === "number") value = raw;
      else if (typeof raw === "string") {
        const text = raw.trim();
        const pattern = spec.type === "integer" ? INTEGER : NUMBER;
        if (!pattern.test(text)) throw fail();
        value = Number(text);
      } else throw fail();
      if (!Number.isFinite(value)) throw fail();
      if (spec.type === "integer" && !Number.isInteger(value)) throw fail();
      if (name === "pauseTimeout" && value < 0 && value !== -1) {
        throw fail(
          `expected -1 (pause until restart), 0 (do not pause) or a positive number of ` +
            `seconds, got ${show(raw)}`,
        );
      }
      if (spec.min !== undefined && value < spec.min) throw fail();
      if (spec.max !== undefined && value > spec.max) throw fail();
      return value;
    }
  }
}

/** Ports a broker address may name. */
const PORT_MIN = 1;
const PORT_MAX = 65535;

/**
 * What is wrong with a broker address, or `undefined` when it is a usable
 * `host:port` (librdkafka's optional `protocol://` prefix allowed, IPv6 in
 * brackets). librdkafka itself would take `localhost` as `localhost:9092` and
 * wrap a port of 99999 around to 34463; neither is what the user meant.
 *
 * @example
 * ```ts
 * import { brokerProblem } from "./decode.ts";
 * console.assert(brokerProblem("kafka1:9092") === undefined);
 * console.assert(brokerProblem("[::1]:9092") === undefined);
 * console.assert(brokerProblem("localhost")!.includes("port"));
 * ```
 */
export function brokerProblem(entry: string): string | undefined {
  const address = entry.replace(/^[A-Za-z_]+:\/\//, "");
  let host: string;
  let port: string;
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    if (close < 0) return "the IPv6 address has no closing bracket";
    host = address.slice(1, close);
    const rest = address.slice(close + 1);
    if (rest === "") return `the port is missing: write "${address}:9092" for Kafka's usual port`;
    if (!rest.startsWith(":")) return `expected ":port" after "]", got ${show(rest)}`;
    port = rest.slice(1);
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(":")) {
      return `${show(host)} is not an IPv6 address`;
    }
  } else {
    const colons = address.split(":").length - 1;
    if (colons === 0) {
      return `the port is missing: write "${address}:9092" for Kafka's usual port`;
    }
    if (colons > 1) return `put an IPv6 address in brackets, e.g. "[::1]:9092"`;
    [host, port] = address.split(":") as [string, string];
    if (host === "") return "the host is missing";
    if (!/^[A-Za-z0-9._-]+$/.test(host)) return `${show(host)} is not a host name`;
  }
  if (!/^\d+$/.test(port)) return `the port ${show(port)} is not a number`;
  const number = Number(port);
  if (number < PORT_MIN || number > PORT_MAX) {
    return `the port ${number} is outside ${PORT_MIN}-${PORT_MAX}`;
  }
  return undefined;
}

/** Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate closest to `input`, if it is close enough to be a likely typo
 * (at most a third of the length, and at least 2, edits away; case ignored).
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const wanted = input.toLowerCase();
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `: did you mean 'x'?` for a close candidate, else `""`. */
export function suggestion(input: string, candidates: Iterable<string>): string {
  const best = closest(input, candidates);
  return best === undefined ? "" : `: did you mean '${best}'?`;
}
