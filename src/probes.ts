/**
 * File-based liveness and readiness probes, as event subscribers.
 *
 * Liveness: the file's modification time moves at the start of every loop turn
 * and the file is deleted at shutdown; `racecarctl liveness_probe` passes only
 * while the file is younger than `liveness_probe_max_interval`. Readiness
 * (beyond racecar): the file appears once the consumer joined its group and got
 * its first assignment, empty or not (an idle member is ready), and is deleted
 * at shutdown.
 *
 * @module
 */

import { modifiedAt, removeFileSync, writeTextFileSync } from "./_runtime.ts";
import type { Instrumenter } from "./events.ts";
import { ConfigError } from "./errors.ts";

/** A probe that can be removed again. */
export interface InstalledProbe {
  /** Stops updating the file (the file is left as it is). */
  uninstall(): void;
}

/** Touches at most this often, so a fast loop does not turn into a file-system loop. */
const TOUCH_EVERY_MS = 250;

function checkWritable(path: string, setting: string): void {
  try {
    writeTextFileSync(path, "");
    removeFileSync(path);
  } catch (error) {
    throw new ConfigError(
      `Cannot install the ${setting.replace(/_file_path$/, "").replaceAll("_", " ")}: ` +
        `'${setting}' must name a writable file, got "${path}" (${(error as Error).message}); ` +
        `set RACECAR_${setting.toUpperCase()}`,
      { key: setting, cause: error },
    );
  }
}

/**
 * Keeps `filePath` fresh while the runner loops, and deletes it at shutdown.
 * Throws a {@link ConfigError} when the path is not writable.
 */
export function installLivenessProbe(events: Instrumenter, filePath: string): InstalledProbe {
  checkWritable(filePath, "liveness_probe_file_path");
  let last = 0;
  const offLoop = events.on("start_main_loop", () => {
    const now = Date.now();
    if (now - last < TOUCH_EVERY_MS) return;
    last = now;
    writeTextFileSync(filePath, String(now));
  });
  const offShutDown = events.on("shut_down", () => removeFileSync(filePath));
  return {
    uninstall() {
      offLoop();
      offShutDown();
    },
  };
}

/** Creates `filePath` once the consumer is ready, and deletes it at shutdown. */
export function installReadinessProbe(events: Instrumenter, filePath: string): InstalledProbe {
  checkWritable(filePath, "readiness_probe_file_path");
  const offReady = events.on("ready", () => writeTextFileSync(filePath, String(Date.now())));
  const offShutDown = events.on("shut_down", () => removeFileSync(filePath));
  return {
    uninstall() {
      offReady();
      offShutDown();
    },
  };
}

/** The outcome of a liveness check. */
export interface LivenessResult {
  /** Whether the consumer is alive. */
  alive: boolean;
  /** Why not, in racecar's words. */
  message: string;
}

/**
 * Checks the liveness file: alive when it was touched less than
 * `maxIntervalSeconds` ago (strictly, as racecar).
 */
export async function checkLiveness(
  filePath: string,
  maxIntervalSeconds: number,
  now: number = Date.now(),
): Promise<LivenessResult> {
  const mtime = await modifiedAt(filePath);
  if (mtime === undefined) {
    return {
      alive: false,
      message: `Racecar healthcheck failed: Liveness file not found \`${filePath}\``,
    };
  }
  const age = (now - mtime) / 1000;
  if (age < maxIntervalSeconds) return { alive: true, message: "Racecar is alive" };
  return {
    alive: false,
    message: `Racecar healthcheck failed: No liveness within interval ${maxIntervalSeconds}s. ` +
      `Last liveness at ${new Date(mtime).toISOString()}, ${age.toFixed(1)} seconds ago.`,
  };
}
