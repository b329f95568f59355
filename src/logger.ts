/**
 * Racecar's loggers. Library-first: nothing is printed until the application
 * (or the `racecar` CLI) configures LogTape; every category starts with
 * `racecar`, and librdkafka's own lines arrive under `racecar.librdkafka`.
 *
 * @module
 */

import { getLogger, type Logger } from "@logtape/logtape";

/** The logger for one part of Racecar, e.g. `logger("runner")`. */
export function logger(...category: string[]): Logger {
  return getLogger(["racecar", ...category]);
}

export type { Logger };
