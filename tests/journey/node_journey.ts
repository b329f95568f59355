/**
 * docs/node.md (and the "Run it" commands of docs/bun.md, in the same
 * project) followed literally from the packed tarball, in an empty
 * directory: the commands of each `sh` block run with `sh` as written (the
 * only changes: `npm install racecar` installs the tarball, and the documented
 * broker address is the test cluster's), the consumer file saved as the page
 * names it, and every long-running command stopped with SIGTERM, which must end
 * it with exit code 0 after the consumer processed what `racecarctl produce`
 * sent.
 *
 * Usage (tests/node/pack_test.sh runs it after `npm pack`):
 * `deno run -A tests/journey/node_journey.ts <racecar-x.y.z.tgz>`. Exits 0 when
 * every step passed.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { BROKERS, Proc } from "../cli/_helpers.ts";
import { codeBlocks, fileBlock } from "../docs/_docs.ts";
import { ROOT } from "../cli/_helpers.ts";
import { ensureBun } from "../../scripts/bun.ts";

const DOC = "docs/node.md";
/** Its "Run it" commands run in the project this journey installs. */
const BUN_DOC = "docs/bun.md";

/** The environment of this process without RACECAR_* variables, with `deno` on PATH. */
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!k.startsWith("RACECAR_") && !k.startsWith("_RACECAR_")) env[k] = v;
  }
  env.PATH = `${dirname(Deno.execPath())}:${env.PATH ?? ""}`;
  return { ...env, ...extra };
}

/** The `sh` blocks of docs/node.md, in order, with the test broker. */
async function shBlocks(): Promise<string[]> {
  const markdown = await Deno.readTextFile(join(ROOT, DOC));
  return codeBlocks(markdown)
    .filter((b) => b.lang === "sh")
    .map((b) => b.text.replaceAll("127.0.0.1:9092", BROKERS));
}

/** The one block whose text contains `needle`. */
function blockWith(blocks: string[], needle: string): string {
  const found = blocks.filter((b) => b.includes(needle));
  if (found.length !== 1) throw new Error(`${DOC}: ${found.length} sh blocks contain "${needle}"`);
  return found[0]!;
}

/** One line of a block, found by what it starts with. */
function lineWith(block: string, start: string): string {
  const line = block.split("\n").find((l) => l.startsWith(start));
  if (line === undefined) throw new Error(`${DOC}: no line starting "${start}" in:\n${block}`);
  return line;
}

/** A TCP port nothing listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Runs shell text to its end; throws with the output unless it exits `expected`. */
async function sh(script: string, cwd: string, expected = 0): Promise<string> {
  console.log(`$ ${script.trim().split("\n").join("\n$ ")}`);
  const proc = new Proc(["sh", "-ec", script], { cwd, env: baseEnv() });
  // npm install builds librdkafka: minutes, more on a busy machine.
  const status = await proc.status(1_800_000);
  if (status.code !== expected) {
    throw new Error(`exit ${status.code} (expected ${expected}) from:\n${script}\n${proc.output}`);
  }
  return proc.output;
}

/** Starts a long-running documented command (`exec`, so signals reach it, not a shell). */
function start(line: string, cwd: string, env: Record<string, string> = {}): Proc {
  console.log(`$ ${line}   (in the background)`);
  return new Proc(["sh", "-c", `exec ${line}`], { cwd, env: baseEnv(env) });
}

/** Once `consumer` runs, produces with the documented line and waits until it printed `expected`. */
async function produceAndSee(consumer: Proc, produce: string, cwd: string, expected: string) {
  await consumer.waitFor(/Wrooooom!/, 120_000);
  await sh(produce, cwd);
  await seeOutput(consumer, expected);
}

/** Waits until `proc` printed `expected`; the error shows what it printed instead. */
async function seeOutput(proc: Proc, expected: string): Promise<void> {
  try {
    await proc.waitFor(expected, 90_000);
  } catch (error) {
    throw new Error(`${(error as Error).message}\nIts output:\n${proc.output}`);
  }
}

/** SIGTERM, then exit code 0 and the consumer's stop line. */
async function stopCleanly(proc: Proc, what: string): Promise<void> {
  proc.kill("SIGTERM");
  const status = await proc.status(60_000);
  if (status.code !== 0 || !/stopped/.test(proc.output)) {
    throw new Error(
      `${what} did not stop cleanly on SIGTERM (exit ${status.code}):\n${proc.output}`,
    );
  }
  console.log(`ok: ${what} stopped on SIGTERM with exit code 0`);
}

async function main(tarball: string): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "racecar-node-journey-" });
  const blocks = await shBlocks();

  // Start a project: mkdir, npm init -y, npm pkg set type=module, npm install racecar.
  const setup = blockWith(blocks, "npm init -y");
  await sh(setup.replace(/npm install racecar$/m, `npm install ${tarball}`), work);
  const project = join(work, lineWith(setup, "mkdir ").split(" ")[1]!);
  const manifest = JSON.parse(await Deno.readTextFile(join(project, "package.json")));
  if (manifest.type !== "module") throw new Error(`package.json type is ${manifest.type}`);
  // The library entry points import without starting anything.
  await sh(
    `node --input-type=module -e 'import { Consumer } from "racecar"; ` +
      `import { testConsumer } from "racecar/testing"; import "racecar/racecarctl"; ` +
      `if (typeof Consumer !== "function" || typeof testConsumer !== "function") process.exit(1);'`,
    project,
  );

  // Write a consumer: the block saved where its first line says.
  const consumerFile = "consumers/orders_consumer.js";
  const source = (await fileBlock(DOC, consumerFile)).text;
  await Deno.mkdir(join(project, "consumers"), { recursive: true });
  await Deno.writeTextFile(join(project, consumerFile), source);

  // Run it, produce, SIGTERM, exit 0.
  const runLine = lineWith(blockWith(blocks, "node node_modules/.bin/racecar Orders"), "node ");
  const produce = lineWith(blockWith(blocks, "racecarctl produce"), "RACECAR_BROKERS=");
  const seen = "Order o-1";
  // As documented: the order first (it creates the topic), then the consumer.
  await sh(produce, project);
  const node = start(runLine, project);
  try {
    await seeOutput(node, seen);
    await stopCleanly(node, runLine);
  } finally {
    await node.dispose();
  }

  // The exporters' libraries are optional: not installed, named when enabled, used once installed.
  for (const optional of ["hot-shots", "prom-client", "unix-dgram", "@opentelemetry/api"]) {
    const present = await Deno.stat(join(project, "node_modules", optional)).then(
      () => true,
      () => false,
    );
    if (present) throw new Error(`installing racecar installed the optional ${optional}`);
  }
  const datadog = await sh(`RACECAR_DATADOG_ENABLED=true ${runLine}`, project, 2);
  if (!datadog.includes("npm install hot-shots")) {
    throw new Error(`datadog_enabled without hot-shots did not name the package:\n${datadog}`);
  }
  console.log("ok: datadog_enabled without hot-shots exits 2 naming it");
  const tracing = await sh(`RACECAR_TRACING_ENABLED=true ${runLine}`, project, 2);
  if (!tracing.includes("npm install @opentelemetry/api")) {
    throw new Error(`tracing_enabled without @opentelemetry/api did not name it:\n${tracing}`);
  }
  console.log("ok: tracing_enabled without @opentelemetry/api exits 2 naming it");
  await sh("npm install --no-audit --no-fund --loglevel=error prom-client", project);
  const prometheus = start(runLine, project, {
    RACECAR_PROMETHEUS_ENABLED: "true",
    RACECAR_PROMETHEUS_HOST: "127.0.0.1",
    RACECAR_PROMETHEUS_PORT: String(freePort()),
    RACECAR_GROUP_ID: `journey-prometheus-${Date.now()}`,
  });
  try {
    await seeOutput(prometheus, seen);
    await stopCleanly(prometheus, "racecar with prometheus_enabled and prom-client installed");
  } finally {
    await prometheus.dispose();
  }

  // The Docker CMD, exactly its argv, with the broker from the environment.
  const markdown = await Deno.readTextFile(join(ROOT, DOC));
  const dockerfile = codeBlocks(markdown).find((b) => b.lang === "dockerfile");
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile?.text ?? "");
  if (cmd === null) throw new Error(`${DOC} has no Dockerfile with an exec-form CMD`);
  const argv = JSON.parse(cmd[1]!) as string[];
  console.log(`$ docker CMD ${JSON.stringify(argv)}`);
  const docker = new Proc(argv, {
    cwd: project,
    env: baseEnv({ RACECAR_ENV: "production", RACECAR_BROKERS: BROKERS }),
  });
  try {
    await produceAndSee(docker, produce, project, seen);
    await stopCleanly(docker, "the Docker CMD");
  } finally {
    await docker.dispose();
  }

  // Deno running the npm package: the FFI adapter, librdkafka from node_modules.
  const denoLine = lineWith(blockWith(blocks, "npm:racecar"), "deno run");
  const deno = start(denoLine, project);
  try {
    await produceAndSee(deno, produce, project, seen);
    if (!deno.output.includes("(deno-ffi)")) {
      throw new Error(`deno run npm:racecar did not use the FFI adapter:\n${deno.output}`);
    }
    await stopCleanly(deno, denoLine);
  } finally {
    await deno.dispose();
  }

  // docs/bun.md: the same project run by Bun, whose default adapter is bun-ffi.
  const bunBlocks = codeBlocks(await Deno.readTextFile(join(ROOT, BUN_DOC)))
    .filter((b) => b.lang === "sh")
    .map((b) => b.text.replaceAll("127.0.0.1:9092", BROKERS));
  const bun = await ensureBun();
  const bunPath = bun.includes("/") ? { PATH: `${dirname(bun)}:${baseEnv().PATH}` } : {};
  for (const needle of ["bun node_modules/.bin/racecar ", "bunx --bun racecar "]) {
    const found = bunBlocks.filter((b) => b.includes(needle));
    if (found.length !== 1) {
      throw new Error(`${BUN_DOC}: ${found.length} sh blocks contain "${needle}"`);
    }
    const line = lineWith(found[0]!, needle.split(" ")[0]!);
    const proc = start(line, project, bunPath);
    try {
      await produceAndSee(proc, produce, project, seen);
      if (!/Bun \d+\.\d+\.\d+, librdkafka [\d.]+ \(bun-ffi\)/.test(proc.output)) {
        throw new Error(`${line} did not run on Bun with the bun-ffi adapter:\n${proc.output}`);
      }
      await stopCleanly(proc, line);
    } finally {
      await proc.dispose();
    }
  }

  // Start from generated files: init, generate consumer, the generated test.
  const generated = await sh(blockWith(blocks, "npx racecar init"), project);
  if (!/pass 1/.test(generated)) throw new Error(`the generated test did not pass:\n${generated}`);
  const initialized = JSON.parse(await Deno.readTextFile(join(project, "package.json")));
  if (initialized.scripts?.liveness === undefined) {
    throw new Error(`init added no liveness script: ${JSON.stringify(initialized)}`);
  }

  // TypeScript: the same consumer as a .ts file.
  const tsFile = "consumers/orders_consumer.ts";
  await Deno.writeTextFile(
    join(project, tsFile),
    source.replace(
      'import { Consumer } from "racecar";',
      'import { Consumer, type Message } from "racecar";',
    )
      .replace("async process(message)", "override async process(message: Message)")
      .replace("const order = message.json();", "const order = message.json<{ id: string }>();"),
  );
  const tsBlock = blockWith(blocks, "--import tsx");
  const tsxRun = lineWith(tsBlock, "node --import tsx");
  const nodeMajor = Number(/^v(\d+)/.exec((await sh("node --version", project)).trim())![1]);
  if (nodeMajor < 22) {
    // Without a loader: the true message, exit 2.
    const plain = tsxRun.replace("node --import tsx ", "node ");
    const out = await sh(plain, project, 2);
    if (!out.includes("cannot run TypeScript by itself") || !out.includes("--import tsx")) {
      throw new Error(`no useful message for a .ts consumer on Node ${nodeMajor}:\n${out}`);
    }
    console.log("ok: a .ts consumer on Node 20 without a loader explains the options (exit 2)");
  }
  await sh(lineWith(tsBlock, "npm install"), project);
  const tsx = start(tsxRun, project);
  try {
    await produceAndSee(tsx, produce, project, seen);
    await stopCleanly(tsx, tsxRun);
  } finally {
    await tsx.dispose();
  }

  await Deno.remove(work, { recursive: true });
  console.log(`${DOC} followed literally: every step passed`);
}

if (import.meta.main) {
  const tarball = Deno.args[0];
  if (tarball === undefined) {
    console.error("Usage: deno run -A tests/journey/node_journey.ts <racecar-x.y.z.tgz>");
    Deno.exit(2);
  }
  try {
    await main(tarball);
  } catch (error) {
    console.error(`FAIL: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
