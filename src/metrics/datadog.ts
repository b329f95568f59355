/**
 * Datadog metrics: a subscriber to Racecar's events that sends racecar's
 * DogStatsD metrics (same names, types and tags as `lib/racecar/datadog.rb`)
 * through the `hot-shots` client. Nothing here runs inside the runner; the
 * runner only emits events.
 *
 * @example
 * ```ts ignore
 * import { installDatadog } from "./datadog.ts";
 * const datadog = await installDatadog(runner.events, { datadogNamespace: "racecar" });
 * await runner.run();
 * await datadog.close();
 * ```
 *
 * @module
 */

import type { ClientOptions, StatsD } from "hot-shots";
import type { RacecarConfig } from "../config/mod.ts";
import { ConfigError, KafkaError } from "../errors.ts";
import type { BasePayload, EventMap, Instrumenter, ProducePayload } from "../events.ts";
import { logger } from "../logger.ts";
import { importOptional } from "./_optional.ts";

/** The settings {@link installDatadog} reads; all optional. */
export type DatadogConfig = Partial<
  Pick<
    RacecarConfig,
    "datadogHost" | "datadogPort" | "datadogSocketPath" | "datadogNamespace" | "datadogTags"
  >
>;

/** Extra knobs of {@link installDatadog}. */
export interface DatadogOptions {
  /** The clock for `consumer.time_lag`, in ms since the epoch. @default Date.now */
  clock?: () => number;
  /** `hot-shots` options that win over the ones derived from the configuration. @default {} */
  clientOptions?: ClientOptions;
}

/** What {@link installDatadog} returns. */
export interface MetricsHandle {
  /** Unsubscribes, flushes what is buffered and closes the client. Idempotent. */
  close(): Promise<void>;
}

/** The DogStatsD agent's address when the configuration does not name one. */
export const DATADOG_DEFAULTS = { host: "127.0.0.1", port: 8125, namespace: "racecar" } as const;

const log = logger("datadog");

/**
 * Subscribes to `instrumenter` and sends racecar's Datadog metrics to the
 * agent at `datadogHost:datadogPort` (UDP) or `datadogSocketPath` (Unix
 * datagram socket, which needs the optional `unix-dgram` package under Node).
 * Metric names are prefixed with `datadogNamespace`; `datadogTags` go on every
 * metric.
 *
 * @throws {ConfigError} when the client cannot be created (e.g. a socket path
 * without `unix-dgram`).
 *
 * @example
 * ```ts ignore
 * import { Instrumenter } from "../events.ts";
 * import { installDatadog } from "./datadog.ts";
 * const events = new Instrumenter();
 * const datadog = await installDatadog(events, { datadogHost: "127.0.0.1", datadogTags: ["env:prod"] });
 * await datadog.close();
 * ```
 */
export async function installDatadog(
  instrumenter: Instrumenter,
  config: DatadogConfig = {},
  options: DatadogOptions = {},
): Promise<MetricsHandle> {
  const hotShots = await importOptional("hot-shots", () => import("hot-shots"));
  const namespace = config.datadogNamespace ?? DATADOG_DEFAULTS.namespace;
  // hot-shots reports a socket it cannot open through errorHandler, not by throwing.
  let constructing = true;
  let creationError: unknown;
  const base: ClientOptions = {
    prefix: namespace === "" ? "" : `${namespace}.`,
    globalTags: [...(config.datadogTags ?? [])],
    datadog: true,
    includeDatadogTelemetry: false,
    // Lines are batched into datagrams of at most 1432 bytes (Datadog's advice for
    // UDP), sent every second or when full, and on close.
    maxBufferSize: 1432,
    bufferFlushInterval: 1000,
    errorHandler: (error) => {
      if (constructing) creationError ??= error;
      else log.warn("Sending metrics failed: {error}", { error });
    },
    ...(config.datadogSocketPath === undefined || config.datadogSocketPath === ""
      ? {
        host: config.datadogHost ?? DATADOG_DEFAULTS.host,
        port: config.datadogPort ?? DATADOG_DEFAULTS.port,
      }
      : { protocol: "uds", path: config.datadogSocketPath }),
  };
  let statsd: StatsD;
  try {
    statsd = new hotShots.StatsD({ ...base, ...options.clientOptions });
    constructing = false;
    if (creationError !== undefined) {
      statsd.close(() => {});
      throw creationError;
    }
  } catch (error) {
    const where = base.protocol === "uds" ? `socket "${base.path}"` : `"${base.host}:${base.port}"`;
    throw new ConfigError(
      `Cannot send metrics to the Datadog agent at ${where}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { key: base.protocol === "uds" ? "datadogSocketPath" : "datadogHost", cause: error },
    );
  }
  const clock = options.clock ?? Date.now;
  const unsubscribe = subscribe(instrumenter, statsd, clock);
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const off of unsubscribe) off();
        statsd.close((error) => {
          if (error) log.warn("Closing the Datadog client failed: {error}", { error });
          resolve();
        });
      });
      return closing;
    },
  };
}

/** racecar's tag for a `poll_retry` error: its code without non-word characters. */
export function pollErrorCode(error: unknown): string {
  if (error instanceof KafkaError) {
    // `ERR__TRANSPORT` is rdkafka-ruby's `:transport`, `ERR_MSG_SIZE_TOO_LARGE` its `:msg_size_too_large`.
    return error.code.replace(/^ERR_+/, "").toLowerCase().replace(/\W/g, "");
  }
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" || typeof code === "number"
    ? String(code).replace(/\W/g, "").toLowerCase() || "unknown"
    : "unknown";
}

function consumerTags(
  payload: BasePayload & { topic: string; partition: number },
): string[] {
  return [...clientTags(payload), `topic:${payload.topic}`, `partition:${payload.partition}`];
}

function clientTags(payload: BasePayload): string[] {
  return [`client:${payload.clientId}`, `group_id:${payload.groupId ?? ""}`];
}

function producerTags(payload: BasePayload & { topic: string }): string[] {
  return [`client:${payload.clientId}`, `topic:${payload.topic}`];
}

function subscribe(
  events: Instrumenter,
  statsd: StatsD,
  clock: () => number,
): (() => void)[] {
  const timeLag = (createTime: Date | null, tags: string[]) => {
    if (createTime !== null) {
      statsd.gauge("consumer.time_lag", clock() - createTime.getTime(), tags);
    }
  };
  const produced = (payload: ProducePayload & { error?: unknown }, withBuffer: boolean) => {
    const tags = producerTags(payload);
    if (payload.error !== undefined) {
      statsd.increment("producer.produce.errors", 1, tags);
      return;
    }
    statsd.increment("producer.produce.messages", 1, tags);
    statsd.histogram("producer.produce.message_size", payload.messageSize, tags);
    statsd.increment("producer.produce.message_size.sum", payload.messageSize, tags);
    if (withBuffer) statsd.histogram("producer.buffer.size", payload.bufferSize, tags);
  };
  const groupTiming = (
    name: "join_group" | "leave_group",
    payload: EventMap["join_group"] | EventMap["leave_group"],
  ) => {
    const tags = clientTags(payload);
    statsd.timing(`consumer.${name}`, payload.durationMs, tags);
    if (payload.error !== undefined) statsd.increment(`consumer.${name}.errors`, 1, tags);
  };
  return [
    events.on("process_message", (payload) => {
      const tags = consumerTags(payload);
      if (payload.error !== undefined) {
        statsd.increment("consumer.process_message.errors", 1, tags);
      } else {
        statsd.timing("consumer.process_message.latency", payload.durationMs, tags);
        statsd.increment("consumer.messages", 1, tags);
      }
      statsd.gauge("consumer.offset", payload.offset, tags);
      timeLag(payload.createTime, tags);
    }),
    events.on("process_batch", (payload) => {
      const tags = consumerTags(payload);
      if (payload.error !== undefined) {
        statsd.increment("consumer.process_batch.errors", 1, tags);
      } else {
        statsd.timing("consumer.process_batch.latency", payload.durationMs, tags);
        statsd.increment("consumer.messages", payload.messageCount, tags);
      }
      statsd.histogram("consumer.batch_size", payload.messageCount, tags);
      statsd.gauge("consumer.offset", payload.lastOffset, tags);
      timeLag(payload.lastCreateTime, tags);
    }),
    events.on("join_group", (payload) => groupTiming("join_group", payload)),
    events.on("leave_group", (payload) => groupTiming("leave_group", payload)),
    events.on("poll_retry", (payload) => {
      statsd.increment(
        `consumer.poll.rdkafka_error.${pollErrorCode(payload.error)}`,
        1,
        clientTags(payload),
      );
    }),
    events.on("main_loop", (payload) => {
      statsd.histogram("consumer.loop.duration", payload.durationMs, clientTags(payload));
    }),
    events.on("pause_status", (payload) => {
      statsd.gauge("consumer.pause.duration", payload.durationSeconds, consumerTags(payload));
    }),
    events.on("produce_message", (payload) => produced(payload, true)),
    events.on("produce_async", (payload) => produced(payload, true)),
    events.on("produce_sync", (payload) => produced(payload, false)),
    events.on("deliver_messages", (payload) => {
      const tags = [`client:${payload.clientId}`];
      statsd.timing("producer.deliver.latency", payload.durationMs, tags);
      statsd.increment("producer.deliver.messages", payload.deliveredMessageCount, tags);
    }),
    events.on("acknowledged_message", (payload) => {
      statsd.increment("producer.ack.messages", 1, [`client:${payload.clientId}`]);
    }),
    events.on("produce_delivery_error", (payload) => {
      statsd.increment("producer.produce.delivery.errors", 1, [`client:${payload.clientId}`]);
    }),
  ];
}
