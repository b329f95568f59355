/**
 * CPU an idle consumer uses: the real `racecar` command over
 * bench/latency_consumer (a topic of 6 partitions nobody writes to), per runtime.
 *
 * Usage: `deno run -A bench/idle.ts [seconds] [runtimes]` (defaults: 20 s;
 * `deno,bun`; `node` works too). Node and Bun run the npm build
 * (`deno task build:npm`). Broker: `RACECAR_BROKERS`, else one is started.
 *
 * Each process is started, given 5 s to join its group, then its user + system
 * CPU time (all threads, from /proc/<pid>/stat) is read over `seconds`;
 * printed as milliseconds of CPU per second of wall time.
 *
 * @module
 */

import { ensureBroker } from "../scripts/kafka/mod.ts";
import { ensureBun } from "../scripts/bun.ts";
import { latencyConsumerCommand } from "./_racecar_command.ts";
import { createFfiTransport } from "../src/kafka/ffi/mod.ts";

const seconds = Number(Deno.args[0] ?? 20);
const runtimes = (Deno.args[1] ?? "deno,bun").split(",");
const TICKS_PER_SECOND = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function command(runtime: string): Promise<string[]> {
  // Anything but deno and bun runs the npm build on Node, as the usage says.
  const known = runtime === "deno" || runtime === "bun" ? runtime : "node";
  return latencyConsumerCommand(known, known === "bun" ? await ensureBun() : undefined);
}

async function cpuTicks(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
  return Number(fields[11]) + Number(fields[12]);
}

async function measure(runtime: string, brokers: string, topic: string): Promise<number> {
  const [program, ...args] = await command(runtime);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (!key.startsWith("RACECAR_")) env[key] = value;
  }
  Object.assign(env, {
    RACECAR_BROKERS: brokers,
    RACECAR_GROUP_ID: `idle-${crypto.randomUUID().slice(0, 8)}`,
    LATENCY_TOPIC: topic,
  });
  const child = new Deno.Command(program!, { args, env, stdout: "null", stderr: "null" }).spawn();
  try {
    await sleep(5_000);
    const before = await cpuTicks(child.pid);
    await sleep(seconds * 1000);
    const after = await cpuTicks(child.pid);
    return ((after - before) / TICKS_PER_SECOND) * 1000 / seconds;
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

const broker = await ensureBroker();
const admin = createFfiTransport().createAdmin({ config: { "bootstrap.servers": broker.brokers } });
try {
  const topic = `bench-idle-${crypto.randomUUID().slice(0, 8)}`;
  await admin.createTopics([{ name: topic, partitions: 6 }], 30_000);
  for (const runtime of runtimes) {
    const ms = await measure(runtime, broker.brokers, topic);
    console.log(
      `${runtime}: ${ms.toFixed(1)} ms CPU per s idle (${(ms / 10).toFixed(2)}% of a core)`,
    );
  }
} finally {
  await admin.close();
  if (broker.startedHere) await broker.stop();
}
