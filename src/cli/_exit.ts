/**
 * Exit codes and how the commands report failures: a user's mistake gets one
 * clear line and exit code 2, a crash gets its cause chain and exit code 1.
 *
 * @module
 */

import { RacecarError } from "../errors.ts";

export { isUsageError } from "../errors.ts";

/** Documented exit codes of `racecar` and `racecarctl`. */
export const ExitCode = {
  /** Stopped cleanly (also `--help` and `--version`). */
  OK: 0,
  /** Crashed, or a check (such as the liveness probe) failed. */
  FAILURE: 1,
  /** A usage or configuration mistake: nothing was started. */
  USAGE: 2,
} as const;

/** A mistake in how a command was called; printed without a stack trace. */
export class UsageError extends RacecarError {
  /** Creates a usage error. */
  constructor(message: string) {
    super("USAGE", message);
    this.name = "UsageError";
  }
}

/**
 * Formats a crash the way racecar does: `=> Crashed: Name: message`, then each
 * cause, then the stack of the outermost error.
 */
export function describeCrash(error: unknown): string {
  const lines = [`=> Crashed: ${oneLine(error)}`];
  let cause = (error as { cause?: unknown })?.cause;
  for (let depth = 0; cause !== undefined && depth < 10; depth++) {
    lines.push("--- Caused by: ---", oneLine(cause));
    cause = (cause as { cause?: unknown })?.cause;
  }
  const stack = (error as Error)?.stack;
  if (stack !== undefined) lines.push(stack.split("\n").slice(1).join("\n"));
  return lines.join("\n");
}

function oneLine(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
