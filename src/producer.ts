/**
 * Producing: the friendly layer over a {@link ProducerTransport} that consumers
 * (through `produce`) and applications (through `produceSync`, `produceAsync`
 * and `waitForDelivery`) use.
 *
 * @module
 */

import { LIBRDKAFKA_DEFAULTS } from "./_librdkafka.ts";
import { SETTINGS } from "./config/schema.ts";
import { DeliveryScope } from "./delivery.ts";
import { DeliveryError, ErrorCode, KafkaError } from "./errors.ts";
import type { Instrumenter, ProducePayload } from "./events.ts";
import type {
  DeliveryReport,
  Header,
  ProduceRecord,
  ProducerTransport,
} from "./kafka/transport.ts";
import { type PartitionerName, partitionFor } from "./partitioner.ts";

/** A value or key as users pass it. */
export type Bytes = string | Uint8Array;

/** Headers as users pass them: an object, or a list when keys repeat. */
export type HeadersInit = Record<string, Bytes | null> | readonly Header[];

/** Where and how to send one message. */
export interface ProduceOptions {
  /** Target topic. */
  topic: string;
  /** The message key. */
  key?: Bytes | null;
  /** An explicit partition. */
  partition?: number;
  /**
   * Pick the partition as if this were the key, while sending `key` as the
   * key. Ignored when `partition` is given.
   */
  partitionKey?: Bytes;
  /** Message headers. */
  headers?: HeadersInit;
  /** The message's create time. @default now */
  createTime?: Date | number;
}

/** How a {@link Producer} behaves. */
export interface ProducerSettings {
  /** `client.id`, for events. @default "racecar" */
  clientId?: string;
  /** Events go here. */
  instrumenter?: Instrumenter;
  /** librdkafka's `partitioner`, used for `partitionKey`. @default the `partitioner` setting's */
  partitioner?: PartitionerName;
  /** How long to keep retrying a full local queue, in ms. @default the `message_timeout` setting's */
  messageTimeoutMs?: number;
  /** Reports failures of fire-and-forget sends. */
  onAsyncError?: (error: DeliveryError) => void;
  /**
   * How long a topic's partition count, read for `partitionKey`, is used before
   * it is read again, in ms: partitions added to a topic receive `partitionKey`
   * messages at most this long later. The read happens in the background; sends
   * meanwhile use the count known so far.
   * @default 300_000 (librdkafka's `topic.metadata.refresh.interval.ms`)
   */
  partitionCountMaxAgeMs?: number;
}

/** {@link ProducerSettings.partitionCountMaxAgeMs} when not set: librdkafka's metadata refresh interval. */
export const PARTITION_COUNT_MAX_AGE_MS = LIBRDKAFKA_DEFAULTS["topic.metadata.refresh.interval.ms"];

/** How long reading a topic's partition count may take. */
const PARTITION_COUNT_TIMEOUT_MS = 10_000;

/** A topic's partition count and when it was read. */
interface PartitionCount {
  count: number;
  readAt: number;
}

const encoder = new TextEncoder();

/** Encodes a string as UTF-8; passes bytes through. */
export function toBytes(value: Bytes): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/** Normalises headers to the port's list form. */
export function toHeaders(headers: HeadersInit | undefined): Header[] {
  if (headers === undefined) return [];
  if (Array.isArray(headers)) return [...headers];
  return Object.entries(headers as Record<string, Bytes | null>).map(([key, value]) => ({
    key,
    value: value === null ? null : toBytes(value),
  }));
}

/**
 * Sends messages and tracks their delivery.
 *
 * @example
 * ```ts
 * import { Producer } from "./producer.ts";
 * import { createMemoryTransport } from "./kafka/memory/mod.ts";
 *
 * const transport = createMemoryTransport(); // or loadDefaultTransport() for Kafka
 * transport.broker.createTopic("greetings", 1);
 * const producer = new Producer(transport.createProducer({ config: {} }), { clientId: "web" });
 * const report = await producer.produceSync("hello", { topic: "greetings", key: "k1" });
 * await producer.waitForDelivery(() => {
 *   producer.produceAsync("one", { topic: "greetings" });
 *   producer.produceAsync("two", { topic: "greetings" });
 * });
 * await producer.close();
 * console.assert(report.offset === 0);
 * console.assert(transport.broker.messages("greetings").length === 3);
 * ```
 */
export class Producer {
  readonly #transport: ProducerTransport;
  readonly #clientId: string;
  readonly #instrumenter: Instrumenter | undefined;
  readonly #partitioner: PartitionerName;
  readonly #messageTimeoutMs: number;
  readonly #onAsyncError: (error: DeliveryError) => void;
  readonly #partitionCountMaxAgeMs: number;
  readonly #partitionCounts = new Map<string, PartitionCount>();
  /** Partition-count reads in flight, one per topic. */
  readonly #partitionCountReads = new Map<string, Promise<number>>();
  /** Messages sent and not yet settled. */
  #inFlight = 0;
  /** Counts one settled message; shared, so a send allocates no closure for it. */
  readonly #settled = () => {
    this.#inFlight -= 1;
  };
  #closed = false;

  /** Wraps a transport producer. */
  constructor(transport: ProducerTransport, settings: ProducerSettings = {}) {
    this.#transport = transport;
    this.#clientId = settings.clientId ?? "racecar";
    this.#instrumenter = settings.instrumenter;
    this.#partitioner = settings.partitioner ?? SETTINGS.partitioner.default;
    this.#messageTimeoutMs = settings.messageTimeoutMs ?? SETTINGS.messageTimeout.default * 1000;
    this.#onAsyncError = settings.onAsyncError ?? (() => {});
    const maxAge = settings.partitionCountMaxAgeMs ?? PARTITION_COUNT_MAX_AGE_MS;
    if (!Number.isFinite(maxAge) || maxAge < 0) {
      throw new RangeError(
        `Cannot create producer: 'partitionCountMaxAgeMs' must be a number >= 0, got ${maxAge}`,
      );
    }
    this.#partitionCountMaxAgeMs = maxAge;
  }

  /** Messages queued and not yet delivered or failed. */
  get bufferSize(): number {
    return this.#inFlight;
  }

  /**
   * Queues a message and returns the promise of its delivery. The promise
   * rejects with a {@link DeliveryError} that explains the likely cause.
   */
  send(value: Bytes | null, options: ProduceOptions): Promise<DeliveryReport> {
    if (this.#closed) {
      return Promise.reject(new TypeError("Cannot produce: the producer is closed"));
    }
    validateOptions(options);
    const promise = this.#instrumenter?.wraps("send_message")
      ? this.#sendInstrumented(this.#instrumenter, value, options)
      : this.#send(value, options);
    this.#inFlight += 1;
    promise.then(this.#settled, this.#settled);
    return promise;
  }

  /** Sends a message and waits for the broker's acknowledgement. */
  async produceSync(value: Bytes | null, options: ProduceOptions): Promise<DeliveryReport> {
    const instrumenter = this.#instrumenter;
    if (instrumenter === undefined) return await this.send(value, options);
    return await instrumenter.instrument(
      "produce_sync",
      () => this.#payload(value, options),
      () => this.send(value, options),
    );
  }

  /**
   * Queues a message without waiting. Inside {@link waitForDelivery} (or a
   * consumer's processing) its delivery is awaited there; elsewhere a failure
   * goes to `onAsyncError` and the `produce_delivery_error` event.
   */
  produceAsync(value: Bytes | null, options: ProduceOptions): void {
    const started = performance.now();
    const promise = this.send(value, options);
    this.#instrumenter?.emit("produce_async", () => ({
      ...this.#payload(value, options),
      durationMs: performance.now() - started,
    }));
    const scope = DeliveryScope.current();
    if (scope !== undefined) {
      scope.track(promise);
    } else {
      promise.catch((error) => this.#onAsyncError(error as DeliveryError));
    }
  }

  /**
   * Runs `work`, then waits until every message it queued with
   * {@link produceAsync} was delivered. Rejects with the first delivery error
   * after all have settled. Concurrent calls track their own messages.
   */
  async waitForDelivery<T>(work: () => Promise<T> | T): Promise<T> {
    const scope = new DeliveryScope();
    const result = await scope.run(work);
    await scope.settle();
    return result;
  }

  /** Waits for everything queued so far; rejects on timeout. */
  async flush(timeoutMs: number = this.#messageTimeoutMs): Promise<void> {
    await this.#transport.flush(timeoutMs);
  }

  /** Flushes what is queued (up to `timeoutMs`) and frees the client. Idempotent. */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#transport.close(timeoutMs);
  }

  /** `#send` inside the `send_message` event, whose hooks may add headers (trace context). */
  #sendInstrumented(
    events: Instrumenter,
    value: Bytes | null,
    options: ProduceOptions,
  ): Promise<DeliveryReport> {
    const headers = toHeaders(options.headers);
    return events.instrument("send_message", () => ({
      clientId: this.#clientId,
      topic: options.topic,
      key: options.key,
      partition: options.partition,
      headers,
    }), () => this.#send(value, { ...options, headers }));
  }

  #send(value: Bytes | null, options: ProduceOptions): Promise<DeliveryReport> {
    const byKey = options.partition === undefined && options.partitionKey !== undefined;
    if (byKey) return this.#sendByKey(value, options);
    const record = toRecord(value, options, options.partition);
    // The common case in one step: no async function, no await; retries and
    // failures take the loop below.
    let sent: Promise<DeliveryReport>;
    try {
      sent = this.#transport.produce(record);
    } catch (error) {
      sent = Promise.reject(error);
    }
    return sent.then(
      (report) => this.#acknowledged(report),
      (error) => this.#retry(record, options, false, { error }),
    );
  }

  async #sendByKey(value: Bytes | null, options: ProduceOptions): Promise<DeliveryReport> {
    const partition = await this.#partitionOf(options);
    return await this.#retry(toRecord(value, options, partition), options, true);
  }

  #acknowledged(report: DeliveryReport): DeliveryReport {
    this.#instrumenter?.emit("acknowledged_message", () => ({
      clientId: this.#clientId,
      topic: report.topic,
      partition: report.partition,
      offset: report.offset,
    }));
    return report;
  }

  /**
   * Sends `record` until it is delivered, waiting out a full local queue;
   * starts with the failure of a first attempt when `failed` holds one.
   */
  async #retry(
    record: ProduceRecord,
    options: ProduceOptions,
    byKey: boolean,
    failed?: { error: unknown },
  ): Promise<DeliveryReport> {
    let partition = record.partition;
    const deadline = Date.now() + this.#messageTimeoutMs;
    let reread = false;
    for (let wait = 5;; wait = Math.min(wait * 2, 200)) {
      try {
        if (failed !== undefined) {
          const { error } = failed;
          failed = undefined;
          throw error;
        }
        return this.#acknowledged(await this.#transport.produce(record));
      } catch (error) {
        // The topic has fewer partitions than remembered (deleted and re-created):
        // read the count again and pick again, once.
        if (
          byKey && !reread && error instanceof KafkaError &&
          error.errno === ErrorCode.UNKNOWN_PARTITION
        ) {
          reread = true;
          this.#partitionCounts.delete(options.topic);
          const again = await this.#partitionOf(options);
          if (again !== partition) {
            partition = again;
            record.partition = again;
            continue;
          }
        }
        // A full local queue drains on its own: wait rather than fail the message.
        if (
          error instanceof KafkaError && error.errno === ErrorCode.QUEUE_FULL &&
          Date.now() + wait < deadline
        ) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        const failure = error instanceof KafkaError
          ? new DeliveryError(error, options.topic, partition)
          : error;
        this.#instrumenter?.emit("produce_delivery_error", () => ({
          clientId: this.#clientId,
          topic: options.topic,
          ...(partition === undefined ? {} : { partition }),
          error: failure,
        }));
        throw failure;
      }
    }
  }

  async #partitionOf(options: ProduceOptions): Promise<number> {
    const { topic } = options;
    const known = this.#partitionCounts.get(topic);
    let count: number;
    if (known === undefined) {
      count = await this.#readPartitionCount(topic);
    } else {
      count = known.count;
      // Stale: read again for later sends, without holding this one up.
      if (Date.now() - known.readAt >= this.#partitionCountMaxAgeMs) {
        this.#readPartitionCount(topic).catch(() => {});
      }
    }
    return partitionFor(toBytes(options.partitionKey!), count, this.#partitioner);
  }

  /** Reads a topic's partition count and remembers it; concurrent calls share one read. */
  #readPartitionCount(topic: string): Promise<number> {
    let read = this.#partitionCountReads.get(topic);
    if (read === undefined) {
      read = this.#transport.partitionCount(topic, PARTITION_COUNT_TIMEOUT_MS).then((count) => {
        this.#partitionCounts.set(topic, { count, readAt: Date.now() });
        return count;
      }).finally(() => this.#partitionCountReads.delete(topic));
      this.#partitionCountReads.set(topic, read);
    }
    return read;
  }

  #payload(value: Bytes | null, options: ProduceOptions): ProducePayload {
    return {
      clientId: this.#clientId,
      topic: options.topic,
      key: options.key,
      partition: options.partition,
      partitionKey: options.partitionKey === undefined
        ? undefined
        : typeof options.partitionKey === "string"
        ? options.partitionKey
        : new TextDecoder().decode(options.partitionKey),
      messageSize: value === null ? 0 : toBytes(value).byteLength,
      bufferSize: this.#inFlight,
    };
  }
}

/** The port's record for a message: fields given, none allocated for what is absent. */
function toRecord(
  value: Bytes | null,
  options: ProduceOptions,
  partition: number | undefined,
): ProduceRecord {
  const record: ProduceRecord = {
    topic: options.topic,
    value: value === null ? null : toBytes(value),
    key: options.key === undefined || options.key === null ? null : toBytes(options.key),
  };
  if (options.headers !== undefined) record.headers = toHeaders(options.headers);
  if (partition !== undefined) record.partition = partition;
  if (options.createTime !== undefined) {
    record.timestamp = options.createTime instanceof Date
      ? options.createTime.getTime()
      : options.createTime;
  }
  return record;
}

function validateOptions(options: ProduceOptions): void {
  if (typeof options?.topic !== "string" || options.topic === "") {
    throw new TypeError(
      `Cannot produce: 'topic' must be a non-empty string, got ${JSON.stringify(options?.topic)}`,
    );
  }
  if (
    options.partition !== undefined &&
    (!Number.isInteger(options.partition) || options.partition < 0)
  ) {
    throw new RangeError(
      `Cannot produce to "${options.topic}": 'partition' must be a whole number >= 0, got ${options.partition}`,
    );
  }
}
