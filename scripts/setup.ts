/**
 * Installs what the project needs beyond Deno itself: the npm dependencies,
 * including node-rdkafka, whose build gives the Deno FFI adapter a current
 * librdkafka (2.12) and the Node adapter its addon.
 *
 * node-gyp must find Node's headers locally (it cannot download them here), so
 * `npm_config_nodedir` points at the Node installation when the caller did not
 * set it.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The prefix of the Node installation whose headers node-gyp should use. */
export async function nodeHeadersDir(): Promise<string | undefined> {
  const candidates: string[] = [];
  try {
    const out = await new Deno.Command("node", { args: ["-p", "process.execPath"] }).output();
    if (out.success) {
      const exec = await Deno.realPath(new TextDecoder().decode(out.stdout).trim());
      candidates.push(dirname(dirname(exec)));
    }
  } catch {
    // No node on PATH: fall back to the usual prefixes.
  }
  candidates.push("/usr", "/usr/local");
  for (const prefix of candidates) {
    try {
      await Deno.stat(join(prefix, "include", "node", "node.h"));
      return prefix;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Runs `deno install`, building node-rdkafka; returns true when it succeeded. */
export async function installDependencies(options: { quiet?: boolean } = {}): Promise<boolean> {
  const env: Record<string, string> = {};
  if (Deno.env.get("npm_config_nodedir") === undefined) {
    const prefix = await nodeHeadersDir();
    if (prefix !== undefined) env.npm_config_nodedir = prefix;
  }
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["install", "--allow-scripts=npm:node-rdkafka"],
    cwd: root,
    env,
    stdout: options.quiet ? "null" : "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  if (!options.quiet) {
    console.error(
      `=> Dependencies ${status.success ? "installed" : "FAILED"} in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
  }
  return status.success;
}

if (import.meta.main) {
  Deno.exit((await installDependencies()) ? 0 : 1);
}
