/**
 * End-to-end latency and shutdown time of the real `racecar` command, under
 * Deno (FFI adapter) or Node.js (the built npm package, its default adapter),
 * with default settings.
 *
 * Usage: `deno run -A bench/latency.ts [runtimes] [rates] [seconds] [rounds]`
 * (defaults: `deno,node 1000,20000 10 1`: both runtimes at 1,000 and at 20,000
 * messages/s for 10 s each, interleaved). Runtimes: `deno`, `node` and `bun`
 * (ours; for `node` and `bun`, build the package first: `deno task build:npm`), `kafkajs`
 * (KafkaJS `eachMessage`, bench/node/kafkajs_latency.mjs; needs
 * `npm ci --prefix bench/node`, which compare.ts runs on first use) and `kcat`
 * (the floor). Broker: `RACECAR_BROKERS`, else one is started (and stopped
 * afterwards).
 *
 * For each round, rate and runtime:
 * 1. Creates a topic of 6 partitions and writes one warm-up message.
 * 2. Starts `racecar LatencyConsumer` (bench/latency_consumer.ts, or its Node
 *    twin bench/latency_consumer.mjs), which prints for every message the
 *    milliseconds between its create time and its processing. The time from
 *    spawning the process to the warm-up message is "start to first message";
 *    "start to running" ends when it printed `Wrooooom!` (loaded, about to
 *    join the group).
 * 3. Produces `rate` messages per second for `seconds` s from this process
 *    (FFI producer with librdkafka's defaults, so `linger.ms` 5) to a topic
 *    with `message.timestamp.type=LogAppendTime`, so a message's timestamp is
 *    when the broker appended it and its latency the consumer's part alone;
 *    waits until all were processed: p50, p99 and max of the latencies, and of
 *    the producer's acknowledgements (produce to delivery report: how the
 *    broker keeps up).
 * 4. Lets the consumer idle for 2 s, sends SIGTERM and times until it exited.
 *
 * Prints one JSON line per run, then a table.
 *
 * @module
 */

import { ensureBroker } from "../scripts/kafka.ts";
import { ensureBun } from "../scripts/bun.ts";
import { latencyConsumerCommand } from "./_racecar_command.ts";
import { createFfiTransport } from "../src/kafka/ffi/mod.ts";

/** Ours on Deno and Node; KafkaJS (`eachMessage`) and kcat as references. */
type Runtime = "deno" | "node" | "bun" | "kafkajs" | "kcat";
const RUNTIMES: readonly string[] = ["deno", "node", "bun", "kafkajs", "kcat"];
const runtimes = (Deno.args[0] ?? "deno,node").split(",");
const rates = (Deno.args[1] ?? "1000,20000").split(",").map(Number);
const seconds = Number(Deno.args[2] ?? 10);
const rounds = Number(Deno.args[3] ?? 1);
const USAGE =
  "Usage: deno run -A bench/latency.ts [deno,node,bun,kafkajs,kcat] [rates, e.g. 1000,20000] " +
  "[seconds] [rounds]";
if (runtimes.some((r) => !RUNTIMES.includes(r))) {
  console.error(
    `Cannot run the benchmark: the runtimes must be among ${RUNTIMES.join(", ")}, got ${
      JSON.stringify(Deno.args[0])
    }\n${USAGE}`,
  );
  Deno.exit(2);
}
if (
  rates.some((rate) => !Number.isInteger(rate) || rate < 1) || !Number.isFinite(seconds) ||
  seconds <= 0 || !Number.isInteger(rounds) || rounds < 1
) {
  console.error(
    `Cannot run the benchmark: rates must be positive integers, 'seconds' a positive number ` +
      `and 'rounds' a positive integer, got ${Deno.args.slice(1, 4).join(" ")}\n${USAGE}`,
  );
  Deno.exit(2);
}

const ROOT = new URL("..", import.meta.url).pathname;
/** Bun runs the npm build as Node does (scripts/bun.ts installs the pinned Bun if needed). */
const bunExecutable = runtimes.includes("bun") ? await ensureBun() : "bun";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function command(runtime: Runtime, env: Record<string, string>): string[] {
  switch (runtime) {
    case "deno":
    case "node":
    case "bun":
      return latencyConsumerCommand(runtime, bunExecutable);
    case "kafkajs":
      return ["node", `${ROOT}bench/node/kafkajs_latency.mjs`];
    case "kcat":
      // The floor: kcat prints each message's create time unbuffered (-u) and this process
      // takes the difference when it reads the line, so the pipe counts against kcat.
      return [
        "kcat",
        "-b",
        env.RACECAR_BROKERS!,
        "-G",
        env.RACECAR_GROUP_ID!,
        "-X",
        "auto.offset.reset=earliest",
        "-u",
        "-q",
        "-f",
        "created %T\n",
        env.LATENCY_TOPIC!,
      ];
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

interface Result {
  runtime: Runtime;
  messages: number;
  rate: number;
  startToRunningMs: number | null;
  startToFirstMessageMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The producer's acknowledgements (produce to delivery report), p50 and p99. */
  ackP50Ms: number;
  ackP99Ms: number;
  sigtermToExitMs: number;
  exitCode: number;
}

async function measure(
  brokers: string,
  transport: ReturnType<typeof createFfiTransport>,
  runtime: Runtime,
  rate: number,
): Promise<Result> {
  const topic = `bench-latency-${crypto.randomUUID().slice(0, 8)}`;
  const admin = transport.createAdmin({ config: { "bootstrap.servers": brokers } });
  const producer = transport.createProducer({
    config: { "bootstrap.servers": brokers },
  });
  const encoder = new TextEncoder();
  let child: Deno.ChildProcess | undefined;
  try {
    // The broker stamps each message when it appends it: a latency is then the consumer's part
    // alone (fetch, hand-over, processing), without the producer's linger and request.
    await admin.createTopics([{
      name: topic,
      partitions: 6,
      config: { "message.timestamp.type": "LogAppendTime" },
    }], 30_000);
    await producer.produce({ topic, value: encoder.encode("warm-up"), timestamp: Date.now() });

    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(Deno.env.toObject())) {
      if (!key.startsWith("RACECAR_")) env[key] = value;
    }
    Object.assign(env, {
      RACECAR_BROKERS: brokers,
      RACECAR_GROUP_ID: `bench-latency-${crypto.randomUUID().slice(0, 8)}`,
      LATENCY_TOPIC: topic,
    });
    const [program, ...args] = command(runtime, env);
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
          const match = /^(latency|created) (-?\d+)$/.exec(line);
          if (match === null) continue;
          const ms = match[1] === "latency" ? Number(match[2]) : Date.now() - Number(match[2]);
          if (firstAt === undefined) firstAt = performance.now();
          else latencies.push(ms);
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
    // How long the broker took to acknowledge each message: the floor under the latencies.
    const acks: number[] = [];
    for (let sent = 0; sent < total;) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
      for (; sent < due; sent++) {
        const at = Date.now();
        deliveries.push(
          producer.produce({ topic, value: encoder.encode(`m${sent}`), timestamp: at })
            .then(() => void acks.push(Date.now() - at)),
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
    const sortedAcks = acks.sort((a, b) => a - b);
    return {
      runtime,
      messages: total,
      rate,
      startToRunningMs: startedAt === undefined ? null : Math.round(startedAt - spawned),
      startToFirstMessageMs: Math.round(firstMessageMs),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1) ?? NaN,
      ackP50Ms: percentile(sortedAcks, 50),
      ackP99Ms: percentile(sortedAcks, 99),
      sigtermToExitMs: Math.round(exitMs),
      exitCode: status.code,
    };
  } finally {
    // The child may have ended on its own (a failed start): its own error is the one to show.
    try {
      child?.kill("SIGKILL");
    } catch {
      // already exited
    }
    await producer.close();
    await admin.deleteTopics([topic], 30_000).catch(() => {});
    await admin.close();
  }
}

async function main(): Promise<void> {
  const broker = await ensureBroker({ log: (line) => console.error(line) });
  const transport = createFfiTransport();
  const results: Result[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const rate of rates) {
        for (const runtime of runtimes as Runtime[]) {
          const result = await measure(broker.brokers, transport, runtime, rate);
          console.log(JSON.stringify(result));
          results.push(result);
        }
      }
    }
  } finally {
    await broker.stop();
  }
  console.log(
    "\n| runtime | msg/s | p50 ms | p99 ms | max ms | acks p50/p99 ms | start to first message ms " +
      "| SIGTERM to exit ms |",
  );
  console.log("| --- | --: | --: | --: | --: | --: | --: | --: |");
  for (const r of results) {
    console.log(
      `| ${r.runtime} | ${r.rate} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ` +
        `${r.ackP50Ms}/${r.ackP99Ms} | ` +
        `${r.startToFirstMessageMs} | ${r.sigtermToExitMs} |`,
    );
  }
}

await main();
