/**
 * `racecar MyConsumer`: load the class and the configuration, connect, run
 * until a signal asks to stop, and report how it ended as an exit code.
 *
 * @module
 */

import { pathToFileURL } from "node:url";
import {
  CONFIG_DUMP_SIGNAL,
  cwd as runtimeCwd,
  exit,
  onSignal,
  processState,
  runtimeDescription,
  writeStderr,
} from "../_runtime.ts";
import {
  consumerConfig,
  findCodeConfig,
  type FlagValues,
  inspectConfig,
  loadConfig,
  producerConfig,
  type RacecarConfig,
} from "../config/mod.ts";
import { type ConsumerClass, defaultGroupId } from "../consumer.ts";
import { show } from "../config/decode.ts";
import { groupInstanceIdProblem } from "../config/validate.ts";
import { ConfigError } from "../errors.ts";
import { Instrumenter } from "../events.ts";
import { loadDefaultTransport } from "../kafka/default_transport.ts";
import type { Transport } from "../kafka/transport.ts";
import { installLivenessProbe, installReadinessProbe } from "../probes.ts";
import { Runner, type RunnerSettings } from "../runner.ts";
import { describeCrash, ExitCode, isUsageError, UsageError } from "./_exit.ts";
import { type ConnectionSetupError, explainClientError } from "./_explain.ts";
import { setUpLogging } from "./_logging.ts";
import { claimPidfile, DaemonError, isDaemonChild, pidfilePath, startDaemon } from "./daemon.ts";
import { loadConsumerClass } from "./load_consumer.ts";
import {
  supervise,
  supervisorPid,
  workerFile,
  workerGroupInstanceId,
  workerNumber,
} from "./supervisor.ts";

/** What `racecar` was asked to do. */
export interface RunCommandOptions {
  /** Consumer class name or module path. */
  consumer: string;
  /** Setting flags, keyed by camelCase setting name. */
  flags: FlagValues;
  /** Modules to import before looking for the class. */
  requires?: readonly string[];
  /** The working directory. @default the process's */
  cwd?: string;
  /** The Kafka adapter; the runtime's default when omitted. */
  transport?: Transport;
  /** Extra event subscribers (metrics, tests). */
  instrumenter?: Instrumenter;
}

/** Everything resolved before the runner starts, for the banner and for tests. */
export interface PreparedRun {
  /** The consumer class. */
  consumerClass: ConsumerClass;
  /** The effective configuration. */
  config: RacecarConfig;
  /** The runner, ready to run. */
  runner: Runner;
  /** The adapter it uses. */
  transport: Transport;
}

async function importCodeConfig(dir: string): Promise<unknown> {
  const path = await findCodeConfig(dir);
  return path === undefined ? undefined : await import(pathToFileURL(path).href);
}

/** Turns the configuration into the runner's settings. */
export function runnerSettings(config: RacecarConfig, groupId: string): RunnerSettings {
  return {
    clientId: config.clientId,
    groupId,
    fetchMessages: config.fetchMessages,
    maxWaitTime: config.maxWaitTime,
    pauseTimeout: config.pauseTimeout,
    maxPauseTimeout: config.maxPauseTimeout,
    pauseWithExponentialBackoff: config.pauseWithExponentialBackoff,
    maxRetries: config.maxRetries,
    deadLetterTopic: config.deadLetterTopic,
    ...(config.deadLetterSafetyLimit === 0
      ? { deadLetterSafetyLimit: Number.MAX_SAFE_INTEGER }
      : { deadLetterSafetyLimit: config.deadLetterSafetyLimit }),
    concurrency: config.concurrency,
    synchronousCommits: config.synchronousCommits,
    revokeTimeout: config.revokeTimeout,
    shutdownTimeout: config.shutdownTimeout,
    logSummaryInterval: config.logSummaryInterval,
    ...(config.onError === undefined ? {} : { onError: config.onError }),
  };
}

/**
 * One librdkafka consumer serves every subscription of a class, so the
 * per-subscription options must agree; the fetch size takes the largest.
 */
export function mergedSubscription(consumerClass: ConsumerClass) {
  const subscriptions = consumerClass.subscriptions;
  const first = subscriptions[0]!;
  const differing = subscriptions.find((s) => s.startFromBeginning !== first.startFromBeginning);
  if (differing !== undefined) {
    throw new ConfigError(
      `Cannot run ${consumerClass.name}: topics "${first.topic}" and "${differing.topic}" ask for ` +
        `different 'startFromBeginning' values, but one consumer reads all of a class's topics; ` +
        `use the same value, or split them into two consumer classes`,
      { key: "startFromBeginning" },
    );
  }
  const additionalConfig: Record<string, string> = {};
  for (const subscription of subscriptions) {
    for (const [key, value] of Object.entries(subscription.additionalConfig)) {
      if (key in additionalConfig && additionalConfig[key] !== value) {
        throw new ConfigError(
          `Cannot run ${consumerClass.name}: topic "${subscription.topic}" sets additionalConfig ` +
            `"${key}" to "${value}", another topic to "${additionalConfig[key]}"; one consumer ` +
            `reads all of a class's topics, so they must agree`,
          { key: "additionalConfig" },
        );
      }
      additionalConfig[key] = value;
    }
  }
  return {
    topic: first.topic,
    startFromBeginning: first.startFromBeginning,
    maxBytesPerPartition: Math.max(...subscriptions.map((s) => s.maxBytesPerPartition)),
    additionalConfig,
  };
}

/** Loads class and configuration and builds the runner (nothing connects yet). */
export async function prepareRun(options: RunCommandOptions): Promise<PreparedRun> {
  const dir = options.cwd ?? runtimeCwd();
  const codeConfig = await importCodeConfig(dir);
  // A first pass finds the consumers directory; the class's own settings come next.
  const early = await loadConfig({ flags: options.flags, cwd: dir, codeConfig, validate: false });
  const consumerClass = await loadConsumerClass(options.consumer, {
    cwd: dir,
    requires: options.requires ?? [],
    consumersDir: early.consumersDir,
  });
  const classSettings: Record<string, unknown> = {};
  for (const name of ["groupId", "maxWaitTime", "fetchMessages", "concurrency"] as const) {
    if (consumerClass[name] !== undefined) classSettings[name] = consumerClass[name];
  }
  const config = await loadConfig({
    flags: options.flags,
    cwd: dir,
    codeConfig,
    classSettings,
    className: consumerClass.name,
  });
  const groupId = config.groupId ?? defaultGroupId(consumerClass.name, config.groupIdPrefix ?? "");
  const effective: RacecarConfig = {
    ...config,
    groupId,
    groupInstanceId: staticMemberId(config.groupInstanceId, consumerClass.parallelWorkers),
  };
  if (consumerClass.subscriptions.length === 0) {
    throw new ConfigError(
      `Cannot run ${consumerClass.name}: it subscribes to no topic; call ` +
        `this.subscribesTo("topic") in a static block of the class`,
    );
  }
  const consumer = new (consumerClass as unknown as new () => InstanceType<ConsumerClass>)();
  const statistics = typeof consumer.statisticsCallback === "function" ||
    effective.prometheusEnabled || effective.tracingEnabled;
  const transport = options.transport ?? await loadDefaultTransport();
  const runner = new Runner({
    consumer,
    transport,
    consumerConfig: consumerConfig(effective, mergedSubscription(consumerClass), { statistics }),
    producerConfig: producerConfig(effective),
    settings: runnerSettings(effective, groupId),
    instrumenter: options.instrumenter ?? new Instrumenter(),
  });
  return { consumerClass, config: effective, runner, transport };
}

/**
 * This process's `group.instance.id`: the configured one, or a parallel
 * worker's own. A supervisor checks that its workers' ids will be valid, so a
 * too long id stops it with a configuration error instead of a crash loop.
 */
function staticMemberId(base: string | undefined, workers: unknown): string | undefined {
  if (base === undefined) return undefined;
  const worker = workerNumber();
  if (worker !== undefined) return workerGroupInstanceId(base, worker);
  if (typeof workers === "number" && Number.isInteger(workers) && workers > 1) {
    const longest = workerGroupInstanceId(base, workers);
    const problem = groupInstanceIdProblem(longest);
    if (problem !== undefined) {
      throw new ConfigError(
        `Invalid configuration 'group_instance_id': with ${workers} parallel workers it ` +
          `becomes ${show(longest)} for the last one, which ${problem}`,
        { key: "groupInstanceId" },
      );
    }
  }
  return base;
}

/** Runs `racecar <consumer>`; resolves with the exit code. */
export async function runCommand(options: RunCommandOptions): Promise<number> {
  let prepared: PreparedRun;
  try {
    prepared = await prepareRun(options);
  } catch (error) {
    if (isUsageError(error)) {
      writeStderr(`Error: ${(error as Error).message}\n`);
      return ExitCode.USAGE;
    }
    writeStderr(describeCrash(error) + "\n");
    return ExitCode.FAILURE;
  }
  const { consumerClass, config } = prepared;
  const dir = options.cwd ?? runtimeCwd();
  const say = (line: string) => writeStderr(`=> ${line}\n`);
  const worker = workerNumber();
  const workers = consumerClass.parallelWorkers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) {
    writeStderr(
      `Error: ${
        new UsageError(
          `Cannot run ${consumerClass.name}: 'parallelWorkers' must be a whole number of at ` +
            `least 1, got ${JSON.stringify(workers)}`,
        ).message
      }\n`,
    );
    return ExitCode.USAGE;
  }

  // --daemonize: the foreground half starts the background half and ends here.
  let releasePidfile: (() => void) | undefined;
  if (config.daemonize && worker === undefined) {
    const pidfile = pidfilePath(config.pidfile, config.groupId!, dir);
    try {
      if (!isDaemonChild()) {
        const child = await startDaemon({ pidfile, logfile: config.logfile, cwd: dir, say });
        say(`Racecar ${consumerClass.name} runs in the background with process id ${child}`);
        return ExitCode.OK;
      }
      releasePidfile = claimPidfile(pidfile);
    } catch (error) {
      if (!(error instanceof DaemonError)) throw error;
      say(error.message);
      return ExitCode.FAILURE;
    }
  }
  try {
    return await runInForeground(prepared, { say, worker, workers, dir });
  } finally {
    releasePidfile?.();
  }
}

async function runInForeground(
  prepared: PreparedRun,
  context: {
    say: (line: string) => void;
    worker: number | undefined;
    workers: number;
    dir: string;
  },
): Promise<number> {
  const { consumerClass, runner, transport } = prepared;
  const { say, worker, workers } = context;
  // A worker keeps its own probe files; its supervisor aggregates them.
  const config: RacecarConfig = worker === undefined ? prepared.config : {
    ...prepared.config,
    livenessProbeFilePath: workerFile(prepared.config.livenessProbeFilePath, worker),
    ...(prepared.config.readinessProbeFilePath === undefined ? {} : {
      readinessProbeFilePath: workerFile(prepared.config.readinessProbeFilePath, worker),
    }),
  };
  await setUpLogging({
    level: config.logLevel,
    logfile: config.logfile,
    format: config.logFormat,
    librdkafkaLevel: config.librdkafkaLogLevel,
  });

  say(`Starting Racecar consumer ${consumerClass.name}...`);
  say(
    `Group ${config.groupId}, brokers ${config.brokers.join(",")}, ${runtimeDescription()}, ` +
      `librdkafka ${transport.librdkafkaVersion} (${transport.name})`,
  );
  if (config.logfile !== undefined) say(`Logging to ${config.logfile}`);

  if (workers > 1 && worker === undefined) {
    say("Wrooooom!");
    if (!config.daemonize) say("Ctrl-C to shutdown consumer");
    if (config.livenessProbeEnabled) say("Liveness probe enabled (aggregated over the workers)");
    return await supervise({
      workers,
      cwd: context.dir,
      say,
      ...(config.livenessProbeEnabled
        ? {
          liveness: {
            filePath: config.livenessProbeFilePath,
            maxIntervalSeconds: config.livenessProbeMaxInterval,
          },
        }
        : {}),
      readinessFilePath: config.readinessProbeFilePath,
      onConfigDump: () => writeStderr(`${inspectConfig(config)}\n`),
    });
  }
  if (worker !== undefined) say(`Worker ${worker} of ${workers}`);
  if (config.groupInstanceId !== undefined) {
    say(`Static member ${config.groupInstanceId} (group.instance.id)`);
  }

  const probes = [];
  try {
    if (config.livenessProbeEnabled) {
      probes.push(installLivenessProbe(runner.events, config.livenessProbeFilePath));
      say("Liveness probe enabled");
    }
    if (config.readinessProbeFilePath !== undefined) {
      probes.push(installReadinessProbe(runner.events, config.readinessProbeFilePath));
      say("Readiness probe enabled");
    }
  } catch (error) {
    writeStderr(`Error: ${(error as Error).message}\n`);
    return ExitCode.USAGE;
  }
  // Loaded only when enabled, so consumers without metrics never load the libraries.
  let metrics: { close(): Promise<void> } | undefined;
  if (config.datadogEnabled || config.prometheusEnabled || config.tracingEnabled) {
    try {
      const { installMetrics } = await import("../metrics/mod.ts");
      metrics = await installMetrics(runner.events, config);
      if (config.prometheusEnabled) {
        say(
          `Prometheus metrics on http://${config.prometheusHost}:${config.prometheusPort}/metrics`,
        );
      }
      if (config.datadogEnabled) say("Datadog metrics enabled");
      if (config.tracingEnabled) say("OpenTelemetry tracing and metrics enabled");
    } catch (error) {
      writeStderr(`Error: Cannot start metrics: ${(error as Error).message}\n`);
      for (const probe of probes) probe.uninstall();
      return isUsageError(error) ? ExitCode.USAGE : ExitCode.FAILURE;
    }
  }

  let signals = 0;
  const stop = (name: string) => () => {
    signals += 1;
    if (signals === 1) {
      say(`${name} received: finishing in-flight work, then stopping (send it again to force)`);
      runner.stop();
    } else {
      say(`${name} received again: exiting now; work since the last commit will be redelivered`);
      // Skip the graceful path; offsets not committed are simply consumed again.
      exit(ExitCode.FAILURE);
    }
  };
  const removers = [
    onSignal("SIGTERM", stop("SIGTERM")),
    onSignal("SIGINT", stop("SIGINT")),
    onSignal("SIGQUIT", stop("SIGQUIT")),
    onSignal(CONFIG_DUMP_SIGNAL, () => writeStderr(`${inspectConfig(config)}\n`)),
  ];
  // Wrong credentials or an untrusted certificate: librdkafka would retry forever.
  let setupError: ConnectionSetupError | undefined;
  const offError = runner.events.on("error", ({ error }) => {
    if (setupError !== undefined) return;
    setupError = explainClientError(error, config);
    if (setupError !== undefined) runner.stop();
  });
  removers.push(offError);
  // A worker whose supervisor is gone (killed with SIGKILL) stops by itself.
  const supervisor = worker === undefined ? undefined : supervisorPid();
  if (supervisor !== undefined) {
    const watch = setInterval(() => {
      if (processState(supervisor) !== "gone") return;
      say(`Supervisor (process id ${supervisor}) is gone: stopping worker ${worker}`);
      runner.stop();
      clearInterval(watch);
    }, 1000);
    removers.push(() => clearInterval(watch));
  }
  say("Wrooooom!");
  if (!config.daemonize) say("Ctrl-C to shutdown consumer");
  try {
    await runner.run();
    if (setupError !== undefined) {
      writeStderr(describeCrash(setupError) + "\n");
      return ExitCode.FAILURE;
    }
    say(`${consumerClass.name} stopped`);
    return ExitCode.OK;
  } catch (error) {
    writeStderr(describeCrash(error) + "\n");
    return ExitCode.FAILURE;
  } finally {
    for (const remove of removers) remove();
    for (const probe of probes) probe.uninstall();
    await metrics?.close().catch(() => {});
  }
}
