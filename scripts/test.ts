/**
 * The one test command: installs dependencies, starts the local Kafka broker
 * (unless `RACECAR_BROKERS` names a cluster or one already answers), runs the
 * Deno suite (with the README and docs checks of `tests/docs/` and the README
 * journeys of `tests/journey/`), the Node suite and the Bun suite against it, the JSR dry run,
 * the packaging check (docs/node.md followed from the packed tarball), stops
 * what it started, and ends with one line `N passed, N failed`.
 *
 * Usage: `deno task test [-- deno test arguments]`.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBroker } from "./kafka/mod.ts";
import { installDependencies, nodeHeadersDir } from "./setup.ts";
import { bunSuite } from "./_bun_suite.ts";

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
  if (count === exitTally) return { passed: 0, failed: 0, ok: status.success };
  if (tally === undefined) {
    console.error(`=> ${label}: no test summary found (exit code ${status.code})`);
    return { passed: 0, failed: 1, ok: false };
  }
  return { ...tally, ok: status.success };
}

function nodeTally(text: string): Tally | undefined {
  const pass = [...text.matchAll(/^ℹ pass (\d+)$/gm)].at(-1);
  const fail = [...text.matchAll(/^ℹ fail (\d+)$/gm)].at(-1);
  return pass === undefined || fail === undefined
    ? undefined
    : { passed: Number(pass[1]), failed: Number(fail[1]) };
}

/** A script that is one check: passed when it exits 0. */
function exitTally(_text: string): Tally {
  return { passed: 0, failed: 0 };
}

function denoTally(text: string): Tally | undefined {
  const match = [...text.matchAll(/(\d+) passed[^\n]*?\| (\d+) failed/g)].at(-1);
  return match === undefined ? undefined : { passed: Number(match[1]), failed: Number(match[2]) };
}

/** The compiled Node test files (`node --test` does not expand globs on Node 20). */
async function nodeTestFiles(): Promise<string[]> {
  const dir = join(root, "npm", "dist", "tests", "node");
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".node.js")) files.push(join(dir, entry.name));
  }
  return files.sort();
}

async function main(): Promise<number> {
  if (!(await installDependencies())) {
    console.error("=> Installing dependencies failed; see above");
    console.log("0 passed, 1 failed");
    return 1;
  }
  const broker = await ensureBroker();
  const headers = Deno.env.get("npm_config_nodedir") ?? await nodeHeadersDir();
  const env: Record<string, string> = {
    RACECAR_BROKERS: broker.brokers,
    // Child scripts find this Deno even when it is not on PATH (npx deno task test).
    DENO: Deno.execPath(),
    ...(headers === undefined ? {} : { npm_config_nodedir: headers }),
  };
  let total: Tally = { passed: 0, failed: 0 };
  let ok = true;
  const add = (result: Tally & { ok: boolean }) => {
    total = { passed: total.passed + result.passed, failed: total.failed + result.failed };
    ok &&= result.ok;
  };
  try {
    const extra = Deno.args;
    add(
      await runSuite(
        "Deno suite (FFI adapter)",
        Deno.execPath(),
        // --doc also runs the examples in the public modules' documentation.
        [
          "test",
          "-A",
          ...(extra.length > 0 ? extra : ["--doc", "mod.ts", "testing.ts", "src/", "tests/"]),
        ],
        env,
        denoTally,
      ),
    );
    if (extra.length === 0) {
      /** A step that is one check: it passes when the command exits 0. */
      const check = async (label: string, command: string, args: string[]) => {
        const result = await runSuite(label, command, args, env, exitTally);
        add({ ...result, passed: result.ok ? 1 : 0, failed: result.ok ? 0 : 1 });
        return result.ok;
      };
      // The package must stay publishable to JSR: no slow types, a clean file list.
      await check("JSR publish dry run", Deno.execPath(), [
        "publish",
        "--dry-run",
        "--allow-dirty",
      ]);
      // README's first command, as written (it reuses the broker that runs already).
      await check("README: deno task demo", Deno.execPath(), ["task", "demo"]);
      if (await check("npm build", Deno.execPath(), ["run", "-A", "scripts/build_npm.ts"])) {
        add(
          await runSuite(
            "Node suite (koffi and node-rdkafka adapters)",
            "node",
            ["--test", "--test-reporter=spec", ...(await nodeTestFiles())],
            env,
            nodeTally,
          ),
        );
        add(await bunSuite(env));
        await check(
          "npm pack, then docs/node.md followed literally (Node, and Deno from npm)",
          "sh",
          ["tests/node/pack_test.sh"],
        );
      }
    }
  } finally {
    if (broker.startedHere) await broker.stop();
  }
  console.log(`${total.passed} passed, ${total.failed} failed`);
  return ok && total.failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main());
}
