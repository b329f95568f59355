// Consume throughput under Node.js: `kcat -C -e -q` (librdkafka in C), a plain
// node-rdkafka consume loop (what a user gets without Racecar), Racecar's
// node-rdkafka adapter and Racecar's Runner, all on the same topic in one
// script, so the figures are ratios measured on the same machine at the same
// time. The Node counterpart of bench/consume.ts; results in bench/README.md.
//
// "adapter" and "runner" use the node-rdkafka adapter, "koffi" and "koffi-runner"
// the koffi adapter (RACECAR_TRANSPORT=koffi: the FFI adapter's binding on Node).
//
// Plain ESM on purpose: it runs the *built* package (npm/dist), as a Node user
// would, and stays out of the package itself.
//
// Usage: deno task bench:node [messages] [partitions] [--only=NAMES]
//    or: node bench/consume_node.mjs [messages] [partitions] [--only=NAMES]
// (after `deno run -A scripts/build_npm.ts`). Defaults: 1,000,000 messages of
// 100 bytes over 6 partitions. NAMES is a comma-separated subset of
// kcat,node-rdkafka,adapter,runner,koffi,koffi-runner (for profiling one contender with
// `node --cpu-prof`). Broker: RACECAR_BROKERS, else 127.0.0.1:9092; start one
// with `deno task kafka:up`. Needs `kcat` (Debian: `apt-get install kcat`).
//
// Each contender reads the whole topic from the beginning with a fresh group;
// the time runs from creating the client until the last message arrived, so
// connection set-up counts for everyone alike.

import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import Kafka from "node-rdkafka";

const MESSAGE_BYTES = 100;
const BATCH = 1000;
const BATCH_TIMEOUT_MS = 1000;
const CONTENDERS = ["kcat", "node-rdkafka", "adapter", "runner", "koffi", "koffi-runner"];

class UsageError extends Error {}

function parseArgs(argv) {
  const positional = argv.filter((a) => !a.startsWith("--"));
  const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  const unknown = argv.find((a) => a.startsWith("--") && !a.startsWith("--only="));
  if (unknown !== undefined) {
    throw new UsageError(`Cannot run the benchmark: unknown flag "${unknown}"`);
  }
  const total = Number(positional[0] ?? 1_000_000);
  const partitions = Number(positional[1] ?? 6);
  if (!Number.isInteger(total) || total < 1) {
    throw new UsageError(
      `Cannot run the benchmark: 'messages' must be a positive integer, got "${positional[0]}"`,
    );
  }
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new UsageError(
      `Cannot run the benchmark: 'partitions' must be a positive integer, got "${positional[1]}"`,
    );
  }
  const selected = only === undefined ? CONTENDERS : only.split(",").filter(Boolean);
  const wrong = selected.find((name) => !CONTENDERS.includes(name));
  if (wrong !== undefined || selected.length === 0) {
    throw new UsageError(
      `Cannot run the benchmark: unknown contender "${wrong ?? ""}" in --only; ` +
        `use a comma-separated subset of ${CONTENDERS.join(",")}`,
    );
  }
  return { total, partitions, selected };
}

/**
 * The built package. Imported by a computed URL so that `deno check bench/` does not need the
 * build, and so that a missing build gets a hint instead of a stack trace.
 */
async function importPackage() {
  const url = new URL("../npm/dist/mod.js", import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    throw new UsageError(
      `Cannot run the benchmark: the npm package is not built (${
        fileURLToPath(url)
      } is missing); ` +
        "run 'deno run -A scripts/build_npm.ts' first, or use 'deno task bench:node'",
    );
  }
  return await import(url.href);
}

/** The koffi transport of the built package. */
async function importKoffi() {
  const url = new URL("../npm/dist/src/kafka/ffi/koffi/mod.js", import.meta.url);
  return (await import(url.href)).createKoffiTransport();
}

/** Fails fast, with a hint, when nothing listens on the first bootstrap server. */
function requireBroker(brokers) {
  const first = brokers.split(",")[0].trim();
  const colon = first.lastIndexOf(":");
  const host = colon > 0 ? first.slice(0, colon) : first;
  const port = colon > 0 ? Number(first.slice(colon + 1)) : 9092;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: 3000 });
    const fail = (reason) => {
      socket.destroy();
      reject(
        new UsageError(
          `Cannot run the benchmark: no Kafka broker answers on ${first} (${reason}); ` +
            `start one with 'deno task kafka:up' or set RACECAR_BROKERS`,
        ),
      );
    };
    socket.once("connect", () => {
      socket.end();
      resolve();
    });
    socket.once("timeout", () => fail("timed out"));
    socket.once("error", (error) => fail(error.code ?? error.message));
  });
}

/** librdkafka version kcat was built with, from `kcat -V`. */
function kcatLibrdkafka() {
  const result = spawnSync("kcat", ["-V"], { encoding: "utf8" });
  if (result.error?.code === "ENOENT") {
    throw new UsageError(
      "Cannot run the benchmark: 'kcat' is not on PATH; install it (Debian: apt-get install kcat)",
    );
  }
  return /librdkafka ([\d.]+)/.exec(`${result.stdout}${result.stderr}`)?.[1] ?? "unknown";
}

function exited(child, what) {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`Cannot ${what}: kcat exited with code ${code}`));
    });
  });
}

async function produceWithKcat(brokers, topic, total) {
  const child = spawn("kcat", [
    "-P",
    "-b",
    brokers,
    "-t",
    topic,
    "-X",
    "linger.ms=20",
    "-X",
    "batch.num.messages=10000",
  ], { stdio: ["pipe", "ignore", "inherit"] });
  const done = exited(child, `produce ${total} messages to "${topic}"`);
  const chunk = Buffer.from(("x".repeat(MESSAGE_BYTES - 1) + "\n").repeat(10_000));
  for (let sent = 0; sent < total; sent += 10_000) {
    const part = sent + 10_000 <= total ? chunk : chunk.subarray(0, (total - sent) * MESSAGE_BYTES);
    if (!child.stdin.write(part)) {
      await new Promise((resolve) => child.stdin.once("drain", resolve));
    }
  }
  child.stdin.end();
  await done;
}

async function kcatSeconds(brokers, topic, total) {
  const started = performance.now();
  const child = spawn(
    "kcat",
    ["-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\n"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let lines = 0;
  child.stdout.on("data", (data) => {
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) lines += 1;
  });
  await exited(child, `consume "${topic}"`);
  const seconds = (performance.now() - started) / 1000;
  if (lines !== total) throw new Error(`kcat read ${lines} messages, expected ${total}`);
  return seconds;
}

/** The loop a node-rdkafka user writes: non-flowing `consume(1000, cb)`, over and over. */
async function plainSeconds(brokers, topic, total) {
  const started = performance.now();
  const consumer = new Kafka.KafkaConsumer({
    "bootstrap.servers": brokers,
    "group.id": `bench-plain-${randomUUID()}`,
    "enable.auto.commit": false,
  }, { "auto.offset.reset": "earliest" });
  await new Promise((resolve, reject) => {
    consumer.connect({ timeout: 10_000 }, (error) => error ? reject(error) : resolve());
  });
  consumer.subscribe([topic]);
  consumer.setDefaultConsumeTimeout(BATCH_TIMEOUT_MS);
  let seen = 0;
  await new Promise((resolve, reject) => {
    const next = () => {
      consumer.consume(BATCH, (error, messages) => {
        if (error && error.code !== Kafka.CODES.ERRORS.ERR__TIMED_OUT) return reject(error);
        seen += messages?.length ?? 0;
        if (seen >= total) resolve();
        else next();
      });
    };
    next();
  });
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => consumer.disconnect(() => resolve()));
  return seconds;
}

async function adapterSeconds(transport, brokers, topic, total) {
  const started = performance.now();
  const consumer = transport.createConsumer({
    config: {
      "bootstrap.servers": brokers,
      "group.id": `bench-adapter-${randomUUID()}`,
      "auto.offset.reset": "earliest",
      "enable.auto.commit": "false",
    },
  });
  consumer.subscribe([topic]);
  let seen = 0;
  while (seen < total) seen += (await consumer.consume(BATCH, BATCH_TIMEOUT_MS)).length;
  const seconds = (performance.now() - started) / 1000;
  await consumer.close();
  return seconds;
}

async function runnerSeconds({ Consumer, Runner }, transport, brokers, topic, total) {
  let seen = 0;
  let lastArrived = 0;
  class NoopConsumer extends Consumer {
    static {
      this.subscribesTo(topic);
    }
    process() {
      seen += 1;
      if (seen === total) {
        lastArrived = performance.now();
        runner.stop();
      }
    }
  }
  const groupId = `bench-runner-${randomUUID()}`;
  // process() only runs once run() has started, after this binding exists.
  const runner = new Runner({
    consumer: new NoopConsumer(),
    transport,
    consumerConfig: {
      "bootstrap.servers": brokers,
      "group.id": groupId,
      "auto.offset.reset": "earliest",
    },
    producerConfig: { "bootstrap.servers": brokers },
    settings: { clientId: "bench", groupId, fetchMessages: BATCH },
  });
  const started = performance.now();
  await runner.run();
  if (seen !== total) throw new Error(`Runner processed ${seen} messages, expected ${total}`);
  // Until the last message was processed, as for the others; the graceful shutdown (final
  // commit, leaving the group) is reported apart.
  return {
    seconds: (lastArrived - started) / 1000,
    shutdownSeconds: (performance.now() - lastArrived) / 1000,
  };
}

async function main() {
  const { total, partitions, selected } = parseArgs(process.argv.slice(2));
  const brokers = process.env.RACECAR_BROKERS || "127.0.0.1:9092";
  const kcatVersion = kcatLibrdkafka();
  await requireBroker(brokers);
  const chosen = process.env.RACECAR_TRANSPORT;
  if (chosen && chosen !== "node-rdkafka") {
    throw new UsageError(
      `Cannot run the benchmark with RACECAR_TRANSPORT="${chosen}": it measures "node-rdkafka"`,
    );
  }
  const racecar = await importPackage();
  // "adapter" and "runner" measure node-rdkafka, whatever the default is.
  process.env.RACECAR_TRANSPORT = "node-rdkafka";
  const transport = await racecar.loadDefaultTransport();
  const koffi = selected.some((name) => name.startsWith("koffi")) ? await importKoffi() : undefined;

  const topic = `bench-consume-node-${randomUUID().slice(0, 8)}`;
  const admin = transport.createAdmin({ config: { "bootstrap.servers": brokers } });
  await admin.createTopics([{ name: topic, partitions }], 30_000);
  const results = new Map();
  let runnerShutdownSeconds = 0;
  try {
    console.error(`Producing ${total} messages of ${MESSAGE_BYTES} bytes to ${topic}...`);
    await produceWithKcat(brokers, topic, total);
    // Warm the broker's page cache once (and check the count), then measure.
    console.error("Warming up with kcat...");
    await kcatSeconds(brokers, topic, total);
    const runs = {
      "kcat": () => kcatSeconds(brokers, topic, total),
      "node-rdkafka": () => plainSeconds(brokers, topic, total),
      "adapter": () => adapterSeconds(transport, brokers, topic, total),
      "runner": async () => {
        const { seconds, shutdownSeconds } = await runnerSeconds(
          racecar,
          transport,
          brokers,
          topic,
          total,
        );
        runnerShutdownSeconds = shutdownSeconds;
        return seconds;
      },
      "koffi": () => adapterSeconds(koffi, brokers, topic, total),
      "koffi-runner": async () =>
        (await runnerSeconds(racecar, koffi, brokers, topic, total)).seconds,
    };
    for (const name of CONTENDERS) {
      if (!selected.includes(name)) continue;
      console.error(`Measuring ${name}...`);
      const cpuBefore = process.cpuUsage();
      const seconds = await runs[name]();
      const cpu = process.cpuUsage(cpuBefore);
      // CPU time of this Node process (all its threads) per wall second: kcat runs elsewhere.
      results.set(name, {
        seconds,
        cpu: name === "kcat" ? undefined : (cpu.user + cpu.system) / 1e6,
      });
    }
  } finally {
    await admin.deleteTopics([topic], 30_000).catch((error) => {
      console.error(`Cannot delete topic "${topic}": ${error.message}`);
    });
    await admin.close();
  }

  const rate = (seconds) => Math.round(total / seconds).toLocaleString("en-US");
  const share = (seconds, name) =>
    results.has(name)
      ? `${(results.get(name).seconds / seconds * 100).toFixed(0)}%`.padStart(5)
      : "    -";
  const labels = {
    "kcat": "kcat -C -e -q",
    "node-rdkafka": "node-rdkafka consume loop",
    "adapter": "Racecar adapter, batch 1000",
    "runner": "Racecar Runner, no-op process",
    "koffi": "koffi adapter, batch 1000",
    "koffi-runner": "Runner on koffi, no-op process",
  };
  console.log(
    `Node ${process.version}, node-rdkafka librdkafka ${Kafka.librdkafkaVersion}, ` +
      `kcat librdkafka ${kcatVersion}, ${cpus().length} CPUs`,
  );
  console.log(`${total} x ${MESSAGE_BYTES} B, ${partitions} partitions, broker ${brokers}`);
  console.log(
    `${"".padEnd(30)} ${"seconds".padStart(7)} ${"msg/s".padStart(11)}  vs rdkafka  vs kcat` +
      `  Node CPU  CPU s`,
  );
  for (const [name, { seconds, cpu }] of results) {
    const load = cpu === undefined ? "-" : `${(cpu / seconds * 100).toFixed(0)}%`;
    console.log(
      `${labels[name].padEnd(30)} ${seconds.toFixed(2).padStart(7)} ${rate(seconds).padStart(11)}` +
        `      ${share(seconds, "node-rdkafka")}    ${share(seconds, "kcat")}  ${
          load.padStart(8)
        }` +
        `  ${cpu === undefined ? "    -" : cpu.toFixed(1).padStart(5)}`,
    );
  }
  if (results.has("runner")) {
    console.log(`(Runner's graceful shutdown after that: ${runnerShutdownSeconds.toFixed(2)} s)`);
  }
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exitCode = 2;
  } else {
    console.error(error);
    process.exitCode = 1;
  }
}
