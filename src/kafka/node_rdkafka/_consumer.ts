/**
 * The consumer of the node-rdkafka adapter.
 *
 * @module
 */

import { topicPartitionKey } from "../../_topic_partition.ts";
import Kafka from "node-rdkafka";
import type {
  KafkaConsumer as NativeConsumer,
  LibrdKafkaError,
  Message as NativeMessage,
  TopicPartitionOffset as NativeTopicPartitionOffset,
} from "node-rdkafka";
import {
  type ConsumerOptions,
  type ConsumerTransport,
  type GroupMetadata,
  OFFSET_INVALID,
  type RawMessage,
  type RebalanceEvent,
  type RebalanceProtocol,
  type TopicPartition,
  type TopicPartitionOffset,
} from "../transport.ts";
import { ERR } from "../../_librdkafka.ts";
import { configError, kafkaError, toKafkaError } from "./_errors.ts";
import {
  connectWithRetry,
  type NativeConfig,
  protocolFromConfig,
  splitConfig,
  toRawMessage,
  tp,
  wireEvents,
  within,
} from "./_helpers.ts";

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

export class NodeRdkafkaConsumer implements ConsumerTransport {
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
        if (error && error.code !== ERR._NO_OFFSET) {
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
    if (this.#closing) throw kafkaError(ERR._STATE, "Cannot subscribe: the consumer is closed");
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
    if (this.#closing) throw kafkaError(ERR._STATE, "Cannot consume: the consumer is closed");
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
          if (mapped.errno === ERR._STATE && !this.#client.isConnected()) return reject(mapped);
          if (mapped.errno !== ERR._PARTITION_EOF && mapped.errno !== ERR._TIMED_OUT) {
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
      const key = topicPartitionKey(m.topic, m.partition);
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
    if (errno === ERR._MAX_POLL_EXCEEDED || errno === ERR._ASSIGNMENT_LOST) this.#lost = true;
  }

  #onNativeRebalance(error: LibrdKafkaError | undefined, partitions: TopicPartition[]): void {
    const list = partitions.map(tp);
    const code = error?.code;
    if (code === ERR._REVOKE_PARTITIONS) {
      // From now on, fetched messages of these partitions are no longer handed over.
      for (const p of list) this.#revoking.add(topicPartitionKey(p.topic, p.partition));
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
    if (code === ERR._ASSIGN_PARTITIONS) {
      this.#lost = false;
      if (cooperative) this.#client.incrementalAssign(partitions);
      else {
        this.#client.assign(partitions);
        this.#assigned.clear();
        this.#paused.clear();
        this.#dropped.clear();
      }
      for (const p of partitions) this.#assigned.add(topicPartitionKey(p.topic, p.partition));
      // Adding partitions, or leaving this member with none (idle), is an event; a cooperative
      // round that adds nothing to a member holding partitions is not (as the FFI adapter).
      if (partitions.length > 0 || this.#assigned.size === 0) {
        await this.#callHandler({ kind: "assign", partitions, protocol });
      }
    } else if (code === ERR._REVOKE_PARTITIONS) {
      // At close, a static member revoked its partitions already (see #close): not twice.
      const held = partitions.filter((p) =>
        this.#assigned.has(topicPartitionKey(p.topic, p.partition))
      );
      if (this.#closing === undefined || held.length > 0) {
        await this.#callHandler({ kind: "revoke", partitions, protocol });
      }
      try {
        if (cooperative) this.#client.incrementalUnassign(partitions);
        else this.#client.unassign();
      } finally {
        const gone = cooperative
          ? partitions.map((p) => topicPartitionKey(p.topic, p.partition))
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
        code === undefined ? kafkaError(ERR._FAIL, "Rebalance failed") : kafkaError(code),
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
        kafkaError(ERR._FAIL, `Rebalance handler failed on ${event.kind}: ${reason}`, error),
      );
    }
  }

  storeOffsets(offsets: readonly TopicPartitionOffset[]): void {
    if (!this.#connected || this.#closing) return;
    const list = offsets
      .filter((o) => this.#assigned.has(topicPartitionKey(o.topic, o.partition)))
      .map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }));
    if (list.length === 0) return;
    try {
      this.#client.offsetsStore(list);
    } catch (error) {
      const mapped = toKafkaError(error, "Cannot store offsets");
      if (mapped.errno !== ERR._STATE) throw mapped;
    }
  }

  commit(
    offsets?: readonly TopicPartitionOffset[] | null,
    options: { sync?: boolean } = {},
  ): Promise<void> {
    if (!this.#connected) {
      return this.#closing
        ? Promise.reject(kafkaError(ERR._STATE, "Cannot commit: the consumer is closed"))
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
      if (mapped.errno !== ERR._NO_OFFSET) return Promise.reject(mapped);
    }
    return Promise.resolve();
  }

  async committed(
    partitions: readonly TopicPartition[],
    timeoutMs: number,
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return [];
    if (!this.#connected && !(await within(this.#ready, timeoutMs) && this.#connected)) {
      throw kafkaError(ERR._TIMED_OUT, "Cannot read committed offsets: not connected");
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
    for (const p of partitions) this.#paused.add(topicPartitionKey(p.topic, p.partition));
    if (!this.#connected || this.#closing) return;
    try {
      this.#client.pause(partitions.map(tp));
    } catch (error) {
      throw toKafkaError(error, "Cannot pause partitions");
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const key = topicPartitionKey(p.topic, p.partition);
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
    if (!this.#connected) throw kafkaError(ERR._STATE, "Cannot seek: not connected");
    this.#dropped.delete(topicPartitionKey(position.topic, position.partition));
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

  /** node-rdkafka's producer reads the metadata from the consumer itself when it sends offsets. */
  groupMetadata(): GroupMetadata {
    return new NodeRdkafkaGroupMetadata(this.#options.config["group.id"] ?? "", this.#client);
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
        for (const p of held) this.#revoking.add(topicPartitionKey(p.topic, p.partition));
        if (held.length > 0) await this.#rebalance(ERR._REVOKE_PARTITIONS, held);
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

/** A node-rdkafka consumer's group metadata: the consumer, which `sendOffsetsToTransaction` takes. */
export class NodeRdkafkaGroupMetadata implements GroupMetadata {
  /** The consumer group. */
  readonly groupId: string;
  /** The native consumer. */
  readonly consumer: NativeConsumer;

  constructor(groupId: string, consumer: NativeConsumer) {
    this.groupId = groupId;
    this.consumer = consumer;
  }
}
