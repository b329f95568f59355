/**
 * The Bun stage of `scripts/test.ts`: `bun test` on the compiled Bun suite
 * (`npm/dist/tests/bun/*.bun.js`, the shared scenarios on the `bun-ffi`
 * adapter and the bins run by Bun), with the Bun of `scripts/bun.ts`.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBun } from "./bun.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** What the stage reports to the test command's tally. */
export interface BunTally {
  passed: number;
  failed: number;
  ok: boolean;
}

/** `bun test`'s closing counts (` 187 pass`, ` 0 fail`). */
export function bunTally(text: string): { passed: number; failed: number } | undefined {
  const pass = [...text.matchAll(/^\s*(\d+) pass$/gm)].at(-1);
  const fail = [...text.matchAll(/^\s*(\d+) fail$/gm)].at(-1);
  return pass === undefined || fail === undefined
    ? undefined
    : { passed: Number(pass[1]), failed: Number(fail[1]) };
}

/** Runs the Bun suite, echoing its output; a Bun that cannot be installed is one failure. */
export async function bunSuite(env: Record<string, string>): Promise<BunTally> {
  let bun: string;
  try {
    bun = await ensureBun();
  } catch (error) {
    console.error(`=> Bun suite: ${error instanceof Error ? error.message : String(error)}`);
    return { passed: 0, failed: 1, ok: false };
  }
  const dir = join(root, "npm", "dist", "tests", "bun");
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".bun.js")) files.push(join(dir, entry.name));
  }
  files.sort();
  console.error(`\n=> Bun suite (bun-ffi adapter): ${bun} test ${files.join(" ")}`);
  // bun test reports on stderr: both streams are echoed and counted.
  const child = new Deno.Command(bun, {
    args: ["test", ...files],
    cwd: root,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let tail = "";
  const echo = async (stream: ReadableStream<Uint8Array>, out: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      await out.write(chunk);
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-20_000);
    }
  };
  await Promise.all([echo(child.stdout, Deno.stdout), echo(child.stderr, Deno.stderr)]);
  const status = await child.status;
  // deno-lint-ignore no-control-regex
  const tally = bunTally(tail.replace(/\x1b\[[0-9;]*m/g, ""));
  if (tally === undefined) {
    console.error(`=> Bun suite: no test summary found (exit code ${status.code})`);
    return { passed: 0, failed: 1, ok: false };
  }
  return { ...tally, ok: status.success };
}
