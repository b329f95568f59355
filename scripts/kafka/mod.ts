// A real single-node Apache Kafka (KRaft) broker for local development, tests and CI, run from
// Maven Central jars with the local `java`: no Docker, no tarball. The library other scripts
// import (`ensureBroker`, `stopBroker`, `brokerReady`, ...); its command line is
// `deno run -A scripts/kafka.ts up|down|status|logs|create-topic` (`_cli.ts`). See
// docs/local-kafka.md.

import { KafkaScriptError } from "./_errors.ts";
import { BROKER_LOG4J2, randomClusterId, serverProperties, TOOLS_LOG4J2 } from "./_config.ts";
import { ensureJars } from "./_jars.ts";
import { portAccepts, probeApiVersions } from "./_probe.ts";
import {
  isBrokerProcess,
  processAlive,
  requireJava,
  runTool,
  signal,
  spawnDetached,
  waitFor,
} from "./_process.ts";

export { KafkaScriptError } from "./_errors.ts";

/** Client port used when neither `--port` nor `RACECAR_KAFKA_PORT` says otherwise. */
export const DEFAULT_PORT = 9092;
/** How long `up` waits for a fresh broker to answer before giving up. */
export const DEFAULT_START_TIMEOUT_MS = 90_000;
/** How long `down` waits after SIGTERM before it sends SIGKILL. */
export const STOP_GRACE_MS = 20_000;

const HOST = "127.0.0.1";
const LOG_TAIL_ON_FAILURE = 30;

/** Options shared by the functions of this module. */
export interface LocalKafkaOptions {
  /**
   * Client (PLAINTEXT) port on 127.0.0.1.
   * @default {RACECAR_KAFKA_PORT, else 9092}
   */
  port?: number;
  /**
   * KRaft controller port on 127.0.0.1.
   * @default {port + 1}
   */
  controllerPort?: number;
  /**
   * Cache directory for jars and run state.
   * @default {RACECAR_KAFKA_HOME, else ${XDG_CACHE_HOME:-$HOME/.cache}/racecar}
   */
  home?: string;
  /**
   * How long to wait for a fresh broker to answer ApiVersions.
   * @default {90000}
   */
  timeoutMs?: number;
  /**
   * Where progress lines go.
   * @default {console.log}
   */
  log?: (line: string) => void;
}

/** Outcome of {@linkcode startBroker}. */
export interface StartResult {
  /** Bootstrap servers, e.g. `127.0.0.1:9092`. */
  brokers: string;
  /** True when a broker already answered on the port and was left as it was. */
  reused: boolean;
  /** Pid of the broker when this script started it (now or earlier), else undefined. */
  pid: number | undefined;
  /** Seconds from the start of the call to the broker answering (0 when reused). */
  seconds: number;
  /** Seconds spent formatting the data dir (undefined when reused). */
  formatSeconds: number | undefined;
  /** Seconds spent fetching jars (undefined when the cache was complete). */
  fetchSeconds: number | undefined;
  /** The broker's log file. */
  logFile: string;
}

/** Outcome of {@linkcode stopBroker}. */
export interface StopResult {
  /**
   * `stopped` after SIGTERM, `killed` after SIGKILL, `not-running` when nothing was there,
   * `not-ours` when a broker answers on the port but this script did not start it.
   */
  outcome: "stopped" | "killed" | "not-running" | "not-ours";
  /** Pid that was signalled, if any. */
  pid: number | undefined;
  /** Seconds from the first signal until the process was gone. */
  seconds: number;
}

/** Outcome of {@linkcode brokerStatus}. */
export interface BrokerStatus {
  /** Bootstrap servers probed. */
  brokers: string;
  /** Whether a broker answered ApiVersions. */
  answering: boolean;
  /** Pid of a live broker started by this script, else undefined. */
  pid: number | undefined;
  /** Number of APIs the broker lists, when it answered. */
  apiCount: number | undefined;
  /** The log file of a broker started by this script on this port. */
  logFile: string;
}

/** What {@linkcode ensureBroker} hands back. */
export interface EnsuredBroker {
  /** Bootstrap servers for clients. */
  brokers: string;
  /** True when this call started the broker (and `stop()` will stop it). */
  startedHere: boolean;
  /** Stops the broker if this call started it; does nothing otherwise. */
  stop(): Promise<void>;
}

interface Resolved {
  port: number;
  controllerPort: number;
  home: string;
  timeoutMs: number;
  log: (line: string) => void;
  runDir: string;
  dataDir: string;
  logFile: string;
  pidFile: string;
}

/**
 * Whether a Kafka broker at `host:port` answers an ApiVersions request (no JVM involved).
 *
 * @example
 * ```ts ignore
 * import { brokerReady } from "./scripts/kafka/mod.ts";
 * console.log(await brokerReady("127.0.0.1", 9092));
 * ```
 */
export async function brokerReady(
  host: string,
  port: number,
  options: { timeoutMs?: number } = {},
): Promise<boolean> {
  return (await probeApiVersions(host, port, options)) !== undefined;
}

/**
 * Starts a local broker on 127.0.0.1 unless one already answers there, and waits until it answers
 * ApiVersions. A fresh start wipes and formats the run's data dir; the broker keeps running after
 * the caller exits (stop it with {@linkcode stopBroker}). Ignores `RACECAR_BROKERS`; see
 * {@linkcode ensureBroker} for that.
 *
 * @example
 * ```ts ignore
 * import { startBroker } from "./scripts/kafka/mod.ts";
 * const { brokers, seconds } = await startBroker({ port: 19092 });
 * console.log(`${brokers} after ${seconds} s`);
 * ```
 */
export async function startBroker(options: LocalKafkaOptions = {}): Promise<StartResult> {
  const r = resolve(options);
  const started = performance.now();
  const brokers = `${HOST}:${r.port}`;
  const reuse = async (): Promise<StartResult | undefined> => {
    if (!await brokerReady(HOST, r.port)) return undefined;
    const pid = await readLivePid(r.pidFile);
    const who = pid ? `pid ${pid}, started by this script` : "not started by this script";
    r.log(`Kafka already answers on ${brokers} (${who}): reusing it`);
    return {
      brokers,
      reused: true,
      pid,
      seconds: 0,
      formatSeconds: undefined,
      fetchSeconds: undefined,
      logFile: r.logFile,
    };
  };
  const early = await reuse();
  if (early) return early;

  await Deno.mkdir(r.runDir, { recursive: true });
  const unlock = await lockRunDir(r, started);
  try {
    // Whoever held the lock may have started the broker meanwhile.
    const late = await reuse();
    if (late) return late;

    // An earlier 'up' may have been interrupted (Ctrl-C) after launching the detached broker:
    // let that broker finish starting rather than kill it and pay for a second start.
    const earlier = await readLivePid(r.pidFile);
    if (earlier) {
      r.log(`A broker from an earlier 'up' (pid ${earlier}) is still starting: waiting for it`);
      const settled = await waitFor(
        async () => await brokerReady(HOST, r.port) || !await isBrokerProcess(earlier),
        r.timeoutMs - (performance.now() - started),
        200,
      );
      const late = settled ? await reuse() : undefined;
      if (late) return late;
      if (await isBrokerProcess(earlier)) {
        await terminate(earlier);
        throw new KafkaScriptError(
          `Cannot start Kafka on ${brokers}: the broker from an earlier 'up' (pid ${earlier}) ` +
            `did not answer within ${(r.timeoutMs / 1000).toFixed(0)} s, so it was stopped`,
          { details: await logTail(r.logFile) },
        );
      }
    }
    for (const [what, port] of [["client", r.port], ["controller", r.controllerPort]] as const) {
      if (await portAccepts(HOST, port)) {
        throw new KafkaScriptError(
          `Cannot start Kafka on ${brokers}: the ${what} port ${port} is taken by something that ` +
            `does not answer as a Kafka broker; pick free ports with --port (and --controller-port)`,
        );
      }
    }

    await requireJava();
    const jars = await ensureJars(r.home, r.log);

    await Deno.remove(r.dataDir, { recursive: true }).catch(ignoreNotFound);
    await Deno.remove(r.pidFile).catch(ignoreNotFound);
    const propsFile = `${r.runDir}/server.properties`;
    const brokerLog4j = `${r.runDir}/log4j2.properties`;
    const toolsLog4j = `${r.runDir}/tools-log4j2.properties`;
    await Deno.writeTextFile(
      propsFile,
      serverProperties({ port: r.port, controllerPort: r.controllerPort, dataDir: r.dataDir }),
    );
    await Deno.writeTextFile(brokerLog4j, BROKER_LOG4J2);
    await Deno.writeTextFile(toolsLog4j, TOOLS_LOG4J2);

    const formatStarted = performance.now();
    const format = await runTool(jars.libs, toolsLog4j, "kafka.tools.StorageTool", [
      "format",
      "--config",
      propsFile,
      "--cluster-id",
      randomClusterId(),
    ]);
    const formatSeconds = (performance.now() - formatStarted) / 1000;
    if (!format.success) {
      throw new KafkaScriptError(
        `Cannot format the Kafka data dir ${r.dataDir}: StorageTool exited with ${format.code}`,
        { details: format.output.trimEnd().split("\n").slice(-LOG_TAIL_ON_FAILURE) },
      );
    }

    await Deno.writeTextFile(
      r.logFile,
      `# racecar: java kafka.Kafka ${propsFile} (started ${new Date().toISOString()})\n`,
    );
    const launched = performance.now();
    const pid = await spawnDetached([
      "java",
      "-Xms512m",
      "-Xmx512m",
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=20",
      "-XX:+ExitOnOutOfMemoryError",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${brokerLog4j}`,
      `-Dkafka.logs.dir=${r.runDir}`,
      "-cp",
      `${jars.libs}/*`,
      "kafka.Kafka",
      propsFile,
    ], r.logFile);
    await Deno.writeTextFile(r.pidFile, `${pid}\n`);

    let died = false;
    const ready = await waitFor(
      async () => {
        if (await brokerReady(HOST, r.port, { timeoutMs: 1000 })) return true;
        died = !await isBrokerProcess(pid);
        return died;
      },
      r.timeoutMs - (launched - started),
      200,
    );
    if (!ready || died) {
      const reason = died
        ? `the broker process (pid ${pid}) exited`
        : `it did not answer within ${(r.timeoutMs / 1000).toFixed(0)} s`;
      if (!died) await terminate(pid);
      await Deno.remove(r.pidFile).catch(ignoreNotFound);
      throw new KafkaScriptError(`Cannot start Kafka on ${brokers}: ${reason}`, {
        details: await logTail(r.logFile),
      });
    }
    const now = performance.now();
    const seconds = (now - started) / 1000;
    r.log(
      `Kafka ${jars.version} ready on ${brokers} in ${seconds.toFixed(1)} s ` +
        `(format ${formatSeconds.toFixed(1)} s, launch to ready ${
          ((now - launched) / 1000).toFixed(1)
        } s; pid ${pid}; log: ${r.logFile})`,
    );
    return {
      brokers,
      reused: false,
      pid,
      seconds,
      formatSeconds,
      fetchSeconds: jars.fetchSeconds,
      logFile: r.logFile,
    };
  } finally {
    await unlock();
  }
}

/**
 * Stops the broker this script started on `port`: SIGTERM by its recorded pid, SIGKILL after
 * 20 s. Never signals a process it did not start; stopping nothing is not an error.
 *
 * @example
 * ```ts ignore
 * import { stopBroker } from "./scripts/kafka/mod.ts";
 * const { outcome } = await stopBroker(19092);
 * ```
 */
export async function stopBroker(
  port?: number,
  options: Omit<LocalKafkaOptions, "port"> = {},
): Promise<StopResult> {
  const r = resolve(port === undefined ? options : { ...options, port });
  const brokers = `${HOST}:${r.port}`;
  const pid = await readLivePid(r.pidFile);
  if (!pid) {
    await Deno.remove(r.pidFile).catch(ignoreNotFound);
    if (await brokerReady(HOST, r.port)) {
      r.log(
        `A Kafka broker answers on ${brokers} but this script did not start it ` +
          `(no live pid in ${r.pidFile}): leaving it alone`,
      );
      return { outcome: "not-ours", pid: undefined, seconds: 0 };
    }
    r.log(`No Kafka broker started by this script runs on ${brokers}: nothing to stop`);
    return { outcome: "not-running", pid: undefined, seconds: 0 };
  }
  const started = performance.now();
  const outcome = await terminate(pid);
  const seconds = (performance.now() - started) / 1000;
  await Deno.remove(r.pidFile).catch(ignoreNotFound);
  await Deno.remove(r.dataDir, { recursive: true }).catch(ignoreNotFound);
  r.log(
    outcome === "stopped"
      ? `Stopped Kafka on ${brokers} (pid ${pid}) in ${seconds.toFixed(1)} s`
      : `Kafka on ${brokers} (pid ${pid}) ignored SIGTERM for ${STOP_GRACE_MS / 1000} s: ` +
        `killed it with SIGKILL (log: ${r.logFile})`,
  );
  return { outcome, pid, seconds };
}

/**
 * Reports whether a broker answers on `port` and whether this script started it.
 *
 * @example
 * ```ts ignore
 * import { brokerStatus } from "./scripts/kafka/mod.ts";
 * const { answering, pid } = await brokerStatus(19092);
 * ```
 */
export async function brokerStatus(
  port?: number,
  options: Omit<LocalKafkaOptions, "port"> = {},
): Promise<BrokerStatus> {
  const r = resolve(port === undefined ? options : { ...options, port });
  const reply = await probeApiVersions(HOST, r.port);
  return {
    brokers: `${HOST}:${r.port}`,
    answering: reply !== undefined,
    pid: await readLivePid(r.pidFile),
    apiCount: reply?.apiCount,
    logFile: r.logFile,
  };
}

/**
 * Gives callers a broker to talk to: the external cluster named by `RACECAR_BROKERS` when set,
 * else a running local broker on the port, else a freshly started one. `stop()` stops only a
 * broker this call started.
 *
 * @example
 * ```ts ignore
 * import { ensureBroker } from "./scripts/kafka/mod.ts";
 * const kafka = await ensureBroker({ port: 19092 });
 * try {
 *   console.log(kafka.brokers);
 * } finally {
 *   await kafka.stop();
 * }
 * ```
 */
export async function ensureBroker(options: LocalKafkaOptions = {}): Promise<EnsuredBroker> {
  const external = Deno.env.get("RACECAR_BROKERS");
  if (external) {
    (options.log ?? console.log)(`Using the external Kafka cluster RACECAR_BROKERS=${external}`);
    return { brokers: external, startedHere: false, stop: () => Promise.resolve() };
  }
  const result = await startBroker(options);
  const startedHere = !result.reused;
  const { port: _port, ...rest } = options;
  const port = Number(result.brokers.split(":")[1]);
  return {
    brokers: result.brokers,
    startedHere,
    stop: startedHere ? async () => void await stopBroker(port, rest) : () => Promise.resolve(),
  };
}

/** Options of {@linkcode createTopic}. */
export interface CreateTopicOptions extends Omit<LocalKafkaOptions, "controllerPort"> {
  /**
   * Number of partitions.
   * @default {1}
   */
  partitions?: number;
}

/**
 * Creates a topic (if it does not exist) with Kafka's own TopicCommand, on `RACECAR_BROKERS` when
 * set, else on the local broker. Meant for scripts and users; tests should use the admin API.
 *
 * @example
 * ```ts ignore
 * import { createTopic } from "./scripts/kafka/mod.ts";
 * await createTopic("orders", { partitions: 3 });
 * ```
 */
export async function createTopic(name: string, options: CreateTopicOptions = {}): Promise<void> {
  const partitions = options.partitions ?? 1;
  if (!name || !/^[a-zA-Z0-9._-]{1,249}$/.test(name)) {
    throw new TypeError(
      `Cannot create topic ${JSON.stringify(name)}: use 1-249 characters from [a-zA-Z0-9._-]`,
    );
  }
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(
      `Cannot create topic "${name}": 'partitions' must be a positive integer, got ${partitions}`,
    );
  }
  const r = resolve(options);
  const bootstrap = Deno.env.get("RACECAR_BROKERS") || `${HOST}:${r.port}`;
  if (!Deno.env.get("RACECAR_BROKERS") && !await brokerReady(HOST, r.port)) {
    throw new KafkaScriptError(
      `Cannot create topic "${name}": no Kafka broker answers on ${bootstrap}; ` +
        `start one with 'deno task kafka:up'`,
    );
  }
  await requireJava();
  const jars = await ensureJars(r.home, r.log);
  await Deno.mkdir(r.runDir, { recursive: true });
  const toolsLog4j = `${r.runDir}/tools-log4j2.properties`;
  await Deno.writeTextFile(toolsLog4j, TOOLS_LOG4J2);
  const started = performance.now();
  const result = await runTool(jars.libs, toolsLog4j, "org.apache.kafka.tools.TopicCommand", [
    "--bootstrap-server",
    bootstrap,
    "--create",
    "--if-not-exists",
    "--topic",
    name,
    "--partitions",
    String(partitions),
    "--replication-factor",
    "1",
  ]);
  if (!result.success) {
    throw new KafkaScriptError(
      `Cannot create topic "${name}" on ${bootstrap}: TopicCommand exited with ${result.code}`,
      { details: result.output.trimEnd().split("\n").slice(-LOG_TAIL_ON_FAILURE) },
    );
  }
  r.log(
    `Topic "${name}" exists on ${bootstrap} (asked for ${partitions} partition(s); ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}

/** Files of the broker on one port. */
export interface BrokerPaths {
  /** Run directory, `<cache>/run-<port>`. */
  runDir: string;
  /** Everything the broker prints. */
  logFile: string;
  /** Pid of the broker while it runs. */
  pidFile: string;
  /** Log segments and KRaft metadata, wiped by every fresh start. */
  dataDir: string;
}

/**
 * Where the broker on `port` keeps its files (nothing is created or probed).
 *
 * @example
 * ```ts ignore
 * import { brokerPaths } from "./scripts/kafka/mod.ts";
 * console.log(brokerPaths(19092).logFile);
 * ```
 */
export function brokerPaths(
  port?: number,
  options: Omit<LocalKafkaOptions, "port"> = {},
): BrokerPaths {
  const r = resolve(port === undefined ? options : { ...options, port });
  return { runDir: r.runDir, logFile: r.logFile, pidFile: r.pidFile, dataDir: r.dataDir };
}

/** Last `lines` lines of `file` (empty when it does not exist). */
export async function tail(file: string, lines: number): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const all = text.trimEnd().split("\n");
  return lines > 0 ? all.slice(-lines) : [];
}

// ---------------------------------------------------------------------------------------------
// Internals

function resolve(options: LocalKafkaOptions): Resolved {
  const port = options.port ?? portFromEnv() ?? DEFAULT_PORT;
  checkPort("port", port);
  const controllerPort = options.controllerPort ?? port + 1;
  checkPort("controllerPort", controllerPort);
  if (controllerPort === port) {
    throw new RangeError(`Cannot use port ${port}: the controller port must differ from it`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  if (!(timeoutMs > 0)) {
    throw new RangeError(`Cannot wait for Kafka: 'timeoutMs' must be positive, got ${timeoutMs}`);
  }
  const home = options.home ?? defaultHome();
  const runDir = `${home}/run-${port}`;
  return {
    port,
    controllerPort,
    home,
    timeoutMs,
    log: options.log ?? console.log,
    runDir,
    dataDir: `${runDir}/data`,
    logFile: `${runDir}/broker.log`,
    pidFile: `${runDir}/broker.pid`,
  };
}

function defaultHome(): string {
  const fromEnv = Deno.env.get("RACECAR_KAFKA_HOME");
  if (fromEnv) return fromEnv;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/racecar`;
  const home = Deno.env.get("HOME");
  if (!home) {
    throw new KafkaScriptError(
      "Cannot choose a cache directory: set RACECAR_KAFKA_HOME, XDG_CACHE_HOME or HOME",
      { exitCode: 2 },
    );
  }
  return `${home}/.cache/racecar`;
}

function portFromEnv(): number | undefined {
  const raw = Deno.env.get("RACECAR_KAFKA_PORT");
  if (raw === undefined || raw === "") return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port)) {
    throw new RangeError(
      `Cannot use RACECAR_KAFKA_PORT=${JSON.stringify(raw)}: expected a port number`,
    );
  }
  return port;
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Cannot use ${name} ${port}: expected an integer from 1 to 65535`);
  }
}

async function readLivePid(pidFile: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(pidFile);
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return await isBrokerProcess(pid) ? pid : undefined;
}

async function terminate(pid: number): Promise<"stopped" | "killed"> {
  if (!signal(pid, "SIGTERM")) return "stopped";
  if (await waitFor(async () => !await isBrokerProcess(pid), STOP_GRACE_MS)) return "stopped";
  signal(pid, "SIGKILL");
  await waitFor(async () => !await isBrokerProcess(pid), 5000);
  return "killed";
}

/**
 * Serialises starts on one port across processes (parallel test files, a CI step and a user):
 * the lock file holds the owner's pid, and a lock whose owner died is taken over.
 */
async function lockRunDir(r: Resolved, started: number): Promise<() => Promise<void>> {
  const lockFile = `${r.runDir}/start.lock`;
  let announced = false;
  while (true) {
    try {
      const file = await Deno.open(lockFile, { write: true, createNew: true });
      await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
      file.close();
      return () => Deno.remove(lockFile).catch(ignoreNotFound);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    const owner = Number((await Deno.readTextFile(lockFile).catch(() => "")).trim());
    if (!Number.isInteger(owner) || owner <= 0 || !await processAlive(owner)) {
      await Deno.remove(lockFile).catch(ignoreNotFound);
      continue;
    }
    if (!announced) {
      r.log(`Another process (pid ${owner}) is starting Kafka on port ${r.port}: waiting for it`);
      announced = true;
    }
    if (performance.now() - started > r.timeoutMs) {
      throw new KafkaScriptError(
        `Cannot start Kafka on ${HOST}:${r.port}: process ${owner} held ${lockFile} for ` +
          `${(r.timeoutMs / 1000).toFixed(0)} s`,
      );
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}

async function logTail(logFile: string): Promise<string[]> {
  return [
    `last ${LOG_TAIL_ON_FAILURE} lines of ${logFile}:`,
    ...await tail(logFile, LOG_TAIL_ON_FAILURE),
  ];
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}
