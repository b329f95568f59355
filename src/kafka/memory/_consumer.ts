/**
 * The memory adapter's group consumer. Group work (joining, revoking,
 * assigning, auto-commit, poll-interval expiry) happens inside `consume()`, as
 * librdkafka serves its rebalance callbacks from within poll, so tests drive
 * rebalances deterministically by calling `consume()` on each member.
 *
 * @module
 */

import { topicPartitionKey } from "../../_topic_partition.ts";
import { LIBRDKAFKA_DEFAULTS } from "../../_librdkafka.ts";
import { ConfigError, type KafkaError } from "../../errors.ts";
import {
  type ConsumerOptions,
  type ConsumerTransport,
  OFFSET_INVALID,
  type RawMessage,
  type RebalanceEvent,
  type RebalanceProtocol,
  type TopicPartition,
  type TopicPartitionOffset,
} from "../transport.ts";
import { STRATEGIES, type Strategy } from "./_assignors.ts";
import {
  byTopicPartition,
  type Cluster,
  type ClusterClient,
  type MemberState,
} from "./_cluster.ts";
import { readBoolean, readChoice, readInteger } from "./_config.ts";
import { kafkaError } from "./_errors.ts";

type ResetPolicy = "earliest" | "latest" | "error";

const RESET_POLICIES: Record<string, ResetPolicy> = {
  smallest: "earliest",
  earliest: "earliest",
  beginning: "earliest",
  largest: "latest",
  latest: "latest",
  end: "latest",
  error: "error",
};

const CREATE = "Cannot create consumer";
const INT32 = { min: 1, max: 2_147_483_647 };
/** librdkafka's logical offsets accepted by `seek`. */
const OFFSET_BEGINNING = -2;
const OFFSET_END = -1;

/** A consumer of the in-process broker. */
export class MemoryConsumer implements ConsumerTransport {
  readonly rebalanceProtocol: RebalanceProtocol;

  #cluster: Cluster;
  #options: ConsumerOptions;
  #groupId: string;
  #clientId: string;
  #strategy: Strategy;
  #reset: ResetPolicy;
  #autoCommit: boolean;
  #autoCommitIntervalMs: number;
  #maxPollIntervalMs: number;
  #client: ClusterClient;

  #subscription: string[] = [];
  #member: MemberState | null = null;
  #owned = new Map<string, TopicPartition>();
  #positions = new Map<string, number>();
  #stalled = new Set<string>();
  #stored = new Map<string, number>();
  #paused = new Set<string>();
  #missingReported = new Set<string>();
  #lost = false;
  /** The generation whose empty assignment was announced (cooperative). */
  #idleGeneration = -1;
  #rotation = 0;
  #lastAutoCommit: number;
  #consuming: Promise<RawMessage[]> | null = null;
  /** wakeup() was called and no consume() has answered it yet. */
  #wakeRequested = false;
  #closing = false;
  #closed = false;
  #closeDone: Promise<void> | null = null;

  constructor(cluster: Cluster, options: ConsumerOptions) {
    const config = options.config;
    const groupId = config["group.id"];
    if (groupId === undefined || groupId === "") {
      throw new ConfigError(`${CREATE}: "group.id" must be set to the consumer group's name`, {
        key: "group.id",
      });
    }
    const strategies = (config["partition.assignment.strategy"] ?? "range,roundrobin")
      .split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
    for (const strategy of strategies) {
      if (!(STRATEGIES as readonly string[]).includes(strategy)) {
        throw new ConfigError(
          `${CREATE}: "partition.assignment.strategy" names "${strategy}", expected ${
            STRATEGIES.join(", ")
          }`,
          { key: "partition.assignment.strategy" },
        );
      }
    }
    const cooperative = strategies.filter((s) => s === "cooperative-sticky").length;
    if (strategies.length === 0 || (cooperative > 0 && cooperative < strategies.length)) {
      throw new ConfigError(
        `${CREATE}: "partition.assignment.strategy" is "${
          config["partition.assignment.strategy"]
        }", expected eager strategies (range, roundrobin) or cooperative-sticky, not a mix`,
        { key: "partition.assignment.strategy" },
      );
    }
    this.#cluster = cluster;
    this.#options = options;
    this.#groupId = groupId;
    this.#clientId = config["client.id"] || "rdkafka";
    this.#strategy = strategies[0] as Strategy;
    this.rebalanceProtocol = cooperative > 0 ? "cooperative" : "eager";
    this.#reset = readChoice<ResetPolicy>(
      config,
      "auto.offset.reset",
      "latest",
      CREATE,
      RESET_POLICIES,
    );
    this.#autoCommit = readBoolean(config, "enable.auto.commit", true, CREATE);
    this.#autoCommitIntervalMs = readInteger(
      config,
      "auto.commit.interval.ms",
      5000,
      CREATE,
      { min: 0, max: INT32.max },
    );
    this.#maxPollIntervalMs = readInteger(
      config,
      "max.poll.interval.ms",
      LIBRDKAFKA_DEFAULTS["max.poll.interval.ms"],
      CREATE,
      INT32,
    );
    this.#lastAutoCommit = cluster.clock();
    this.#client = {
      down: (error) => this.#report(error),
      up: () => {},
    };
    cluster.register(this.#client);
  }

  subscribe(topics: readonly string[]): void {
    if (!Array.isArray(topics) || topics.some((t) => typeof t !== "string" || t === "")) {
      throw new TypeError(
        `Cannot subscribe: expected an array of topic names, got ${JSON.stringify(topics)}`,
      );
    }
    this.#assertOpen("subscribe");
    this.#subscription = [...new Set(topics)];
    this.#missingReported.clear();
    if (this.#member === null) {
      this.#member = this.#join();
    } else {
      this.#cluster.resubscribe(this.#member, this.#subscription);
    }
  }

  consume(max: number, timeoutMs: number): Promise<RawMessage[]> {
    if (!Number.isInteger(max) || max < 1) {
      return Promise.reject(
        new RangeError(`Cannot consume: 'max' is ${max}, expected a positive integer`),
      );
    }
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) {
      return Promise.reject(
        new RangeError(`Cannot consume: 'timeoutMs' is ${timeoutMs}, expected 0 or more`),
      );
    }
    if (this.#consuming !== null) {
      return Promise.reject(
        new TypeError("Cannot consume: the previous consume() call has not settled yet"),
      );
    }
    if (this.#closing) {
      return Promise.reject(kafkaError("_STATE", "Cannot consume: the consumer is closed"));
    }
    const run = this.#consume(max, timeoutMs);
    this.#consuming = run;
    const settle = () => {
      this.#consuming = null;
    };
    run.then(settle, settle);
    return run;
  }

  storeOffsets(offsets: readonly TopicPartitionOffset[]): void {
    validateOffsets("store offsets", offsets);
    this.#assertOpen("store offsets");
    for (const { topic, partition, offset } of offsets) {
      const key = topicPartitionKey(topic, partition);
      if (this.#owned.has(key)) this.#stored.set(key, offset);
    }
  }

  commit(
    offsets?: readonly TopicPartitionOffset[] | null,
    options: { sync?: boolean } = {},
  ): Promise<void> {
    return attempt(() => {
      if (offsets !== undefined && offsets !== null) validateOffsets("commit", offsets);
      this.#assertOpen("commit");
      const list = offsets ?? this.#uncommitted();
      if (list.length === 0) return;
      try {
        this.#cluster.commit(this.#groupId, list);
      } catch (error) {
        if (options.sync === true) throw error;
        this.#report(error as KafkaError);
      }
    });
  }

  async committed(
    partitions: readonly TopicPartition[],
    timeoutMs: number,
  ): Promise<TopicPartitionOffset[]> {
    validatePartitions("fetch committed offsets", partitions);
    this.#assertOpen("fetch committed offsets");
    await this.#cluster.waitAvailable(timeoutMs, "Cannot fetch committed offsets");
    return partitions.map(({ topic, partition }) => ({
      topic,
      partition,
      offset: this.#cluster.committed(this.#groupId, topic, partition),
    }));
  }

  pause(partitions: readonly TopicPartition[]): void {
    validatePartitions("pause", partitions);
    for (const { topic, partition } of partitions) {
      const key = topicPartitionKey(topic, partition);
      if (this.#owned.has(key)) this.#paused.add(key);
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    validatePartitions("resume", partitions);
    for (const { topic, partition } of partitions) {
      this.#paused.delete(topicPartitionKey(topic, partition));
    }
    this.#cluster.changed.notify();
  }

  seek(position: TopicPartitionOffset, _timeoutMs: number): Promise<void> {
    return attempt(() => {
      validateOffsets("seek", [position], true);
      this.#assertOpen("seek");
      const { topic, partition, offset } = position;
      const key = topicPartitionKey(topic, partition);
      if (!this.#owned.has(key)) {
        throw kafkaError(
          "_UNKNOWN_PARTITION",
          `Cannot seek topic "${topic}" partition ${partition}: it is not assigned to this consumer`,
        );
      }
      this.#stalled.delete(key);
      this.#positions.set(
        key,
        offset >= 0
          ? offset
          : offset === OFFSET_BEGINNING
          ? 0
          : offset === OFFSET_END
          ? this.#cluster.highWatermark(topic, partition)
          : OFFSET_INVALID,
      );
      this.#cluster.changed.notify();
    });
  }

  assignment(): TopicPartition[] {
    return [...this.#owned.values()].map((tp) => ({ ...tp })).sort(byTopicPartition);
  }

  assignmentLost(): boolean {
    return this.#lost;
  }

  close(): Promise<void> {
    this.#closeDone ??= this.#close();
    return this.#closeDone;
  }

  // Internals

  async #close(): Promise<void> {
    this.#closing = true;
    this.#cluster.changed.notify();
    await this.#consuming?.catch(() => {});
    const member = this.#member;
    if (member !== null) {
      if (member.expiredBy !== null) this.#lost = true;
      if (this.#owned.size > 0) await this.#revoke(this.assignment(), this.#lost);
      this.#cluster.leave(member);
      this.#member = null;
    }
    this.#cluster.unregister(this.#client);
    this.#closed = true;
  }

  /** Makes a pending consume() return now; see {@link ConsumerTransport.wakeup}. */
  wakeup(): void {
    this.#wakeRequested = true;
    // Waiters re-check their condition on any notification; this one sees the flag.
    this.#cluster.changed.notify();
  }

  async #consume(max: number, timeoutMs: number): Promise<RawMessage[]> {
    const deadline = Date.now() + timeoutMs;
    if (this.#member !== null) this.#cluster.expireStale(this.#groupId);
    this.#setPolling(true);
    try {
      for (;;) {
        const seen = this.#cluster.changed.version;
        if (this.#closing) return [];
        await this.#maintain();
        if (this.#closing) return [];
        // Everything already there, at once: a batch never waits to fill up.
        const messages = this.#fetch(max);
        if (messages.length > 0) return messages;
        const left = deadline - Date.now();
        if (left <= 0 || this.#wakeRequested) return [];
        await this.#cluster.changed.wait(left, seen);
      }
    } finally {
      // Whatever this call returned answers a wakeup() made before or during it.
      this.#wakeRequested = false;
      this.#setPolling(false);
    }
  }

  #setPolling(polling: boolean): void {
    if (this.#member === null) return;
    this.#member.polling = polling;
    this.#member.lastPoll = this.#cluster.clock();
  }

  #join(): MemberState {
    return this.#cluster.join(this.#groupId, {
      clientId: this.#clientId,
      subscription: this.#subscription,
      strategy: this.#strategy,
      maxPollIntervalMs: this.#maxPollIntervalMs,
    });
  }

  /** The group work librdkafka does inside poll: lost assignments, auto-commit, rebalances. */
  async #maintain(): Promise<void> {
    if (!this.#cluster.available) return;
    const member = this.#member;
    if (member === null) return;
    if (member.expiredBy !== null) {
      this.#report(member.expiredBy);
      this.#lost = true;
      if (this.#owned.size > 0) await this.#revoke(this.assignment(), true);
      if (this.#closing) return;
      this.#member = this.#join();
      this.#setPolling(true);
    }
    this.#autoCommitIfDue();
    this.#reportMissingTopics();
    await this.#rebalance();
  }

  async #rebalance(): Promise<void> {
    // Each step awaits a handler, during which the group may move on: loop until settled.
    for (let step = 0; step < 1000 && !this.#closing; step++) {
      const member = this.#member;
      if (member === null || member.expiredBy !== null) return;
      const group = this.#cluster.group(this.#groupId);
      const generation = group.generation;
      const target = group.target.get(member.id) ?? [];
      if (this.rebalanceProtocol === "eager") {
        if (member.joinedGeneration < generation) {
          if (this.#owned.size > 0) await this.#revoke(this.assignment(), false);
          member.joinedGeneration = generation;
          this.#cluster.changed.notify();
          continue;
        }
        const everyoneJoined = group.members.every((m) => m.joinedGeneration === generation);
        if (member.assignedGeneration < generation && everyoneJoined) {
          member.assignedGeneration = generation;
          const taken = this.#cluster.take(member, target);
          // An idle member (nothing to take, nothing held) hears it joined, as on librdkafka.
          if (taken.length > 0 || this.#owned.size === 0) await this.#assign(taken);
          continue;
        }
        return;
      }
      member.joinedGeneration = generation;
      const wanted = new Set(target.map((tp) => topicPartitionKey(tp.topic, tp.partition)));
      const revoked = this.assignment().filter((tp) =>
        !wanted.has(topicPartitionKey(tp.topic, tp.partition))
      );
      if (revoked.length > 0) {
        await this.#revoke(revoked, false);
        continue;
      }
      const missing = target.filter((tp) =>
        !this.#owned.has(topicPartitionKey(tp.topic, tp.partition))
      );
      const taken = this.#cluster.take(member, missing);
      if (taken.length > 0) {
        await this.#assign(taken);
        continue;
      }
      if (this.#owned.size === 0 && this.#idleGeneration !== generation) {
        // An idle member hears once per generation that it joined, as on librdkafka.
        this.#idleGeneration = generation;
        await this.#assign([]);
        continue;
      }
      return;
    }
  }

  async #revoke(partitions: TopicPartition[], lost: boolean): Promise<void> {
    await this.#callHandler({ kind: "revoke", partitions, protocol: this.rebalanceProtocol });
    const keys = partitions.map((tp) => topicPartitionKey(tp.topic, tp.partition));
    if (this.#autoCommit && !lost) this.#commitQuietly(this.#uncommitted(new Set(keys)));
    for (const key of keys) {
      this.#owned.delete(key);
      this.#positions.delete(key);
      this.#stored.delete(key);
      this.#paused.delete(key);
      this.#stalled.delete(key);
    }
    if (this.#member !== null) this.#cluster.release(this.#member, partitions);
  }

  async #assign(partitions: TopicPartition[]): Promise<void> {
    for (const tp of partitions) {
      const key = topicPartitionKey(tp.topic, tp.partition);
      this.#owned.set(key, { ...tp });
      this.#positions.set(key, this.#startOffset(tp, true));
    }
    this.#lost = false;
    this.#cluster.changed.notify();
    await this.#callHandler({
      kind: "assign",
      partitions: partitions.map((tp) => ({ ...tp })).sort(byTopicPartition),
      protocol: this.rebalanceProtocol,
    });
  }

  /** The group's committed offset (when `useCommitted`), else `auto.offset.reset`'s. */
  #startOffset(tp: TopicPartition, useCommitted: boolean): number {
    const committed = this.#cluster.committed(this.#groupId, tp.topic, tp.partition);
    if (useCommitted && committed >= 0) return committed;
    switch (this.#reset) {
      case "earliest":
        return 0;
      case "latest":
        return this.#cluster.highWatermark(tp.topic, tp.partition);
      case "error":
        this.#stalled.add(topicPartitionKey(tp.topic, tp.partition));
        this.#report(
          kafkaError(
            "_AUTO_OFFSET_RESET",
            `topic "${tp.topic}" partition ${tp.partition} has no valid offset to start from and "auto.offset.reset" is "error": seek to an offset`,
          ),
        );
        return OFFSET_INVALID;
    }
  }

  async #callHandler(event: RebalanceEvent): Promise<void> {
    const handler = this.#options.onRebalance;
    if (handler === undefined) return;
    try {
      await handler(event);
    } catch (error) {
      this.#report(
        kafkaError("_APPLICATION", `onRebalance failed to handle the ${event.kind} of partitions`, {
          cause: error,
        }),
      );
    }
  }

  #fetch(max: number): RawMessage[] {
    if (!this.#cluster.available || this.#owned.size === 0) return [];
    const keys = [...this.#owned.keys()];
    const start = this.#rotation++ % keys.length;
    const out: RawMessage[] = [];
    for (let i = 0; i < keys.length && out.length < max; i++) {
      const key = keys[(start + i) % keys.length]!;
      const tp = this.#owned.get(key)!;
      if (this.#paused.has(key) || this.#stalled.has(key)) continue;
      const count = this.#cluster.partitionCount(tp.topic);
      if (count === undefined || tp.partition >= count) continue;
      let position = this.#positions.get(key) ?? OFFSET_INVALID;
      if (position < 0) position = this.#startOffset(tp, true);
      else if (position > this.#cluster.highWatermark(tp.topic, tp.partition)) {
        // Offset out of range: librdkafka resets by auto.offset.reset, ignoring commits.
        position = this.#startOffset(tp, false);
      }
      this.#positions.set(key, position);
      if (position < 0) continue;
      const messages = this.#cluster.read(tp.topic, tp.partition, position, max - out.length);
      this.#positions.set(key, position + messages.length);
      out.push(...messages);
    }
    return out;
  }

  #autoCommitIfDue(): void {
    if (!this.#autoCommit) return;
    const now = this.#cluster.clock();
    if (now - this.#lastAutoCommit < this.#autoCommitIntervalMs) return;
    this.#lastAutoCommit = now;
    this.#commitQuietly(this.#uncommitted());
  }

  #commitQuietly(offsets: TopicPartitionOffset[]): void {
    if (offsets.length === 0) return;
    try {
      this.#cluster.commit(this.#groupId, offsets);
    } catch (error) {
      this.#report(error as KafkaError);
    }
  }

  /** Stored offsets (of `only`, when given) that differ from the group's committed ones. */
  #uncommitted(only?: ReadonlySet<string>): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const [key, offset] of this.#stored) {
      if (only !== undefined && !only.has(key)) continue;
      const tp = this.#owned.get(key);
      if (tp === undefined) continue;
      if (this.#cluster.committed(this.#groupId, tp.topic, tp.partition) === offset) continue;
      out.push({ ...tp, offset });
    }
    return out;
  }

  #reportMissingTopics(): void {
    for (const topic of this.#subscription) {
      if (topic.startsWith("^")) continue;
      if (this.#cluster.partitionCount(topic) !== undefined) {
        this.#missingReported.delete(topic);
      } else if (!this.#missingReported.has(topic)) {
        this.#missingReported.add(topic);
        this.#report(
          kafkaError("UNKNOWN_TOPIC_OR_PART", `Subscribed topic not available: "${topic}"`),
        );
      }
    }
  }

  #report(error: KafkaError): void {
    this.#options.onError?.(error);
  }

  #assertOpen(action: string): void {
    if (this.#closed) throw kafkaError("_STATE", `Cannot ${action}: the consumer is closed`);
  }
}

/** Runs `fn` now, turning what it throws into a rejected promise. */
function attempt(fn: () => void): Promise<void> {
  try {
    fn();
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}

function validatePartitions(action: string, partitions: readonly TopicPartition[]): void {
  if (!Array.isArray(partitions)) {
    throw new TypeError(`Cannot ${action}: expected an array of partitions`);
  }
  for (const tp of partitions) {
    if (typeof tp?.topic !== "string" || tp.topic === "") {
      throw new TypeError(
        `Cannot ${action}: topic is ${JSON.stringify(tp?.topic)}, expected a name`,
      );
    }
    if (!Number.isInteger(tp.partition) || tp.partition < 0) {
      throw new RangeError(
        `Cannot ${action}: partition is ${tp.partition}, expected an integer of 0 or more`,
      );
    }
  }
}

function validateOffsets(
  action: string,
  offsets: readonly TopicPartitionOffset[],
  logical = false,
): void {
  validatePartitions(action, offsets);
  for (const { offset } of offsets) {
    if (!Number.isSafeInteger(offset) || (offset < 0 && !(logical && offset >= -1001))) {
      throw new RangeError(
        `Cannot ${action}: offset is ${offset}, expected an integer of 0 or more`,
      );
    }
  }
}
