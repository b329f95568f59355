/**
 * Helpers of the node-rdkafka adapter: message and configuration conversions,
 * event wiring and connecting with retries.
 *
 * @module
 */

import type {
  KafkaConsumer as NativeConsumer,
  LibrdKafkaError,
  Message as NativeMessage,
  Producer as NativeProducer,
} from "node-rdkafka";
import { Buffer } from "node:buffer";
import type { KafkaError } from "../../errors.ts";
import type {
  ClientListeners,
  ConfigMap,
  Header,
  RawMessage,
  RebalanceProtocol,
  TopicPartition,
} from "../transport.ts";
import { toKafkaError } from "./_errors.ts";

/** How long one connection attempt may take before it is retried. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Pause between connection attempts. */
const RECONNECT_DELAY_MS = 1_000;

function plainBytes(buffer: Uint8Array): Uint8Array {
  // A Buffer is a Uint8Array subclass; strict deep equality wants the plain kind.
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * A zero-length view whose data pointer is not NULL: node-rdkafka passes a NULL
 * pointer on to librdkafka, which would turn an empty value into a tombstone.
 */
const EMPTY = Buffer.alloc(8).subarray(0, 0);

export function toBuffer(bytes: Uint8Array | null | undefined): Buffer | null {
  if (bytes === null || bytes === undefined) return null;
  if (bytes.byteLength === 0) return EMPTY;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function toRawMessage(message: NativeMessage): RawMessage {
  const headers: Header[] = [];
  for (const header of message.headers ?? []) {
    for (const [key, value] of Object.entries(header)) {
      headers.push({
        key,
        value: typeof value === "string" ? new TextEncoder().encode(value) : plainBytes(value),
      });
    }
  }
  const key = message.key;
  const timestamp = typeof message.timestamp === "number" && message.timestamp >= 0
    ? message.timestamp
    : null;
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: key === null || key === undefined
      ? null
      : typeof key === "string"
      ? new TextEncoder().encode(key)
      : plainBytes(key),
    value: message.value === null ? null : plainBytes(message.value),
    headers,
    timestamp,
    // node-rdkafka does not pass the timestamp type on; create time is the topic default.
    timestampType: timestamp === null ? "none" : "create",
  };
}

export function tp(p: TopicPartition): TopicPartition {
  return { topic: p.topic, partition: p.partition };
}

export function later(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves `true` when `promise` settles within `ms`, `false` otherwise. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function protocolFromConfig(config: ConfigMap): RebalanceProtocol {
  const strategies = (config["partition.assignment.strategy"] ?? "range,roundrobin")
    .split(",").map((s) => s.trim()).filter((s) => s !== "");
  return strategies.length > 0 && strategies.every((s) => s === "cooperative-sticky")
    ? "cooperative"
    : "eager";
}

// node-rdkafka's config types list known keys only; librdkafka takes any string.
// deno-lint-ignore no-explicit-any
export type NativeConfig = any;

/**
 * librdkafka properties that exist only at topic level. librdkafka accepts them
 * in the global configuration too, but node-rdkafka always installs its own
 * `default_topic_conf`, which would silently reset them.
 */
const TOPIC_ONLY = new Set([
  "acks",
  "request.required.acks",
  "request.timeout.ms",
  "message.timeout.ms",
  "delivery.timeout.ms",
  "queuing.strategy",
  "produce.offset.report",
  "partitioner",
  "compression.level",
  "auto.offset.reset",
  "auto.commit.enable",
  "offset.store.path",
  "offset.store.sync.interval.ms",
  "offset.store.method",
  "consume.callback.max.messages",
]);

/** Splits a flat librdkafka configuration into node-rdkafka's global and topic parts. */
export function splitConfig(config: ConfigMap): { global: NativeConfig; topic: NativeConfig } {
  const global: Record<string, unknown> = {};
  const topic: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    (TOPIC_ONLY.has(key) ? topic : global)[key] = value;
  }
  return { global, topic };
}

/** What consumers and producers share: an event emitter with librdkafka's events. */
interface EventSource {
  // deno-lint-ignore no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export function wireEvents(
  client: EventSource,
  listeners: ClientListeners,
  onErrorSeen?: (error: KafkaError) => void,
): void {
  client.on("event.error", (error: LibrdKafkaError) => {
    const mapped = toKafkaError(error);
    onErrorSeen?.(mapped);
    listeners.onError?.(mapped);
  });
  if (listeners.onStatistics) {
    const onStatistics = listeners.onStatistics;
    client.on("event.stats", (data: { message: string }) => onStatistics(data.message));
  }
  if (listeners.onLog) {
    const onLog = listeners.onLog;
    client.on("event.log", (data: { severity: number; fac: string; message: string }) => {
      onLog({ level: data.severity, facility: data.fac, message: data.message });
    });
  }
}

/**
 * Connects a client, retrying while the cluster cannot be reached (librdkafka
 * itself would keep trying; node-rdkafka gives up after one metadata request).
 */
export function connectWithRetry(
  client: NativeConsumer | NativeProducer,
  listeners: ClientListeners,
  isClosed: () => boolean,
): Promise<boolean> {
  return new Promise((resolve) => {
    const attempt = () => {
      if (isClosed()) return resolve(false);
      client.connect({ timeout: CONNECT_TIMEOUT_MS }, (error) => {
        if (!error) return resolve(true);
        listeners.onError?.(toKafkaError(error, "Cannot connect to the cluster"));
        if (isClosed()) return resolve(false);
        setTimeout(attempt, RECONNECT_DELAY_MS);
      });
    };
    attempt();
  });
}
