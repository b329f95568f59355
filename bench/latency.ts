/**
 * End-to-end latency and shutdown time of the real `racecar` command, under
 * Deno (FFI adapter) or Node.js (the built npm package, node-rdkafka), with
 * default settings.
 *
 * Usage: `deno run -A bench/latency.ts <deno|node|bun> [rate] [seconds]`
 * (defaults: 1000 messages/s for 10 s). For `node` and `bun`, build the package first
 * (`deno task build:npm`). Broker: `RACECAR_BROKERS`, else one is started
 * (and stopped afterwards).
 *
 * 1. Creates a topic of 6 partitions and writes one warm-up message.
 * 2. Starts `racecar LatencyConsumer` (bench/latency_consumer.ts, or its Node
 *    twin bench/latency_consumer.mjs), which prints for every message the
 *    milliseconds between its create time and its processing. The time from
 *    spawning the process to the warm-up message is "start to first message";
 *    "start to running" ends when it printed `Wrooooom!` (loaded, about to
 *    join the group).
 * 3. Produces `rate` messages per second for `seconds` s from this process
 *    (FFI producer, `linger.ms=0`, create time set just before each send), and
 *    waits until all were processed: p50, p99 and max of their latencies.
 * 4. Lets the consumer idle for 2 s, sends SIGTERM and times until it exited.
 *
 * @module
 */

import { ensureBroker } from "../scripts/kafka.ts";
import { ensureBun } from "../scripts/bun.ts";
import { createFfiTransport } from "../src/kafka/ffi/mod.ts";

const runtime = Deno.args[0];
const rate = Number(Deno.args[1] ?? 1000);
const seconds = Number(Deno.args[2] ?? 10);
if (runtime !== "deno" && runtime !== "node" && runtime !== "bun") {
  console.error(
    `Cannot run the benchmark: the runtime must be "deno", "node" or "bun", got ${
      JSON.stringify(runtime)
    }\nUsage: deno run -A bench/latency.ts <deno|node|bun> [rate] [seconds]`,
  );
  Deno.exit(2);
}
if (!Number.isInteger(rate) || rate < 1 || !Number.isFinite(seconds) || seconds <= 0) {
  console.error(
    `Cannot run the benchmark: 'rate' must be a positive integer and 'seconds' a positive ` +
      `number, got ${Deno.args[1]} and ${Deno.args[2]}`,
  );
  Deno.exit(2);
}

const ROOT = new URL("..", import.meta.url).pathname;
/** Bun runs the same npm build as Node (scripts/bun.ts installs the pinned Bun if needed). */
const bunExecutable = runtime === "bun" ? await ensureBun() : "bun";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function command(): string[] {
  return runtime === "deno"
    ? [
      Deno.execPath(),
      "run",
      "-A",
      `${ROOT}cli.ts`,
      "LatencyConsumer",
      "--require",
      `${ROOT}bench/latency_consumer.ts`,
    ]
    : [
      runtime === "bun" ? bunExecutable : "node",
      `${ROOT}npm/dist/bin/racecar.js`,
      "LatencyConsumer",
      "--require",
      `${ROOT}bench/latency_consumer.mjs`,
    ];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  const broker = await ensureBroker({ log: (line) => console.error(line) });
  const transport = createFfiTransport();
  const topic = `bench-latency-${crypto.randomUUID().slice(0, 8)}`;
  const admin = transport.createAdmin({ config: { "bootstrap.servers": broker.brokers } });
  const producer = transport.createProducer({
    config: { "bootstrap.servers": broker.brokers, "linger.ms": "0" },
  });
  const encoder = new TextEncoder();
  let child: Deno.ChildProcess | undefined;
  try {
    await admin.createTopics([{ name: topic, partitions: 6 }], 30_000);
    await producer.produce({ topic, value: encoder.encode("warm-up"), timestamp: Date.now() });

    const [program, ...args] = command();
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(Deno.env.toObject())) {
      if (!key.startsWith("RACECAR_")) env[key] = value;
    }
    Object.assign(env, {
      RACECAR_BROKERS: broker.brokers,
      RACECAR_GROUP_ID: `bench-latency-${crypto.randomUUID().slice(0, 8)}`,
      LATENCY_TOPIC: topic,
    });
    const spawned = performance.now();
    child = new Deno.Command(program!, {
      args,
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const exited = child.status;

    const latencies: number[] = [];
    let firstAt: number | undefined;
    // "Wrooooom!" on stderr: the process is up and about to join the group.
    let startedAt: number | undefined;
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        if (startedAt === undefined && chunk.includes("Wrooooom!")) startedAt = performance.now();
      }
    })();
    let changed: () => void = () => {};
    (async () => {
      let rest = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          const match = /^latency (-?\d+)$/.exec(line);
          if (match === null) continue;
          if (firstAt === undefined) firstAt = performance.now();
          else latencies.push(Number(match[1]));
          changed();
        }
      }
    })();
    const waitFor = async (done: () => boolean, timeoutMs: number, what: string) => {
      const deadline = Date.now() + timeoutMs;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
        await Promise.race([new Promise<void>((resolve) => changed = resolve), sleep(100)]);
      }
    };
    await waitFor(() => firstAt !== undefined, 60_000, "the warm-up message");
    const firstMessageMs = firstAt! - spawned;

    const total = Math.round(rate * seconds);
    const started = performance.now();
    const deliveries: Promise<unknown>[] = [];
    for (let sent = 0; sent < total;) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
      for (; sent < due; sent++) {
        deliveries.push(
          producer.produce({ topic, value: encoder.encode(`m${sent}`), timestamp: Date.now() }),
        );
      }
      await sleep(1);
    }
    await Promise.all(deliveries);
    await waitFor(() => latencies.length >= total, 60_000, `${total} messages`);

    await sleep(2_000);
    const signalled = performance.now();
    child.kill("SIGTERM");
    const status = await exited;
    const exitMs = performance.now() - signalled;
    child = undefined;

    const sorted = [...latencies].sort((a, b) => a - b);
    const result = {
      runtime,
      messages: total,
      rate,
      startToRunningMs: startedAt === undefined ? null : Math.round(startedAt - spawned),
      startToFirstMessageMs: Math.round(firstMessageMs),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1),
      sigtermToExitMs: Math.round(exitMs),
      exitCode: status.code,
    };
    console.log(JSON.stringify(result));
  } finally {
    child?.kill("SIGKILL");
    await producer.close();
    await admin.deleteTopics([topic], 30_000).catch(() => {});
    await admin.close();
    await broker.stop();
  }
}

await main();
