// Starts and stops a local 3-broker KRaft cluster on loopback ports, for the cases a single node
// cannot show (replication 3, acks=all, min.insync.replicas=2): `bench/echo.ts` against it, or any
// test with RACECAR_BROKERS set to its bootstrap list. Not run in CI (three JVMs).
//
//   deno run -A scripts/kafka_cluster.ts up [--port 29092]   # brokers on 29092-29094
//   RACECAR_BROKERS=127.0.0.1:29092,127.0.0.1:29093,127.0.0.1:29094 deno run -A bench/echo.ts
//   deno run -A scripts/kafka_cluster.ts down [--port 29092]
//
// Each node is a combined broker+controller; controllers listen on port+10..port+12. Data and logs
// live under the same cache as scripts/kafka.ts (`cluster-<port>/node-<i>`), wiped on every 'up'.
// The jars and the tuned single-node properties come from scripts/kafka/ (not from the
// scripts/kafka.ts CLI module).

import { KafkaScriptError } from "./kafka/_errors.ts";
import { BROKER_LOG4J2, randomClusterId, serverProperties, TOOLS_LOG4J2 } from "./kafka/_config.ts";
import { ensureJars } from "./kafka/_jars.ts";
import { probeApiVersions } from "./kafka/_probe.ts";
import {
  BROKER_MAIN_CLASS,
  isBrokerProcess,
  requireJava,
  runTool,
  signal,
  spawnDetached,
  waitFor,
} from "./kafka/_process.ts";

const HOST = "127.0.0.1";
const NODES = 3;
/** First client port when --port is not given. */
export const DEFAULT_CLUSTER_PORT = 29092;
const START_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 20_000;

/** Where one node of the cluster lives. */
interface Node {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
}

function cacheHome(): string {
  const home = Deno.env.get("RACECAR_KAFKA_HOME") ??
    (Deno.env.get("XDG_CACHE_HOME") ? `${Deno.env.get("XDG_CACHE_HOME")}/racecar` : undefined) ??
    (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.cache/racecar` : undefined);
  if (home === undefined) {
    throw new KafkaScriptError(
      "Cannot choose a cache directory: set RACECAR_KAFKA_HOME, XDG_CACHE_HOME or HOME",
      { exitCode: 2 },
    );
  }
  return home;
}

function nodes(home: string, port: number): Node[] {
  return Array.from({ length: NODES }, (_, i) => ({
    id: i + 1,
    port: port + i,
    controllerPort: port + 10 + i,
    dir: `${home}/cluster-${port}/node-${i + 1}`,
  }));
}

/** The bootstrap list of the cluster whose first client port is `port`. */
export function clusterBrokers(port: number = DEFAULT_CLUSTER_PORT): string {
  return Array.from({ length: NODES }, (_, i) => `${HOST}:${port + i}`).join(",");
}

/** The single-node properties, made one node of three with replicated internal topics. */
function nodeProperties(node: Node, all: Node[]): string {
  const base = serverProperties({
    port: node.port,
    controllerPort: node.controllerPort,
    dataDir: `${node.dir}/data`,
  });
  const overrides: Record<string, string | number> = {
    "node.id": node.id,
    "controller.quorum.voters": all.map((n) => `${n.id}@${HOST}:${n.controllerPort}`).join(","),
    "default.replication.factor": 3,
    "min.insync.replicas": 2,
    "offsets.topic.replication.factor": 3,
    "transaction.state.log.replication.factor": 3,
    "transaction.state.log.min.isr": 2,
    "share.coordinator.state.topic.replication.factor": 3,
    "share.coordinator.state.topic.min.isr": 2,
    "num.partitions": 3,
  };
  const lines = base.split("\n").map((line) => {
    const key = line.split("=")[0]!;
    return key in overrides ? `${key}=${overrides[key]}` : line;
  });
  return lines.join("\n");
}

async function readPid(node: Node): Promise<number | undefined> {
  try {
    const pid = Number((await Deno.readTextFile(`${node.dir}/broker.pid`)).trim());
    return Number.isInteger(pid) && pid > 0 && await isBrokerProcess(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the three nodes (after stopping any left from an earlier 'up') and waits for all. */
export async function startCluster(port: number = DEFAULT_CLUSTER_PORT): Promise<string> {
  const home = cacheHome();
  const all = nodes(home, port);
  await stopCluster(port);
  await requireJava();
  const jars = await ensureJars(home, console.log);
  const clusterId = randomClusterId();
  for (const node of all) {
    await Deno.remove(node.dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(node.dir, { recursive: true });
    await Deno.writeTextFile(`${node.dir}/server.properties`, nodeProperties(node, all));
    await Deno.writeTextFile(`${node.dir}/log4j2.properties`, BROKER_LOG4J2);
    await Deno.writeTextFile(`${node.dir}/tools-log4j2.properties`, TOOLS_LOG4J2);
    const format = await runTool(
      jars.libs,
      `${node.dir}/tools-log4j2.properties`,
      "kafka.tools.StorageTool",
      [
        "format",
        "--config",
        `${node.dir}/server.properties`,
        "--cluster-id",
        clusterId,
      ],
    );
    if (!format.success) {
      throw new KafkaScriptError(
        `Cannot format node ${node.id}: StorageTool exited with ${format.code}`,
        {
          details: format.output.trimEnd().split("\n").slice(-20),
        },
      );
    }
  }
  for (const node of all) {
    const pid = await spawnDetached([
      "java",
      "-Xms256m",
      "-Xmx384m",
      "-XX:+UseG1GC",
      "-XX:+ExitOnOutOfMemoryError",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${node.dir}/log4j2.properties`,
      `-Dkafka.logs.dir=${node.dir}`,
      "-cp",
      `${jars.libs}/*`,
      BROKER_MAIN_CLASS,
      `${node.dir}/server.properties`,
    ], `${node.dir}/broker.log`);
    await Deno.writeTextFile(`${node.dir}/broker.pid`, `${pid}\n`);
  }
  const ready = await waitFor(
    async () => {
      for (const node of all) {
        if (await probeApiVersions(HOST, node.port, { timeoutMs: 1000 }) === undefined) {
          return false;
        }
      }
      return true;
    },
    START_TIMEOUT_MS,
    500,
  );
  if (!ready) {
    throw new KafkaScriptError(
      `Cannot start the cluster on ${clusterBrokers(port)}: not every node answered within ` +
        `${START_TIMEOUT_MS / 1000} s; see ${all.map((n) => `${n.dir}/broker.log`).join(", ")}`,
    );
  }
  return clusterBrokers(port);
}

/** Stops the nodes this script started on `port` (SIGTERM, SIGKILL after 20 s). */
export async function stopCluster(port: number = DEFAULT_CLUSTER_PORT): Promise<number> {
  const pids: number[] = [];
  for (const node of nodes(cacheHome(), port)) {
    const pid = await readPid(node);
    if (pid !== undefined && signal(pid, "SIGTERM")) pids.push(pid);
    await Deno.remove(`${node.dir}/broker.pid`).catch(() => {});
  }
  for (const pid of pids) {
    const gone = await waitFor(async () => !await isBrokerProcess(pid), STOP_GRACE_MS, 200);
    if (!gone) signal(pid, "SIGKILL");
  }
  return pids.length;
}

function parsePort(args: string[]): number {
  const at = args.indexOf("--port");
  if (at === -1) return DEFAULT_CLUSTER_PORT;
  const port = Number(args[at + 1]);
  if (!Number.isInteger(port) || port < 1 || port > 65_500) {
    throw new KafkaScriptError(
      `Cannot use --port ${JSON.stringify(args[at + 1] ?? "")}: give an integer from 1 to 65500`,
      { exitCode: 2 },
    );
  }
  return port;
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === "up") {
      const brokers = await startCluster(parsePort(rest));
      console.log(`Kafka cluster of ${NODES} ready: RACECAR_BROKERS=${brokers}`);
      return 0;
    }
    if (command === "down") {
      const stopped = await stopCluster(parsePort(rest));
      console.log(`Stopped ${stopped} node(s)`);
      return 0;
    }
    console.error("Usage: deno run -A scripts/kafka_cluster.ts up|down [--port P]");
    return 2;
  } catch (error) {
    if (error instanceof KafkaScriptError) {
      console.error(error.message);
      for (const line of error.details ?? []) console.error(`  ${line}`);
      return error.exitCode ?? 1;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
