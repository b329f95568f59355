/**
 * Consume throughput of every contender side by side, as each one's user would
 * start it: `deno run -A bench/compare.ts [messages] [partitions] [rounds]`
 * (defaults 1,000,000 x 100 B, 6 partitions, 3 rounds), with
 * `--only=NAME,...` for a subset, `--rss` to print each contender's RSS curve
 * and `--cpu-prof=DIR` to run Deno and Node with `--cpu-prof` (summarise the
 * profiles with bench/profile_summary.ts). Results and the method:
 * bench/README.md.
 *
 * One topic is filled once with `kcat -P`; then the contenders run one after
 * another, round after round (interleaved), each as its own process with a
 * fresh consumer group reading from the beginning. The time runs from starting
 * the process to the moment it reports the last message (kcat: its N-th output
 * line); CPU seconds (user + sys, all threads) and peak RSS come from
 * `/usr/bin/time` and cover the whole process, its shutdown included. Racecar
 * runs under its own `racecar` command over a consumer that counts
 * (bench/count_consumers.ts, bench/node/count_consumers.mjs) and gets a
 * SIGTERM once the N-th message arrived; the others exit by themselves.
 *
 * Needs a broker (`RACECAR_BROKERS`, else one is started), `kcat`, GNU time,
 * Node.js with `npm` (KafkaJS is installed into bench/node/ on first use) and
 * the npm build (`deno task build:npm`; built here when missing).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBroker } from "../scripts/kafka/mod.ts";
import { ensureBun } from "../scripts/bun.ts";
import { createFfiTransport } from "../src/kafka/ffi/mod.ts";
import { MESSAGE_BYTES, produceWithKcat } from "./_produce.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const NODE_DIR = join(ROOT, "bench", "node");
const RDKAFKA_2_12 = join(ROOT, "node_modules", "node-rdkafka", "build", "deps");
/** The Bun the Bun contenders run (scripts/bun.ts; resolved in `prepare`). */
let bunExecutable = "bun";
/** Sampling period of the RSS curve. */
const RSS_SAMPLE_MS = 250;

/** How messages reach user code; ratios compare like with like. */
type Shape = "batch" | "message";

interface Contender {
  name: string;
  label: string;
  shape: Shape | undefined;
  /** Why it cannot run here, or undefined. */
  unavailable?: string;
  /** The command a user would run, and its environment. */
  command: (run: RunContext) => { args: string[]; env: Record<string, string> };
  /** kcat: count output lines; the others print "bench-first" and "bench-last N". */
  countsLines?: boolean;
  /** Send SIGTERM once the last message arrived (Racecar: a supervisor stopping it). */
  sigterm?: boolean;
}

interface RunContext {
  brokers: string;
  topic: string;
  total: number;
  group: string;
}

interface Sample {
  seconds: number;
  firstSeconds: number;
  exitSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  rss: [number, number][];
  /** With `--rss`, Racecar's own view every 100,000 messages: count, rss, heap total, heap used, external (MB). */
  memory: number[][];
}

/** `kcat -C -e` reads by assignment, without a group (the group field goes unused). */
function kcatArgs(run: RunContext, extra: string[]): string[] {
  const format = ["-f", "%o\\n"];
  return ["kcat", "-C", "-b", run.brokers, "-t", run.topic, "-o", "beginning", "-e", "-q"]
    .concat(format, extra);
}

function benchEnv(run: RunContext): Record<string, string> {
  return {
    BENCH_BROKERS: run.brokers,
    BENCH_TOPIC: run.topic,
    BENCH_MESSAGES: String(run.total),
    BENCH_GROUP: run.group,
  };
}

function racecarEnv(run: RunContext): Record<string, string> {
  return { ...benchEnv(run), RACECAR_BROKERS: run.brokers, RACECAR_GROUP_ID: run.group };
}

const CONTENDERS: Contender[] = [
  {
    name: "kcat",
    label: "kcat -C -e (librdkafka 2.12, fetch.queue.backoff.ms=10)",
    shape: undefined,
    countsLines: true,
    command: (run) => ({
      args: kcatArgs(run, ["-X", "fetch.queue.backoff.ms=10"]),
      env: { LD_LIBRARY_PATH: RDKAFKA_2_12 },
    }),
  },
  {
    name: "kcat-default",
    label: "kcat -C -e (librdkafka 2.12, defaults)",
    shape: undefined,
    countsLines: true,
    command: (run) => ({ args: kcatArgs(run, []), env: { LD_LIBRARY_PATH: RDKAFKA_2_12 } }),
  },
  {
    name: "kcat-2.0",
    label: "kcat -C -e (system librdkafka 2.0.2)",
    shape: undefined,
    countsLines: true,
    command: (run) => ({ args: kcatArgs(run, []), env: {} }),
  },
  {
    name: "kafkajs-batch",
    label: "KafkaJS 2.2.4 eachBatch (Node)",
    shape: "batch",
    command: (run) => ({
      args: ["node", join(NODE_DIR, "kafkajs.mjs"), "eachBatch"],
      env: benchEnv(run),
    }),
  },
  {
    name: "kafkajs-message",
    label: "KafkaJS 2.2.4 eachMessage (Node)",
    shape: "message",
    command: (run) => ({
      args: ["node", join(NODE_DIR, "kafkajs.mjs"), "eachMessage"],
      env: benchEnv(run),
    }),
  },
  {
    name: "node-rdkafka",
    label: "node-rdkafka consume(1000) loop (Node)",
    shape: "batch",
    command: (run) => ({ args: ["node", join(NODE_DIR, "rdkafka_loop.mjs")], env: benchEnv(run) }),
  },
  ...(["batch", "message"] as const).flatMap((shape): Contender[] => {
    const [method, klass] = shape === "batch"
      ? ["processBatch", "CountBatchConsumer"]
      : ["process", "CountConsumer"];
    return [
      {
        name: `deno-${shape}`,
        label: `ours, Deno, \`${method}\``,
        shape,
        sigterm: true,
        command: (run) => ({
          args: [
            Deno.execPath(),
            "run",
            "-A",
            join(ROOT, "cli.ts"),
            "--require",
            join(ROOT, "bench", "count_consumers.ts"),
            klass,
          ],
          env: racecarEnv(run),
        }),
      },
      {
        name: `node-${shape}`,
        label: `ours, Node, \`${method}\``,
        shape,
        sigterm: true,
        command: (run) => ({
          args: [
            "node",
            join(ROOT, "npm", "dist", "bin", "racecar.js"),
            "--require",
            join(NODE_DIR, "count_consumers.mjs"),
            klass,
          ],
          env: racecarEnv(run),
        }),
      },
      {
        // What `bunx racecar` runs: the npm package's bin under Bun (adapter bun-ffi).
        name: `bun-${shape}`,
        label: `ours, Bun, \`${method}\``,
        shape,
        sigterm: true,
        command: (run) => ({
          args: [
            bunExecutable,
            join(ROOT, "npm", "dist", "bin", "racecar.js"),
            "--require",
            join(NODE_DIR, "count_consumers.mjs"),
            klass,
          ],
          env: racecarEnv(run),
        }),
      },
    ];
  }),
];

/** The baseline of the "vs kcat" column, and the KafkaJS contender per shape. */
const BASELINE = "kcat";
const KAFKAJS: Record<Shape, string> = { batch: "kafkajs-batch", message: "kafkajs-message" };

class UsageError extends Error {}

function parseArgs(argv: string[]) {
  const positional = argv.filter((a) => !a.startsWith("--"));
  const flags = argv.filter((a) => a.startsWith("--"));
  let only: string[] | undefined;
  let rss = false;
  let cpuProf: string | undefined;
  for (const flag of flags) {
    if (flag.startsWith("--only=")) only = flag.slice("--only=".length).split(",").filter(Boolean);
    else if (flag === "--rss") rss = true;
    else if (flag.startsWith("--cpu-prof=")) cpuProf = flag.slice("--cpu-prof=".length);
    else throw new UsageError(`Cannot run the benchmark: unknown flag "${flag}"`);
  }
  const [total, partitions, rounds] = [
    ["messages", 1_000_000],
    ["partitions", 6],
    ["rounds", 3],
  ].map(([name, fallback], i) => {
    const raw = positional[i];
    const value = raw === undefined ? Number(fallback) : Number(raw);
    if (!Number.isInteger(value) || value < 1) {
      throw new UsageError(
        `Cannot run the benchmark: '${name}' must be a positive integer, got "${raw}"`,
      );
    }
    return value;
  }) as [number, number, number];
  const names = CONTENDERS.map((c) => c.name);
  const wrong = only?.find((name) => !names.includes(name));
  if (wrong !== undefined) {
    throw new UsageError(
      `Cannot run the benchmark: unknown contender "${wrong}" in --only; use some of ${
        names.join(",")
      }`,
    );
  }
  return { total, partitions, rounds, only, rss, cpuProf };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function run(args: string[], cwd = ROOT): Promise<void> {
  const status = await new Deno.Command(args[0]!, { args: args.slice(1), cwd, stdout: "null" })
    .spawn().status;
  if (!status.success) throw new Error(`Cannot prepare the benchmark: ${args.join(" ")} failed`);
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

/** The process GNU time started (its only child). */
async function childOf(pid: number): Promise<number | undefined> {
  for (let i = 0; i < 200; i++) {
    const children = (await readText(`/proc/${pid}/task/${pid}/children`))?.trim();
    if (children) return Number(children.split(" ")[0]);
    await new Promise((r) => setTimeout(r, 5));
  }
  return undefined;
}

async function vmRssKb(pid: number): Promise<number | undefined> {
  const status = await readText(`/proc/${pid}/status`);
  const match = status === undefined ? null : /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) : undefined;
}

/** Adds `--cpu-prof` to a Deno or Node command line (kcat stays as it is). */
function profiled(args: string[], dir: string): string[] {
  const flags = ["--cpu-prof", `--cpu-prof-dir=${dir}`];
  if (args[0] === Deno.execPath()) return [args[0], args[1]!, ...flags, ...args.slice(2)];
  if (args[0] === "node") return ["node", ...flags, ...args.slice(1)];
  return args;
}

async function measure(
  contender: Contender,
  context: RunContext,
  options: { cpuProf?: string | undefined; memory?: boolean } = {},
): Promise<Sample> {
  const { cpuProf, memory: reportMemory = false } = options;
  const command = contender.command(context);
  const env = reportMemory ? { ...command.env, BENCH_MEMORY: "1" } : command.env;
  const args = cpuProf === undefined
    ? command.args
    : profiled(command.args, join(cpuProf, contender.name));
  const timeFile = await Deno.makeTempFile({ prefix: "bench-time-" });
  const inherited = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([key]) => !key.startsWith("RACECAR_")),
  );
  const started = performance.now();
  const child = new Deno.Command("/usr/bin/time", {
    args: ["-f", "%U %S %M", "-o", timeFile, ...args],
    env: { ...inherited, ...env },
    clearEnv: true,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const pid = await childOf(child.pid);
  const rss: [number, number][] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling && pid !== undefined) {
      const kb = await vmRssKb(pid);
      if (kb !== undefined) rss.push([(performance.now() - started) / 1000, kb / 1024]);
      await new Promise((r) => setTimeout(r, RSS_SAMPLE_MS));
    }
  })();
  const memory: number[][] = [];
  let first = NaN;
  let last = NaN;
  let lines = 0;
  const limit = setTimeout(() => {
    console.error(`  ${contender.name}: no last message after 300 s, killing it`);
    if (pid !== undefined) Deno.kill(pid, "SIGKILL");
  }, 300_000);
  let buffer = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    if (contender.countsLines) {
      for (let i = chunk.indexOf("\n"); i !== -1; i = chunk.indexOf("\n", i + 1)) {
        lines += 1;
        if (lines === 1) first = performance.now();
        if (lines === context.total) last = performance.now();
      }
      continue;
    }
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const text of parts) {
      if (text === "bench-first") first = performance.now();
      if (text.startsWith("bench-memory ")) {
        const [count, ...bytes] = text.split(" ").slice(1).map(Number);
        memory.push([count!, ...bytes.map((b) => b / 2 ** 20)]);
      }
      if (text.startsWith("bench-last ")) {
        last = performance.now();
        if (contender.sigterm && pid !== undefined) Deno.kill(pid, "SIGTERM");
      }
    }
  }
  const status = await child.status;
  const exited = performance.now();
  clearTimeout(limit);
  sampling = false;
  await sampler;
  const usage = (await Deno.readTextFile(timeFile)).trim().split("\n").pop()!.split(" ");
  await Deno.remove(timeFile);
  if (Number.isNaN(last) || (contender.countsLines && lines !== context.total)) {
    throw new Error(
      `${contender.name} did not report message ${context.total} (exit ${status.code}, ` +
        `${lines} lines): ${(await stderr).slice(-2000)}`,
    );
  }
  await stderr;
  return {
    seconds: (last - started) / 1000,
    firstSeconds: (first - started) / 1000,
    exitSeconds: (exited - last) / 1000,
    cpuSeconds: Number(usage[0]) + Number(usage[1]),
    peakRssMb: Number(usage[2]) / 1024,
    rss,
    memory,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function versions(): Promise<string> {
  const out = async (cmd: string, args: string[]) => {
    try {
      const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
      return new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
    } catch {
      return "";
    }
  };
  const node = (await out("node", ["--version"])).trim();
  const kcat = /Version ([\d.]+)/.exec(await out("kcat", ["-V"]))?.[1] ?? "?";
  // Not installed when no Node contender runs (--only).
  const kafkajs = await Deno.readTextFile(join(NODE_DIR, "node_modules", "kafkajs", "package.json"))
    .then((text) => JSON.parse(text).version, () => "-");
  const rdkafka = JSON.parse(
    await Deno.readTextFile(join(ROOT, "node_modules", "node-rdkafka", "package.json")),
  ).version;
  const cpu = /model name\s*:\s*(.*)/.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1];
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  const bun = (await out(bunExecutable, ["--version"])).trim() || "-";
  return `Deno ${Deno.version.deno}, Node ${node}, Bun ${bun}, kcat ${kcat}, KafkaJS ${kafkajs}, ` +
    `node-rdkafka ${rdkafka}; ${navigator.hardwareConcurrency} CPUs (${cpu}); ` +
    `load average before: ${load}`;
}

async function prepare(selected: Contender[]): Promise<void> {
  const needsNode = selected.some((c) => c.command(EMPTY).args[0] === "node");
  if (needsNode && !(await exists(join(NODE_DIR, "node_modules", "kafkajs")))) {
    console.error("Installing KafkaJS into bench/node/ (npm ci)...");
    await run(["npm", "ci", "--no-audit", "--no-fund"], NODE_DIR);
  }
  const needsBun = selected.some((c) => c.name.startsWith("bun-"));
  if (needsBun) bunExecutable = await ensureBun();
  if (
    selected.some((c) =>
      (c.name.startsWith("node-") && c.name !== "node-rdkafka") || c.name.startsWith("bun-")
    ) &&
    !(await exists(join(ROOT, "npm", "dist", "bin", "racecar.js")))
  ) {
    console.error("Building the npm package (deno task build:npm)...");
    await run([Deno.execPath(), "run", "-A", join(ROOT, "scripts", "build_npm.ts")]);
  }
}

const EMPTY: RunContext = { brokers: "", topic: "", total: 0, group: "" };

function pad(text: string, width: number, right = true): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function report(
  contenders: Contender[],
  results: Map<string, Sample[]>,
  total: number,
): string {
  const rate = (name: string) => {
    const samples = results.get(name);
    return samples ? median(samples.map((s) => total / s.seconds)) : undefined;
  };
  const percent = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? "-" : `${(a / b * 100).toFixed(0)}%`;
  const header = [
    "contender",
    "msg/s (median)",
    "vs kcat",
    "vs KafkaJS",
    "CPU s",
    "peak RSS MB",
    "first msg s",
    "exit s",
    "rounds msg/s",
  ];
  const rows = contenders.map((c) => {
    const samples = results.get(c.name);
    if (c.unavailable !== undefined) {
      return [c.label, `- (${c.unavailable})`, "-", "-", "-", "-", "-", "-", "-"];
    }
    if (!samples) return undefined;
    const r = rate(c.name)!;
    return [
      c.label,
      Math.round(r).toLocaleString("en-US"),
      percent(r, rate(BASELINE)),
      c.shape === undefined || KAFKAJS[c.shape] === c.name
        ? "-"
        : percent(r, rate(KAFKAJS[c.shape])),
      median(samples.map((s) => s.cpuSeconds)).toFixed(2),
      median(samples.map((s) => s.peakRssMb)).toFixed(0),
      median(samples.map((s) => s.firstSeconds)).toFixed(2),
      median(samples.map((s) => s.exitSeconds)).toFixed(2),
      samples.map((s) => Math.round(total / s.seconds).toLocaleString("en-US")).join(", "),
    ];
  }).filter((row) => row !== undefined);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => pad(cell, widths[i]!, i > 0)).join(" | ")} |`;
  return [
    line(header),
    `| ${widths.map((w, i) => i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":").join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}

async function main(): Promise<void> {
  const { total, partitions, rounds, only, rss, cpuProf } = parseArgs(Deno.args);
  const wanted = CONTENDERS.filter((c) => only === undefined || only.includes(c.name));
  const runnable = wanted.filter((c) => c.unavailable === undefined);
  await prepare(runnable);
  const broker = await ensureBroker();
  const about = await versions();
  const transport = createFfiTransport();
  const admin = transport.createAdmin({ config: { "bootstrap.servers": broker.brokers } });
  const topic = `bench-compare-${crypto.randomUUID().slice(0, 8)}`;
  const results = new Map<string, Sample[]>();
  try {
    await admin.createTopics([{ name: topic, partitions }], 30_000);
    console.error(`Producing ${total} x ${MESSAGE_BYTES} B to ${topic} (${partitions} partitions)`);
    await produceWithKcat(broker.brokers, topic, total);
    const context = (name: string): RunContext => ({
      brokers: broker.brokers,
      topic,
      total,
      group: `bench-${name}-${crypto.randomUUID().slice(0, 8)}`,
    });
    console.error("Warming up the broker's page cache with kcat");
    await measure(CONTENDERS[0]!, context("warmup"));
    for (let round = 1; round <= rounds; round++) {
      for (const contender of runnable) {
        const sample = await measure(contender, context(contender.name), { cpuProf, memory: rss });
        console.error(
          `round ${round} ${contender.name}: ${sample.seconds.toFixed(2)} s, ` +
            `${Math.round(total / sample.seconds)} msg/s, CPU ${sample.cpuSeconds.toFixed(2)} s, ` +
            `peak RSS ${sample.peakRssMb.toFixed(0)} MB`,
        );
        results.set(contender.name, [...(results.get(contender.name) ?? []), sample]);
      }
    }
  } finally {
    await admin.deleteTopics([topic], 30_000).catch(() => {});
    await admin.close();
    if (broker.startedHere) await broker.stop();
  }
  console.log(
    `${total} x ${MESSAGE_BYTES} B, ${partitions} partitions, ${rounds} rounds; ${about}`,
  );
  console.log(report(wanted, results, total));
  if (rss) {
    for (const [name, samples] of results) {
      const curve = samples.at(-1)!.rss;
      const step = Math.max(1, Math.round(1 / (RSS_SAMPLE_MS / 1000)));
      console.log(
        `RSS ${name} (last round, s:MB): ` +
          curve.filter((_, i) => i % step === 0 || i === curve.length - 1)
            .map(([t, mb]) => `${t.toFixed(1)}:${mb.toFixed(0)}`).join(" "),
      );
      const own = samples.at(-1)!.memory;
      if (own.length > 0) {
        console.log(
          `  ${name} memoryUsage() per 100k messages (count: rss/heapTotal/heapUsed/external MB):`,
        );
        console.log(
          "  " +
            own.map(([count, ...mb]) =>
              `${count! / 1000}k:${mb.map((m) => m.toFixed(0)).join("/")}`
            )
              .join(" "),
        );
      }
    }
  }
  const dir = join(ROOT, "bench", "results");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, `compare-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
    JSON.stringify({ total, partitions, rounds, about, results: Object.fromEntries(results) }),
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      Deno.exit(2);
    }
    throw error;
  }
}
