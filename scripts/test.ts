/**
 * The one test command: installs dependencies, starts the local Kafka broker
 * (unless `RACECAR_BROKERS` names a cluster or one already answers), runs the
 * Deno suite and the Node suite against it, stops what it started, and ends
 * with one line `N passed, N failed`.
 *
 * Usage: `deno task test [-- deno test arguments]`.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBroker } from "./kafka.ts";
import { installDependencies } from "./setup.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

interface Tally {
  passed: number;
  failed: number;
}

/** Runs a command, echoing its output, and counts what its test runner reported. */
async function runSuite(
  label: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  count: (text: string) => Tally | undefined,
): Promise<Tally & { ok: boolean }> {
  console.error(`\n=> ${label}: ${command} ${args.join(" ")}`);
  const child = new Deno.Command(command, {
    args,
    cwd: root,
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const decoder = new TextDecoder();
  let tail = "";
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-20_000);
  }
  const status = await child.status;
  // deno-lint-ignore no-control-regex
  const tally = count(tail.replace(/\x1b\[[0-9;]*m/g, ""));
  if (tally === undefined) {
    console.error(`=> ${label}: no test summary found (exit code ${status.code})`);
    return { passed: 0, failed: 1, ok: false };
  }
  return { ...tally, ok: status.success };
}

function denoTally(text: string): Tally | undefined {
  const match = [...text.matchAll(/(\d+) passed[^\n]*?\| (\d+) failed/g)].at(-1);
  return match === undefined ? undefined : { passed: Number(match[1]), failed: Number(match[2]) };
}

async function main(): Promise<number> {
  if (!(await installDependencies())) {
    console.error("=> Installing dependencies failed; see above");
    console.log("0 passed, 1 failed");
    return 1;
  }
  const broker = await ensureBroker();
  const env = { RACECAR_BROKERS: broker.brokers };
  let total: Tally = { passed: 0, failed: 0 };
  let ok = true;
  try {
    const extra = Deno.args;
    const deno = await runSuite(
      "Deno suite",
      Deno.execPath(),
      ["test", "-A", "--no-check=remote", ...(extra.length > 0 ? extra : ["tests/"])],
      env,
      denoTally,
    );
    total = { passed: total.passed + deno.passed, failed: total.failed + deno.failed };
    ok &&= deno.ok;
  } finally {
    if (broker.startedHere) await broker.stop();
  }
  console.log(`${total.passed} passed, ${total.failed} failed`);
  return ok && total.failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main());
}
