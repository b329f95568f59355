/**
 * Racecar's loggers. Library-first: nothing is printed until the application
 * (or the `racecar` CLI) configures LogTape; every category starts with
 * `racecar`, and librdkafka's own lines arrive under `racecar.librdkafka`.
 *
 * @module
 */

import { getLogger, type Logger } from "@logtape/logtape";
import type { ClientLogEntry } from "./kafka/transport.ts";

/** The logger for one part of Racecar, e.g. `logger("runner")`. */
export function logger(...category: string[]): Logger {
  return getLogger(["racecar", ...category]);
}

export type { Logger };

const kafkaLog = getLogger(["racecar", "librdkafka"]);
/** librdkafka's texts for a broker it cannot connect to. */
const UNREACHABLE = /Connect to \S+ failed|Failed to resolve|Connection refused|Disconnected/;

/** Writes one of librdkafka's log lines (syslog levels) to the `racecar.librdkafka` logger. */
export function forwardClientLog(entry: ClientLogEntry): void {
  // librdkafka's text may hold braces, so it goes in as a value, not a template.
  const properties = { facility: entry.facility, message: entry.message };
  // A broker that cannot be reached arrives twice: as this line and as an error
  // event, which Racecar logs once and then summarises (log_subscriber.ts). Keep
  // this one for debug; other FAIL lines (authentication, TLS) stay as they are.
  if (entry.facility === "FAIL" && UNREACHABLE.test(entry.message)) {
    kafkaLog.debug("[{facility}] {message}", properties);
  } else if (entry.level <= 3) kafkaLog.error("[{facility}] {message}", properties);
  else if (entry.level === 4) kafkaLog.warn("[{facility}] {message}", properties);
  else if (entry.level <= 6) kafkaLog.info("[{facility}] {message}", properties);
  else kafkaLog.debug("[{facility}] {message}", properties);
}
