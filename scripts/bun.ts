/**
 * The Bun the tests and benchmarks run: `bun` on PATH when it is the pinned
 * version, else the `bun` npm package of that version installed once into
 * `~/.cache/racecar/bun-<version>/` (about 5 s; the package ships the binary).
 *
 * Usage: `deno run -A scripts/bun.ts` prints the path of that Bun.
 *
 * @module
 */

import { join } from "node:path";

/** The Bun version the project is tested with. */
export const BUN_VERSION = "1.4.5";

async function versionOf(executable: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(executable, { args: ["--version"], stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The path of Bun {@link BUN_VERSION}, installing it from npm when needed. */
export async function ensureBun(): Promise<string> {
  if ((await versionOf("bun")) === BUN_VERSION) return "bun";
  const home = Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? "/tmp", ".cache");
  const prefix = join(home, "racecar", `bun-${BUN_VERSION}`);
  const executable = join(prefix, "node_modules", ".bin", "bun");
  if ((await versionOf(executable)) === BUN_VERSION) return executable;
  console.error(`=> Installing Bun ${BUN_VERSION} from npm into ${prefix}`);
  await Deno.mkdir(prefix, { recursive: true });
  const status = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      prefix,
      "--no-save",
      "--no-audit",
      "--no-fund",
      `bun@${BUN_VERSION}`,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  const installed = await versionOf(executable);
  if (!status.success || installed !== BUN_VERSION) {
    throw new Error(
      `Cannot install Bun ${BUN_VERSION}: 'npm install bun@${BUN_VERSION}' ` +
        `${status.success ? `left ${installed ?? "nothing"} at ${executable}` : "failed"}`,
    );
  }
  return executable;
}

if (import.meta.main) {
  console.log(await ensureBun());
}
