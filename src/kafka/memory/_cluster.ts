/**
 * The state of the in-process broker behind the memory adapter: topics and
 * their logs, consumer groups with their members, ownership and committed
 * offsets, availability and injected failures. Clients (`_consumer.ts`,
 * `_producer.ts`, `_admin.ts`) drive it; `_broker.ts` exposes it to tests.
 *
 * @module
 */

import { parseTopicPartitionKey, topicPartitionKey } from "../../_topic_partition.ts";
import type { KafkaError } from "../../errors.ts";
import {
  type Header,
  OFFSET_INVALID,
  type RawMessage,
  type TimestampType,
  type TopicPartition,
  type TopicPartitionOffset,
} from "../transport.ts";
import { assign, type Assignment, type Strategy } from "./_assignors.ts";
import { kafkaError } from "./_errors.ts";
import { Signal } from "./_signal.ts";

/** Orders partitions by topic, then partition. */
export function byTopicPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

/** What `append` writes. */
export interface AppendRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: readonly Header[];
  timestamp: number | undefined;
}

interface Entry {
  /** Broker-wide order of appends, so `messages(topic)` can list in produce order. */
  seq: number;
  message: RawMessage;
}

interface TopicState {
  partitions: Entry[][];
  timestampType: TimestampType;
  maxMessageBytes: number | undefined;
}

/** A member of a consumer group, as the broker sees it. */
export interface MemberState {
  readonly id: string;
  readonly clientId: string;
  readonly groupId: string;
  subscription: readonly string[];
  readonly strategy: Strategy;
  readonly maxPollIntervalMs: number;
  /** The last generation whose rebalance this member joined (revoked for, if eager). */
  joinedGeneration: number;
  /** The last generation whose assignment this member took (eager). */
  assignedGeneration: number;
  /** `clock()` when the member last returned from (or entered) `consume`. */
  lastPoll: number;
  /** Whether a `consume` call is in progress. */
  polling: boolean;
  /** Set when the broker dropped the member from the group (its assignment is lost). */
  expiredBy: KafkaError | null;
}

/** A consumer group. */
export interface GroupState {
  readonly id: string;
  generation: number;
  members: MemberState[];
  /** Where each member's partitions should be, per the group's assignor. */
  target: Assignment;
  /** topicPartitionKey -> memberId of the member that currently holds the partition. */
  owners: Map<string, string>;
  committed: Map<string, number>;
  commitFailures: KafkaError[];
}

/** A client that hears about the broker going down and coming back. */
export interface ClusterClient {
  down(error: KafkaError): void;
  up(): void;
}

/** How the cluster is set up. */
export interface ClusterOptions {
  clock: () => number;
  random: () => number;
  numPartitions: number;
  autoCreateTopics: boolean;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** The in-process broker. */
export class Cluster {
  readonly clock: () => number;
  readonly random: () => number;
  readonly numPartitions: number;
  readonly autoCreateTopics: boolean;
  /** Notified on every change a waiting client may care about. */
  readonly changed: Signal = new Signal();

  #available = true;
  #topics = new Map<string, TopicState>();
  #groups = new Map<string, GroupState>();
  #seq = 0;
  #memberSeq = 0;
  #clients = new Set<ClusterClient>();
  #produceFailures = new Map<string, KafkaError[]>();

  constructor(options: ClusterOptions) {
    this.clock = options.clock;
    this.random = options.random;
    this.numPartitions = options.numPartitions;
    this.autoCreateTopics = options.autoCreateTopics;
  }

  // Availability

  get available(): boolean {
    return this.#available;
  }

  setAvailable(available: boolean): void {
    if (available === this.#available) return;
    this.#available = available;
    for (const client of [...this.#clients]) {
      if (available) client.up();
      else client.down(kafkaError("_ALL_BROKERS_DOWN", "the memory broker was made unavailable"));
    }
    this.changed.notify();
  }

  register(client: ClusterClient): void {
    this.#clients.add(client);
  }

  unregister(client: ClusterClient): void {
    this.#clients.delete(client);
  }

  /** Resolves once the broker is available; rejects with `ERR__TIMED_OUT` after `timeoutMs`. */
  async waitAvailable(timeoutMs: number, action: string): Promise<void> {
    if (!(await this.changed.until(() => this.#available, timeoutMs))) {
      throw kafkaError("_TIMED_OUT", `${action}: the broker was unavailable for ${timeoutMs} ms`);
    }
  }

  // Topics

  partitionCount(topic: string): number | undefined {
    return this.#topics.get(topic)?.partitions.length;
  }

  topicNames(): string[] {
    return [...this.#topics.keys()].sort();
  }

  /**
   * Creates a topic. An existing topic is left alone, or grown to `partitions`
   * when `grow` is set (partitions can never shrink). Returns whether anything changed.
   */
  createTopic(
    name: string,
    partitions: number,
    config: Readonly<Record<string, string>> = {},
    grow = false,
  ): boolean {
    if (!TOPIC_NAME.test(name) || name === "." || name === "..") {
      throw kafkaError(
        "TOPIC_EXCEPTION",
        `Cannot create topic "${name}": use 1 to 249 of the characters a-z, A-Z, 0-9, '.', '_' and '-'`,
      );
    }
    const existing = this.#topics.get(name);
    if (existing !== undefined) {
      if (!grow || partitions === existing.partitions.length) return false;
      if (partitions < existing.partitions.length) {
        throw new RangeError(
          `Cannot shrink topic "${name}" from ${existing.partitions.length} to ${partitions} partitions: Kafka only adds partitions`,
        );
      }
      while (existing.partitions.length < partitions) existing.partitions.push([]);
    } else {
      const maxBytes = config["max.message.bytes"];
      this.#topics.set(name, {
        partitions: Array.from({ length: partitions }, () => []),
        timestampType: config["message.timestamp.type"] === "LogAppendTime"
          ? "log-append"
          : "create",
        maxMessageBytes: maxBytes === undefined ? undefined : Number(maxBytes),
      });
    }
    this.#topicsChanged(name);
    return true;
  }

  /** Deletes a topic with its log and the groups' offsets for it. */
  deleteTopic(name: string): boolean {
    if (!this.#topics.delete(name)) return false;
    for (const group of this.#groups.values()) {
      for (const key of [...group.committed.keys()]) {
        if (parseTopicPartitionKey(key).topic === name) group.committed.delete(key);
      }
    }
    this.#produceFailures.delete(name);
    this.#topicsChanged(name);
    return true;
  }

  maxMessageBytes(topic: string): number | undefined {
    return this.#topics.get(topic)?.maxMessageBytes;
  }

  /** The offset the next message appended to the partition gets (0 for a missing one). */
  highWatermark(topic: string, partition: number): number {
    return this.#topics.get(topic)?.partitions[partition]?.length ?? 0;
  }

  /** Appends a message (the topic and partition must exist) and returns its offset. */
  append(topic: string, partition: number, record: AppendRecord): number {
    const state = this.#topics.get(topic);
    const log = state?.partitions[partition];
    if (state === undefined || log === undefined) {
      throw kafkaError(
        "UNKNOWN_TOPIC_OR_PART",
        `Cannot append to topic "${topic}" partition ${partition}`,
      );
    }
    const logAppend = state.timestampType === "log-append";
    const offset = log.length;
    log.push({
      seq: this.#seq++,
      message: {
        topic,
        partition,
        offset,
        key: record.key === null ? null : record.key.slice(),
        value: record.value === null ? null : record.value.slice(),
        headers: record.headers.map((h) => ({ key: h.key, value: h.value?.slice() ?? null })),
        timestamp: logAppend ? this.clock() : record.timestamp ?? this.clock(),
        timestampType: logAppend ? "log-append" : "create",
      },
    });
    this.changed.notify();
    return offset;
  }

  /** Copies of up to `max` messages of a partition, from offset `from`. */
  read(topic: string, partition: number, from: number, max: number): RawMessage[] {
    const log = this.#topics.get(topic)?.partitions[partition] ?? [];
    return log.slice(from, from + max).map((entry) => copyMessage(entry.message));
  }

  /** Copies of everything in a topic (or one partition), in the order it was appended. */
  messages(topic: string, partition?: number): RawMessage[] {
    const state = this.#topics.get(topic);
    if (state === undefined) return [];
    const logs = partition === undefined ? state.partitions : [state.partitions[partition] ?? []];
    return logs.flat().sort((a, b) => a.seq - b.seq).map((entry) => copyMessage(entry.message));
  }

  failNextProduce(topic: string, error: KafkaError): void {
    const queue = this.#produceFailures.get(topic) ?? [];
    queue.push(error);
    this.#produceFailures.set(topic, queue);
  }

  takeProduceFailure(topic: string): KafkaError | undefined {
    return this.#produceFailures.get(topic)?.shift();
  }

  // Groups

  /** The ids of the groups that exist, without creating one. */
  groupIds(): string[] {
    return [...this.#groups.keys()].sort();
  }

  group(id: string): GroupState {
    let group = this.#groups.get(id);
    if (group === undefined) {
      group = {
        id,
        generation: 0,
        members: [],
        target: new Map(),
        owners: new Map(),
        committed: new Map(),
        commitFailures: [],
      };
      this.#groups.set(id, group);
    }
    return group;
  }

  /** Adds a member to a group, which rebalances it. */
  join(
    groupId: string,
    member: Pick<MemberState, "clientId" | "subscription" | "strategy" | "maxPollIntervalMs">,
  ): MemberState {
    const group = this.group(groupId);
    const state: MemberState = {
      ...member,
      id: `${member.clientId}-${String(++this.#memberSeq).padStart(6, "0")}`,
      groupId,
      joinedGeneration: -1,
      assignedGeneration: -1,
      lastPoll: this.clock(),
      polling: false,
      expiredBy: null,
    };
    group.members.push(state);
    this.#rebalance(group);
    return state;
  }

  /** Changes a member's subscription, which rebalances its group. */
  resubscribe(member: MemberState, subscription: readonly string[]): void {
    member.subscription = subscription;
    const group = this.group(member.groupId);
    if (group.members.includes(member)) this.#rebalance(group);
  }

  /** Removes a member (closing) and frees what it held, which rebalances its group. */
  leave(member: MemberState): void {
    const group = this.group(member.groupId);
    this.#drop(group, member);
  }

  /** Drops a member as if its session or poll interval had expired: its assignment is lost. */
  expire(member: MemberState, reason: KafkaError): void {
    const group = this.group(member.groupId);
    if (!group.members.includes(member)) return;
    member.expiredBy = reason;
    this.#drop(group, member);
  }

  /** Expires the members that did not call `consume` within their `max.poll.interval.ms`. */
  expireStale(groupId: string): void {
    const now = this.clock();
    for (const member of [...this.group(groupId).members]) {
      if (!member.polling && now - member.lastPoll > member.maxPollIntervalMs) {
        this.expire(
          member,
          kafkaError(
            "_MAX_POLL_EXCEEDED",
            `member "${member.id}" did not call consume() within ${member.maxPollIntervalMs} ms`,
          ),
        );
      }
    }
  }

  /** Marks the free ones of `partitions` as held by `member` and returns them. */
  take(member: MemberState, partitions: readonly TopicPartition[]): TopicPartition[] {
    const group = this.group(member.groupId);
    if (!group.members.includes(member)) return [];
    const taken = partitions.filter((tp) => {
      const key = topicPartitionKey(tp.topic, tp.partition);
      const owner = group.owners.get(key);
      if (owner !== undefined && owner !== member.id) return false;
      group.owners.set(key, member.id);
      return true;
    });
    return taken;
  }

  /** Frees the partitions `member` holds among `partitions`. */
  release(member: MemberState, partitions: readonly TopicPartition[]): void {
    const group = this.group(member.groupId);
    for (const tp of partitions) {
      const key = topicPartitionKey(tp.topic, tp.partition);
      if (group.owners.get(key) === member.id) group.owners.delete(key);
    }
    this.changed.notify();
  }

  /** Commits offsets for a group; throws the injected failure or `ERR__TRANSPORT` when down. */
  commit(groupId: string, offsets: readonly TopicPartitionOffset[]): void {
    if (!this.#available) {
      throw kafkaError(
        "_TRANSPORT",
        `Cannot commit offsets of group "${groupId}": the broker is down`,
      );
    }
    const group = this.group(groupId);
    const failure = group.commitFailures.shift();
    if (failure !== undefined) throw failure;
    for (const { topic, partition, offset } of offsets) {
      group.committed.set(topicPartitionKey(topic, partition), offset);
    }
  }

  failNextCommit(groupId: string, error: KafkaError): void {
    this.group(groupId).commitFailures.push(error);
  }

  committed(groupId: string, topic: string, partition: number): number {
    return this.#groups.get(groupId)?.committed.get(topicPartitionKey(topic, partition)) ??
      OFFSET_INVALID;
  }

  /** The existing topics a subscription (names and `^regex` patterns) covers. */
  resolve(subscription: readonly string[]): Set<string> {
    const topics = new Set<string>();
    for (const pattern of subscription) {
      if (pattern.startsWith("^")) {
        const regex = new RegExp(pattern);
        for (const name of this.#topics.keys()) if (regex.test(name)) topics.add(name);
      } else if (this.#topics.has(pattern)) {
        topics.add(pattern);
      }
    }
    return topics;
  }

  #drop(group: GroupState, member: MemberState): void {
    const index = group.members.indexOf(member);
    if (index < 0) return;
    group.members.splice(index, 1);
    for (const [key, owner] of [...group.owners]) {
      if (owner === member.id) group.owners.delete(key);
    }
    this.#rebalance(group);
  }

  #topicsChanged(topic: string): void {
    for (const group of this.#groups.values()) {
      const affected = group.members.some((member) =>
        member.subscription.some((pattern) =>
          pattern.startsWith("^") ? new RegExp(pattern).test(topic) : pattern === topic
        )
      );
      if (affected) this.#rebalance(group);
    }
    this.changed.notify();
  }

  /** Starts a new generation: a new target assignment every member moves towards. */
  #rebalance(group: GroupState): void {
    group.generation++;
    const counts = new Map([...this.#topics].map(([name, t]) => [name, t.partitions.length]));
    const strategy = group.members[0]?.strategy ?? "range";
    group.target = assign(
      strategy,
      group.members.map((member) => ({ id: member.id, topics: this.resolve(member.subscription) })),
      counts,
      group.target,
    );
    this.changed.notify();
  }
}

function copyMessage(message: RawMessage): RawMessage {
  return {
    ...message,
    key: message.key?.slice() ?? null,
    value: message.value?.slice() ?? null,
    headers: message.headers.map((h) => ({ key: h.key, value: h.value?.slice() ?? null })),
  };
}
