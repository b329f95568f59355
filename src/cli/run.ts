/**
 * `racecar MyConsumer`: load the class and the configuration, connect, run
 * until a signal asks to stop, and report how it ended as an exit code.
 *
 * @module
 */

import { relative, resolve } from "node:path";
import { cwd as runtimeCwd, runtimeDescription, writeStderr } from "../_runtime.ts";
import { CONFIG_DUMP_SIGNAL, exit, onSignal, processState } from "./_process.ts";
import { classSettings, createRunner, groupIdOf, mergedSubscription } from "../assembly.ts";
import {
  findCodeConfig,
  type FlagValues,
  inspectConfig,
  loadConfigWithSources,
  type RacecarConfig,
  type SourceMap,
  withClassSettings,
} from "../config/mod.ts";
import type { ConsumerClass } from "../consumer.ts";
import { show } from "../config/decode.ts";
import { groupInstanceIdProblem } from "../config/validate.ts";
import { ConfigError } from "../errors.ts";
import { Instrumenter } from "../events.ts";
import { loadDefaultTransport } from "../kafka/default_transport.ts";
import type { Transport } from "../kafka/transport.ts";
import { installLivenessProbe, installReadinessProbe } from "../probes.ts";
import type { Runner } from "../runner.ts";
import { describeCrash, ExitCode, isUsageError, UsageError } from "./_exit.ts";
import {
  clientCreationFailure,
  type ConnectionSetupError,
  explainClientConfigError,
  explainClientError,
} from "./_explain.ts";
import { setUpLogging } from "./_logging.ts";
import { checkAppendable, checkCreatable } from "./_writable.ts";
import { claimPidfile, DaemonError, isDaemonChild, pidfilePath, startDaemon } from "./daemon.ts";
import { importUserModule, loadConsumerClass } from "./load_consumer.ts";
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
  /** Where each setting came from, and the subscription's own properties, for messages. */
  origins: {
    sources: SourceMap;
    additionalConfig: Record<string, string | number | boolean> | undefined;
  };
}

async function importCodeConfig(
  dir: string,
): Promise<{ codeConfig?: unknown; codeConfigLabel?: string }> {
  const path = await findCodeConfig(dir);
  if (path === undefined) return {};
  return { codeConfig: await importUserModule(path), codeConfigLabel: relative(dir, path) };
}

/**
 * Loads class and configuration and builds the runner (nothing connects yet).
 * The files say where consumers live, so they are read (and
 * `config/racecar.ts` is run) once, before the class is known; the class's
 * own settings then go under them.
 */
export async function prepareRun(options: RunCommandOptions): Promise<PreparedRun> {
  const dir = options.cwd ?? runtimeCwd();
  const code = await importCodeConfig(dir);
  const loaded = await loadConfigWithSources({
    flags: options.flags,
    cwd: dir,
    ...code,
    validate: false,
    onWarning: (message) => writeStderr(`Warning: ${message}\n`),
  });
  const consumerClass = await loadConsumerClass(options.consumer, {
    cwd: dir,
    requires: options.requires ?? [],
    consumersDir: loaded.config.consumersDir,
  });
  const { config, sources } = withClassSettings(
    loaded,
    classSettings(consumerClass),
    consumerClass.name,
  );
  const effective: RacecarConfig = {
    ...config,
    groupId: groupIdOf(config, consumerClass),
    groupInstanceId: staticMemberId(config.groupInstanceId, consumerClass.parallelWorkers),
    transactionalId: workerTransactionalId(
      config.transactionalId ?? groupIdOf(config, consumerClass),
    ),
  };
  const consumer = new (consumerClass as unknown as new () => InstanceType<ConsumerClass>)();
  const transport = options.transport ?? await loadDefaultTransport();
  const runner = await createRunner(consumer, effective, {
    transport,
    instrumenter: options.instrumenter ?? new Instrumenter(),
  });
  return {
    consumerClass,
    config: effective,
    runner,
    transport,
    origins: { sources, additionalConfig: mergedSubscription(consumerClass).additionalConfig },
  };
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

/**
 * This process's `transactional.id`: the configured one (or the group id), a
 * parallel worker's own with its number appended as for `group.instance.id`,
 * so a restarted worker fences the zombie of its predecessor and no other.
 */
function workerTransactionalId(base: string): string {
  const worker = workerNumber();
  return worker === undefined ? base : workerGroupInstanceId(base, worker);
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

  // Paths are checked before anything starts, so a mistake is named here.
  const pidfile = pidfilePath(config.pidfile, config.groupId!, dir);
  const setting = (name: "logfile" | "pidfile") => {
    const source = prepared.origins.sources[name];
    return source === undefined || source.kind === "default"
      ? ` (the default '${name}')`
      : ` ('${source.key}' from ${source.label})`;
  };
  try {
    if (config.logfile !== undefined) {
      await checkAppendable(resolve(dir, config.logfile), "the log file", setting("logfile"));
    }
    if (config.daemonize && worker === undefined && !isDaemonChild()) {
      await checkCreatable(pidfile, "the pid file", setting("pidfile"));
    }
  } catch (error) {
    if (!isUsageError(error)) throw error;
    writeStderr(`Error: ${(error as Error).message}\n`);
    return ExitCode.USAGE;
  }

  // --daemonize: the foreground half starts the background half and ends here.
  let releasePidfile: (() => void) | undefined;
  if (config.daemonize && worker === undefined) {
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
  // librdkafka refused the configuration after all (node-rdkafka creates its
  // client on connect): nothing was consumed, so do not wait for the shutdown
  // of a client that never connected.
  let creationFailed: (error: ConfigError) => void = () => {};
  const creation = new Promise<never>((_, reject) => creationFailed = reject);
  creation.catch(() => {});
  const offError = runner.events.on("error", ({ error }) => {
    if (setupError !== undefined) return;
    const refused = clientCreationFailure(error);
    if (refused !== undefined) {
      creationFailed(refused);
      runner.stop();
      return;
    }
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
    await Promise.race([runner.run(), creation]);
    if (setupError !== undefined) {
      writeStderr(describeCrash(setupError) + "\n");
      return ExitCode.FAILURE;
    }
    say(`${consumerClass.name} stopped`);
    return ExitCode.OK;
  } catch (error) {
    // librdkafka refused a property while creating a client: a configuration mistake.
    if (error instanceof ConfigError) {
      const explained = await explainClientConfigError(error, {
        config,
        ...prepared.origins,
        className: consumerClass.name,
      });
      writeStderr(`Error: ${explained.message}\n`);
      return ExitCode.USAGE;
    }
    writeStderr(describeCrash(error) + "\n");
    return ExitCode.FAILURE;
  } finally {
    for (const remove of removers) remove();
    for (const probe of probes) probe.uninstall();
    await metrics?.close().catch(() => {});
  }
}
