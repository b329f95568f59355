// The command line of scripts/kafka.ts: argument parsing, output and exit codes. The work is
// done by the functions scripts/kafka.ts exports.

import {
  brokerPaths,
  brokerReady,
  brokerStatus,
  createTopic,
  type CreateTopicOptions,
  type LocalKafkaOptions,
  startBroker,
  stopBroker,
  tail,
} from "../kafka.ts";
import { KafkaScriptError } from "./_errors.ts";
import { readPom } from "./_jars.ts";

const USAGE = `Usage: deno run -A scripts/kafka.ts <command> [options]

Runs a local single-node Kafka (KRaft) broker on 127.0.0.1 from Maven Central jars.

Commands:
  up                           start a broker (or reuse one that answers) and wait until ready
  down                         stop the broker this script started (SIGTERM, SIGKILL after 20 s)
  status                       say whether a broker answers (exit 0) or not (exit 3)
  logs [-n N] [-f]             print the last N lines (default 50) of broker.log; -f follows it
  create-topic <name> [--partitions N]
                               create a topic with Kafka's TopicCommand (if it does not exist)

Options:
  --port N                     client port (env RACECAR_KAFKA_PORT, default 9092)
  --controller-port N          controller port (default: port + 1)
  -h, --help                   show this help

Environment:
  RACECAR_BROKERS              use this external cluster: up/down do nothing
  RACECAR_KAFKA_HOME           cache dir (default \${XDG_CACHE_HOME:-$HOME/.cache}/racecar)

Needs java 17+ and, to fetch the jars once, mvn: apt-get install maven openjdk-17-jre-headless`;

interface ParsedArgs {
  command: string | undefined;
  positional: string[];
  port: number | undefined;
  controllerPort: number | undefined;
  partitions: number | undefined;
  lines: number | undefined;
  follow: boolean;
  help: boolean;
}

class UsageError extends Error {
  override name = "UsageError";
}

function parseArgs(args: string[]): ParsedArgs {
  const parsed: ParsedArgs = {
    command: undefined,
    positional: [],
    port: undefined,
    controllerPort: undefined,
    partitions: undefined,
    lines: undefined,
    follow: false,
    help: false,
  };
  const numeric = (flag: string, raw: string | undefined): number => {
    const value = Number(raw);
    if (raw === undefined || raw === "" || !Number.isInteger(value)) {
      throw new UsageError(`Cannot parse ${flag}: expected an integer, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => (eq > 0 ? arg.slice(eq + 1) : args[++i]);
    switch (flag) {
      case "-h":
      case "--help":
        parsed.help = true;
        break;
      case "--port":
        parsed.port = numeric(flag, value());
        break;
      case "--controller-port":
        parsed.controllerPort = numeric(flag, value());
        break;
      case "--partitions":
        parsed.partitions = numeric(flag, value());
        break;
      case "-n":
      case "--lines":
        parsed.lines = numeric(flag, value());
        break;
      case "-f":
      case "--follow":
        parsed.follow = true;
        break;
      default:
        if (arg.startsWith("-")) throw new UsageError(`Unknown option ${JSON.stringify(arg)}`);
        if (parsed.command === undefined) parsed.command = arg;
        else parsed.positional.push(arg);
    }
  }
  return parsed;
}

/** Runs the CLI with `args` and returns the exit code (see `main` in scripts/kafka.ts). */
export async function runCli(args: string[]): Promise<number> {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(args);
    if (parsed.help) {
      console.log(USAGE);
      return 0;
    }
    const known = ["up", "down", "status", "logs", "create-topic"];
    if (parsed.command === undefined) throw new UsageError("Missing command");
    if (!known.includes(parsed.command)) {
      throw new UsageError(
        `Unknown command ${JSON.stringify(parsed.command)}: expected one of ${known.join(", ")}`,
      );
    }
    if (
      parsed.command === "create-topic" ? parsed.positional.length !== 1 : parsed.positional.length
    ) {
      throw new UsageError(`Unexpected arguments for ${parsed.command}: ${parsed.positional}`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return 2;
  }

  const options: LocalKafkaOptions = {};
  if (parsed.port !== undefined) options.port = parsed.port;
  if (parsed.controllerPort !== undefined) options.controllerPort = parsed.controllerPort;
  const external = Deno.env.get("RACECAR_BROKERS");

  try {
    switch (parsed.command) {
      case "up":
        if (external) {
          console.log(
            `RACECAR_BROKERS is set (${external}): using that external cluster, ` +
              `not starting a local broker`,
          );
          return 0;
        }
        await startBroker(options);
        return 0;
      case "down":
        if (external) {
          console.log(
            `RACECAR_BROKERS is set (${external}): the external cluster is used, nothing to stop`,
          );
          return 0;
        }
        await stopBroker(options.port, options);
        return 0;
      case "status":
        return await statusCommand(options, external);
      case "logs":
        return await logsCommand(options, parsed.lines ?? 50, parsed.follow);
      case "create-topic": {
        const topicOptions: CreateTopicOptions = {};
        if (options.port !== undefined) topicOptions.port = options.port;
        if (parsed.partitions !== undefined) topicOptions.partitions = parsed.partitions;
        await createTopic(parsed.positional[0]!, topicOptions);
        return 0;
      }
    }
    return 2;
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof KafkaScriptError) {
      console.error(error.message);
      for (const line of error.details) console.error(line);
      return error.exitCode;
    }
    throw error;
  }
}

async function statusCommand(options: LocalKafkaOptions, external: string | undefined) {
  if (external) {
    let answering = 0;
    const entries = external.split(",").map((entry) => entry.trim()).filter(Boolean);
    for (const entry of entries) {
      const at = entry.lastIndexOf(":");
      const host = entry.slice(0, at).replace(/^\[|\]$/g, "");
      const ok = at > 0 && await brokerReady(host, Number(entry.slice(at + 1)));
      console.log(`${entry}: ${ok ? "answers" : "does not answer"} (from RACECAR_BROKERS)`);
      if (ok) answering++;
    }
    return answering > 0 ? 0 : 3;
  }
  const status = await brokerStatus(options.port, options);
  if (status.answering && status.pid) {
    const { version } = await readPom();
    console.log(
      `Kafka ${version} running on ${status.brokers} (pid ${status.pid}, started by this script; ` +
        `${status.apiCount} APIs; log: ${status.logFile})`,
    );
    return 0;
  }
  if (status.answering) {
    console.log(
      `A Kafka broker runs on ${status.brokers} (${status.apiCount} APIs), not started by this script`,
    );
    return 0;
  }
  if (status.pid) {
    console.log(
      `Kafka process ${status.pid} is alive but does not answer on ${status.brokers} ` +
        `(starting or stuck; log: ${status.logFile})`,
    );
    return 3;
  }
  console.log(`No Kafka broker answers on ${status.brokers}`);
  return 3;
}

async function logsCommand(options: LocalKafkaOptions, lines: number, follow: boolean) {
  const { logFile } = brokerPaths(options.port, options);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(logFile, { read: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.error(`No broker log at ${logFile}: start a broker with 'deno task kafka:up'`);
    return 1;
  }
  try {
    for (const line of await tail(logFile, lines)) console.log(line);
    if (!follow) return 0;
    // Follow by polling the size: portable, and a log line every few seconds needs no more.
    let offset = (await file.stat()).size;
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      const size = (await Deno.stat(logFile)).size;
      if (size < offset) offset = 0; // a new 'up' rewrote the log
      if (size > offset) {
        await file.seek(offset, Deno.SeekMode.Start);
        const n = await file.read(buffer);
        if (n) {
          await Deno.stdout.write(buffer.subarray(0, n));
          offset += n;
          continue;
        }
      }
      await new Promise((done) => setTimeout(done, 500));
    }
  } finally {
    file.close();
  }
}
