/**
 * Checks, before anything starts, that the files a run will write (the log
 * file, the pid file of `--daemonize`) can be written, so a bad path fails in
 * the terminal with its name instead of losing every log line or blaming "the
 * background process".
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { modifiedAt, removeFileSync } from "../_runtime.ts";
import { appendTextFileSync, makeDir, pid } from "./_process.ts";
import { UsageError } from "./_exit.ts";

const REASONS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of its path is a file, not a directory",
  ENOENT: "a part of its path does not exist",
  EEXIST: "a part of its path is a file, not a directory",
  EROFS: "the file system is read-only",
  ENOSPC: "no space is left on the device",
};

/** Why a file operation failed, in words (`EACCES` -> `permission denied`). */
export function fileErrorReason(error: unknown): string {
  const code = (error as { code?: string })?.code;
  return (code !== undefined ? REASONS[code] : undefined) ??
    (error as Error)?.message ?? String(error);
}

/**
 * Makes sure `path` can be appended to, creating its directory (and the file,
 * empty) when missing.
 *
 * @throws {UsageError} `Cannot write <what> <path><origin>: <reason>`.
 */
export async function checkAppendable(path: string, what: string, origin = ""): Promise<void> {
  try {
    await makeDir(dirname(path));
    appendTextFileSync(path, "");
  } catch (error) {
    throw new UsageError(`Cannot write ${what} ${path}${origin}: ${fileErrorReason(error)}`);
  }
}

/**
 * Makes sure a file can be created at `path` without creating it: an existing
 * file must be writable, a missing one's directory must take a new file.
 *
 * @throws {UsageError} `Cannot write <what> <path><origin>: <reason>`.
 */
export async function checkCreatable(path: string, what: string, origin = ""): Promise<void> {
  try {
    await makeDir(dirname(path));
    if ((await modifiedAt(path)) !== undefined) {
      appendTextFileSync(path, "");
      return;
    }
    const probe = join(dirname(path), `.${basename(path)}.check-${pid()}`);
    appendTextFileSync(probe, "");
    removeFileSync(probe);
  } catch (error) {
    throw new UsageError(`Cannot write ${what} ${path}${origin}: ${fileErrorReason(error)}`);
  }
}
