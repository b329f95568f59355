/**
 * Assembly: the one place where a configuration becomes running objects. The
 * `racecar` command, the testing kit, the application producers and
 * applications that embed a consumer all build their runner and producers
 * here, so a setting means the same thing everywhere.
 *
 * @example
 * ```ts
 * import { Consumer, type Message } from "../mod.ts";
 * import { defaultConfig } from "./config/mod.ts";
 * import { createMemoryTransport } from "./kafka/memory/mod.ts";
 * import { classSettings, createRunner } from "./assembly.ts";
 *
 * const greeted: string[] = [];
 * class GreetingsConsumer extends Consumer {
 *   static {
 *     this.subscribesTo("greetings");
 *   }
 *   static override maxWaitTime = 0.05; // the class's settings apply, as under `racecar`
 *   override process(message: Message) {
 *     greeted.push(`Hello, ${message.text()}!`);
 *   }
 * }
 *
 * // loadConfig() reads config/racecar.yml and RACECAR_*; loadDefaultTransport() is Kafka.
 * const transport = createMemoryTransport();
 * transport.broker.createTopic("greetings", 1);
 * transport.broker.append({ topic: "greetings", value: new TextEncoder().encode("world") });
 * const runner = await createRunner(
 *   new GreetingsConsumer(),
 *   { ...defaultConfig(), ...classSettings(GreetingsConsumer) },
 *   { transport },
 * );
 * runner.events.on("process_message", () => runner.stop());
 * await runner.run();
 * console.assert(greeted[0] === "Hello, world!");
 * ```
 *
 * @module
 */

import {
  consumerConfig,
  producerConfig,
  type RacecarConfig,
  schema,
  type SettingName,
  type SubscriptionConfig,
  validateConfig,
} from "./config/mod.ts";
import { type Consumer, type ConsumerClass, defaultGroupId } from "./consumer.ts";
import { ConfigError } from "./errors.ts";
import type { Instrumenter } from "./events.ts";
import { loadDefaultTransport } from "./kafka/default_transport.ts";
import type { ConfigMap, Transport } from "./kafka/transport.ts";
import type { PartitionerName } from "./partitioner.ts";
import type { ProducerSettings } from "./producer.ts";
import { Runner, type RunnerSettings } from "./runner.ts";

/** Collaborators of {@link createRunner}. */
export interface CreateRunnerOptions {
  /** The Kafka adapter. @default the runtime's default (`loadDefaultTransport()`) */
  transport?: Transport;
  /** The event bus (probes, metrics, tests). @default a private one */
  instrumenter?: Instrumenter;
}

/**
 * The settings a consumer class may declare as static fields, by their schema
 * name (the schema marks them `perClass`).
 */
export const CLASS_SETTINGS: readonly SettingName[] = schema()
  .filter((def) => def.perClass === true)
  .map((def) => def.name);

/**
 * The settings `consumerClass` declares (`static maxWaitTime = 5`), for
 * `loadConfig`'s `classSettings` or `withClassSettings`.
 *
 * @example
 * ```ts
 * import { Consumer } from "../mod.ts";
 * import { classSettings } from "./assembly.ts";
 * class Orders extends Consumer {
 *   static override concurrency = 4;
 * }
 * console.assert(classSettings(Orders).concurrency === 4);
 * console.assert(!("fetchMessages" in classSettings(Orders)));
 * ```
 */
export function classSettings(consumerClass: ConsumerClass): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  const declared = consumerClass as unknown as Record<string, unknown>;
  for (const name of CLASS_SETTINGS) {
    if (declared[name] !== undefined) settings[name] = declared[name];
  }
  return settings;
}

/**
 * The group a class consumes in: the configured `groupId`, or one derived from
 * the class name (with `groupIdPrefix`).
 */
export function groupIdOf(config: RacecarConfig, consumerClass: ConsumerClass): string {
  return config.groupId ?? defaultGroupId(consumerClass.name, config.groupIdPrefix ?? "");
}

/**
 * Builds the runner of `consumer` from a complete configuration (as
 * `loadConfig` returns it, with the class's settings applied). Nothing
 * connects until `run()`.
 *
 * @throws {ConfigError} when the configuration is invalid or the class's
 * subscriptions disagree, or the class subscribes to nothing.
 */
export async function createRunner(
  consumer: Consumer,
  config: RacecarConfig,
  options: CreateRunnerOptions = {},
): Promise<Runner> {
  const consumerClass = consumer.constructor as ConsumerClass;
  validateConfig(config);
  const groupId = groupIdOf(config, consumerClass);
  const effective: RacecarConfig = { ...config, groupId };
  const statistics = typeof consumer.statisticsCallback === "function" ||
    effective.prometheusEnabled || effective.tracingEnabled;
  const subscription = mergedSubscription(consumerClass);
  const producer = producerParts(effective);
  const transport = options.transport ?? await loadDefaultTransport();
  return new Runner({
    consumer,
    transport,
    consumerConfig: consumerConfig(effective, subscription, { statistics }),
    producerConfig: effective.transactional
      ? transactionalProducerConfig(producer.config, effective.transactionalId ?? groupId)
      : producer.config,
    producerSettings: producer.settings,
    settings: runnerSettings(effective, groupId),
    ...(options.instrumenter === undefined ? {} : { instrumenter: options.instrumenter }),
  });
}

/**
 * librdkafka's `transaction.timeout.ms` default, kept for transactional
 * runners: a worker that died with a transaction open holds back
 * read_committed readers of its output partitions until the coordinator
 * aborts it after this long (or until its successor starts).
 */
export const TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * A `transactional` runner's producer properties: its `transactional.id`,
 * and a message timeout no longer than the transaction timeout (librdkafka
 * insists that a message may not outlive its transaction): `message_timeout`
 * is capped at `transaction.timeout.ms`, {@link TRANSACTION_TIMEOUT_MS} unless
 * a `producer` entry sets it.
 *
 * @example
 * ```ts
 * import { transactionalProducerConfig } from "./assembly.ts";
 * const props = transactionalProducerConfig({ "message.timeout.ms": "300000" }, "orders");
 * console.assert(props["transactional.id"] === "orders");
 * console.assert(props["transaction.timeout.ms"] === "60000");
 * console.assert(props["message.timeout.ms"] === "60000");
 * ```
 */
export function transactionalProducerConfig(
  config: ConfigMap,
  transactionalId: string,
): ConfigMap {
  const transactionMs = Number(config["transaction.timeout.ms"] ?? TRANSACTION_TIMEOUT_MS);
  const messageMs = Number(config["message.timeout.ms"] ?? transactionMs);
  return {
    ...config,
    "transactional.id": transactionalId,
    "transaction.timeout.ms": String(transactionMs),
    "message.timeout.ms": String(Math.min(messageMs, transactionMs)),
  };
}

/** The runner's settings from a configuration. */
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
    deadLetterSafetyLimit: config.deadLetterSafetyLimit,
    concurrency: config.concurrency,
    keyConcurrency: config.keyConcurrency,
    maxPendingDeliveries: config.maxPendingDeliveries,
    maxPendingDeliveriesTotal: config.maxPendingDeliveriesTotal,
    synchronousCommits: config.synchronousCommits,
    revokeTimeout: config.revokeTimeout,
    shutdownTimeout: config.shutdownTimeout,
    logSummaryInterval: config.logSummaryInterval,
    transactional: config.transactional,
    ...(config.onError === undefined ? {} : { onError: config.onError }),
  };
}

/** A producer's librdkafka properties and the {@link ProducerSettings} that go with them. */
export interface ProducerParts {
  /** librdkafka properties. */
  config: ConfigMap;
  /** What the `Producer` wrapper must know of them. */
  settings:
    & Required<Pick<ProducerSettings, "clientId" | "partitioner" | "messageTimeoutMs">>
    & Pick<ProducerSettings, "partitionCountMaxAgeMs">;
}

/**
 * A producer's properties and settings from a configuration. The pass-through
 * `producer` entries win over the settings, so `partitionKey` hashes like the
 * partitioner librdkafka was really given and the queue-full retry honours
 * the real `message.timeout.ms`.
 */
export function producerParts(
  config: RacecarConfig,
  options: { statistics?: boolean } = {},
): ProducerParts {
  const props = producerConfig(config, options);
  return {
    config: props,
    settings: {
      clientId: props["client.id"] ?? config.clientId,
      partitioner: (props.partitioner ?? config.partitioner) as PartitionerName,
      messageTimeoutMs: Number(props["message.timeout.ms"] ?? config.messageTimeout * 1000),
      ...(props["topic.metadata.refresh.interval.ms"] === undefined
        ? {}
        : { partitionCountMaxAgeMs: Number(props["topic.metadata.refresh.interval.ms"]) }),
    },
  };
}

/**
 * One librdkafka consumer serves every subscription of a class, so the
 * per-subscription options must agree; the fetch size takes the largest.
 *
 * @throws {ConfigError} naming the class, the topics and the option when they disagree,
 * or when the class subscribes to nothing.
 */
export function mergedSubscription(consumerClass: ConsumerClass): SubscriptionConfig {
  const subscriptions = consumerClass.subscriptions;
  const first = subscriptions[0];
  if (first === undefined) {
    throw new ConfigError(
      `Cannot run ${consumerClass.name}: it subscribes to no topic; call ` +
        `this.subscribesTo("topic") in a static block of the class`,
    );
  }
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
