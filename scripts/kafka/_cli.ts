// The command line of scripts/kafka.ts: arguments (commander), output and exit codes. The work is
// done by the library, scripts/kafka/mod.ts.

import { Command, CommanderError, InvalidArgumentError } from "commander";
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
} from "./mod.ts";
import { KafkaScriptError } from "./_errors.ts";
import { readPom } from "./_jars.ts";

const COMMANDS = ["up", "down", "status", "logs", "create-topic"] as const;

const HELP_AFTER = `
Environment:
  RACECAR_KAFKA_PORT           client port when --port is not given (default 9092)
  RACECAR_BROKERS              use this external cluster: up/down do nothing
  RACECAR_KAFKA_HOME           cache dir (default \${XDG_CACHE_HOME:-$HOME/.cache}/racecar)

Needs java 17+ and, to fetch the jars once, mvn: apt-get install maven openjdk-17-jre-headless`;

/** The options every command takes. */
interface GlobalOptions {
  port?: number;
  controllerPort?: number;
}

function integer(raw: string): number {
  const value = Number(raw);
  if (raw === "" || !Number.isInteger(value)) {
    throw new InvalidArgumentError(`expected an integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function write(stream: "out" | "err"): (text: string) => void {
  return (text) =>
    (stream === "out" ? Deno.stdout : Deno.stderr).writeSync(new TextEncoder().encode(text));
}

/** The program; `run` receives each command's work, which returns the exit code. */
function program(run: (work: () => Promise<number>) => void): Command {
  const root = new Command("deno run -A scripts/kafka.ts")
    .usage("<command> [options]")
    .description(
      "Runs a local single-node Kafka (KRaft) broker on 127.0.0.1 from Maven Central jars.",
    )
    .option("--port <N>", "client port (env RACECAR_KAFKA_PORT, default 9092)", integer)
    .option("--controller-port <N>", "controller port (default: port + 1)", integer)
    .addHelpText("after", HELP_AFTER)
    .configureOutput({ writeOut: write("out"), writeErr: write("err") })
    .showHelpAfterError("(run deno run -A scripts/kafka.ts --help for the commands)")
    .exitOverride();
  const command = (name: (typeof COMMANDS)[number], description: string) =>
    root.command(name).description(description).exitOverride().configureOutput({
      writeOut: write("out"),
      writeErr: write("err"),
    });
  const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

  command("up", "start a broker (or reuse one that answers) and wait until ready")
    .action((_opts, cmd: Command) => run(() => up(globals(cmd))));
  command("down", "stop the broker this script started (SIGTERM, SIGKILL after 20 s)")
    .action((_opts, cmd: Command) => run(() => down(globals(cmd))));
  command("status", "say whether a broker answers (exit 0) or not (exit 3)")
    .action((_opts, cmd: Command) => run(() => statusCommand(localOptions(globals(cmd)))));
  command("logs", "print the last N lines of broker.log; -f follows it")
    .option("-n, --lines <N>", "how many lines", integer, 50)
    .option("-f, --follow", "keep printing what the broker logs")
    .action((opts: { lines: number; follow?: boolean }, cmd: Command) =>
      run(() => logsCommand(localOptions(globals(cmd)), opts.lines, opts.follow === true))
    );
  command("create-topic", "create a topic with Kafka's TopicCommand (if it does not exist)")
    .argument("<name>", "the topic")
    .option("--partitions <N>", "how many partitions", integer)
    .action((name: string, opts: { partitions?: number }, cmd: Command) =>
      run(async () => {
        const topicOptions: CreateTopicOptions = {};
        const { port } = globals(cmd);
        if (port !== undefined) topicOptions.port = port;
        if (opts.partitions !== undefined) topicOptions.partitions = opts.partitions;
        await createTopic(name, topicOptions);
        return 0;
      })
    );
  return root;
}

function localOptions(global: GlobalOptions): LocalKafkaOptions {
  const options: LocalKafkaOptions = {};
  if (global.port !== undefined) options.port = global.port;
  if (global.controllerPort !== undefined) options.controllerPort = global.controllerPort;
  return options;
}

async function up(global: GlobalOptions): Promise<number> {
  const external = Deno.env.get("RACECAR_BROKERS");
  if (external) {
    console.log(
      `RACECAR_BROKERS is set (${external}): using that external cluster, ` +
        `not starting a local broker`,
    );
    return 0;
  }
  await startBroker(localOptions(global));
  return 0;
}

async function down(global: GlobalOptions): Promise<number> {
  const external = Deno.env.get("RACECAR_BROKERS");
  if (external) {
    console.log(
      `RACECAR_BROKERS is set (${external}): the external cluster is used, nothing to stop`,
    );
    return 0;
  }
  const options = localOptions(global);
  await stopBroker(options.port, options);
  return 0;
}

/**
 * Runs the CLI with `args` and returns the exit code: 0 success, 1 failure, 2 usage error or
 * missing tool, 3 for `status` when no broker answers.
 */
export async function runCli(args: string[]): Promise<number> {
  if (args.length === 0) {
    write("err")("Missing command: expected one of " + COMMANDS.join(", ") + "\n");
    return 2;
  }
  const first = args[0]!;
  if (
    !first.startsWith("-") && first !== "help" && !(COMMANDS as readonly string[]).includes(first)
  ) {
    write("err")(
      `Unknown command ${JSON.stringify(first)}: expected one of ${COMMANDS.join(", ")}\n\n`,
    );
    program(() => {}).outputHelp({ error: true });
    return 2;
  }
  let work: (() => Promise<number>) | undefined;
  const root = program((chosen) => work = chosen);
  try {
    await root.parseAsync(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  if (work === undefined) {
    root.outputHelp({ error: true });
    return 2;
  }
  try {
    return await work();
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

async function statusCommand(options: LocalKafkaOptions): Promise<number> {
  const external = Deno.env.get("RACECAR_BROKERS");
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

async function logsCommand(
  options: LocalKafkaOptions,
  lines: number,
  follow: boolean,
): Promise<number> {
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
