/**
 * The node-rdkafka adapter: the transport port over the `node-rdkafka` addon,
 * for Racecar running under Node.js (the compiled npm package).
 *
 * Deno cannot load node-rdkafka (it is a NAN addon), so this module is only
 * ever imported under Node; `default_transport.node.ts` picks it there.
 *
 * Where node-rdkafka hides something librdkafka knows, the adapter makes up for
 * it so it behaves like the Deno FFI adapter. What it cannot make up for is
 * listed in `docs/node.md` under "Limitations" and pinned by tests.
 *
 * @module
 */

import { withConsumerDefaults } from "./_defaults.ts";
import { readPartitionCount } from "./_partition_count.ts";
import Kafka from "node-rdkafka";
import type {
  DeliveryReport as NativeDeliveryReport,
  IAdminClient,
  KafkaConsumer as NativeConsumer,
  LibrdKafkaError,
  Message as NativeMessage,
  Metadata as NativeMetadata,
  Producer as NativeProducer,
  TopicPartitionOffset as NativeTopicPartitionOffset,
} from "node-rdkafka";
import { Buffer } from "node:buffer";
import { ConfigError, ErrorCode, KafkaError } from "../errors.ts";
import {
  type AdminOptions,
  type AdminTransport,
  type ClientListeners,
  type ConfigMap,
  type ConsumerOptions,
  type ConsumerTransport,
  type DeliveryReport,
  type GroupDescription,
  type GroupListing,
  type Header,
  type NewTopic,
  OFFSET_INVALID,
  type ProduceRecord,
  type ProducerOptions,
  type ProducerTransport,
  type RawMessage,
  type RebalanceEvent,
  type RebalanceProtocol,
  type TopicListing,
  type TopicPartition,
  type TopicPartitionOffset,
  type Transport,
  type Watermarks,
} from "./transport.ts";

const ERR = {
  FAIL: -196,
  PARTITION_EOF: -191,
  TIMED_OUT: -185,
  STATE: -172,
  NO_OFFSET: -168,
  PURGE_QUEUE: -152,
  FATAL: -150,
  MAX_POLL_EXCEEDED: -147,
  ASSIGNMENT_LOST: -142,
  ASSIGN_PARTITIONS: -175,
  REVOKE_PARTITIONS: -174,
  MSG_TIMED_OUT: -192,
  UNKNOWN_TOPIC_OR_PART: 3,
  TOPIC_ALREADY_EXISTS: 36,
} as const;

/** How long one connection attempt may take before it is retried. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Pause between connection attempts. */
const RECONNECT_DELAY_MS = 1_000;
/** How often the producer serves delivery reports while messages are in flight. */
const PRODUCER_POLL_MS = 5;
/**
 * The longest single wait for a message: node-rdkafka cannot interrupt a wait
 * in progress, so wakeup() takes effect when the current slice ends.
 */
const WAIT_SLICE_MS = 50;
/** Upper bound for giving partitions back on close before leaving anyway. */
const CLOSE_DRAIN_MS = 10_000;
/**
 * How often a consumer asks for the metadata of subscribed topics that did not
 * exist yet. node-rdkafka's connect() reads the metadata of every topic, and
 * librdkafka's cache expires entries in insertion order: the "unknown topic"
 * entry a subscription adds after those (meant to live 100 ms) then lives as
 * long as they do (`metadata.max.age.ms`, 15 minutes), and the group does not
 * look for the topic again until `topic.metadata.refresh.interval.ms` (5
 * minutes). A request for the topic itself replaces that entry, and the
 * group's next join attempt (each second) finds the topic, as it does at once
 * under the FFI adapter, whose cache holds nothing else.
 */
const MISSING_TOPIC_CHECK_MS = 1_000;

// ---------------------------------------------------------------------------
// Errors

let codeNames: Map<number, string> | undefined;
let codesByText: Map<string, number> | undefined;

/** librdkafka's `ERR_*` name for a code, as the FFI adapter derives it from `rd_kafka_err2name`. */
function codeName(errno: number): string {
  if (codeNames === undefined) {
    codeNames = new Map();
    for (const [name, code] of Object.entries(Kafka.CODES.ERRORS)) {
      // Later entries are aliases (e.g. ERR_GROUP_LOAD_IN_PROGRESS); librdkafka names the first.
      if (name === "ERR__BEGIN" || name === "ERR__END" || codeNames.has(code)) continue;
      codeNames.set(code, name);
    }
  }
  return codeNames.get(errno) ?? `ERR_${errno}`;
}

/** librdkafka's text for a code (`rd_kafka_err2str`), through the addon's own error wrapper. */
function codeText(errno: number): string {
  try {
    // The public API only exposes err2str through this wrapper, which throws the error it builds.
    (Kafka.Producer.prototype as unknown as { _errorWrap(code: number): unknown })._errorWrap
      .call(null, errno);
  } catch (error) {
    return (error as { message?: string }).message ?? `Err-${errno}?`;
  }
  return "Success";
}

/**
 * node-rdkafka hands error events over as bare `Error`s carrying only
 * librdkafka's text; find the code back from the text.
 */
function codeFromText(text: string): number | undefined {
  if (codesByText === undefined) {
    codesByText = new Map();
    for (const code of Object.values(Kafka.CODES.ERRORS)) {
      const key = codeText(code).toLowerCase();
      if (!codesByText.has(key)) codesByText.set(key, code);
    }
  }
  return codesByText.get(text.toLowerCase());
}

/** Builds the adapter-neutral error for a librdkafka code. */
function kafkaError(errno: number, message?: string, cause?: unknown): KafkaError {
  return new KafkaError(errno, codeName(errno), message ?? codeText(errno), {
    fatal: errno === ERR.FATAL,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Maps whatever node-rdkafka threw or called back with to a {@link KafkaError}. */
function toKafkaError(error: unknown, context?: string): KafkaError {
  if (error instanceof KafkaError) return error;
  const e = (error ?? {}) as Partial<LibrdKafkaError> & { origin?: string };
  let errno = typeof e.code === "number" && e.code !== -1 ? e.code : undefined;
  let text = typeof e.message === "string" ? e.message : String(error);
  if (errno === undefined) {
    const full = e.origin && e.origin !== "unknown" ? `${e.origin}: ${text}` : text;
    errno = codeFromText(full) ?? codeFromText(text);
    if (errno !== undefined) text = codeText(errno);
    else if (/disconnected|not connected/i.test(text)) errno = ERR.STATE;
    else errno = ERR.FAIL;
  }
  const message = context === undefined ? text : `${context}: ${text}`;
  return new KafkaError(errno, codeName(errno), message, {
    fatal: e.isFatal === true || errno === ERR.FATAL,
    cause: error,
  });
}

/** librdkafka refused a property: name it. */
function configError(role: string, error: unknown, config: ConfigMap): ConfigError {
  const text = (error as { message?: string })?.message ?? String(error);
  const quoted = /property:? "([^"]+)"/.exec(text)?.[1];
  const key = quoted !== undefined && quoted in config
    ? quoted
    : Object.keys(config).find((k) => quoted !== undefined && text.includes(`"${k}"`)) ?? quoted;
  // Same wording as the FFI adapter, which learns the key from rd_kafka_conf_set.
  return new ConfigError(
    key === undefined
      ? `Cannot create ${role}: librdkafka refused the configuration: ${text}`
      : `Invalid librdkafka property "${key}": ${text}`,
    key === undefined ? { cause: error } : { cause: error, key },
  );
}

// ---------------------------------------------------------------------------
// Helpers

function keyOf(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

function plainBytes(buffer: Uint8Array): Uint8Array {
  // A Buffer is a Uint8Array subclass; strict deep equality wants the plain kind.
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * A zero-length view whose data pointer is not NULL: node-rdkafka passes a NULL
 * pointer on to librdkafka, which would turn an empty value into a tombstone.
 */
const EMPTY = Buffer.alloc(8).subarray(0, 0);

function toBuffer(bytes: Uint8Array | null | undefined): Buffer | null {
  if (bytes === null || bytes === undefined) return null;
  if (bytes.byteLength === 0) return EMPTY;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toRawMessage(message: NativeMessage): RawMessage {
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

function tp(p: TopicPartition): TopicPartition {
  return { topic: p.topic, partition: p.partition };
}

function later(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves `true` when `promise` settles within `ms`, `false` otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
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

function protocolFromConfig(config: ConfigMap): RebalanceProtocol {
  const strategies = (config["partition.assignment.strategy"] ?? "range,roundrobin")
    .split(",").map((s) => s.trim()).filter((s) => s !== "");
  return strategies.length > 0 && strategies.every((s) => s === "cooperative-sticky")
    ? "cooperative"
    : "eager";
}

// node-rdkafka's config types list known keys only; librdkafka takes any string.
// deno-lint-ignore no-explicit-any
type NativeConfig = any;

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
function splitConfig(config: ConfigMap): { global: NativeConfig; topic: NativeConfig } {
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

function wireEvents(
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
function connectWithRetry(
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

// ---------------------------------------------------------------------------
// Consumer

class NodeRdkafkaConsumer implements ConsumerTransport {
  readonly rebalanceProtocol: RebalanceProtocol;
  #client: NativeConsumer;
  #options: ConsumerOptions;
  #connected = false;
  #ready: Promise<boolean>;
  #closing: Promise<void> | undefined;
  #subscription: string[] | undefined;
  #assigned = new Set<string>();
  #revoking = new Set<string>();
  #paused = new Set<string>();
  /** Lowest offset dropped per paused partition, to rewind to on resume. */
  #dropped = new Map<string, TopicPartitionOffset>();
  #rebalancing: Promise<void> = Promise.resolve();
  #consuming: Promise<unknown> | undefined;
  /** wakeup() was called and no consume() has answered it yet. */
  #wakeRequested = false;
  #lost = false;
  /** `group.instance.id` is set: closing must not leave the group. */
  readonly #staticMember: boolean;
  /** Subscribed topics not seen in the cluster's metadata yet. */
  #missing = new Set<string>();
  #missingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ConsumerOptions) {
    this.#options = options;
    this.#staticMember = (options.config["group.instance.id"] ?? "") !== "";
    this.rebalanceProtocol = protocolFromConfig(options.config);
    const { global, topic } = splitConfig(options.config);
    const config: NativeConfig = {
      ...global,
      "enable.auto.offset.store": "false",
      event_cb: true,
      rebalance_cb: (error: LibrdKafkaError, partitions: TopicPartition[]) =>
        this.#onNativeRebalance(error, partitions),
      offset_commit_cb: (error: LibrdKafkaError | undefined) => {
        if (error && error.code !== ERR.NO_OFFSET) {
          options.onError?.(toKafkaError(error, "Cannot commit offsets"));
        }
      },
    };
    try {
      this.#client = new Kafka.KafkaConsumer(config, topic);
    } catch (error) {
      throw configError("consumer", error, options.config);
    }
    wireEvents(this.#client, options, (error) => this.#noteError(error.errno));
    if (options.onLog) {
      this.#client.on("event.log", (data: { fac: string }) => {
        if (data.fac === "SESSTMOUT") this.#lost = true;
      });
    }
    this.#ready = connectWithRetry(this.#client, options, () => this.#closing !== undefined)
      .then((ok) => {
        this.#connected = ok;
        if (ok && this.#subscription) this.#subscribeNow(this.#subscription);
        return ok;
      });
  }

  subscribe(topics: readonly string[]): void {
    if (this.#closing) throw kafkaError(ERR.STATE, "Cannot subscribe: the consumer is closed");
    this.#subscription = [...topics];
    if (this.#connected) this.#subscribeNow(this.#subscription);
  }

  #subscribeNow(topics: string[]): void {
    try {
      if (this.#client.subscription().length > 0) this.#client.unsubscribe();
      this.#client.subscribe(topics);
      // librdkafka takes "^..." as a pattern: no single topic to ask for.
      this.#missing = new Set(topics.filter((topic) => !topic.startsWith("^")));
      this.#checkMissingTopics();
    } catch (error) {
      const mapped = toKafkaError(error, `Cannot subscribe to ${JSON.stringify(topics)}`);
      if (this.#connected) throw mapped;
      this.#options.onError?.(mapped);
    }
  }

  /** Asks for each subscribed topic not seen yet until it exists (see MISSING_TOPIC_CHECK_MS). */
  #checkMissingTopics(): void {
    clearTimeout(this.#missingTimer);
    this.#missingTimer = undefined;
    if (this.#closing !== undefined || !this.#connected || this.#missing.size === 0) return;
    const asked = this.#missing;
    Promise.all([...asked].map((topic) =>
      new Promise<void>((resolve) => {
        this.#client.getMetadata(
          { topic, allTopics: false, timeout: MISSING_TOPIC_CHECK_MS },
          (error, data) => {
            const found = data?.topics.find((t) => t.name === topic);
            if (!error && found !== undefined && found.partitions.length > 0) asked.delete(topic);
            resolve();
          },
        );
      })
    )).then(() => {
      if (asked !== this.#missing || this.#closing !== undefined || asked.size === 0) return;
      this.#missingTimer = setTimeout(() => this.#checkMissingTopics(), MISSING_TOPIC_CHECK_MS);
    });
  }

  async consume(max: number, timeoutMs: number): Promise<RawMessage[]> {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Cannot consume: 'max' must be a positive integer, got ${max}`);
    }
    if (this.#consuming) {
      throw new TypeError("Cannot consume: the previous consume() call is still pending");
    }
    if (this.#closing) throw kafkaError(ERR.STATE, "Cannot consume: the consumer is closed");
    const run = this.#consume(max, Math.max(0, timeoutMs));
    this.#consuming = run;
    try {
      return await run;
    } finally {
      this.#consuming = undefined;
    }
  }

  async #consume(max: number, timeoutMs: number): Promise<RawMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#connected) {
      const left = deadline - Date.now();
      if (left <= 0 || this.#wakeRequested) {
        this.#wakeRequested = false;
        return [];
      }
      await within(this.#ready, Math.min(left, WAIT_SLICE_MS));
    }
    // node-rdkafka's consume(n) waits up to its timeout for *each* message
    // until it has n. So: take what is queued (timeout 0 returns at the first
    // miss; under load that is the batch), else wait for one message, in
    // slices so that wakeup() is noticed soon, then take what came with it.
    let messages = await this.#consumeNative(max, 0);
    if (messages.length === 0) {
      while (messages.length === 0 && !this.#wakeRequested) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        messages = await this.#consumeNative(1, Math.min(left, WAIT_SLICE_MS));
      }
      if (messages.length > 0 && max > 1) {
        messages = messages.concat(await this.#consumeNative(max - 1, 0));
      }
    }
    // Whatever this call returns answers a wakeup() made before or during it.
    this.#wakeRequested = false;
    // Hand nothing over while a rebalance handler is still running.
    await this.#rebalancing;
    return this.#keep(messages).map(toRawMessage);
  }

  wakeup(): void {
    this.#wakeRequested = true;
  }

  #consumeNative(max: number, timeoutMs: number): Promise<NativeMessage[]> {
    return new Promise((resolve, reject) => {
      this.#client.setDefaultConsumeTimeout(timeoutMs);
      try {
        this.#client.consume(max, (error, messages) => {
          if (!error) return resolve(messages);
          const mapped = toKafkaError(error);
          this.#noteError(mapped.errno);
          if (mapped.fatal) return reject(mapped);
          if (mapped.errno === ERR.STATE && !this.#client.isConnected()) return reject(mapped);
          if (mapped.errno !== ERR.PARTITION_EOF && mapped.errno !== ERR.TIMED_OUT) {
            this.#options.onError?.(mapped);
          }
          resolve([]);
        });
      } catch (error) {
        reject(toKafkaError(error, "Cannot consume"));
      }
    });
  }

  /** Drops messages of partitions not assigned, being revoked or paused. */
  #keep(messages: NativeMessage[]): NativeMessage[] {
    return messages.filter((m) => {
      const key = keyOf(m.topic, m.partition);
      if (!this.#assigned.has(key) || this.#revoking.has(key)) return false;
      if (this.#paused.has(key)) {
        const dropped = this.#dropped.get(key);
        if (dropped === undefined || m.offset < dropped.offset) {
          this.#dropped.set(key, { topic: m.topic, partition: m.partition, offset: m.offset });
        }
        return false;
      }
      return true;
    });
  }

  #noteError(errno: number): void {
    if (errno === ERR.MAX_POLL_EXCEEDED || errno === ERR.ASSIGNMENT_LOST) this.#lost = true;
  }

  #onNativeRebalance(error: LibrdKafkaError | undefined, partitions: TopicPartition[]): void {
    const list = partitions.map(tp);
    const code = error?.code;
    if (code === ERR.REVOKE_PARTITIONS) {
      // From now on, fetched messages of these partitions are no longer handed over.
      for (const p of list) this.#revoking.add(keyOf(p.topic, p.partition));
    }
    this.#rebalancing = this.#rebalancing
      .then(() => this.#rebalance(code, list))
      .catch((e) => this.#options.onError?.(toKafkaError(e, "Cannot complete a rebalance")));
  }

  async #rebalance(code: number | undefined, partitions: TopicPartition[]): Promise<void> {
    let cooperative = this.rebalanceProtocol === "cooperative";
    try {
      cooperative = this.#client.rebalanceProtocol() === "COOPERATIVE";
    } catch {
      // Disconnected while closing: keep what the configuration says.
    }
    const protocol: RebalanceProtocol = cooperative ? "cooperative" : "eager";
    if (code === ERR.ASSIGN_PARTITIONS) {
      this.#lost = false;
      if (cooperative) this.#client.incrementalAssign(partitions);
      else {
        this.#client.assign(partitions);
        this.#assigned.clear();
        this.#paused.clear();
        this.#dropped.clear();
      }
      for (const p of partitions) this.#assigned.add(keyOf(p.topic, p.partition));
      // Adding partitions, or leaving this member with none (idle), is an event; a cooperative
      // round that adds nothing to a member holding partitions is not (as the FFI adapter).
      if (partitions.length > 0 || this.#assigned.size === 0) {
        await this.#callHandler({ kind: "assign", partitions, protocol });
      }
    } else if (code === ERR.REVOKE_PARTITIONS) {
      // At close, a static member revoked its partitions already (see #close): not twice.
      const held = partitions.filter((p) => this.#assigned.has(keyOf(p.topic, p.partition)));
      if (this.#closing === undefined || held.length > 0) {
        await this.#callHandler({ kind: "revoke", partitions, protocol });
      }
      try {
        if (cooperative) this.#client.incrementalUnassign(partitions);
        else this.#client.unassign();
      } finally {
        const gone = cooperative
          ? partitions.map((p) => keyOf(p.topic, p.partition))
          : [...this.#assigned];
        for (const key of gone) {
          this.#assigned.delete(key);
          this.#revoking.delete(key);
          this.#paused.delete(key);
          this.#dropped.delete(key);
        }
      }
    } else {
      // A failed rebalance: librdkafka wants the assignment dropped.
      this.#options.onError?.(
        code === undefined ? kafkaError(ERR.FAIL, "Rebalance failed") : kafkaError(code),
      );
      if (cooperative) this.#client.incrementalUnassign(partitions);
      else this.#client.unassign();
      this.#assigned.clear();
      this.#revoking.clear();
    }
  }

  async #callHandler(event: RebalanceEvent): Promise<void> {
    if (!this.#options.onRebalance) return;
    try {
      await this.#options.onRebalance(event);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#options.onError?.(
        kafkaError(ERR.FAIL, `Rebalance handler failed on ${event.kind}: ${reason}`, error),
      );
    }
  }

  storeOffsets(offsets: readonly TopicPartitionOffset[]): void {
    if (!this.#connected || this.#closing) return;
    const list = offsets
      .filter((o) => this.#assigned.has(keyOf(o.topic, o.partition)))
      .map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }));
    if (list.length === 0) return;
    try {
      this.#client.offsetsStore(list);
    } catch (error) {
      const mapped = toKafkaError(error, "Cannot store offsets");
      if (mapped.errno !== ERR.STATE) throw mapped;
    }
  }

  commit(
    offsets?: readonly TopicPartitionOffset[] | null,
    options: { sync?: boolean } = {},
  ): Promise<void> {
    if (!this.#connected) {
      return this.#closing
        ? Promise.reject(kafkaError(ERR.STATE, "Cannot commit: the consumer is closed"))
        : Promise.resolve();
    }
    const list = offsets?.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
    }));
    if (list !== undefined && list.length === 0) return Promise.resolve();
    try {
      // commitSync blocks the event loop until the broker answers, like the
      // synchronous commit of every librdkafka binding.
      if (options.sync) this.#client.commitSync(list ?? null);
      else if (list) this.#client.commit(list);
      else this.#client.commit();
    } catch (error) {
      const mapped = toKafkaError(error, "Cannot commit offsets");
      if (mapped.errno !== ERR.NO_OFFSET) return Promise.reject(mapped);
    }
    return Promise.resolve();
  }

  async committed(
    partitions: readonly TopicPartition[],
    timeoutMs: number,
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return [];
    if (!this.#connected && !(await within(this.#ready, timeoutMs) && this.#connected)) {
      throw kafkaError(ERR.TIMED_OUT, "Cannot read committed offsets: not connected");
    }
    const list = partitions.map(tp);
    const result = await new Promise<NativeTopicPartitionOffset[]>((resolve, reject) => {
      this.#client.committed(list, timeoutMs, (error, result) => {
        if (error) reject(toKafkaError(error, "Cannot read committed offsets"));
        else resolve(result);
      });
    });
    return result.map((entry, i) => {
      if (entry instanceof Error) throw toKafkaError(entry, "Cannot read committed offsets");
      const asked = list[i]!;
      return {
        topic: entry.topic ?? asked.topic,
        partition: entry.partition ?? asked.partition,
        offset: typeof entry.offset === "number" ? entry.offset : OFFSET_INVALID,
      };
    });
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.#paused.add(keyOf(p.topic, p.partition));
    if (!this.#connected || this.#closing) return;
    try {
      this.#client.pause(partitions.map(tp));
    } catch (error) {
      throw toKafkaError(error, "Cannot pause partitions");
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const key = keyOf(p.topic, p.partition);
      this.#paused.delete(key);
      const dropped = this.#dropped.get(key);
      this.#dropped.delete(key);
      // Messages of this partition that were in flight when it was paused were
      // dropped; rewind so they are fetched again.
      if (dropped && this.#connected && this.#assigned.has(key)) {
        this.#client.seek(dropped, 0, () => {});
      }
    }
    if (!this.#connected || this.#closing) return;
    try {
      this.#client.resume(partitions.map(tp));
    } catch (error) {
      throw toKafkaError(error, "Cannot resume partitions");
    }
    // librdkafka's broker thread, which decides what to fetch, sleeps up to 1 s when it has
    // nothing to fetch and a resume does not wake it; a request to the leader does (see
    // FfiConsumer's #wakeFetcher). The answer is not needed.
    for (const p of partitions) {
      this.#client.queryWatermarkOffsets(p.topic, p.partition, 1000, () => {});
    }
  }

  async seek(position: TopicPartitionOffset, timeoutMs: number): Promise<void> {
    if (!this.#connected) throw kafkaError(ERR.STATE, "Cannot seek: not connected");
    this.#dropped.delete(keyOf(position.topic, position.partition));
    const target = {
      topic: position.topic,
      partition: position.partition,
      offset: position.offset,
    };
    await new Promise<void>((resolve, reject) => {
      this.#client.seek(target, Math.max(1, timeoutMs), (error) => {
        if (error) reject(toKafkaError(error, `Cannot seek to offset ${position.offset}`));
        else resolve();
      });
    });
  }

  assignment(): TopicPartition[] {
    if (!this.#connected) return [];
    try {
      return this.#client.assignments().map(tp);
    } catch {
      return [];
    }
  }

  assignmentLost(): boolean {
    return this.#lost;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.wakeup();
    clearTimeout(this.#missingTimer);
    await this.#ready;
    if (this.#consuming) await this.#consuming.catch(() => {});
    if (!this.#connected) return;
    // Give the partitions back through the rebalance handler before leaving,
    // which needs the consumer to keep polling.
    if (this.#subscription !== undefined && this.#staticMember) {
      // librdkafka's unsubscribe sends a LeaveGroup even for a static member (its close does
      // not), so a static member revokes through the handler itself and keeps its membership.
      try {
        await this.#rebalancing;
        const held = this.assignment();
        for (const p of held) this.#revoking.add(keyOf(p.topic, p.partition));
        if (held.length > 0) await this.#rebalance(ERR.REVOKE_PARTITIONS, held);
      } catch (error) {
        this.#options.onError?.(toKafkaError(error, "Cannot give the partitions back cleanly"));
      }
    } else if (this.#subscription !== undefined) {
      try {
        this.#client.unsubscribe();
        const deadline = Date.now() + CLOSE_DRAIN_MS;
        while (Date.now() < deadline) {
          await this.#rebalancing;
          if (this.#assigned.size === 0) break;
          // Short waits: the revoke this waits for comes within milliseconds.
          await this.#consumeNative(100, 10);
        }
      } catch (error) {
        this.#options.onError?.(toKafkaError(error, "Cannot leave the group cleanly"));
      }
    }
    await this.#rebalancing;
    await new Promise<void>((resolve) => this.#client.disconnect(() => resolve()));
    await this.#rebalancing;
    this.#connected = false;
  }
}

// ---------------------------------------------------------------------------
// Producer

interface InFlight {
  resolve(report: DeliveryReport): void;
  reject(error: KafkaError): void;
}

class NodeRdkafkaProducer implements ProducerTransport {
  #client: NativeProducer;
  #options: ProducerOptions;
  #connected = false;
  #closed = false;
  #ready: Promise<boolean>;
  #inFlight = new Map<number, InFlight>();
  #nextId = 1;
  #poller: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | undefined;
  #messageTimeoutMs: number;

  constructor(options: ProducerOptions) {
    this.#options = options;
    const timeout = Number(
      options.config["message.timeout.ms"] ?? options.config["delivery.timeout.ms"] ?? 300_000,
    );
    this.#messageTimeoutMs = Number.isFinite(timeout) && timeout > 0 ? timeout : 300_000;
    const { global, topic } = splitConfig(options.config);
    const config: NativeConfig = { ...global, dr_cb: true, event_cb: true };
    try {
      this.#client = new Kafka.Producer(config, topic);
    } catch (error) {
      throw configError("producer", error, options.config);
    }
    wireEvents(this.#client, options);
    this.#client.on("delivery-report", (error, report) => this.#onDelivery(error, report));
    this.#ready = connectWithRetry(this.#client, options, () => this.#closed)
      .then((ok) => (this.#connected = ok));
  }

  async produce(record: ProduceRecord): Promise<DeliveryReport> {
    if (this.#closed) throw kafkaError(ERR.STATE, "Cannot produce: the producer is closed");
    if (!this.#connected) {
      await within(this.#ready, this.#messageTimeoutMs);
      if (!this.#connected) {
        throw kafkaError(
          this.#closed ? ERR.STATE : ERR.MSG_TIMED_OUT,
          this.#closed ? "Cannot produce: the producer is closed" : undefined,
        );
      }
    }
    const id = this.#nextId++;
    const headers = record.headers?.map((h) => ({
      // node-rdkafka sends header values as UTF-8 text; there is no null value.
      [h.key]: h.value === null ? "" : toBuffer(h.value)!,
    }));
    const delivered = new Promise<DeliveryReport>((resolve, reject) => {
      this.#inFlight.set(id, { resolve, reject });
    });
    try {
      this.#client.produce(
        record.topic,
        record.partition ?? -1,
        toBuffer(record.value),
        toBuffer(record.key),
        record.timestamp ?? null,
        id,
        headers,
      );
    } catch (error) {
      this.#inFlight.delete(id);
      throw toKafkaError(error, `Cannot produce to topic "${record.topic}"`);
    }
    this.#startPolling();
    return await delivered;
  }

  #onDelivery(error: LibrdKafkaError | null | undefined, report: NativeDeliveryReport): void {
    const id = report?.opaque as number;
    const waiting = this.#inFlight.get(id);
    if (!waiting) return;
    this.#inFlight.delete(id);
    if (this.#inFlight.size === 0) this.#stopPolling();
    if (error) waiting.reject(toKafkaError(error));
    else {
      waiting.resolve({
        topic: report.topic,
        partition: report.partition,
        offset: typeof report.offset === "number" && report.offset >= 0 ? report.offset : -1,
      });
    }
  }

  #startPolling(): void {
    if (this.#poller !== undefined) return;
    this.#poller = setInterval(() => {
      try {
        this.#client.poll();
      } catch {
        // Disconnected: close() settles what is left.
      }
    }, PRODUCER_POLL_MS);
  }

  #stopPolling(): void {
    if (this.#poller !== undefined) clearInterval(this.#poller);
    this.#poller = undefined;
  }

  async partitionCount(topic: string, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    if (!this.#connected && !(await within(this.#ready, timeoutMs) && this.#connected)) {
      throw kafkaError(ERR.TIMED_OUT, `Cannot read metadata of topic "${topic}": not connected`);
    }
    // A topic created a moment ago may still be unknown to the broker asked: retry while that passes.
    return readPartitionCount(
      topic,
      Math.max(1, deadline - Date.now()),
      (left) => this.#partitionCount(topic, left),
    );
  }

  async #partitionCount(topic: string, timeoutMs: number): Promise<number> {
    const metadata = await new Promise<NativeMetadata>((resolve, reject) => {
      this.#client.getMetadata({ topic, allTopics: false, timeout: timeoutMs }, (error, data) => {
        if (error) reject(toKafkaError(error, `Cannot read metadata of topic "${topic}"`));
        else resolve(data);
      });
    });
    const found = metadata.topics.find((t) => t.name === topic);
    if (!found || found.partitions.length === 0) {
      throw kafkaError(ERR.UNKNOWN_TOPIC_OR_PART, `Cannot count partitions of topic "${topic}"`);
    }
    return found.partitions.length;
  }

  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (!this.#connected) {
      if (this.#inFlight.size === 0) return;
      await within(this.#ready, timeoutMs);
      if (!this.#connected) throw kafkaError(ERR.TIMED_OUT, "Cannot flush: not connected");
    }
    await new Promise<void>((resolve, reject) => {
      this.#client.flush(Math.max(0, deadline - Date.now()), (error) => {
        if (error) reject(toKafkaError(error, "Cannot flush"));
        else resolve();
      });
    });
    // Reports of the flushed messages may still be on their way to JS.
    while (this.#inFlight.size > 0 && Date.now() < deadline) await later(PRODUCER_POLL_MS);
    if (this.#inFlight.size > 0) {
      throw kafkaError(ERR.TIMED_OUT, `Cannot flush: ${this.#inFlight.size} message(s) pending`);
    }
  }

  close(timeoutMs = 10_000): Promise<void> {
    this.#closing ??= this.#close(timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    const connected = await this.#ready;
    if (connected) {
      await this.flush(timeoutMs).catch(() => {});
      this.#stopPolling();
      await new Promise<void>((resolve) => this.#client.disconnect(0, () => resolve()));
    }
    this.#stopPolling();
    this.#connected = false;
    for (const waiting of this.#inFlight.values()) {
      waiting.reject(kafkaError(ERR.PURGE_QUEUE, "Message purged: the producer was closed"));
    }
    this.#inFlight.clear();
  }
}

// ---------------------------------------------------------------------------
// Admin

class NodeRdkafkaAdmin implements AdminTransport {
  #client: IAdminClient | undefined;
  readonly #config: ConfigMap;
  /**
   * node-rdkafka's AdminClient has no metadata, watermark or offset calls; a
   * consumer that never subscribes (so never joins a group) makes them.
   */
  #reader: Promise<NativeConsumer> | undefined;

  constructor(options: AdminOptions) {
    this.#config = options.config;
    try {
      this.#client = Kafka.AdminClient.create(options.config as NativeConfig);
    } catch (error) {
      throw configError("admin client", error, options.config);
    }
  }

  #connectedReader(action: string, timeoutMs: number): Promise<NativeConsumer> {
    this.#live(action);
    this.#reader ??= new Promise<NativeConsumer>((resolve, reject) => {
      const reader = new Kafka.KafkaConsumer(
        {
          ...this.#config,
          "group.id": "racecar-admin",
          "enable.auto.commit": false,
        } as NativeConfig,
        {},
      );
      reader.connect({ timeout: timeoutMs }, (error) => {
        if (error) reject(toKafkaError(error, `Cannot ${action}`));
        else resolve(reader);
      });
    });
    this.#reader.catch(() => this.#reader = undefined);
    return this.#reader;
  }

  async listTopics(timeoutMs: number): Promise<TopicListing[]> {
    const reader = await this.#connectedReader("list topics", timeoutMs);
    const metadata = await new Promise<NativeMetadata>((resolve, reject) => {
      reader.getMetadata({ allTopics: true, timeout: timeoutMs }, (error, data) => {
        if (error) reject(toKafkaError(error, "Cannot list topics"));
        else resolve(data);
      });
    });
    return metadata.topics.map((t) => ({ name: t.name, partitions: t.partitions.length }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  listGroups(): Promise<GroupListing[]> {
    return Promise.reject(groupsUnsupported("list consumer groups"));
  }

  describeGroup(groupId: string): Promise<GroupDescription> {
    return Promise.reject(groupsUnsupported(`describe the members of group "${groupId}"`));
  }

  async watermarks(
    partitions: readonly TopicPartition[],
    timeoutMs: number,
  ): Promise<Watermarks[]> {
    const reader = await this.#connectedReader("read watermarks", timeoutMs);
    const result: Watermarks[] = [];
    for (const { topic, partition } of partitions) {
      result.push(
        await new Promise<Watermarks>((resolve, reject) => {
          reader.queryWatermarkOffsets(topic, partition, timeoutMs, (error, offsets) => {
            if (error) {
              reject(toKafkaError(error, `Cannot read watermarks of ${topic}/${partition}`));
            } else resolve({ topic, partition, low: offsets.lowOffset, high: offsets.highOffset });
          });
        }),
      );
    }
    return result;
  }

  async offsetsForTimes(
    partitions: readonly TopicPartitionOffset[],
    timeoutMs: number,
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return [];
    const reader = await this.#connectedReader("look up offsets by time", timeoutMs);
    const found = await new Promise<NativeTopicPartitionOffset[]>((resolve, reject) => {
      reader.offsetsForTimes(
        partitions.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
        timeoutMs,
        (error, offsets) => {
          if (error) reject(toKafkaError(error, "Cannot look up offsets by time"));
          else resolve(offsets);
        },
      );
    });
    return found.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
  }

  #live(action: string): IAdminClient {
    if (!this.#client) throw kafkaError(ERR.STATE, `Cannot ${action}: the admin client is closed`);
    return this.#client;
  }

  async createTopics(topics: readonly NewTopic[], timeoutMs: number): Promise<void> {
    const client = this.#live("create topics");
    await Promise.all(topics.map((topic) =>
      new Promise<void>((resolve, reject) => {
        client.createTopic(
          {
            topic: topic.name,
            num_partitions: topic.partitions,
            replication_factor: topic.replicationFactor ?? -1,
            ...(topic.config ? { config: topic.config } : {}),
          },
          timeoutMs,
          (error) => {
            if (!error || error.code === ERR.TOPIC_ALREADY_EXISTS) resolve();
            else reject(toKafkaError(error, `Cannot create topic "${topic.name}"`));
          },
        );
      })
    ));
  }

  async deleteTopics(names: readonly string[], timeoutMs: number): Promise<void> {
    const client = this.#live("delete topics");
    await Promise.all(names.map((name) =>
      new Promise<void>((resolve, reject) => {
        client.deleteTopic(name, timeoutMs, (error) => {
          if (!error || error.code === ERR.UNKNOWN_TOPIC_OR_PART) resolve();
          else reject(toKafkaError(error, `Cannot delete topic "${name}"`));
        });
      })
    ));
  }

  async createPartitions(topic: string, totalCount: number, timeoutMs: number): Promise<void> {
    const client = this.#live("add partitions");
    await new Promise<void>((resolve, reject) => {
      client.createPartitions(topic, totalCount, timeoutMs, (error) => {
        if (!error) resolve();
        else reject(toKafkaError(error, `Cannot add partitions to topic "${topic}"`));
      });
    });
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    client?.disconnect();
    const reader = await this.#reader?.catch(() => undefined);
    this.#reader = undefined;
    if (reader !== undefined) {
      await new Promise<void>((resolve) => reader.disconnect(() => resolve()));
    }
  }
}

function groupsUnsupported(action: string): KafkaError {
  return kafkaError(
    ErrorCode.NOT_IMPLEMENTED,
    `Cannot ${action} under Node: node-rdkafka 3.6 has no consumer group listing ` +
      `(docs/node.md, Limitations); run racecarctl under Deno, or use kafka-consumer-groups.sh`,
  );
}

// ---------------------------------------------------------------------------

function versionNumber(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version.split(".").map((n) => parseInt(n, 10) || 0);
  // As rd_kafka_version() reports a final release: 0xMMmmrrff.
  return ((major << 24) | (minor << 16) | (patch << 8) | 0xff) >>> 0;
}

/**
 * Creates the node-rdkafka adapter. Only works under Node.js with the
 * `node-rdkafka` package installed.
 *
 * @example
 * ```ts ignore
 * import { createNodeRdkafkaTransport } from "./node_rdkafka.ts";
 * const transport = createNodeRdkafkaTransport();
 * const producer = transport.createProducer({ config: { "bootstrap.servers": "127.0.0.1:9092" } });
 * await producer.produce({ topic: "greetings", value: new TextEncoder().encode("hello") });
 * await producer.close();
 * ```
 */
export function createNodeRdkafkaTransport(): Transport {
  const version = Kafka.librdkafkaVersion;
  return {
    name: "node-rdkafka",
    librdkafkaVersion: version,
    features: { builtin: [...Kafka.features], versionNumber: versionNumber(version) },
    createConsumer: (options) =>
      new NodeRdkafkaConsumer({
        ...options,
        config: withConsumerDefaults(options.config, versionNumber(version)),
      }),
    createProducer: (options) => new NodeRdkafkaProducer(options),
    createAdmin: (options) => new NodeRdkafkaAdmin(options),
  };
}
