/**
 * The FFI group consumer: batches taken with `rd_kafka_consume_batch_queue`,
 * payloads copied into JS memory, native messages freed after each batch.
 *
 * `rd_kafka_consume_batch_queue` waits until its batch is full or its timeout
 * passed, which at low rates made every message wait for the timeout. So a
 * batch is taken in up to three calls: what is queued already (timeout 0, on
 * the main thread: under load that is the whole batch, with no worker-thread
 * round trip), else a wait for one message on a worker thread (which
 * `wakeup()` interrupts with `rd_kafka_queue_yield`), then what came with it.
 *
 * Rebalancing is the one place librdkafka calls into JS: a thread-safe
 * `rebalance_cb`. librdkafka serves rebalance ops from the consumer queue, so
 * the callback fires in whichever call serves that queue: on the main thread
 * during a zero-timeout take (called directly), or on the worker thread
 * of a waiting take or `consumer_close` (the call layer runs it on the main
 * thread while that worker waits). The callback cannot await the user's async
 * `onRebalance`, so it copies the partition list and returns; the assignment
 * change follows once the handler settled (librdkafka's group waits for it).
 *
 * A partition assigned without a start offset makes librdkafka look up the
 * group's committed offset, and where there is none it applies
 * `auto.offset.reset` only after a fixed 100 ms ("offset reset with backoff",
 * rdkafka_offset.c): every fresh group's first message came that much later.
 * So partitions this consumer never held are looked up first, on a worker
 * thread before the assignment: `rd_kafka_committed`, then for those without
 * a committed offset `rd_kafka_offsets_for_times` at `auto.offset.reset`'s
 * earliest or latest, and those are assigned at the offsets it found (at
 * logical `BEGINNING` or `END` where it found none), which librdkafka fetches
 * at once. The others, and every partition when the lookup fails, are
 * assigned as before. Partitions held before are left out: a commit of ours
 * may still be in flight for them, which librdkafka's own lookup waits for
 * and ours would not.
 *
 * @module
 */

import { topicPartitionKey } from "../../_topic_partition.ts";
import { KafkaError } from "../../errors.ts";
import type {
  ConsumerOptions,
  ConsumerTransport,
  GroupMetadata,
  Header,
  RawMessage,
  RebalanceEvent,
  RebalanceProtocol,
  TimestampType,
  TopicPartition,
  TopicPartitionOffset,
} from "../transport.ts";
import { ERR, EVENT, type Librdkafka, OFFSET, RD_KAFKA_CONSUMER, REBALANCE_CB } from "./symbols.ts";
import type { NativeCallback, NativePointer, Pointer } from "./_layer.ts";
import { NativeClient } from "./_client.ts";
import { OffsetLists } from "./_offset_lists.ts";
import { fatalError, kafkaError, takeError } from "./_errors.ts";
import {
  cstr,
  type ListedPartition,
  newPartitionList,
  readPartitionList,
  withPartitionList,
} from "./_memory.ts";

const TIMESTAMP_TYPES: readonly TimestampType[] = ["none", "create", "log-append"];

/** How long {@link FfiConsumer}'s wake-up query may take; close waits for it. */
const WAKE_TIMEOUT_MS = 1000;

/**
 * A copy of keys and values spans a gap of fewer bytes than this between one
 * and the next (less than the smallest page: see `#copyPayloads`).
 */
const MAX_GAP = 1024;
/** ...and at most this many bytes, so one kept message cannot keep much more alive. */
const MAX_STRETCH = 1024 * 1024;
/** A zero-length key or value (no bytes to change, so one is shared). */
const EMPTY = new Uint8Array(0);
/** Headers of a message without any (read-only, so one is shared). */
const NO_HEADERS: Header[] = Object.freeze([]) as unknown as Header[];

/**
 * How long each start-offset lookup before an assignment may take (they take
 * milliseconds); after it, the partitions are assigned as librdkafka would
 * (it looks them up itself), so a slow coordinator or leader delays the
 * assignment by at most this much per lookup.
 */
const START_LOOKUP_TIMEOUT_MS = 1000;

/** `sizeof(rd_kafka_message_t)` on LP64. */
const MESSAGE_SIZE = 72;

/** A consumer over librdkafka's C API. */
export class FfiConsumer implements ConsumerTransport {
  /** From the configured assignment strategy (librdkafka only knows after joining). */
  readonly rebalanceProtocol: RebalanceProtocol;

  readonly #lib: Librdkafka;
  readonly #client: NativeClient;
  readonly #queue: Pointer;
  readonly #callback: NativeCallback;
  readonly #onRebalance: ConsumerOptions["onRebalance"];
  readonly #groupId: string;

  #slots = new BigUint64Array(0);
  readonly #pointers: Pointer[] = [];
  readonly #tsType = new Int32Array(1);
  readonly #outPointer = new BigUint64Array(1);
  readonly #outPointer2 = new BigUint64Array(1);
  readonly #outSize = new BigUint64Array(1);
  /** Per message of a batch: key address and length, value address and length. */
  #regions = new Float64Array(0);
  #lastRkt = -1;
  #lastPartition = -1;
  #lastTopic = "";
  #lastKey = "";

  readonly #assigned = new Map<string, TopicPartition>();
  /** Every partition this consumer was assigned at some time. */
  readonly #everAssigned = new Set<string>();
  /** Where `auto.offset.reset` starts a partition without a committed offset; null for `error`. */
  readonly #resetOffset: number | null;
  /** Lists kept for storing one partition's offset. */
  readonly #offsetLists: OffsetLists;
  readonly #revoking = new Set<string>();
  readonly #paused = new Set<string>();
  /** First offset dropped per paused partition: librdkafka's position moved past it. */
  readonly #rewind = new Map<string, TopicPartitionOffset>();
  #rebalances: Promise<void> = Promise.resolve();
  #consuming: Promise<RawMessage[]> | null = null;
  #closing = false;
  /** wakeup() was called and no consume() has answered it yet. */
  #wakeRequested = false;
  /** The consumer queue was destroyed: nothing may touch it any more. */
  #queueFreed = false;
  /** Set while `rd_kafka_consumer_close` runs: revokes then happen without the handler. */
  #nativeClosing = false;
  /** Rebalance steps queued and not finished yet. */
  #pendingSteps = 0;
  #closed: Promise<void> | null = null;
  /** {@link #wakeFetcher} queries in flight; the handle outlives them. */
  readonly #wakes = new Set<Promise<void>>();

  /** Creates the consumer; throws a `ConfigError` for a refused property. */
  constructor(lib: Librdkafka, options: ConsumerOptions) {
    this.#lib = lib;
    this.#offsetLists = new OffsetLists(lib);
    this.#onRebalance = options.onRebalance;
    this.#groupId = options.config["group.id"] ?? "";
    this.rebalanceProtocol = protocolOf(options.config);
    this.#resetOffset = resetOffsetOf(options.config);
    this.#callback = lib.mem.callback(
      REBALANCE_CB,
      (rk: Pointer, err: number, partitions: Pointer) => this.#nativeRebalance(rk, err, partitions),
    );
    try {
      this.#client = new NativeClient(lib, {
        type: RD_KAFKA_CONSUMER,
        kind: "consumer",
        config: options.config,
        forced: { "enable.auto.offset.store": "false", "log.queue": "true" },
        events: EVENT.ERROR | EVENT.STATS | EVENT.LOG | EVENT.OFFSET_COMMIT,
        listeners: options,
        prepare: (conf) => lib.rd_kafka_conf_set_rebalance_cb(conf, this.#callback.pointer),
      });
    } catch (error) {
      this.#callback.close();
      throw error;
    }
    // Deliberately no rd_kafka_poll_set_consumer: the main queue keeps errors,
    // logs and stats apart from fetched messages and rebalances.
    this.#queue = lib.rd_kafka_queue_get_consumer(this.#client.rk);
    this.#client.start();
  }

  /** Subscribes to these topics (replacing any earlier subscription). */
  subscribe(topics: readonly string[]): void {
    this.#assertOpen("subscribe");
    const lib = this.#lib;
    withPartitionList(lib, topics.map((topic) => ({ topic, partition: -1 })), (list) => {
      const errno = lib.rd_kafka_subscribe(this.#client.rk, list);
      if (errno !== 0) throw kafkaError(lib, errno);
    });
  }

  /** Fetches up to `max` messages in one native call; see {@link ConsumerTransport.consume}. */
  consume(max: number, timeoutMs: number): Promise<RawMessage[]> {
    if (!Number.isInteger(max) || max < 1) {
      return Promise.reject(
        new RangeError(`Cannot consume: 'max' must be a positive integer, got ${max}`),
      );
    }
    if (this.#consuming !== null) {
      return Promise.reject(
        new TypeError("Cannot consume: the previous consume() is still pending"),
      );
    }
    if (this.#closing) {
      return Promise.reject(new TypeError("Cannot consume: the consumer is closed"));
    }
    if (this.#client.fatal !== null) return Promise.reject(this.#client.fatal);
    const pending = this.#consumeBatch(max, Math.max(0, Math.floor(timeoutMs)));
    this.#consuming = pending;
    return pending.finally(() => {
      this.#consuming = null;
    });
  }

  /** Makes a pending consume() return now; see {@link ConsumerTransport.wakeup}. */
  wakeup(): void {
    if (this.#queueFreed) return;
    this.#wakeRequested = true;
    // Ends a wait in progress at once; with none in progress, librdkafka keeps
    // the request and the next wait on this queue returns at once.
    this.#lib.rd_kafka_queue_yield(this.#queue);
  }

  async #consumeBatch(max: number, timeoutMs: number): Promise<RawMessage[]> {
    const lib = this.#lib;
    if (this.#slots.length < max) this.#slots = new BigUint64Array(max);
    const slots = this.#slots;
    // What is queued already. Under load, that is the batch.
    let count = taken(
      lib,
      lib.rd_kafka_consume_batch_queue_now(this.#queue, 0, slots, BigInt(max)),
    );
    if (count === 0 && timeoutMs > 0 && !this.#wakeRequested) {
      // Nothing yet: wait for the first message only, on a worker thread...
      count = taken(lib, await lib.rd_kafka_consume_batch_queue(this.#queue, timeoutMs, slots, 1n));
      // ...then take what arrived with it, without waiting for more.
      if (count > 0 && max > 1) {
        const rest = slots.subarray(1, max);
        count += Math.max(
          0,
          Number(lib.rd_kafka_consume_batch_queue_now(this.#queue, 0, rest, BigInt(max - 1))),
        );
      }
    }
    // Whatever this call returned answers a wakeup() made before or during it.
    this.#wakeRequested = false;
    const messages: RawMessage[] = [];
    let fatal: KafkaError | null = null;
    // A topic's name is looked up once per run of one partition, by the address
    // of its rd_kafka_topic_t. Every message holds a reference to its topic, and
    // all of the batch are destroyed only after reading, so within a batch an
    // address always means the same topic; across batches a freed topic's
    // address may be reused, so nothing is remembered from one batch to the next.
    this.#lastRkt = -1;
    // Each message's pointer is made once, for reading and for destroying it.
    const pointers = this.#pointers;
    for (let i = 0; i < count; i++) pointers[i] = lib.mem.pointer(slots[i] ?? 0n);
    if (this.#regions.length < 4 * count) this.#regions = new Float64Array(4 * count);
    try {
      for (let i = 0; i < count; i++) {
        const pointer = pointers[i] ?? null;
        if (pointer === null) continue;
        const result = this.#read(pointer, messages.length);
        if (result instanceof KafkaError) fatal ??= result;
        else if (result !== null) messages.push(result);
      }
      // Keys and values are copied while the native messages still hold them.
      this.#copyPayloads(messages);
    } finally {
      for (let i = 0; i < count; i++) {
        const pointer = pointers[i] ?? null;
        pointers[i] = null;
        if (pointer !== null) lib.rd_kafka_message_destroy(pointer);
      }
    }
    if (fatal !== null) throw fatal;
    return messages;
  }

  /**
   * Reads one message's fields; its key and value are left for
   * {@link #copyPayloads}, their addresses noted as the `index`-th message's.
   * `null` when dropped or only an error to report; a fatal error.
   */
  #read(pointer: NativePointer, index: number): RawMessage | KafkaError | null {
    const lib = this.#lib;
    const view = lib.mem.scratchView(pointer, MESSAGE_SIZE);
    const err = view.getInt32(0);
    const rkt = view.getAddress(8);
    const partition = view.getInt32(16);
    // Batches come in runs of one partition: skip the string key when it repeats.
    if (rkt !== this.#lastRkt || partition !== this.#lastPartition) {
      this.#lastRkt = rkt;
      this.#lastPartition = partition;
      this.#lastTopic = this.#topicName(rkt);
      this.#lastKey = topicPartitionKey(this.#lastTopic, partition);
    }
    const topic = this.#lastTopic;
    const offset = view.getSafeInteger(56);
    if (err !== 0) {
      if (err === ERR._PARTITION_EOF) return null;
      // For errors the payload is librdkafka's text about it.
      const text = lib.mem.copy(view.getPointer(24), view.getSafeInteger(32));
      const message = text === null ? null : new TextDecoder().decode(text);
      if (err === ERR._FATAL) {
        const error = fatalError(lib, this.#client.rk, message ?? "Fatal consumer error");
        this.#client.fatal ??= error;
        return error;
      }
      this.#client.reportError(kafkaError(lib, err, message));
      return null;
    }
    const key = this.#lastKey;
    if (!this.#assigned.has(key) || this.#revoking.has(key)) return null;
    if (this.#paused.has(key)) {
      // pause() raced with a fetch in flight: re-read from here on resume().
      if (!this.#rewind.has(key)) this.#rewind.set(key, { topic, partition, offset });
      return null;
    }
    // Key first, then value: their order in a fetched record.
    const regions = this.#regions;
    const at = 4 * index;
    regions[at] = view.getAddress(40);
    regions[at + 1] = view.getSafeInteger(48);
    regions[at + 2] = view.getAddress(24);
    regions[at + 3] = view.getSafeInteger(32);
    const timestamp = Number(lib.rd_kafka_message_timestamp(pointer, this.#tsType));
    const timestampType = TIMESTAMP_TYPES[this.#tsType[0] ?? 0] ?? "none";
    return {
      topic,
      partition,
      offset,
      key: null,
      value: null,
      headers: this.#headers(pointer),
      timestamp: timestampType === "none" || timestamp < 0 ? null : timestamp,
      timestampType,
    };
  }

  /**
   * Copies the keys and values of a batch's messages into JS memory, one copy
   * per stretch of them that lies close together in C memory. A fetched
   * record's key and value sit in the fetch response's buffer, next to the
   * record before and after, so a run of one partition is usually one copy,
   * handed out as views (`subarray`s) of it; others get a copy each.
   *
   * Safety of a stretch: it joins a region only when the gap from the end of
   * the last one is under {@link MAX_GAP} bytes, less than a page. The last
   * byte before the gap and the first after it are both in mapped memory (they
   * belong to payloads), and a gap shorter than a page cannot have a whole
   * page between them, so every byte copied lies in a mapped page. The gaps'
   * bytes (record framing) are never handed out, though a view's `.buffer`
   * spans them, as a pooled Node `Buffer`'s spans its neighbours.
   */
  #copyPayloads(messages: RawMessage[]): void {
    const mem = this.#lib.mem;
    const regions = this.#regions;
    const total = 2 * messages.length;
    let from = 0;
    let start = 0;
    let end = 0;
    const flush = (to: number) => {
      if (to === from) return;
      const bytes = mem.copy(mem.pointer(BigInt(start)), end - start)!;
      for (let r = from; r < to; r++) {
        const address = regions[2 * r]!;
        if (address === 0) continue;
        const length = regions[2 * r + 1]!;
        const part = length === 0
          ? EMPTY
          : bytes.subarray(address - start, address - start + length);
        if ((r & 1) === 0) messages[r >> 1]!.key = part;
        else messages[r >> 1]!.value = part;
      }
    };
    for (let r = 0; r < total; r++) {
      const address = regions[2 * r]!;
      if (address === 0) continue;
      const length = regions[2 * r + 1]!;
      const gap = address - end;
      if (r > from && gap >= 0 && gap < MAX_GAP && address + length - start <= MAX_STRETCH) {
        end = address + length;
        continue;
      }
      flush(r);
      from = r;
      start = address;
      end = address + length;
    }
    flush(total);
  }

  #topicName(rkt: number): string {
    // Consumer-level errors (e.g. an unknown member after a rebalance) carry no topic.
    if (rkt === 0) return "";
    const lib = this.#lib;
    return lib.mem.cstring(lib.rd_kafka_topic_name(lib.mem.pointer(BigInt(rkt)))) ?? "";
  }

  #headers(message: NativePointer): Header[] {
    const lib = this.#lib;
    if (lib.rd_kafka_message_headers(message, this.#outPointer) !== 0) return NO_HEADERS;
    const mem = lib.mem;
    const list = mem.pointer(this.#outPointer[0] ?? 0n);
    const headers: Header[] = [];
    for (let index = 0;; index++) {
      const errno = lib.rd_kafka_header_get_all(
        list,
        BigInt(index),
        this.#outPointer,
        this.#outPointer2,
        this.#outSize,
      );
      if (errno !== 0) break;
      headers.push({
        key: mem.cstring(mem.pointer(this.#outPointer[0] ?? 0n)) ?? "",
        value: mem.copy(
          mem.pointer(this.#outPointer2[0] ?? 0n),
          Number(this.#outSize[0] ?? 0n),
        ),
      });
    }
    return headers;
  }

  /** Stores offsets of assigned partitions for the next commit. */
  storeOffsets(offsets: readonly TopicPartitionOffset[]): void {
    this.#assertOpen("store offsets");
    // The common case (a consumer that produces stores after each delivered
    // message): one partition, through a kept list.
    if (offsets.length === 1) return this.#storeOne(offsets[0]!);
    const mine = offsets.filter((o) => this.#assigned.has(topicPartitionKey(o.topic, o.partition)));
    if (mine.length === 0) return;
    const lib = this.#lib;
    withPartitionList(lib, mine, (list) => this.#storeList(list));
  }

  #storeOne(offset: TopicPartitionOffset): void {
    const key = topicPartitionKey(offset.topic, offset.partition);
    if (!this.#assigned.has(key)) return;
    const lib = this.#lib;
    const list = this.#offsetLists.list(key, offset.topic, offset.partition, offset.offset);
    if (list === null) return withPartitionList(lib, [offset], (l) => this.#storeList(l));
    this.#storeList(list);
  }

  #storeList(list: Pointer): void {
    const lib = this.#lib;
    const errno = lib.rd_kafka_offsets_store(this.#client.rk, list);
    // _STATE: a partition went away between the filter and the store; ignorable.
    if (errno !== 0 && errno !== ERR._STATE && errno !== ERR._INVALID_ARG) {
      throw kafkaError(lib, errno);
    }
  }

  /** Commits the given offsets, or everything stored. */
  async commit(
    offsets?: readonly TopicPartitionOffset[] | null,
    options: { sync?: boolean } = {},
  ): Promise<void> {
    this.#assertOpen("commit");
    if (offsets != null && offsets.length === 0) return;
    const lib = this.#lib;
    const list = offsets == null ? null : newPartitionList(lib, offsets);
    try {
      const errno = options.sync
        ? await lib.rd_kafka_commit(this.#client.rk, list, 0)
        : lib.rd_kafka_commit_async(this.#client.rk, list, 1);
      if (errno !== 0 && errno !== ERR._NO_OFFSET) throw kafkaError(lib, errno);
    } finally {
      if (list !== null) lib.rd_kafka_topic_partition_list_destroy(list);
    }
  }

  /** The group's committed offsets (`-1001` where none). */
  async committed(
    partitions: readonly TopicPartition[],
    timeoutMs: number,
  ): Promise<TopicPartitionOffset[]> {
    this.#assertOpen("read committed offsets");
    if (partitions.length === 0) return [];
    const lib = this.#lib;
    const list = newPartitionList(lib, partitions);
    try {
      const errno = await lib.rd_kafka_committed(this.#client.rk, list, Math.floor(timeoutMs));
      if (errno !== 0) throw kafkaError(lib, errno);
      return readPartitionList(lib, list).map(({ topic, partition, offset, err }) => {
        if (err !== 0) throw kafkaError(lib, err);
        return { topic, partition, offset };
      });
    } finally {
      lib.rd_kafka_topic_partition_list_destroy(list);
    }
  }

  /** Stops fetching from these partitions. */
  pause(partitions: readonly TopicPartition[]): void {
    this.#assertOpen("pause");
    if (partitions.length === 0) return;
    for (const tp of partitions) this.#paused.add(topicPartitionKey(tp.topic, tp.partition));
    const lib = this.#lib;
    withPartitionList(lib, partitions, (list) => {
      const errno = lib.rd_kafka_pause_partitions(this.#client.rk, list);
      if (errno !== 0) throw kafkaError(lib, errno);
    });
  }

  /** Starts fetching from these partitions again. */
  resume(partitions: readonly TopicPartition[]): void {
    this.#assertOpen("resume");
    if (partitions.length === 0) return;
    const lib = this.#lib;
    const rewinds: TopicPartitionOffset[] = [];
    for (const tp of partitions) {
      const key = topicPartitionKey(tp.topic, tp.partition);
      this.#paused.delete(key);
      const rewind = this.#rewind.get(key);
      if (rewind !== undefined) rewinds.push(rewind);
      this.#rewind.delete(key);
    }
    if (rewinds.length > 0) {
      // Timeout 0 makes the seek asynchronous; it is queued ahead of the resume.
      withPartitionList(lib, rewinds, (list) => {
        const error = takeError(lib, lib.rd_kafka_seek_partitions_async(this.#client.rk, list, 0));
        if (error !== null) this.#client.reportError(error);
      });
    }
    withPartitionList(lib, partitions, (list) => {
      const errno = lib.rd_kafka_resume_partitions(this.#client.rk, list);
      if (errno !== 0) throw kafkaError(lib, errno);
    });
    for (const tp of partitions) this.#wakeFetcher(tp);
  }

  /**
   * Makes the partition's leader thread fetch now. librdkafka decides what to
   * fetch on the broker thread, which sleeps up to 1 s when it has nothing to
   * fetch, and neither a resume nor a seek wakes it: a retry after a pause came
   * up to 1 s late (bench/README.md, "Retry period"). Any request queued for the
   * leader wakes that thread; a watermark query is the smallest the API offers.
   * Its answer is not needed.
   */
  #wakeFetcher(tp: TopicPartition): void {
    const lib = this.#lib;
    const low = new BigInt64Array(1);
    const high = new BigInt64Array(1);
    const query = Promise.resolve(
      lib.rd_kafka_query_watermark_offsets(
        this.#client.rk,
        cstr(tp.topic),
        tp.partition,
        low,
        high,
        WAKE_TIMEOUT_MS,
      ),
    ).then(() => {}, () => {}).finally(() => {
      this.#wakes.delete(query);
    });
    this.#wakes.add(query);
  }

  /** Moves the fetch position of an assigned partition. */
  async seek(position: TopicPartitionOffset, timeoutMs: number): Promise<void> {
    this.#assertOpen("seek");
    const lib = this.#lib;
    this.#rewind.delete(topicPartitionKey(position.topic, position.partition));
    const list = newPartitionList(lib, [position]);
    try {
      const error = takeError(
        lib,
        await lib.rd_kafka_seek_partitions(this.#client.rk, list, Math.floor(timeoutMs)),
      );
      if (error !== null) throw error;
      const failed = readPartitionList(lib, list).find((tp) => tp.err !== 0);
      if (failed !== undefined) throw kafkaError(lib, failed.err);
    } finally {
      lib.rd_kafka_topic_partition_list_destroy(list);
    }
  }

  /** The partitions currently assigned to this member. */
  assignment(): TopicPartition[] {
    return [...this.#assigned.values()].map((tp) => ({ ...tp }));
  }

  /** Whether the last assignment was lost involuntarily. */
  assignmentLost(): boolean {
    if (this.#closed !== null) return false;
    return this.#lib.rd_kafka_assignment_lost(this.#client.rk) !== 0;
  }

  /** This member's group metadata, read when a producer sends offsets with it. */
  groupMetadata(): GroupMetadata {
    this.#assertOpen("read the group metadata");
    const lib = this.#lib;
    const rk = this.#client.rk;
    return new FfiGroupMetadata(this.#groupId, () => {
      this.#assertOpen("read the group metadata");
      const native = lib.rd_kafka_consumer_group_metadata(rk);
      if (native === null) {
        throw kafkaError(lib, ERR._STATE, "The consumer has no group metadata: is group.id set?");
      }
      return native;
    });
  }

  /** Revokes through `onRebalance`, leaves the group and frees the client. */
  close(): Promise<void> {
    return this.#closed ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#closing = true;
    const lib = this.#lib;
    const rk = this.#client.rk;
    try {
      if (this.#consuming !== null) this.wakeup();
      await this.#consuming?.catch(() => {});
      await this.#rebalances;
      const current = this.assignment();
      if (current.length > 0 && this.#client.fatal === null) {
        // The last revoke goes through the handler while the partitions are
        // still ours, so it can commit; only then do we give them up.
        const protocol = this.#currentProtocol();
        for (const tp of current) this.#revoking.add(topicPartitionKey(tp.topic, tp.partition));
        await this.#callHandler({ kind: "revoke", partitions: current, protocol });
        withPartitionList(lib, current, (list) => this.#unassign(protocol, list, current));
      }
      this.#nativeClosing = true;
      // Stored-to lists hold references to their partitions: the close waits for those.
      this.#offsetLists.clear();
      const errno = await lib.rd_kafka_consumer_close(rk);
      if (errno !== 0 && this.#client.fatal === null) {
        this.#client.reportError(kafkaError(lib, errno));
      }
    } finally {
      await Promise.all(this.#wakes);
      this.#offsetLists.clear();
      await this.#client.stop();
      this.#queueFreed = true;
      lib.rd_kafka_queue_destroy(this.#queue);
      await this.#client.destroy();
      // Only now can no native thread call it any more.
      this.#callback.close();
      this.#assigned.clear();
    }
  }

  #assertOpen(action: string): void {
    // Until the native close starts, the close-time revoke handler may still
    // store and commit offsets of the partitions it gives up.
    if (this.#nativeClosing) {
      throw new TypeError(`Cannot ${action}: the consumer is closed`);
    }
  }

  #currentProtocol(): RebalanceProtocol {
    const lib = this.#lib;
    const name = lib.mem.cstring(lib.rd_kafka_rebalance_protocol(this.#client.rk));
    if (name === "COOPERATIVE") return "cooperative";
    if (name === "EAGER") return "eager";
    return this.rebalanceProtocol;
  }

  /** The thread-safe rebalance callback; runs on the main thread while a native call waits. */
  #nativeRebalance(_rk: Pointer, err: number, list: Pointer): void {
    const lib = this.#lib;
    const partitions = readPartitionList(lib, list).map(({ topic, partition }) => ({
      topic,
      partition,
    }));
    const protocol = this.#currentProtocol();
    try {
      if (err === ERR._ASSIGN_PARTITIONS) {
        const unseen = this.#nativeClosing || this.#resetOffset === null
          ? []
          : partitions.filter((tp) =>
            !this.#everAssigned.has(topicPartitionKey(tp.topic, tp.partition))
          );
        if (this.#pendingSteps > 0 || unseen.length > 0) {
          // A revoke is still finishing: assigning now would let its deferred
          // unassign take the new partitions away again. Or start offsets are
          // to be looked up first (see the module's doc). Assign after that,
          // from a copy (librdkafka frees `list` when this callback returns).
          this.#enqueue(async () => {
            const starts = await this.#startOffsets(unseen);
            const positioned = partitions.map((tp) => {
              const offset = starts.get(topicPartitionKey(tp.topic, tp.partition));
              return offset === undefined ? tp : { ...tp, offset };
            });
            withPartitionList(lib, positioned, (copy) => this.#assign(protocol, copy, partitions));
            if (!this.#nativeClosing && this.#announces(partitions)) {
              await this.#callHandler({ kind: "assign", partitions, protocol });
            }
          });
          return;
        }
        // Taking partitions at once is what librdkafka waits for; the handler
        // hears about it afterwards, as the port promises.
        this.#assign(protocol, list, partitions);
        if (!this.#nativeClosing && this.#announces(partitions)) {
          this.#enqueue(() => this.#callHandler({ kind: "assign", partitions, protocol }));
        }
        return;
      }
      if (err === ERR._REVOKE_PARTITIONS && !this.#nativeClosing) {
        for (const tp of partitions) this.#revoking.add(topicPartitionKey(tp.topic, tp.partition));
        this.#enqueue(async () => {
          if (partitions.length > 0) {
            await this.#callHandler({ kind: "revoke", partitions, protocol });
          }
          withPartitionList(lib, partitions, (copy) => this.#unassign(protocol, copy, partitions));
        });
        return;
      }
      // During close, or on a rebalance error: give everything up now, as librdkafka asks.
      this.#unassign(protocol, err === ERR._REVOKE_PARTITIONS ? list : null, partitions);
    } catch (error) {
      this.#client.reportError(asKafkaError(lib, error));
    }
  }

  /**
   * Start offsets for partitions without a committed offset, where
   * `auto.offset.reset` puts them (see the module's doc). Partitions with a
   * committed offset, or whose lookup failed, are not in the map: librdkafka
   * looks them up itself on assignment.
   */
  async #startOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    const reset = this.#resetOffset;
    if (partitions.length === 0 || reset === null) return new Map();
    const lib = this.#lib;
    try {
      const uncommitted = await this.#lookUp(
        partitions,
        (rk, list, ms) => lib.rd_kafka_committed(rk, list, ms),
      );
      const fresh = uncommitted.filter((tp) => tp.err === 0 && tp.offset === OFFSET.INVALID);
      const starts = new Map<string, number>();
      if (fresh.length === 0) return starts;
      for (const tp of fresh) starts.set(topicPartitionKey(tp.topic, tp.partition), reset);
      // Where BEGINNING or END is now, with the same request librdkafka would send for
      // each partition after the assignment (a timestamp of -2 or -1 means earliest or
      // latest, under the consumer's isolation.level), but one per leader for all of
      // them: given absolute offsets, librdkafka fetches them all in its first request.
      // Started one by one instead, its first fetch takes the partition resolved first;
      // an empty one keeps the rest waiting for fetch.wait.max.ms.
      const resolved = await this.#lookUp(
        fresh.map((tp) => ({ ...tp, offset: reset })),
        (rk, list, ms) => lib.rd_kafka_offsets_for_times(rk, list, ms),
      ).catch(() => []);
      for (const tp of resolved) {
        if (tp.err === 0 && tp.offset >= 0) {
          starts.set(topicPartitionKey(tp.topic, tp.partition), tp.offset);
        }
      }
      return starts;
    } catch {
      // Whatever went wrong, the assignment goes ahead: librdkafka looks the
      // offsets up itself and reports what fails.
      return new Map();
    }
  }

  /** One of librdkafka's blocking list lookups, on a worker thread; throws when it failed. */
  async #lookUp(
    partitions: readonly (TopicPartition | TopicPartitionOffset)[],
    call: (rk: Pointer, list: Pointer, timeoutMs: number) => Promise<number> | number,
  ): Promise<ListedPartition[]> {
    const lib = this.#lib;
    const list = newPartitionList(lib, partitions);
    try {
      const errno = await call(this.#client.rk, list, START_LOOKUP_TIMEOUT_MS);
      if (errno !== 0) throw kafkaError(lib, errno);
      return readPartitionList(lib, list);
    } finally {
      lib.rd_kafka_topic_partition_list_destroy(list);
    }
  }

  /**
   * Whether an assignment is an event: it adds partitions, or it leaves this
   * member with none (an idle member hears that it joined). Cooperative rounds
   * that add nothing to a member holding partitions are no event.
   */
  #announces(partitions: readonly TopicPartition[]): boolean {
    return partitions.length > 0 || this.#assigned.size === 0;
  }

  /** Takes partitions: the whole set for eager, `list` in addition for cooperative. */
  #assign(
    protocol: RebalanceProtocol,
    list: Pointer,
    partitions: readonly TopicPartition[],
  ): void {
    const lib = this.#lib;
    const rk = this.#client.rk;
    const error = protocol === "cooperative"
      ? takeError(lib, lib.rd_kafka_incremental_assign(rk, list))
      : errorOf(lib, lib.rd_kafka_assign(rk, list));
    if (error !== null) this.#client.reportError(error);
    if (protocol === "eager") this.#assigned.clear();
    for (const tp of partitions) {
      const key = topicPartitionKey(tp.topic, tp.partition);
      this.#assigned.set(key, tp);
      this.#everAssigned.add(key);
      this.#revoking.delete(key);
      this.#paused.delete(key);
      this.#rewind.delete(key);
    }
  }

  /** Gives partitions up: all of them for eager, only `list` for cooperative. */
  #unassign(
    protocol: RebalanceProtocol,
    list: Pointer,
    partitions: readonly TopicPartition[],
  ): void {
    const lib = this.#lib;
    const rk = this.#client.rk;
    const error = protocol === "cooperative" && list !== null
      ? takeError(lib, lib.rd_kafka_incremental_unassign(rk, list))
      : errorOf(lib, lib.rd_kafka_assign(rk, null));
    // A kept list holds its partition: let go of what is no longer ours (and a
    // topic deleted and created again gets a fresh one).
    this.#offsetLists.clear();
    if (protocol === "eager" || list === null) {
      this.#assigned.clear();
      this.#revoking.clear();
      this.#paused.clear();
      this.#rewind.clear();
    } else {
      for (const tp of partitions) {
        const key = topicPartitionKey(tp.topic, tp.partition);
        this.#assigned.delete(key);
        this.#revoking.delete(key);
        this.#paused.delete(key);
        this.#rewind.delete(key);
      }
    }
    if (error !== null && error.errno !== ERR._STATE) this.#client.reportError(error);
  }

  #enqueue(step: () => Promise<void>): void {
    this.#pendingSteps += 1;
    this.#rebalances = this.#rebalances.then(step).catch((error) =>
      this.#client.reportError(asKafkaError(this.#lib, error))
    ).finally(() => {
      this.#pendingSteps -= 1;
    });
  }

  async #callHandler(event: RebalanceEvent): Promise<void> {
    if (this.#onRebalance === undefined) return;
    try {
      await this.#onRebalance(event);
    } catch (error) {
      this.#client.reportError(
        kafkaError(
          this.#lib,
          ERR._FAIL,
          `onRebalance failed on ${event.kind}: ${messageOf(error)}`,
          {
            cause: error,
          },
        ),
      );
    }
  }
}

/**
 * An FFI consumer's group metadata. The native `rd_kafka_consumer_group_metadata_t`
 * is made when a producer sends offsets (so it holds the generation of that
 * moment) and freed right after; nothing native outlives the call.
 */
export class FfiGroupMetadata implements GroupMetadata {
  /** The consumer group. */
  readonly groupId: string;
  /** Makes a fresh native copy; the caller frees it with `rd_kafka_consumer_group_metadata_destroy`. */
  readonly take: () => NativePointer;

  /** Wraps the consumer's way to make a native copy. */
  constructor(groupId: string, take: () => NativePointer) {
    this.groupId = groupId;
    this.take = take;
  }
}

/** The count a `rd_kafka_consume_batch_queue` call returned; it is -1 only for a bad queue. */
function taken(lib: Librdkafka, result: number | bigint): number {
  const count = Number(result);
  if (count < 0) throw kafkaError(lib, ERR._FAIL, "rd_kafka_consume_batch_queue failed");
  return count;
}

function errorOf(lib: Librdkafka, errno: number): KafkaError | null {
  return errno === 0 ? null : kafkaError(lib, errno);
}

function asKafkaError(lib: Librdkafka, error: unknown): KafkaError {
  return error instanceof KafkaError
    ? error
    : kafkaError(lib, ERR._FAIL, messageOf(error), { cause: error });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The start offset `auto.offset.reset` means for a partition without a
 * committed offset (librdkafka's default is `largest`); null for `error`,
 * which librdkafka reports itself.
 */
function resetOffsetOf(config: Record<string, string>): number | null {
  const value = (config["auto.offset.reset"] ?? "largest").toLowerCase();
  if (value === "smallest" || value === "earliest" || value === "beginning") {
    return OFFSET.BEGINNING;
  }
  if (value === "largest" || value === "latest" || value === "end") return OFFSET.END;
  return null;
}

function protocolOf(config: Record<string, string>): RebalanceProtocol {
  if ((config["group.protocol"] ?? "").toLowerCase() === "consumer") return "cooperative";
  const strategy = config["partition.assignment.strategy"] ?? "";
  return /cooperative/i.test(strategy) ? "cooperative" : "eager";
}
