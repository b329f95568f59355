/**
 * Producing from applications (web handlers, jobs, scripts), racecar's
 * standalone producer: `produceSync`, `produceAsync` and `waitForDelivery` on
 * one clearly named default producer, created on first use from the loaded
 * configuration (`RACECAR_*` variables and `config/racecar.yml`), plus
 * {@link createProducer} for independent producers, e.g. one per cluster.
 *
 * Unlike racecar, the default producer honours `createTime`, and it is closed
 * (flushing what is queued) by {@link closeDefaultProducer}. An open Kafka
 * client keeps the process alive, so applications call
 * `await closeDefaultProducer()` when they shut down (on SIGTERM, after the
 * HTTP server stopped); a hook also closes it when the process runs out of
 * work on its own.
 *
 * @example
 * ```ts ignore
 * import { closeDefaultProducer, produceAsync, produceSync, waitForDelivery } from "./app_producer.ts";
 * await produceSync(JSON.stringify({ id: 1 }), { topic: "comments", key: "1" });
 * produceAsync("viewed", { topic: "activity" }); // buffered and retried in the background
 * await waitForDelivery(() => {
 *   produceAsync("one", { topic: "activity" });
 *   produceAsync("two", { topic: "activity" });
 * });
 * await closeDefaultProducer();
 * ```
 *
 * @module
 */

import { onBeforeExit } from "./_runtime.ts";
import { producerParts } from "./assembly.ts";
import {
  CODE_SETTINGS,
  defaultConfig,
  isSettingName,
  loadConfig,
  type LoadConfigOptions,
  type RacecarConfig,
  validateConfig,
} from "./config/mod.ts";
import { ConfigError, type DeliveryError, RacecarError } from "./errors.ts";
import { Instrumenter } from "./events.ts";
import { loadDefaultTransport } from "./kafka/default_transport.ts";
import type { DeliveryReport, Transport } from "./kafka/transport.ts";
import { forwardClientLog, logger } from "./logger.ts";
import { type Bytes, type ProduceOptions, Producer } from "./producer.ts";

/** How {@link createProducer} builds a producer. */
export interface CreateProducerOptions {
  /** The Kafka adapter. @default the runtime's default (`loadDefaultTransport()`) */
  transport?: Transport;
  /**
   * Receives `produce_sync`, `produce_async`, `acknowledged_message`,
   * `produce_delivery_error` and `error` events (and `statistics`, which are
   * turned on only when someone listens to them at creation). With
   * `tracingEnabled`, OpenTelemetry is installed on it (or on a new one): see
   * docs/tracing.md.
   */
  instrumenter?: Instrumenter;
  /** Reports failures of {@link Producer.produceAsync} outside `waitForDelivery`. @default logs them */
  onAsyncError?: (error: DeliveryError) => void;
}

/** How the default producer is built; see {@link configureDefaultProducer}. */
export interface DefaultProducerOptions extends CreateProducerOptions {
  /** Settings that win over the loaded configuration. @default {} */
  config?: Partial<RacecarConfig>;
  /** Where the configuration is loaded from. @default the environment and `config/racecar.yml` */
  load?: LoadConfigOptions;
}

const log = logger("producer");
const CODECS = new Set(["gzip", "snappy", "lz4", "zstd"]);

/**
 * Creates an independent producer: its own librdkafka client, configured from
 * racecar's defaults overlaid with `config` (the environment is not read; pass
 * `{ ...await loadConfig(), ...overrides }` for that). Close it when done.
 *
 * Honours `brokers`, `clientId`, `partitioner`, `producerCompressionCodec`,
 * `messageTimeout`, the TLS/SASL settings and the `producer` pass-through list.
 *
 * @throws {ConfigError} for an unknown setting, an invalid configuration, or a
 * compression codec the loaded librdkafka was built without.
 *
 * @example
 * ```ts ignore
 * import { createProducer } from "./app_producer.ts";
 * const audit = await createProducer({ brokers: ["audit-kafka:9092"], clientId: "audit" });
 * await audit.produceSync("login", { topic: "audit", key: "user-1" });
 * await audit.close();
 * ```
 */
export async function createProducer(
  config: Partial<RacecarConfig> = {},
  options: CreateProducerOptions = {},
): Promise<Producer> {
  for (const key of Object.keys(config)) {
    if (!isSettingName(key) && !(CODE_SETTINGS as readonly string[]).includes(key)) {
      throw new ConfigError(
        `Cannot create producer: unknown setting '${key}': use a camelCase setting name ` +
          `such as 'brokers' or 'producerCompressionCodec'`,
        { key },
      );
    }
  }
  const full: RacecarConfig = { ...defaultConfig(), ...config };
  validateConfig(full);
  return await buildProducer(full, options);
}

/**
 * Checks that librdkafka was built with the compression codec a producer's
 * properties ask for (librdkafka would only fail at the first produce).
 *
 * @throws {ConfigError} naming the codec and the library's built-in features.
 *
 * @example
 * ```ts
 * import { checkCompressionCodec } from "./app_producer.ts";
 * checkCompressionCodec({ "compression.codec": "gzip" }, ["gzip", "ssl"], "2.12.0");
 * try {
 *   checkCompressionCodec({ "compression.codec": "zstd" }, ["gzip", "ssl"], "2.12.0");
 * } catch (error) {
 *   console.assert((error as Error).message.includes('"zstd"'));
 * }
 * ```
 */
export function checkCompressionCodec(
  props: Readonly<Record<string, string>>,
  builtin: readonly string[],
  librdkafkaVersion: string,
): void {
  const codec = props["compression.codec"] ?? props["compression.type"];
  if (codec === undefined || !CODECS.has(codec) || builtin.includes(codec)) return;
  const available = ["none", ...[...CODECS].filter((c) => builtin.includes(c))];
  throw new ConfigError(
    `Invalid configuration 'producer_compression_codec': the loaded librdkafka ` +
      `${librdkafkaVersion} was built without "${codec}" (builtin features: ` +
      `${builtin.join(", ")}): choose one of ${available.map((c) => `"${c}"`).join(", ")}, ` +
      `or install a librdkafka built with ${codec}`,
    { key: "producerCompressionCodec" },
  );
}

async function buildProducer(
  config: RacecarConfig,
  options: CreateProducerOptions,
): Promise<Producer> {
  const transport = options.transport ?? await loadDefaultTransport();
  let events = options.instrumenter;
  if (config.tracingEnabled) {
    // Loaded only when enabled: without it, @opentelemetry/api is never imported.
    const { installOpenTelemetry } = await import("./metrics/opentelemetry.ts");
    await installOpenTelemetry(events ??= new Instrumenter());
  }
  const statistics = events?.listens("statistics") ?? false;
  const parts = producerParts(config, { statistics });
  const props = parts.config;
  checkCompressionCodec(props, transport.features.builtin, transport.librdkafkaVersion);
  const clientId = parts.settings.clientId;
  const client = transport.createProducer({
    config: props,
    onError: (error) => {
      events?.emit("error", () => ({ clientId, error, fatal: error.fatal }));
      if (error.fatal) log.error("Fatal producer error: {error}", { error });
      else log.warn("Producer error: {error}", { error });
    },
    onLog: forwardClientLog,
    ...(statistics
      ? {
        onStatistics: (json: string) => {
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(json);
          } catch {
            return;
          }
          events?.emit("statistics", () => ({ clientId, statistics: parsed }));
        },
      }
      : {}),
  });
  return new Producer(client, {
    ...parts.settings,
    onAsyncError: options.onAsyncError ?? reportAsyncError,
    ...(events === undefined ? {} : { instrumenter: events }),
  });
}

function reportAsyncError(error: unknown): void {
  log.error("Asynchronous delivery failed: {error}", { error });
}

// The one module-level singleton: the default producer and how to build it.
let defaultOptions: DefaultProducerOptions = {};
let defaultCreation: Promise<Producer> | undefined;
let defaultReady: Producer | undefined;
let lazySends = 0;
let removeExitHook: (() => void) | undefined;

/**
 * Sets how the default producer is built: settings that win over the loaded
 * configuration, the transport, an instrumenter. Call it before the first
 * send, or after {@link closeDefaultProducer}.
 *
 * @throws {RacecarError} when the default producer already exists.
 *
 * @example
 * ```ts ignore
 * import { configureDefaultProducer, produceSync } from "./app_producer.ts";
 * configureDefaultProducer({ config: { clientId: "web" }, instrumenter: events });
 * await produceSync("hi", { topic: "greetings" });
 * ```
 */
export function configureDefaultProducer(options: DefaultProducerOptions): void {
  if (defaultCreation !== undefined) {
    throw new RacecarError(
      "DEFAULT_PRODUCER_EXISTS",
      "Cannot configure the default producer: it was already created; " +
        "call closeDefaultProducer() first",
    );
  }
  defaultOptions = { ...options };
}

/**
 * The default producer, created on first call from the loaded configuration
 * (see {@link configureDefaultProducer}). Rejects with a `ConfigError` when the
 * configuration is invalid; the next call tries again.
 *
 * @example
 * ```ts ignore
 * import { defaultProducer } from "./app_producer.ts";
 * const producer = await defaultProducer();
 * console.log(producer.bufferSize);
 * ```
 */
export function defaultProducer(): Promise<Producer> {
  if (defaultCreation === undefined) {
    const options = defaultOptions;
    const creation = (async () => {
      const loaded = await loadConfig(options.load ?? {});
      const config: RacecarConfig = { ...loaded, ...options.config };
      validateConfig(config);
      return await buildProducer(config, options);
    })();
    defaultCreation = creation;
    removeExitHook = onBeforeExit(() => closeDefaultProducer());
    creation.then(
      (producer) => {
        if (defaultCreation === creation) defaultReady = producer;
      },
      () => {
        // A failed creation is retried by the next call.
        if (defaultCreation === creation) forgetDefault();
      },
    );
  }
  return defaultCreation;
}

/**
 * Sends a message with the default producer and waits until the broker
 * acknowledged it. While Kafka is unavailable librdkafka keeps retrying, up to
 * `messageTimeout`.
 *
 * @throws {DeliveryError} explaining the cause when delivery finally failed.
 *
 * @example
 * ```ts ignore
 * import { produceSync } from "./app_producer.ts";
 * const report = await produceSync('{"id":1}', { topic: "comments", key: "1" });
 * console.log(report.partition, report.offset);
 * ```
 */
export async function produceSync(
  value: Bytes | null,
  options: ProduceOptions,
): Promise<DeliveryReport> {
  return await (await defaultProducer()).produceSync(value, options);
}

/**
 * Queues a message on the default producer without waiting. It is buffered and
 * retried in the background while Kafka is unavailable, up to
 * `messageTimeout`. Inside {@link waitForDelivery} the delivery is awaited
 * there; otherwise a failure goes to `onAsyncError` (logged by default) and the
 * `produce_delivery_error` event.
 *
 * @example
 * ```ts ignore
 * import { produceAsync } from "./app_producer.ts";
 * produceAsync(JSON.stringify({ name: "comment_viewed" }), { topic: "activity" });
 * ```
 */
export function produceAsync(value: Bytes | null, options: ProduceOptions): void {
  if (defaultReady !== undefined && lazySends === 0) {
    defaultReady.produceAsync(value, options);
    return;
  }
  // Not created yet: queue behind the creation, keeping the order of calls.
  lazySends++;
  const report = defaultOptions.onAsyncError ?? reportAsyncError;
  defaultProducer()
    .then((producer) => producer.produceAsync(value, options))
    .catch((error) => report(error as DeliveryError))
    .finally(() => lazySends--);
}

/**
 * Runs `work`, then waits until every message it queued with
 * {@link produceAsync} on the default producer was delivered.
 *
 * @throws {DeliveryError} the first delivery failure, once all settled.
 *
 * @example
 * ```ts ignore
 * import { produceAsync, waitForDelivery } from "./app_producer.ts";
 * await waitForDelivery(() => {
 *   for (const id of [1, 2, 3]) produceAsync(String(id), { topic: "ids" });
 * });
 * ```
 */
export async function waitForDelivery<T>(work: () => Promise<T> | T): Promise<T> {
  const producer = await defaultProducer();
  return await producer.waitForDelivery(work);
}

/**
 * Flushes what the default producer has queued (up to `timeoutMs`) and closes
 * it. Does nothing when it was never created. A later send creates a new one.
 *
 * @example
 * ```ts ignore
 * import { closeDefaultProducer } from "./app_producer.ts";
 * Deno.addSignalListener("SIGTERM", async () => {
 *   await closeDefaultProducer();
 *   Deno.exit(0);
 * });
 * ```
 */
export async function closeDefaultProducer(timeoutMs = 30_000): Promise<void> {
  const creation = defaultCreation;
  if (creation === undefined) return;
  forgetDefault();
  let producer: Producer;
  try {
    producer = await creation;
  } catch {
    return;
  }
  await producer.close(timeoutMs);
}

function forgetDefault(): void {
  defaultCreation = undefined;
  defaultReady = undefined;
  removeExitHook?.();
  removeExitHook = undefined;
}
