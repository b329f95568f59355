/**
 * The `racecarctl` command: `status` and `stop` for a daemonized consumer,
 * `produce` for one message, the probes `liveness_probe` and
 * `readiness_probe` for Kubernetes and other supervisors, and cluster commands
 * (`list_topics`, `create_topic`, `list_groups`, `describe_group`,
 * `reset_offsets`; see `_admin.ts`).
 *
 * Exit codes: 0 success (alive, ready, delivered, stopped, running); 1 a
 * failed check or operation (unhealthy, not ready, not running, delivery
 * failed); 2 a usage or configuration mistake.
 *
 * @module
 */

import { topicPartitionKey } from "../_topic_partition.ts";
import { Command, CommanderError } from "commander";
import { relative, resolve } from "node:path";
import {
  cwd as runtimeCwd,
  modifiedAt,
  readTextFile,
  writeStderr,
  writeStdout,
} from "../_runtime.ts";
import { delay, kill, readStdinText } from "./_process.ts";
import {
  findCodeConfig,
  type FlagValues,
  loadConfig,
  loadConfigWithSources,
  type LoadedConfig,
  producerConfig,
  type RacecarConfig,
} from "../config/mod.ts";
import { ConfigError, ErrorCode, KafkaError } from "../errors.ts";
import { loadDefaultTransport } from "../kafka/default_transport.ts";
import type { Header, Transport } from "../kafka/transport.ts";
import { checkLiveness } from "../probes.ts";
import { Producer } from "../producer.ts";
import { VERSION } from "../version.ts";
import * as admin from "./_admin.ts";
import { ExitCode, isUsageError, UsageError } from "./_exit.ts";
import { clientCreationFailure, explainClientConfigError, explainClientError } from "./_explain.ts";
import { corruptPidfileMessage, pidStatus } from "./daemon.ts";
import { importUserModule } from "./load_consumer.ts";

/** The commands, in the order `racecarctl` lists them. */
export const CTL_COMMANDS = [
  "status",
  "stop",
  "produce",
  "liveness_probe",
  "readiness_probe",
  "list_topics",
  "create_topic",
  "list_groups",
  "describe_group",
  "reset_offsets",
] as const;

/** Collaborators of {@link ctlMain}, replaceable in tests. */
export interface CtlOptions {
  /** The working directory. @default the process's */
  cwd?: string;
  /** The Kafka adapter for `produce`. @default the runtime's default */
  transport?: Transport;
  /** How long `stop` waits for the process to end, in seconds. @default 60 */
  stopTimeoutSeconds?: number;
}

/** Runs `racecarctl` with these arguments; resolves with the exit code. */
export async function ctlMain(argv: readonly string[], options: CtlOptions = {}): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    writeStdout(
      `No command specified. Commands:\n${CTL_COMMANDS.map((c) => ` - ${c}\n`).join("")}`,
    );
    return ExitCode.OK;
  }
  if (!first.startsWith("-") && !(CTL_COMMANDS as readonly string[]).includes(first)) {
    writeStderr(`Error: invalid command: ${first}\n`);
    return ExitCode.USAGE;
  }
  let code: number = ExitCode.OK;
  const program = ctlProgram(options, (result) => code = result);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (isUsageError(error)) {
      writeStderr(`Error: ${(error as Error).message}\n`);
      return ExitCode.USAGE;
    }
    writeStderr(`Error: ${(error as Error)?.message ?? String(error)}\n`);
    return ExitCode.FAILURE;
  }
  return code;
}

function ctlProgram(options: CtlOptions, done: (code: number) => void): Command {
  const program = new Command("racecarctl")
    .description(
      "Control and probe Racecar consumers. Exit codes: 0 ok, 1 failed check or operation, " +
        "2 usage or configuration error",
    )
    .version(`Racecar ${VERSION}`, "-V, --version", "print the version")
    .configureOutput({ writeOut: writeStdout, writeErr: writeStderr })
    .showHelpAfterError("(run racecarctl --help for the commands)")
    .exitOverride();
  const sub = (name: string, description: string) =>
    program.command(name).description(description).exitOverride().configureOutput({
      writeOut: writeStdout,
      writeErr: writeStderr,
    });

  sub("status", "tell whether the process of a pid file runs (exit 0) or not (exit 1)")
    .option("--pidfile <file>", "the pid file of a daemonized consumer")
    .action((opts: { pidfile?: string }) => done(status(requirePidfile(opts, options))));

  sub("stop", "stop the process of a pid file with SIGTERM and wait until it is gone")
    .option("--pidfile <file>", "the pid file of a daemonized consumer")
    .option(
      "--timeout <seconds>",
      "give up waiting after this long (exit 1)",
      String(
        options.stopTimeoutSeconds ?? 60,
      ),
    )
    .action(async (opts: { pidfile?: string; timeout: string }) => {
      const seconds = Number(opts.timeout);
      if (!(seconds > 0)) {
        throw new UsageError(`Invalid --timeout "${opts.timeout}": expected seconds above 0`);
      }
      done(await stop(requirePidfile(opts, options), seconds));
    });

  sub(
    "produce",
    "produce messages: one per --value, or one per line of --file (- for standard input)",
  )
    .option("-b, --brokers <list>", "the brokers, host:port,... (default: the configuration's)")
    .option("-t, --topic <topic>", "the topic")
    .option("-k, --key <key>", "the key of every message")
    .option("-v, --value <value>", "a message value (repeatable: one message each)", collect, [])
    .option("-f, --file <path>", "produce each non-empty line of this file; - reads standard input")
    .option("-K, --key-delimiter <delim>", "split each line of --file into key<delim>value")
    .option("-H, --header <name=value...>", "a header (repeatable)")
    .option("-p, --partition <n>", "an explicit partition")
    .option(
      "--timeout <seconds>",
      "give up when the messages are not delivered within this long (exit 1)",
      String(PRODUCE_TIMEOUT_SECONDS),
    )
    .action(async (opts: ProduceFlags) => done(await produce(opts, options)));

  sub(
    "liveness_probe",
    "exit 0 when the consumer touched its liveness file within liveness_probe_max_interval",
  )
    .option("--pidfile <file>", "accepted for compatibility; not used")
    .action(async () => done(await liveness(options)));

  sub("readiness_probe", "exit 0 when the consumer's readiness file exists (it has partitions)")
    .action(async () => done(await readiness(options)));

  const cluster = (name: string, description: string) =>
    sub(name, description)
      .option("-b, --brokers <host:port,...>", "the brokers (default: from configuration)")
      .option("--timeout <seconds>", "give up on a request after this long", "10");
  cluster("list_topics", "list the topics and their partition counts")
    .option("--all", "include internal topics such as __consumer_offsets")
    .action(async (opts: ClusterFlags & { all?: boolean }) =>
      done(await admin.listTopics(await adminContext(opts, options), opts.all === true))
    );
  cluster("create_topic", "create a topic")
    .argument("<topic>", "the topic name")
    .option("-p, --partitions <n>", "partition count", "1")
    .option("-r, --replication-factor <n>", "replicas per partition (default: the broker's)")
    .option("-c, --config <key=value...>", "a topic setting, e.g. retention.ms=86400000")
    .action(async (topic: string, opts: ClusterFlags & CreateTopicFlags) => {
      const partitions = wholeNumber(opts.partitions, "--partitions", 1);
      const replicationFactor = opts.replicationFactor === undefined
        ? undefined
        : wholeNumber(opts.replicationFactor, "--replication-factor", 1);
      done(
        await admin.createTopic(await adminContext(opts, options), topic, {
          partitions,
          ...(replicationFactor === undefined ? {} : { replicationFactor }),
          config: keyValues(opts.config ?? [], "--config"),
        }),
      );
    });
  cluster("list_groups", "list the consumer groups and their states")
    .action(async (opts: ClusterFlags) =>
      done(await admin.listGroups(await adminContext(opts, options)))
    );
  cluster(
    "describe_group",
    "show a group's members and, per partition, committed offset, end offset and lag",
  )
    .argument("<group>", "the group id")
    .option("-t, --topic <topic...>", "show every partition of these topics")
    .action(async (group: string, opts: ClusterFlags & { topic?: string[] }) =>
      done(await admin.describeGroup(await adminContext(opts, options), group, opts.topic ?? []))
    );
  cluster("reset_offsets", "move a stopped group's committed offsets on one topic")
    .argument("<group>", "the group id")
    .option("-t, --topic <topic>", "the topic")
    .option("-p, --partition <n...>", "only these partitions (default: all)")
    .option("--to-earliest", "the first offset still in the log")
    .option("--to-latest", "the end of the log (skip everything not yet consumed)")
    .option("--to-datetime <time>", "the first message at or after this ISO 8601 time")
    .option("--to-offset <n>", "this offset")
    .action(async (group: string, opts: ClusterFlags & ResetFlags) => {
      if (opts.topic === undefined || opts.topic === "") {
        throw new UsageError("No topic specified: pass --topic <topic>");
      }
      const partitions = (opts.partition ?? []).map((p) => wholeNumber(p, "--partition", 0));
      done(
        await admin.resetOffsets(
          await adminContext(opts, options),
          group,
          opts.topic,
          partitions,
          resetTarget(opts),
        ),
      );
    });
  return program;
}

interface ClusterFlags {
  brokers?: string;
  timeout: string;
}

interface CreateTopicFlags {
  partitions: string;
  replicationFactor?: string;
  config?: string[];
}

interface ResetFlags {
  topic?: string;
  partition?: string[];
  toEarliest?: boolean;
  toLatest?: boolean;
  toDatetime?: string;
  toOffset?: string;
}

function wholeNumber(text: string, flag: string, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || text.trim() === "") {
    throw new UsageError(`Invalid ${flag} "${text}": expected a whole number from ${min}`);
  }
  return value;
}

function keyValues(pairs: readonly string[], flag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new UsageError(`Invalid ${flag} "${pair}": expected key=value`);
    result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return result;
}

function resetTarget(opts: ResetFlags): admin.ResetTarget {
  const given = [
    opts.toEarliest && "--to-earliest",
    opts.toLatest && "--to-latest",
    opts.toDatetime !== undefined && "--to-datetime",
    opts.toOffset !== undefined && "--to-offset",
  ].filter((flag): flag is string => typeof flag === "string");
  if (given.length !== 1) {
    throw new UsageError(
      given.length === 0
        ? "No target specified: pass one of --to-earliest, --to-latest, --to-datetime <time>, " +
          "--to-offset <n>"
        : `Conflicting targets ${given.join(", ")}: pass only one`,
    );
  }
  if (opts.toEarliest) return { to: "earliest" };
  if (opts.toLatest) return { to: "latest" };
  if (opts.toOffset !== undefined) {
    return { to: "offset", offset: wholeNumber(opts.toOffset, "--to-offset", 0) };
  }
  const timestamp = Date.parse(opts.toDatetime!);
  if (Number.isNaN(timestamp)) {
    throw new UsageError(
      `Invalid --to-datetime "${opts.toDatetime}": expected an ISO 8601 time, e.g. ` +
        `2026-12-01T09:30:00Z`,
    );
  }
  return { to: "datetime", timestamp };
}

async function adminContext(opts: ClusterFlags, options: CtlOptions): Promise<admin.AdminContext> {
  const seconds = Number(opts.timeout);
  if (!(seconds > 0)) {
    throw new UsageError(`Invalid --timeout "${opts.timeout}": expected seconds above 0`);
  }
  const dir = options.cwd ?? runtimeCwd();
  const { config } = await loadFullConfig(
    dir,
    true,
    opts.brokers === undefined ? {} : { brokers: opts.brokers },
  );
  return {
    config,
    transport: options.transport ?? await loadDefaultTransport(),
    timeoutMs: seconds * 1000,
  };
}

function requirePidfile(opts: { pidfile?: string }, options: CtlOptions): string {
  if (opts.pidfile === undefined || opts.pidfile === "") {
    throw new UsageError("No pidfile specified: pass --pidfile <file>");
  }
  return resolve(options.cwd ?? runtimeCwd(), opts.pidfile);
}

function status(pidfile: string): number {
  const found = pidStatus(pidfile);
  if (found.state === "corrupt") {
    writeStderr(`Error: ${corruptPidfileMessage(pidfile, found.text)}\n`);
    return ExitCode.FAILURE;
  }
  if (found.state === "running" || found.state === "not-owned") {
    writeStdout(`running (PID = ${found.pid})\n`);
    return ExitCode.OK;
  }
  writeStdout(`${found.state}\n`);
  return ExitCode.FAILURE;
}

async function stop(pidfile: string, timeoutSeconds: number): Promise<number> {
  const found = pidStatus(pidfile);
  if (found.state === "corrupt") {
    writeStderr(
      `Error: Cannot stop Racecar: ${corruptPidfileMessage(pidfile, found.text)}\n`,
    );
    return ExitCode.FAILURE;
  }
  if (found.state !== "running" && found.state !== "not-owned") {
    writeStdout("Racecar is not currently running\n");
    return ExitCode.OK;
  }
  if (!kill(found.pid, "SIGTERM")) {
    writeStderr(`Error: Cannot stop Racecar (PID ${found.pid}): sending SIGTERM failed\n`);
    return ExitCode.FAILURE;
  }
  const deadline = Date.now() + timeoutSeconds * 1000;
  let nextNotice = 0;
  while (true) {
    const now = pidStatus(pidfile);
    const gone = now.state === "exited" || now.state === "dead" || !("pid" in now) ||
      now.pid !== found.pid;
    if (gone) break;
    if (Date.now() >= deadline) {
      writeStderr(
        `Error: Racecar (PID ${found.pid}) did not stop within ${timeoutSeconds} s; it may ` +
          `still be finishing a batch: run stop again, or send SIGTERM twice to force it\n`,
      );
      return ExitCode.FAILURE;
    }
    if (Date.now() >= nextNotice) {
      writeStdout("Waiting for Racecar process to stop...\n");
      nextNotice = Date.now() + 5000;
    }
    await delay(100);
  }
  writeStdout("Racecar stopped\n");
  return ExitCode.OK;
}

/** How long `racecarctl produce` waits for delivery unless --timeout says otherwise. */
export const PRODUCE_TIMEOUT_SECONDS = 30;

interface ProduceFlags {
  brokers?: string;
  topic?: string;
  key?: string;
  value: string[];
  file?: string;
  keyDelimiter?: string;
  header?: string[];
  partition?: string;
  timeout: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function loadFullConfig(
  dir: string,
  validate: boolean,
  flags: FlagValues = {},
): Promise<LoadedConfig> {
  const path = await findCodeConfig(dir);
  const codeConfig = path === undefined ? undefined : await importUserModule(path);
  return await loadConfigWithSources({
    cwd: dir,
    codeConfig,
    ...(path === undefined ? {} : { codeConfigLabel: relative(dir, path) }),
    validate,
    flags,
    onWarning: (message) => writeStderr(`Warning: ${message}\n`),
  });
}

/** The messages to produce: `--value`s, or the lines of `--file`. */
async function produceMessages(
  flags: ProduceFlags,
  dir: string,
): Promise<{ key?: string; value: string }[]> {
  if (flags.file !== undefined && flags.value.length > 0) {
    throw new UsageError("Cannot produce: give message values with --value or --file, not both");
  }
  if (flags.keyDelimiter !== undefined && flags.file === undefined) {
    throw new UsageError("Invalid --key-delimiter: it splits the lines of --file; give --file too");
  }
  if (flags.keyDelimiter === "") throw new UsageError("Invalid --key-delimiter: it is empty");
  const withKey = (value: string) =>
    flags.key === undefined ? { value } : { key: flags.key, value };
  if (flags.file === undefined) {
    if (flags.value.length === 0) {
      throw new UsageError(
        "no message value specified: pass --value <value> (repeatable), or --file <path> " +
          "(- for standard input)",
      );
    }
    return flags.value.map(withKey);
  }
  const path = resolve(dir, flags.file);
  const what = flags.file === "-" ? "standard input" : `--file ${flags.file}`;
  let text: string | undefined;
  try {
    text = flags.file === "-" ? await readStdinText() : await readTextFile(path);
  } catch (error) {
    throw new UsageError(`Cannot read ${what}: ${(error as Error).message}`);
  }
  if (text === undefined) throw new UsageError(`Cannot read ${what}: there is no file ${path}`);
  const lines = text.split(/\r?\n/).filter((line) => line !== "");
  if (lines.length === 0) throw new UsageError(`Cannot produce: ${what} holds no message`);
  const delimiter = flags.keyDelimiter;
  if (delimiter === undefined) return lines.map(withKey);
  return lines.map((line, index) => {
    const at = line.indexOf(delimiter);
    if (at < 0) {
      throw new UsageError(
        `Cannot produce line ${index + 1} of ${what}: expected key${delimiter}value, got ` +
          JSON.stringify(line),
      );
    }
    return { key: line.slice(0, at), value: line.slice(at + delimiter.length) };
  });
}

async function produce(flags: ProduceFlags, options: CtlOptions): Promise<number> {
  if (flags.topic === undefined || flags.topic === "") throw new UsageError("no topic specified");
  const dir = options.cwd ?? runtimeCwd();
  const messages = await produceMessages(flags, dir);
  const headers: Header[] = [];
  for (const header of flags.header ?? []) {
    const at = header.indexOf("=");
    if (at <= 0) {
      throw new UsageError(`Invalid header "${header}": expected name=value`);
    }
    headers.push({
      key: header.slice(0, at),
      value: new TextEncoder().encode(header.slice(at + 1)),
    });
  }
  let partition: number | undefined;
  if (flags.partition !== undefined) {
    partition = Number(flags.partition);
    if (!Number.isInteger(partition) || partition < 0) {
      throw new UsageError(
        `Invalid --partition "${flags.partition}": expected a whole number from 0`,
      );
    }
  }
  const timeoutSeconds = Number(flags.timeout);
  if (!(timeoutSeconds > 0)) {
    throw new UsageError(`Invalid --timeout "${flags.timeout}": expected seconds above 0`);
  }
  const loaded = await loadFullConfig(
    dir,
    true,
    flags.brokers === undefined ? {} : { brokers: flags.brokers },
  );
  // Delivery gives up within --timeout, not after 'message_timeout' (5 minutes).
  const config = {
    ...loaded.config,
    messageTimeout: Math.min(loaded.config.messageTimeout, timeoutSeconds),
  };
  const brokers = config.brokers.join(",");
  const transport = options.transport ?? await loadDefaultTransport();
  // Wrong credentials, an untrusted CA or no reachable broker are reported
  // here, long before a delivery would time out.
  let failFast: (error: Error) => void = () => {};
  const setupFailed = new Promise<never>((_, reject) => failFast = reject);
  setupFailed.catch(() => {});
  let lastTransportError = "";
  let raw;
  try {
    raw = transport.createProducer({
      config: producerConfig(config),
      onError: (error) => {
        const creation = clientCreationFailure(error);
        if (creation !== undefined) return failFast(creation);
        const explained = explainClientError(error, config);
        if (explained !== undefined) return failFast(explained);
        if (!(error instanceof KafkaError)) return;
        if (error.errno === ErrorCode.TRANSPORT) lastTransportError = error.message;
        // node-rdkafka reports a refused connection as a transport failure only.
        const alone = config.brokers.length === 1 && error.errno === ErrorCode.TRANSPORT;
        if (error.errno === ErrorCode.ALL_BROKERS_DOWN || alone) {
          failFast(
            new Error(
              `Cannot produce to "${flags.topic}": no broker reachable at ${brokers} (librdkafka: ${
                lastTransportError || error.message
              })`,
            ),
          );
        }
      },
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw await explainClientConfigError(error, { config, sources: loaded.sources });
  }
  const producer = new Producer(raw, {
    clientId: config.clientId,
    partitioner: config.partitioner,
    messageTimeoutMs: config.messageTimeout * 1000,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Error(
          `Cannot produce to "${flags.topic}": not delivered within ${timeoutSeconds} s; check ` +
            `that a broker is reachable at ${brokers} (or raise --timeout)${
              lastTransportError === "" ? "" : ` (librdkafka: ${lastTransportError})`
            }`,
        ),
      );
    }, timeoutSeconds * 1000);
  });
  timedOut.catch(() => {});
  let failed = false;
  try {
    const reports = await Promise.race([
      Promise.all(messages.map((message) =>
        producer.produceSync(message.value, {
          topic: flags.topic!,
          ...(message.key === undefined ? {} : { key: message.key }),
          ...(partition === undefined ? {} : { partition }),
          headers,
        })
      )),
      setupFailed,
      timedOut,
    ]);
    writeStderr(
      reports.length === 1
        ? "=> Delivered message to Kafka cluster\n"
        : `=> Delivered ${reports.length} messages to Kafka cluster\n`,
    );
    for (const report of reports) {
      writeStdout(`${topicPartitionKey(report.topic, report.partition)}@${report.offset}\n`);
    }
    return ExitCode.OK;
  } catch (error) {
    failed = true;
    if (error instanceof ConfigError) {
      throw await explainClientConfigError(error, { config, sources: loaded.sources });
    }
    const message = error instanceof KafkaError || error instanceof Error
      ? error.message
      : String(error);
    writeStderr(`Error: ${message}\n`);
    return ExitCode.FAILURE;
  } finally {
    clearTimeout(timer);
    // After a failure nothing queued can be delivered: do not wait for it.
    await producer.close(failed ? 0 : 30_000).catch(() => {});
  }
}

/** Env and defaults first: `liveness_probe_skip_config_files` decides whether files are read. */
async function probeConfig(options: CtlOptions): Promise<RacecarConfig> {
  const fromEnv = await loadConfig({ skipFiles: true, validate: false });
  if (fromEnv.livenessProbeSkipConfigFiles) return fromEnv;
  return (await loadFullConfig(options.cwd ?? runtimeCwd(), false)).config;
}

async function liveness(options: CtlOptions): Promise<number> {
  const config = await probeConfig(options);
  const result = await checkLiveness(config.livenessProbeFilePath, config.livenessProbeMaxInterval);
  if (result.alive) return ExitCode.OK;
  writeStderr(`${result.message}\n`);
  return ExitCode.FAILURE;
}

async function readiness(options: CtlOptions): Promise<number> {
  const config = await probeConfig(options);
  const path = config.readinessProbeFilePath;
  if (path === undefined) {
    throw new UsageError(
      "Cannot check readiness: 'readiness_probe_file_path' is not set; set " +
        "RACECAR_READINESS_PROBE_FILE_PATH for the consumer and for this probe",
    );
  }
  if ((await modifiedAt(path)) !== undefined) return ExitCode.OK;
  writeStderr(`Racecar readiness check failed: Readiness file not found \`${path}\`\n`);
  return ExitCode.FAILURE;
}
