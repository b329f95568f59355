/**
 * Logging for the commands: LogTape configured to write Racecar's (and
 * librdkafka's) lines to standard error, or to `logfile` when set. The library
 * itself never configures logging; only the CLI does.
 *
 * @module
 */

import { configure, getTextFormatter, type LogLevel, type LogRecord } from "@logtape/logtape";
import { appendTextFileSync, writeStderr } from "../_runtime.ts";

/** Racecar's level names (racecar's `warn`) mapped to LogTape's. */
function toLogLevel(level: string): LogLevel {
  return level === "warn" ? "warning" : level as LogLevel;
}

/** Sends Racecar's logs to stderr or a file, at `level` and above. */
export async function setUpLogging(options: { level: string; logfile?: string | undefined }) {
  // Strings as they are (LogTape quotes them by default); other values inspected.
  const format = getTextFormatter({
    timestamp: "date-time-tz",
    value: (value, inspect) => typeof value === "string" ? value : inspect(value),
  });
  const sink = options.logfile === undefined
    ? (record: LogRecord) => writeStderr(format(record))
    : (record: LogRecord) => appendTextFileSync(options.logfile!, format(record));
  await configure({
    reset: true,
    sinks: { out: sink },
    loggers: [
      { category: ["racecar"], lowestLevel: toLogLevel(options.level), sinks: ["out"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
}
