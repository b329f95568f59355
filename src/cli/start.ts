/**
 * Starts a command as the process's main program: runs it with the process's
 * arguments and exits with its code. `cli.ts`, `racecarctl.ts` and the npm bin
 * shims import this only when they are the entry point.
 *
 * @module
 */

import { writeStderr } from "../_runtime.ts";
import { args, exit } from "./_process.ts";
import { ExitCode } from "./_exit.ts";

/** The commands a process can be started as. */
export type Program = "racecar" | "racecarctl";

/** Runs `program` with the process's arguments, then exits with its code. */
export async function start(program: Program): Promise<never> {
  try {
    const code = program === "racecar"
      ? await (await import("./main.ts")).main(args())
      : await (await import("./ctl.ts")).ctlMain(args());
    return exit(code);
  } catch (error) {
    writeStderr(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return exit(ExitCode.FAILURE);
  }
}
