/**
 * The producer of the node-rdkafka adapter.
 *
 * @module
 */

import { LIBRDKAFKA_DEFAULTS } from "../../_librdkafka.ts";
import { readPartitionCount } from "../_partition_count.ts";
import Kafka from "node-rdkafka";
import type {
  DeliveryReport as NativeDeliveryReport,
  LibrdKafkaError,
  Metadata as NativeMetadata,
  Producer as NativeProducer,
} from "node-rdkafka";
import type { KafkaError } from "../../errors.ts";
import type {
  DeliveryReport,
  GroupMetadata,
  ProduceRecord,
  ProducerOptions,
  ProducerTransport,
  TopicPartitionOffset,
} from "../transport.ts";
import { ERR } from "../../_librdkafka.ts";
import { NodeRdkafkaGroupMetadata } from "./_consumer.ts";
import { configError, kafkaError, toKafkaError } from "./_errors.ts";
import {
  connectWithRetry,
  later,
  type NativeConfig,
  splitConfig,
  toBuffer,
  wireEvents,
  within,
} from "./_helpers.ts";

/** How often the producer serves delivery reports while messages are in flight. */
const PRODUCER_POLL_MS = 5;

interface InFlight {
  resolve(report: DeliveryReport): void;
  reject(error: KafkaError): void;
}

export class NodeRdkafkaProducer implements ProducerTransport {
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
      options.config["message.timeout.ms"] ?? options.config["delivery.timeout.ms"] ??
        LIBRDKAFKA_DEFAULTS["message.timeout.ms"],
    );
    this.#messageTimeoutMs = Number.isFinite(timeout) && timeout > 0
      ? timeout
      : LIBRDKAFKA_DEFAULTS["message.timeout.ms"];
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
    if (this.#closed) throw kafkaError(ERR._STATE, "Cannot produce: the producer is closed");
    if (!this.#connected) {
      await within(this.#ready, this.#messageTimeoutMs);
      if (!this.#connected) {
        throw kafkaError(
          this.#closed ? ERR._STATE : ERR._MSG_TIMED_OUT,
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
      throw kafkaError(ERR._TIMED_OUT, `Cannot read metadata of topic "${topic}": not connected`);
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
      if (!this.#connected) throw kafkaError(ERR._TIMED_OUT, "Cannot flush: not connected");
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
      throw kafkaError(ERR._TIMED_OUT, `Cannot flush: ${this.#inFlight.size} message(s) pending`);
    }
  }

  // Transactions: node-rdkafka runs each call on a libuv worker thread.

  async initTransactions(timeoutMs: number): Promise<void> {
    if (!this.#connected && !(await within(this.#ready, timeoutMs) && this.#connected)) {
      throw kafkaError(ERR._TIMED_OUT, "Cannot initialize transactions: not connected");
    }
    await settle(
      "Cannot initialize transactions",
      (cb) => this.#client.initTransactions(timeoutMs, cb),
    );
  }

  beginTransaction(): Promise<void> {
    return settle("Cannot begin a transaction", (cb) => this.#client.beginTransaction(cb));
  }

  sendOffsetsToTransaction(
    offsets: readonly TopicPartitionOffset[],
    metadata: GroupMetadata,
    timeoutMs: number,
  ): Promise<void> {
    if (!(metadata instanceof NodeRdkafkaGroupMetadata)) {
      return Promise.reject(
        new TypeError(
          "Cannot send offsets to a transaction: the group metadata must come from a consumer " +
            "of the same transport",
        ),
      );
    }
    if (offsets.length === 0) return Promise.resolve();
    return settle(
      "Cannot send offsets to the transaction",
      (cb) =>
        this.#client.sendOffsetsToTransaction(
          offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
          metadata.consumer,
          timeoutMs,
          cb,
        ),
    );
  }

  commitTransaction(timeoutMs: number): Promise<void> {
    return settle(
      "Cannot commit the transaction",
      (cb) => this.#client.commitTransaction(timeoutMs, cb),
    );
  }

  abortTransaction(timeoutMs: number): Promise<void> {
    return settle(
      "Cannot abort the transaction",
      (cb) => this.#client.abortTransaction(timeoutMs, cb),
    );
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
      waiting.reject(kafkaError(ERR._PURGE_QUEUE, "Message purged: the producer was closed"));
    }
    this.#inFlight.clear();
  }
}

/**
 * A node-rdkafka call with a completion callback, as a promise of the port's
 * errors; `action` names it only where node-rdkafka threw without calling back.
 */
function settle(
  action: string,
  call: (cb: (error: LibrdKafkaError | null | undefined) => void) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      call((error) => error ? reject(toKafkaError(error)) : resolve());
    } catch (error) {
      reject(toKafkaError(error, action));
    }
  });
}
