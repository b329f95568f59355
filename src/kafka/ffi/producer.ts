/**
 * The FFI producer: `rd_kafka_produce` (or `rd_kafka_produceva` for headers
 * and timestamps) with copied payloads, delivery
 * reports read from `RD_KAFKA_EVENT_DR` events on the main queue and matched
 * to their promise by a per-message opaque id.
 *
 * @module
 */

import { KafkaError } from "../../errors.ts";
import type {
  DeliveryReport,
  GroupMetadata,
  ProduceRecord,
  ProducerOptions,
  ProducerTransport,
  TopicPartitionOffset,
} from "../transport.ts";
import {
  ERR,
  EVENT,
  type Librdkafka,
  MSG_F_COPY,
  PARTITION_UA,
  RD_KAFKA_PRODUCER,
  VTYPE,
} from "./symbols.ts";
import { NativeClient } from "./_client.ts";
import { kafkaError, takeError } from "./_errors.ts";
import { readPartitionCount } from "../_partition_count.ts";
import { cstr, withPartitionList } from "./_memory.ts";
import type { Pointer } from "./_layer.ts";
import { FfiGroupMetadata } from "./consumer.ts";

/** `sizeof(rd_kafka_vu_t)`: an enum padded to 8, then a 64-byte union. */
const VU_SIZE = 72;
/** Gives empty (not null) values and keys a non-NULL address; librdkafka copies 0 bytes. */
const EMPTY = new Uint8Array(1);
/** `sizeof(rd_kafka_message_t)` on LP64. */
const MESSAGE_SIZE = 72;
/** `sizeof(rd_kafka_metadata_t)` and of one `rd_kafka_metadata_topic_t`, on LP64. */
const METADATA_SIZE = 48;
const METADATA_TOPIC_SIZE = 32;

interface Pending {
  /** The topic it was produced to: known here, so no native topic handle is looked up. */
  topic: string;
  resolve: (report: DeliveryReport) => void;
  reject: (error: KafkaError) => void;
}

/** A producer over librdkafka's C API. */
export class FfiProducer implements ProducerTransport {
  readonly #lib: Librdkafka;
  readonly #client: NativeClient;
  readonly #pending = new Map<number, Pending>();
  readonly #topicNames = new Map<string, Uint8Array<ArrayBuffer>>();
  /** Topic handles for `rd_kafka_produce`, destroyed at close. */
  readonly #topics = new Map<string, Pointer>();
  #drArray = new BigUint64Array(0);
  #nextId = 1;
  #idle: (() => void) | null = null;
  #closing = false;
  #closed: Promise<void> | null = null;

  /** Creates the producer; throws a `ConfigError` for a refused property. */
  constructor(lib: Librdkafka, options: ProducerOptions) {
    this.#lib = lib;
    this.#client = new NativeClient(lib, {
      type: RD_KAFKA_PRODUCER,
      kind: "producer",
      config: options.config,
      forced: { "log.queue": "true" },
      events: EVENT.DR | EVENT.ERROR | EVENT.STATS | EVENT.LOG,
      listeners: options,
    });
    this.#client.on(EVENT.DR, (event) => this.#deliveryReports(event));
    this.#client.start();
  }

  /** Queues a message; resolves with its delivery report. */
  produce(record: ProduceRecord): Promise<DeliveryReport> {
    if (this.#closing) {
      return Promise.reject(new TypeError("Cannot produce: the producer is closed"));
    }
    if (typeof record.topic !== "string" || record.topic.length === 0) {
      return Promise.reject(
        new TypeError(`Cannot produce: 'topic' must be a non-empty string, got ${record.topic}`),
      );
    }
    const headers = record.headers ?? [];
    if (headers.length === 0 && record.timestamp === undefined) return this.#produceSimple(record);
    const lib = this.#lib;
    // rd_kafka_produceva takes a count and refuses an END entry.
    const count = 4 + (record.key != null ? 1 : 0) + (record.partition !== undefined ? 1 : 0) +
      (record.timestamp !== undefined ? 1 : 0) + headers.length;
    const vus = new Uint8Array(VU_SIZE * count);
    const view = new DataView(vus.buffer);
    // Keeps every buffer whose address goes into `vus` alive until produceva returns.
    const keepAlive: Uint8Array[] = [];
    let at = 0;
    const entry = (vtype: number) => {
      view.setInt32(at, vtype, true);
      const union = at + 8;
      at += VU_SIZE;
      return union;
    };
    const pointer = (offset: number, bytes: Uint8Array | null) => {
      if (bytes === null) return view.setBigUint64(offset, 0n, true);
      const target = bytes.length === 0 ? EMPTY : bytes;
      keepAlive.push(target);
      view.setBigUint64(offset, lib.mem.addressOf(target), true);
    };

    pointer(entry(VTYPE.TOPIC), this.#topicName(record.topic));
    let u = entry(VTYPE.VALUE);
    pointer(u, record.value ?? null);
    view.setBigUint64(u + 8, BigInt(record.value?.length ?? 0), true);
    if (record.key != null) {
      u = entry(VTYPE.KEY);
      pointer(u, record.key);
      view.setBigUint64(u + 8, BigInt(record.key.length), true);
    }
    if (record.partition !== undefined) {
      view.setInt32(entry(VTYPE.PARTITION), record.partition, true);
    }
    if (record.timestamp !== undefined) {
      view.setBigInt64(entry(VTYPE.TIMESTAMP), BigInt(Math.trunc(record.timestamp)), true);
    }
    for (const header of headers) {
      u = entry(VTYPE.HEADER);
      pointer(u, cstr(header.key));
      pointer(u + 8, header.value);
      view.setBigInt64(u + 16, BigInt(header.value?.length ?? 0), true);
    }
    const id = this.#nextId++;
    view.setBigUint64(entry(VTYPE.OPAQUE), BigInt(id), true);
    view.setInt32(entry(VTYPE.MSGFLAGS), MSG_F_COPY, true);

    const error = takeError(lib, lib.rd_kafka_produceva(this.#client.rk, vus, BigInt(count)));
    keepAlive.length = 0;
    if (error !== null) return Promise.reject(error);
    return new Promise((resolve, reject) =>
      this.#pending.set(id, { topic: record.topic, resolve, reject })
    );
  }

  /**
   * A message without headers or timestamp: one `rd_kafka_produce` call on a
   * cached topic handle, its buffers passed as arguments (no struct to fill,
   * no address to take), the opaque a plain id.
   */
  #produceSimple(record: ProduceRecord): Promise<DeliveryReport> {
    const lib = this.#lib;
    const rkt = this.#topicHandle(record.topic);
    if (rkt === null) return Promise.reject(kafkaError(lib, lib.rd_kafka_last_error()));
    const value = record.value ?? null;
    const key = record.key ?? null;
    const id = this.#nextId++;
    // The sizes and the opaque go in as BigInts: Deno calls a function with
    // 64-bit parameters on V8's fast path only when they are BigInts (about
    // 0.03 µs a call; numbers take the slow path, about 0.25 µs).
    const status = lib.rd_kafka_produce(
      rkt,
      record.partition ?? PARTITION_UA,
      MSG_F_COPY,
      value === null || value.length > 0 ? value : EMPTY,
      BigInt(value?.length ?? 0),
      key === null || key.length > 0 ? key : EMPTY,
      BigInt(key?.length ?? 0),
      BigInt(id),
    );
    if (status !== 0) return Promise.reject(kafkaError(lib, lib.rd_kafka_last_error()));
    return new Promise((resolve, reject) =>
      this.#pending.set(id, { topic: record.topic, resolve, reject })
    );
  }

  /** The `rd_kafka_topic_t` of `topic`, created once and kept until close; `null` if refused. */
  #topicHandle(topic: string): Pointer {
    const known = this.#topics.get(topic);
    if (known !== undefined) return known;
    const rkt = this.#lib.rd_kafka_topic_new(this.#client.rk, this.#topicName(topic), null);
    if (rkt !== null) this.#topics.set(topic, rkt);
    return rkt;
  }

  #topicName(topic: string): Uint8Array<ArrayBuffer> {
    let name = this.#topicNames.get(topic);
    if (name === undefined) this.#topicNames.set(topic, name = cstr(topic));
    return name;
  }

  #deliveryReports(event: Pointer): void {
    const lib = this.#lib;
    const mem = lib.mem;
    const count = Number(lib.rd_kafka_event_message_count(event));
    if (this.#drArray.length < count) this.#drArray = new BigUint64Array(count);
    const n = Number(lib.rd_kafka_event_message_array(event, this.#drArray, BigInt(count)));
    for (let i = 0; i < n; i++) {
      const message = mem.pointer(this.#drArray[i] ?? 0n);
      if (message === null) continue;
      const view = mem.view(message, MESSAGE_SIZE);
      const id = Number(view.getBigUint64(64));
      const pending = this.#pending.get(id);
      if (pending === undefined) continue;
      this.#pending.delete(id);
      const err = view.getInt32(0);
      const topic = pending.topic;
      const partition = view.getInt32(16);
      if (err === 0) {
        pending.resolve({ topic, partition, offset: Number(view.getBigInt64(56)) });
      } else {
        const text = lib.rd_kafka_message_produce_errstr === null
          ? null
          : mem.cstring(lib.rd_kafka_message_produce_errstr(message));
        pending.reject(kafkaError(lib, err, text));
      }
    }
    if (this.#pending.size === 0) this.#idle?.();
  }

  /** Number of partitions of `topic`, from the cluster's metadata. */
  partitionCount(topic: string, timeoutMs: number): Promise<number> {
    // A topic created a moment ago may still be unknown or lack a leader: retry while that passes.
    return readPartitionCount(topic, timeoutMs, (left) => this.#partitionCount(topic, left));
  }

  async #partitionCount(topic: string, timeoutMs: number): Promise<number> {
    if (this.#closing) throw new TypeError("Cannot read metadata: the producer is closed");
    const lib = this.#lib;
    const rk = this.#client.rk;
    const rkt = lib.rd_kafka_topic_new(rk, cstr(topic), null);
    if (rkt === null) throw kafkaError(lib, ERR._INVALID_ARG, `Invalid topic name "${topic}"`);
    const out = new BigUint64Array(1);
    try {
      const errno = await lib.rd_kafka_metadata(rk, 0, rkt, out, Math.floor(timeoutMs));
      if (errno !== 0) throw kafkaError(lib, errno);
      const metadata = lib.mem.pointer(out[0] ?? 0n);
      if (metadata === null) throw kafkaError(lib, ERR._FAIL, "No metadata returned");
      try {
        // rd_kafka_metadata_t: topic_cnt @16, topics @24; each topic 32 bytes.
        const view = lib.mem.view(metadata, METADATA_SIZE);
        const topics = view.getPointer(24);
        const topicCount = view.getInt32(16);
        if (topics === null || topicCount < 1) {
          throw kafkaError(lib, ERR.UNKNOWN_TOPIC_OR_PART);
        }
        const first = lib.mem.view(topics, METADATA_TOPIC_SIZE);
        const err = first.getInt32(24);
        if (err !== 0) throw kafkaError(lib, err);
        return first.getInt32(8);
      } finally {
        lib.rd_kafka_metadata_destroy(metadata);
      }
    } finally {
      lib.rd_kafka_topic_destroy(rkt);
    }
  }

  /** Waits until every queued message was delivered or failed. */
  async flush(timeoutMs: number): Promise<void> {
    const lib = this.#lib;
    const deadline = Date.now() + timeoutMs;
    const errno = await lib.rd_kafka_flush(this.#client.rk, Math.max(0, Math.floor(timeoutMs)));
    if (errno !== 0) throw kafkaError(lib, errno);
    // librdkafka is done once the poll loop took the last report off the queue;
    // wait until the loop also settled its promises.
    if (this.#pending.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#idle = resolve;
        timer = setTimeout(
          () => reject(kafkaError(lib, ERR._TIMED_OUT, "Timed out waiting for delivery reports")),
          Math.max(0, deadline - Date.now()),
        );
      });
    } finally {
      this.#idle = null;
      clearTimeout(timer);
    }
  }

  /** Registers the `transactional.id`, fencing older producers with it. */
  async initTransactions(timeoutMs: number): Promise<void> {
    this.#assertOpen("initialize transactions");
    const lib = this.#lib;
    this.#throwIf(await lib.rd_kafka_init_transactions(this.#client.rk, ms(timeoutMs)));
  }

  /** Starts a transaction (local: no round trip). */
  beginTransaction(): Promise<void> {
    try {
      this.#assertOpen("begin a transaction");
      this.#throwIf(this.#lib.rd_kafka_begin_transaction(this.#client.rk));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Adds consumer offsets to the open transaction. */
  async sendOffsetsToTransaction(
    offsets: readonly TopicPartitionOffset[],
    metadata: GroupMetadata,
    timeoutMs: number,
  ): Promise<void> {
    this.#assertOpen("send offsets to a transaction");
    if (!(metadata instanceof FfiGroupMetadata)) {
      throw new TypeError(
        "Cannot send offsets to a transaction: the group metadata must come from a consumer " +
          "of the same transport",
      );
    }
    if (offsets.length === 0) return;
    const lib = this.#lib;
    const native = metadata.take();
    try {
      // The list is freed once the call on the worker thread returned.
      this.#throwIf(
        await withPartitionList(
          lib,
          offsets,
          (list) =>
            lib.rd_kafka_send_offsets_to_transaction(this.#client.rk, list, native, ms(timeoutMs)),
        ),
      );
    } finally {
      lib.rd_kafka_consumer_group_metadata_destroy(native);
    }
  }

  /** Flushes and commits the open transaction. */
  async commitTransaction(timeoutMs: number): Promise<void> {
    this.#assertOpen("commit a transaction");
    this.#throwIf(await this.#lib.rd_kafka_commit_transaction(this.#client.rk, ms(timeoutMs)));
  }

  /** Aborts the open transaction. */
  async abortTransaction(timeoutMs: number): Promise<void> {
    this.#assertOpen("abort a transaction");
    this.#throwIf(await this.#lib.rd_kafka_abort_transaction(this.#client.rk, ms(timeoutMs)));
  }

  #assertOpen(action: string): void {
    if (this.#closing) throw new TypeError(`Cannot ${action}: the producer is closed`);
  }

  #throwIf(error: Pointer): void {
    const failure = takeError(this.#lib, error);
    if (failure === null) return;
    if (failure.fatal) this.#client.fatal ??= failure;
    throw failure;
  }

  /** Flushes (up to `timeoutMs`), then frees the client. Idempotent. */
  close(timeoutMs = 30_000): Promise<void> {
    return this.#closed ??= this.#close(timeoutMs);
  }

  async #close(timeoutMs: number): Promise<void> {
    try {
      await this.flush(timeoutMs);
    } catch (error) {
      this.#client.reportError(error as KafkaError);
    } finally {
      this.#closing = true;
      for (const rkt of this.#topics.values()) this.#lib.rd_kafka_topic_destroy(rkt);
      this.#topics.clear();
      await this.#client.destroy();
      const lost = kafkaError(this.#lib, ERR._DESTROY, "The producer closed before delivery");
      for (const pending of this.#pending.values()) pending.reject(lost);
      this.#pending.clear();
    }
  }
}

/** A timeout for librdkafka: whole milliseconds, at least 0. */
function ms(timeoutMs: number): number {
  return Math.max(0, Math.floor(timeoutMs));
}
