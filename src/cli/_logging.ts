/**
 * Logging for the commands: LogTape configured to write Racecar's (and
 * librdkafka's) lines to standard error, or to `logfile` when set, as text or
 * JSON Lines. The library itself never configures logging; only the CLI does.
 *
 * @module
 */

import {
  configure,
  getJsonLinesFormatter,
  getTextFormatter,
  type LogLevel,
  type LogRecord,
} from "@logtape/logtape";
import { writeStderr } from "../_runtime.ts";
import { appendTextFileSync } from "./_process.ts";

/** Racecar's level names (racecar's `warn`) mapped to LogTape's. */
function toLogLevel(level: string): LogLevel {
  return level === "warn" ? "warning" : level as LogLevel;
}

const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warning", "error", "fatal"];

/** The more severe of two levels. */
function stricter(a: LogLevel, b: LogLevel): LogLevel {
  return LEVELS.indexOf(a) >= LEVELS.indexOf(b) ? a : b;
}

/** What {@link setUpLogging} takes: the `Logging` settings. */
export interface LoggingOptions {
  /** `log_level`: the least severe level written. */
  level: string;
  /** `logfile`: append here instead of standard error. */
  logfile?: string | undefined;
  /** `log_format`: `text` or `json`. @default "text" */
  format?: string | undefined;
  /** `librdkafka_log_level`: the least severe level of librdkafka's own lines. @default "warn" */
  librdkafkaLevel?: string | undefined;
}

/** An error as JSON: its name, message and code, without a stack. */
function plainError(error: Error): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(code === undefined ? {} : { code }) };
}

/** A value inside a JSON record's message: strings as they are, errors by their message. */
function messageText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The message rendered once (LogTape's JSON formatter would quote every
 * string value), and errors reduced to name, message and code (they serialize
 * to `{}`, and a stack is noise in a log pipeline).
 */
function jsonReady(record: LogRecord): LogRecord {
  const text = record.message.map((part, i) => i % 2 === 1 ? messageText(part) : part).join("");
  const message = [text];
  const properties = Object.fromEntries(
    Object.entries(record.properties).map((
      [key, value],
    ) => [key, value instanceof Error ? plainError(value) : value]),
  );
  return { ...record, message, properties };
}

/** Sends Racecar's logs to stderr or a file, at `level` and above. */
export async function setUpLogging(options: LoggingOptions) {
  let format: (record: LogRecord) => string;
  if (options.format === "json") {
    const json = getJsonLinesFormatter();
    format = (record) => json(jsonReady(record));
  } else {
    // Strings as they are (LogTape quotes them by default); other values inspected.
    format = getTextFormatter({
      timestamp: "date-time-tz",
      value: (value, inspect) => typeof value === "string" ? value : inspect(value),
    });
  }
  const sink = options.logfile === undefined
    ? (record: LogRecord) => writeStderr(format(record))
    : (record: LogRecord) => appendTextFileSync(options.logfile!, format(record));
  const level = toLogLevel(options.level);
  await configure({
    reset: true,
    sinks: { out: sink },
    loggers: [
      { category: ["racecar"], lowestLevel: level, sinks: ["out"] },
      {
        category: ["racecar", "librdkafka"],
        lowestLevel: stricter(level, toLogLevel(options.librdkafkaLevel ?? "warn")),
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
}
