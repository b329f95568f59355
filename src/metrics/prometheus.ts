/**
 * Prometheus metrics: a subscriber to Racecar's events that keeps `prom-client`
 * counters, gauges and histograms, and optionally serves them at
 * `http://<prometheusHost>:<prometheusPort>/metrics` (a `node:http` server, so
 * the same code runs under Deno and Node). Consumer lag per partition comes from
 * librdkafka's statistics, so consumers must be created with statistics on
 * (`createRunner` and `racecar` do that when `prometheusEnabled` is set).
 *
 * The metric list, with PromQL examples, is in `docs/metrics.md`.
 *
 * @example
 * ```ts ignore
 * import { installPrometheus } from "./prometheus.ts";
 * const prometheus = await installPrometheus(runner.events, { prometheusPort: 9394 });
 * await runner.run();
 * await prometheus.close();
 * ```
 *
 * @module
 */

import { parseTopicPartitionKey, topicPartitionKey } from "../_topic_partition.ts";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { RacecarConfig } from "../config/mod.ts";
import type { BasePayload, Instrumenter } from "../events.ts";
import { logger } from "../logger.ts";
import { importOptional } from "./_optional.ts";
import type { MetricsHandle } from "./datadog.ts";

/** The settings {@link installPrometheus} reads; all optional. */
export type PrometheusConfig = Partial<
  Pick<RacecarConfig, "prometheusEnabled" | "prometheusHost" | "prometheusPort">
>;

/** Extra knobs of {@link installPrometheus}. */
export interface PrometheusOptions {
  /** Serve `/metrics` over HTTP; `false` only records into the registry. @default true */
  serve?: boolean;
  /** Where metrics are registered. @default a new, private registry */
  registry?: Registry;
}

/** What {@link installPrometheus} returns. */
export interface PrometheusHandle extends MetricsHandle {
  /** The registry holding Racecar's metrics. */
  readonly registry: Registry;
  /** The endpoint, e.g. `http://127.0.0.1:9394/metrics`; `undefined` when not serving. */
  readonly url: string | undefined;
  /** The exposition text, as the endpoint serves it. */
  metrics(): Promise<string>;
}

/** Where the endpoint listens when the configuration does not say. */
export const PROMETHEUS_DEFAULTS = { host: "0.0.0.0", port: 9394 } as const;

/** Histogram buckets for processing times, in seconds. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Histogram buckets for batch sizes, in messages. */
const SIZE_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

const log = logger("prometheus");

/**
 * Subscribes to `instrumenter`, records Racecar's metrics into a `prom-client`
 * registry and (unless `serve: false`) serves them at `/metrics`. Port `0`
 * picks a free port; read it from `url`.
 *
 * @throws {Error} when the endpoint cannot listen (e.g. the port is taken).
 *
 * @example
 * ```ts ignore
 * import { Instrumenter } from "../events.ts";
 * import { installPrometheus } from "./prometheus.ts";
 * const prometheus = await installPrometheus(new Instrumenter(), { prometheusPort: 0 });
 * console.log(prometheus.url);
 * await prometheus.close();
 * ```
 */
export async function installPrometheus(
  instrumenter: Instrumenter,
  config: PrometheusConfig = {},
  options: PrometheusOptions = {},
): Promise<PrometheusHandle> {
  const port = config.prometheusPort ?? PROMETHEUS_DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot serve Prometheus metrics: 'prometheus_port' must be a whole number from 0 to ` +
        `65535, got ${port}`,
    );
  }
  const promClient = await importOptional("prom-client", () => import("prom-client"));
  const registry = options.registry ?? new promClient.Registry();
  const unsubscribe = subscribe(instrumenter, registry, promClient);
  let server: Server | undefined;
  let url: string | undefined;
  if (options.serve ?? true) {
    const host = config.prometheusHost ?? PROMETHEUS_DEFAULTS.host;
    try {
      server = await listen(registry, host, port);
    } catch (error) {
      for (const off of unsubscribe) off();
      throw error;
    }
    const address = server.address() as AddressInfo;
    const shown = host.includes(":") ? `[${host}]` : host;
    url = `http://${shown}:${address.port}/metrics`;
    log.info("Serving Prometheus metrics at {url}", { url });
  }
  let closing: Promise<void> | undefined;
  return {
    registry,
    url,
    metrics: () => registry.metrics(),
    close() {
      closing ??= (async () => {
        for (const off of unsubscribe) off();
        if (server !== undefined) await stop(server);
      })();
      return closing;
    },
  };
}

function listen(registry: Registry, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not found: try /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { "content-type": registry.contentType }).end(text);
      },
      (error) => {
        log.error("Collecting metrics failed: {error}", { error });
        response.writeHead(500, { "content-type": "text/plain" }).end(String(error));
      },
    );
  });
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      reject(
        new Error(
          `Cannot serve Prometheus metrics on ${host}:${port}: ${error.message}: set ` +
            `'prometheus_port' to a free port`,
          { cause: error },
        ),
      );
    };
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      resolve(server);
    });
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Scrapers keep connections alive; without this, close waits for them.
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

type ConsumerLabels = "client_id" | "group_id" | "topic" | "partition";

function consumerLabels(p: BasePayload & { topic: string; partition: number }) {
  return {
    client_id: p.clientId,
    group_id: p.groupId ?? "",
    topic: p.topic,
    partition: String(p.partition),
  };
}

function groupLabels(p: BasePayload) {
  return { client_id: p.clientId, group_id: p.groupId ?? "" };
}

function subscribe(
  events: Instrumenter,
  registry: Registry,
  promClient: typeof import("prom-client"),
): (() => void)[] {
  const { Counter, Gauge, Histogram } = promClient;
  const registers = [registry];
  const partitionLabels: ConsumerLabels[] = ["client_id", "group_id", "topic", "partition"];
  const topicLabels = ["client_id", "group_id", "topic"] as const;

  const processed = new Counter({
    name: "racecar_messages_processed_total",
    help: "Messages processed successfully, by partition.",
    labelNames: partitionLabels,
    registers,
  });
  const processingErrors = new Counter({
    name: "racecar_processing_errors_total",
    help: "Failed attempts to process a message (mode=message) or a batch (mode=batch).",
    labelNames: [...partitionLabels, "mode"],
    registers,
  });
  const messageDuration = new Histogram({
    name: "racecar_process_message_duration_seconds",
    help: "Time to process one message, including delivery of what it produced.",
    labelNames: topicLabels,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const batchDuration = new Histogram({
    name: "racecar_process_batch_duration_seconds",
    help: "Time to process one batch, including delivery of what it produced.",
    labelNames: topicLabels,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const batchSize = new Histogram({
    name: "racecar_batch_size",
    help: "Messages per batch handed to processBatch.",
    labelNames: topicLabels,
    buckets: SIZE_BUCKETS,
    registers,
  });
  const loopDuration = new Histogram({
    name: "racecar_main_loop_duration_seconds",
    help: "Time of one turn of the main loop: poll and process.",
    labelNames: ["client_id", "group_id"],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const pollRetries = new Counter({
    name: "racecar_poll_retries_total",
    help: "Polls that failed and were retried.",
    labelNames: ["client_id", "group_id"],
    registers,
  });
  const pauses = new Counter({
    name: "racecar_pauses_total",
    help: "Times a partition was paused after a processing error.",
    labelNames: partitionLabels,
    registers,
  });
  const paused = new Gauge({
    name: "racecar_partition_paused",
    help: "1 while a partition is paused after an error, 0 otherwise.",
    labelNames: partitionLabels,
    registers,
  });
  const pauseDuration = new Gauge({
    name: "racecar_pause_duration_seconds",
    help: "How long a paused partition has been paused; 0 when it is not paused.",
    labelNames: partitionLabels,
    registers,
  });
  const rebalances = new Counter({
    name: "racecar_rebalances_total",
    help: "Assignment changes seen by a consumer (kind=assigned or revoked).",
    labelNames: ["client_id", "group_id", "kind"],
    registers,
  });
  const partitionsAssigned = new Counter({
    name: "racecar_partitions_assigned_total",
    help: "Partitions assigned to this consumer, summed over rebalances.",
    labelNames: topicLabels,
    registers,
  });
  const partitionsRevoked = new Counter({
    name: "racecar_partitions_revoked_total",
    help: "Partitions revoked from this consumer, summed over rebalances.",
    labelNames: topicLabels,
    registers,
  });
  const assignedPartitions = new Gauge({
    name: "racecar_assigned_partitions",
    help: "Partitions currently assigned to this consumer.",
    labelNames: topicLabels,
    registers,
  });
  const deadLetters = new Counter({
    name: "racecar_dead_letters_total",
    help: "Messages sent to the dead-letter topic after exhausting their retries.",
    labelNames: [...topicLabels, "dead_letter_topic"],
    registers,
  });
  const produced = new Counter({
    name: "racecar_produced_messages_total",
    help: "Messages handed to the producer (api=produce, produce_async or produce_sync).",
    labelNames: ["client_id", "topic", "api"],
    registers,
  });
  const produceErrors = new Counter({
    name: "racecar_produce_errors_total",
    help: "Messages the producer refused or failed to send synchronously.",
    labelNames: ["client_id", "topic", "api"],
    registers,
  });
  const delivered = new Counter({
    name: "racecar_delivered_messages_total",
    help: "Produced messages the broker acknowledged.",
    labelNames: ["client_id", "topic"],
    registers,
  });
  const deliveryErrors = new Counter({
    name: "racecar_delivery_errors_total",
    help: "Produced messages whose delivery finally failed.",
    labelNames: ["client_id", "topic"],
    registers,
  });
  const deliverDuration = new Histogram({
    name: "racecar_deliver_duration_seconds",
    help: "Time a consumer waited for the delivery of what it produced.",
    labelNames: ["client_id"],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const clientErrors = new Counter({
    name: "racecar_client_errors_total",
    help: "Errors reported by the Kafka client outside a single message (fatal=true ends it).",
    labelNames: ["client_id", "fatal"],
    registers,
  });
  const lag = new Gauge({
    name: "racecar_consumer_lag",
    help: "Messages between the partition's high watermark and the group's committed " +
      "offset, from librdkafka statistics.",
    labelNames: partitionLabels,
    registers,
  });

  // What each consumer (client and group) holds, to keep the gauges exact.
  const assignments = new Map<string, Set<string>>();
  const lagLabels = new Map<string, Map<string, Record<ConsumerLabels, string>>>();
  const memberKey = (p: BasePayload) => `${p.clientId}\u0000${p.groupId ?? ""}`;

  const changeAssignment = (
    payload: BasePayload & { partitions: { topic: string; partition: number }[] },
    kind: "assigned" | "revoked",
  ) => {
    rebalances.inc({ ...groupLabels(payload), kind });
    const key = memberKey(payload);
    let held = assignments.get(key);
    if (held === undefined) assignments.set(key, held = new Set());
    const touched = new Set<string>();
    for (const tp of payload.partitions) {
      const id = topicPartitionKey(tp.topic, tp.partition);
      const labels = { ...groupLabels(payload), topic: tp.topic };
      if (kind === "assigned") {
        partitionsAssigned.inc(labels);
        held.add(id);
      } else {
        partitionsRevoked.inc(labels);
        held.delete(id);
        const partition = consumerLabels({ ...payload, ...tp });
        paused.remove(partition);
        pauseDuration.remove(partition);
        lag.remove(partition);
        lagLabels.get(key)?.delete(id);
      }
      touched.add(tp.topic);
    }
    for (const topic of touched) {
      let count = 0;
      for (const id of held) if (parseTopicPartitionKey(id).topic === topic) count++;
      assignedPartitions.set({ ...groupLabels(payload), topic }, count);
    }
  };

  return [
    events.on("process_message", (p) => {
      const labels = consumerLabels(p);
      if (p.error === undefined) processed.inc(labels);
      else processingErrors.inc({ ...labels, mode: "message" });
      messageDuration.observe({ ...groupLabels(p), topic: p.topic }, p.durationMs / 1000);
    }),
    events.on("process_batch", (p) => {
      const labels = consumerLabels(p);
      if (p.error === undefined) processed.inc(labels, p.messageCount);
      else processingErrors.inc({ ...labels, mode: "batch" });
      const topic = { ...groupLabels(p), topic: p.topic };
      batchDuration.observe(topic, p.durationMs / 1000);
      batchSize.observe(topic, p.messageCount);
    }),
    events.on("main_loop", (p) => loopDuration.observe(groupLabels(p), p.durationMs / 1000)),
    events.on("poll_retry", (p) => pollRetries.inc(groupLabels(p))),
    events.on("pause", (p) => {
      const labels = consumerLabels(p);
      pauses.inc(labels);
      paused.set(labels, 1);
      pauseDuration.set(labels, 0);
    }),
    events.on("pause_status", (p) => {
      const labels = consumerLabels(p);
      paused.set(labels, 1);
      pauseDuration.set(labels, p.durationSeconds);
    }),
    events.on("resume", (p) => {
      const labels = consumerLabels(p);
      paused.set(labels, 0);
      pauseDuration.set(labels, 0);
    }),
    events.on("partitions_assigned", (p) => changeAssignment(p, "assigned")),
    events.on("partitions_revoked", (p) => changeAssignment(p, "revoked")),
    events.on("partitions_lost", (p) => changeAssignment(p, "revoked")),
    events.on("dead_letter", (p) => {
      deadLetters.inc(
        { ...groupLabels(p), topic: p.topic, dead_letter_topic: p.deadLetterTopic },
        p.offsets.length,
      );
    }),
    events.on("produce_message", (p) => {
      produced.inc({ client_id: p.clientId, topic: p.topic, api: "produce" });
    }),
    events.on("produce_async", (p) => {
      const labels = { client_id: p.clientId, topic: p.topic, api: "produce_async" };
      if (p.error === undefined) produced.inc(labels);
      else produceErrors.inc(labels);
    }),
    events.on("produce_sync", (p) => {
      const labels = { client_id: p.clientId, topic: p.topic, api: "produce_sync" };
      if (p.error === undefined) produced.inc(labels);
      else produceErrors.inc(labels);
    }),
    events.on("acknowledged_message", (p) => {
      delivered.inc({ client_id: p.clientId, topic: p.topic });
    }),
    events.on("produce_delivery_error", (p) => {
      deliveryErrors.inc({ client_id: p.clientId, topic: p.topic });
    }),
    events.on("deliver_messages", (p) => {
      deliverDuration.observe({ client_id: p.clientId }, p.durationMs / 1000);
    }),
    events.on("error", (p) => {
      clientErrors.inc({ client_id: p.clientId, fatal: String(p.fatal) });
    }),
    events.on("statistics", (p) => {
      if (p.statistics.type === "producer") return;
      const key = memberKey(p);
      const previous = lagLabels.get(key) ?? new Map<string, Record<ConsumerLabels, string>>();
      const current = new Map<string, Record<ConsumerLabels, string>>();
      for (const { topic, partition, consumerLag } of partitionLags(p.statistics)) {
        const labels = consumerLabels({ ...p, topic, partition });
        lag.set(labels, consumerLag);
        current.set(topicPartitionKey(topic, partition), labels);
      }
      for (const [id, labels] of previous) if (!current.has(id)) lag.remove(labels);
      lagLabels.set(key, current);
    }),
  ];
}

/** One partition's lag in a librdkafka statistics snapshot. */
export interface PartitionLag {
  /** Topic. */
  topic: string;
  /** Partition. */
  partition: number;
  /** `consumer_lag`: high watermark minus committed offset. */
  consumerLag: number;
}

/**
 * The partitions with a known consumer lag in a librdkafka statistics
 * snapshot (`topics.<t>.partitions.<p>.consumer_lag`); librdkafka's internal
 * partition `-1` and unknown lags (`-1`) are left out.
 *
 * @example
 * ```ts
 * import { partitionLags } from "./prometheus.ts";
 * const lags = partitionLags({
 *   topics: { orders: { partitions: { "0": { consumer_lag: 4 }, "-1": { consumer_lag: -1 } } } },
 * });
 * console.assert(lags.length === 1 && lags[0]!.consumerLag === 4);
 * ```
 */
export function partitionLags(statistics: Record<string, unknown>): PartitionLag[] {
  const lags: PartitionLag[] = [];
  const topics = statistics.topics;
  if (typeof topics !== "object" || topics === null) return lags;
  for (const [topic, value] of Object.entries(topics as Record<string, unknown>)) {
    const partitions = (value as { partitions?: unknown })?.partitions;
    if (typeof partitions !== "object" || partitions === null) continue;
    for (const [id, stats] of Object.entries(partitions as Record<string, unknown>)) {
      const partition = Number(id);
      const consumerLag = (stats as { consumer_lag?: unknown })?.consumer_lag;
      if (!Number.isInteger(partition) || partition < 0) continue;
      if (typeof consumerLag !== "number" || consumerLag < 0) continue;
      lags.push({ topic, partition, consumerLag });
    }
  }
  return lags;
}
