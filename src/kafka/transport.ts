/**
 * The transport port: the only way the runtime-neutral core talks to Kafka.
 *
 * Types only. Adapters live beside this file: `ffi/` (librdkafka through
 * `Deno.dlopen`), `node_rdkafka/` (the node-rdkafka addon under Node) and
 * `memory/` (an in-process broker for unit tests and the public testing kit).
 * Every adapter passes the same behaviour suite, so the core never needs to know
 * which one it runs on.
 *
 * Conventions shared by all adapters:
 * - Offsets are plain numbers (safe up to 2^53, far beyond any real log).
 * - An offset in a {@link TopicPartitionOffset} passed to `storeOffsets` or
 *   `commit`, or returned by `committed`, is the *next* offset to consume, as in
 *   Kafka's own commit protocol (the last processed offset plus one).
 * - Timestamps are milliseconds since the Unix epoch.
 * - Failures are {@link KafkaError}s (see `../errors.ts`) with librdkafka's
 *   numeric code and a stable `ERR_*` name, whatever the adapter.
 *
 * @module
 */

import type { KafkaError } from "../errors.ts";

/** librdkafka configuration properties, e.g. `{ "bootstrap.servers": "127.0.0.1:9092" }`. */
export type ConfigMap = Record<string, string>;

/** One message header. Keys may repeat; order is kept as on the wire. */
export interface Header {
  /** Header name. */
  key: string;
  /** Header value; `null` for a header sent without a value. */
  value: Uint8Array | null;
}

/** A topic and partition. */
export interface TopicPartition {
  /** Topic name. */
  topic: string;
  /** Partition number. */
  partition: number;
}

/** A topic, partition and offset. */
export interface TopicPartitionOffset extends TopicPartition {
  /** The offset; for commits, the next offset to consume. */
  offset: number;
}

/** How the broker stamped a message's timestamp. */
export type TimestampType = "create" | "log-append" | "none";

/** A message as fetched, with its payload already copied into JS memory. */
export interface RawMessage {
  /** Topic it came from. */
  topic: string;
  /** Partition it came from. */
  partition: number;
  /** Its offset in the partition. */
  offset: number;
  /** Key bytes, or `null` when the message has no key. */
  key: Uint8Array | null;
  /**
   * Value bytes, or `null` for a tombstone. Key and value may be views of a
   * buffer shared with other messages of the batch (see `Message.value`).
   */
  value: Uint8Array | null;
  /** Headers in wire order; empty when there are none. */
  headers: Header[];
  /** Milliseconds since the epoch, or `null` when the message has none. */
  timestamp: number | null;
  /** Whether the producer or the broker set the timestamp. */
  timestampType: TimestampType;
}

/** The group protocol decides whether a rebalance moves every partition or only some. */
export type RebalanceProtocol = "eager" | "cooperative";

/**
 * A change of assignment. For `revoke`, the adapter calls the handler *before*
 * it gives the partitions up, so the handler can finish their work and commit.
 * For `assign`, the adapter calls it *after* it took the partitions.
 */
export interface RebalanceEvent {
  /**
   * `assign`: partitions were added, or the member was left with none (then
   * `partitions` is empty: an idle member hears that it joined; a cooperative
   * round that adds nothing to a member holding partitions is no event);
   * `revoke`: partitions are being taken away.
   */
  kind: "assign" | "revoke";
  /** The partitions that change hands (for eager protocols: the whole set). */
  partitions: TopicPartition[];
  /** `cooperative` for cooperative-sticky, `eager` otherwise. */
  protocol: RebalanceProtocol;
}

/** One line of librdkafka's own log. */
export interface ClientLogEntry {
  /** Syslog level: 0 emergency ... 3 error, 4 warning, 5 notice, 6 info, 7 debug. */
  level: number;
  /** librdkafka's facility, e.g. `FAIL`, `REBALANCE`. */
  facility: string;
  /** The text. */
  message: string;
}

/** Listeners an adapter calls for what happens inside librdkafka. */
export interface ClientListeners {
  /**
   * Called for errors that do not belong to a single call: broker down, all
   * brokers down, authentication failures, fatal errors. A `fatal` error means
   * the client is unusable and must be closed.
   */
  onError?: (error: KafkaError) => void;
  /** librdkafka's statistics JSON, every `statistics.interval.ms`. */
  onStatistics?: (json: string) => void;
  /** librdkafka's log lines. */
  onLog?: (entry: ClientLogEntry) => void;
}

/** What it takes to create a consumer. */
export interface ConsumerOptions extends ClientListeners {
  /**
   * librdkafka properties. The adapter always forces
   * `enable.auto.offset.store=false` (the core stores offsets itself, only after
   * processing) and honours everything else as given.
   */
  config: ConfigMap;
  /**
   * Called on every assignment change; see {@link RebalanceEvent}. The adapter
   * completes the assignment change only after the returned promise settles
   * (a rejection is reported through `onError` and the change goes ahead).
   */
  onRebalance?: (event: RebalanceEvent) => void | Promise<void>;
}

/** A Kafka group consumer. */
export interface ConsumerTransport {
  /** Which rebalance protocol the configured assignment strategy uses. */
  readonly rebalanceProtocol: RebalanceProtocol;

  /** Subscribes to these topics (replacing any earlier subscription). */
  subscribe(topics: readonly string[]): void;

  /**
   * Hands over what has arrived, as soon as something has: waits at most
   * `timeoutMs` for the *first* message, then resolves at once with the
   * messages already fetched, up to `max`; it never waits to fill the batch.
   * When messages are already waiting it resolves without waiting at all, so
   * batches grow with the load on their own (up to `max`). Resolves with an
   * empty array on timeout, or early after {@link wakeup}. Messages of
   * partitions that are not assigned (or are being revoked) are dropped.
   * Per-partition fetch errors are reported through `onError`, not thrown; a
   * fatal consumer error rejects. Calls never overlap: a second call while one
   * is pending rejects with a `TypeError`.
   */
  consume(max: number, timeoutMs: number): Promise<RawMessage[]>;

  /**
   * Wakes a pending {@link consume}: it resolves promptly (within
   * milliseconds) with what it has, possibly nothing. When no `consume` is
   * pending, the next one does not wait for messages. For shutdown: stopping
   * need not wait out a long poll. Safe to call at any time, also after close.
   */
  wakeup(): void;

  /**
   * Stores offsets (next offset to consume) in the local offset store; the next
   * commit sends them. Offsets of partitions not assigned are ignored.
   */
  storeOffsets(offsets: readonly TopicPartitionOffset[]): void;

  /**
   * Commits offsets: the given ones, or everything stored when omitted.
   * `sync: true` waits for the broker's answer; otherwise resolves once the
   * commit was queued. Committing when nothing is stored resolves quietly.
   */
  commit(
    offsets?: readonly TopicPartitionOffset[] | null,
    options?: { sync?: boolean },
  ): Promise<void>;

  /** The group's committed offsets for these partitions (`-1001` where none). */
  committed(
    partitions: readonly TopicPartition[],
    timeoutMs: number,
  ): Promise<TopicPartitionOffset[]>;

  /** Stops fetching from these partitions; messages already fetched are dropped. */
  pause(partitions: readonly TopicPartition[]): void;

  /** Starts fetching from these partitions again. */
  resume(partitions: readonly TopicPartition[]): void;

  /**
   * Moves the fetch position of an assigned partition, so the next message
   * consumed from it is at `offset`. Works on paused partitions too.
   */
  seek(position: TopicPartitionOffset, timeoutMs: number): Promise<void>;

  /** The partitions currently assigned to this member. */
  assignment(): TopicPartition[];

  /** Whether the assignment was lost involuntarily (session timeout, max poll interval). */
  assignmentLost(): boolean;

  /**
   * This member's group metadata now (group id, generation, member id), for
   * {@link ProducerTransport.sendOffsetsToTransaction}. Present when the
   * adapter's `features.transactions` is true.
   */
  groupMetadata?(): GroupMetadata;

  /**
   * Leaves the group and frees the client. Runs the last revoke through
   * `onRebalance` first. Idempotent.
   */
  close(): Promise<void>;
}

/** One message to produce. */
export interface ProduceRecord {
  /** Target topic. */
  topic: string;
  /** Value bytes; `null` produces a tombstone. */
  value: Uint8Array | null;
  /** Key bytes. */
  key?: Uint8Array | null;
  /** Explicit partition; the configured partitioner picks one when omitted. */
  partition?: number;
  /** Headers, sent in this order. */
  headers?: readonly Header[];
  /** Create time, milliseconds since the epoch; now when omitted. */
  timestamp?: number;
}

/** Where a produced message landed. */
export interface DeliveryReport {
  /** Topic. */
  topic: string;
  /** Partition it was written to. */
  partition: number;
  /** Its offset, or `-1` when the broker did not say (acks=0). */
  offset: number;
}

/** What it takes to create a producer. */
export interface ProducerOptions extends ClientListeners {
  /** librdkafka properties. */
  config: ConfigMap;
}

/** A Kafka producer. */
export interface ProducerTransport {
  /**
   * Queues a message. The promise resolves with its delivery report once the
   * broker acknowledged it, and rejects with a {@link KafkaError} when delivery
   * finally failed (after librdkafka's own retries, bounded by
   * `message.timeout.ms`) or when it could not be queued (`ERR__QUEUE_FULL`
   * is retriable, `ERR_MSG_SIZE_TOO_LARGE` is not).
   */
  produce(record: ProduceRecord): Promise<DeliveryReport>;

  /**
   * Number of partitions of a topic, from the cluster's metadata. A topic the
   * cluster does not know yet (created a moment ago) is asked for again until
   * `timeoutMs` ran out; then it rejects with `ERR_UNKNOWN_TOPIC_OR_PART`
   * naming the topic.
   */
  partitionCount(topic: string, timeoutMs: number): Promise<number>;

  /** Waits until every queued message was delivered or failed; rejects on timeout. */
  flush(timeoutMs: number): Promise<void>;

  /** Flushes (up to `timeoutMs`), then frees the client. Idempotent. */
  close(timeoutMs?: number): Promise<void>;

  // Transactions: present when the adapter's `features.transactions` is true,
  // and usable when `config` has a `transactional.id`. Each rejects with a
  // KafkaError whose flags say what to do: `txnRequiresAbort` (abort, then do
  // the work again), `retriable` (call the same method again), `fatal` (the
  // producer is unusable, e.g. fenced by a newer one with the same id: close it).

  /**
   * Registers the `transactional.id` with the coordinator, fencing any older
   * producer with the same id and aborting its open transaction. Once, first.
   */
  initTransactions?(timeoutMs: number): Promise<void>;
  /** Starts a transaction: what is produced until it ends belongs to it. */
  beginTransaction?(): Promise<void>;
  /**
   * Adds a consumer's offsets (next offset to consume) to the open
   * transaction; they are committed for `metadata`'s group if and only if the
   * transaction commits. The broker refuses them when the group moved on to a
   * new generation (a zombie).
   */
  sendOffsetsToTransaction?(
    offsets: readonly TopicPartitionOffset[],
    metadata: GroupMetadata,
    timeoutMs: number,
  ): Promise<void>;
  /** Flushes, then commits the open transaction: its messages and offsets become visible at once. */
  commitTransaction?(timeoutMs: number): Promise<void>;
  /** Aborts the open transaction: read_committed readers never see its messages, its offsets are dropped. */
  abortTransaction?(timeoutMs: number): Promise<void>;
}

/**
 * A consumer's group membership as a transaction needs it (KIP-447). Opaque:
 * only the producers of the adapter whose consumer made it accept it.
 */
export interface GroupMetadata {
  /** The consumer group. */
  readonly groupId: string;
}

/** A topic to create. */
export interface NewTopic {
  /** Topic name. */
  name: string;
  /** Partition count. */
  partitions: number;
  /** Replication factor; the broker's default when omitted. */
  replicationFactor?: number;
  /** Topic-level configuration, e.g. `{ "retention.ms": "60000" }`. */
  config?: Record<string, string>;
}

/** What it takes to create an admin client. */
export interface AdminOptions extends ClientListeners {
  /** librdkafka properties. */
  config: ConfigMap;
}

/** A topic as the cluster's metadata lists it. */
export interface TopicListing {
  /** Topic name. */
  name: string;
  /** Partition count. */
  partitions: number;
}

/** A consumer group as the brokers list it. */
export interface GroupListing {
  /** Group id. */
  groupId: string;
  /** `Stable`, `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Dead`, ... */
  state: string;
  /** `consumer` for consumer groups; other kinds (e.g. Connect) say so here. */
  protocolType: string;
}

/** One member of a consumer group. */
export interface GroupMember {
  /** The member id the coordinator gave it. */
  memberId: string;
  /** Its `client.id`. */
  clientId: string;
  /** The host it connects from, as the broker saw it (e.g. `/127.0.0.1`). */
  host: string;
  /** The partitions assigned to it. */
  assignment: TopicPartition[];
}

/** A consumer group's state and members. */
export interface GroupDescription extends GroupListing {
  /** The assignor in use, e.g. `range` or `cooperative-sticky`; empty when the group is empty. */
  protocol: string;
  /** The members; empty when no consumer of the group runs. */
  members: GroupMember[];
}

/** A partition's first and next offsets. */
export interface Watermarks extends TopicPartition {
  /** The earliest offset still in the log. */
  low: number;
  /** The offset the next message will get (the end of the log). */
  high: number;
}

/** The cluster operations Racecar and `racecarctl` need. */
export interface AdminTransport {
  /** Creates topics; a topic that already exists is not an error. */
  createTopics(topics: readonly NewTopic[], timeoutMs: number): Promise<void>;
  /** Deletes topics; a topic that does not exist is not an error. */
  deleteTopics(names: readonly string[], timeoutMs: number): Promise<void>;
  /**
   * Grows a topic to `totalCount` partitions. Kafka cannot shrink a topic: a
   * count that is not larger than the current one is an `ERR_INVALID_PARTITIONS`.
   */
  createPartitions(topic: string, totalCount: number, timeoutMs: number): Promise<void>;
  /** The cluster's topics (internal ones such as `__consumer_offsets` included), by name. */
  listTopics(timeoutMs: number): Promise<TopicListing[]>;
  /** The consumer groups the brokers know, by id. */
  listGroups(timeoutMs: number): Promise<GroupListing[]>;
  /** A group's state and members; an unknown group is `Dead` with no members. */
  describeGroup(groupId: string, timeoutMs: number): Promise<GroupDescription>;
  /** The first and next offset of each partition. */
  watermarks(partitions: readonly TopicPartition[], timeoutMs: number): Promise<Watermarks[]>;
  /**
   * For each partition, the earliest offset whose timestamp is at or after the
   * given one (`offset` holds the timestamp in ms); `-1` when no message is
   * that recent.
   */
  offsetsForTimes(
    partitions: readonly TopicPartitionOffset[],
    timeoutMs: number,
  ): Promise<TopicPartitionOffset[]>;
  /** Frees the client. Idempotent. */
  close(): Promise<void>;
}

/** Optional librdkafka features, as reported by the loaded library. */
export interface TransportFeatures {
  /** `builtin.features`, e.g. `gzip,snappy,ssl,sasl,regex,lz4,sasl_plain,...`. */
  builtin: readonly string[];
  /** librdkafka version as a number, e.g. `0x020c0000` for 2.12.0. */
  versionNumber: number;
  /**
   * Whether producers have the transaction methods and consumers
   * `groupMetadata` (exactly-once processing, `transactional`). Absent means no.
   */
  transactions?: boolean;
}

/** An adapter: a factory of clients over one Kafka library. */
export interface Transport {
  /** Adapter name: `deno-ffi`, `node-rdkafka` or `memory`. */
  readonly name: string;
  /** librdkafka's version string, e.g. `2.12.0`. */
  readonly librdkafkaVersion: string;
  /** What the loaded library supports. */
  readonly features: TransportFeatures;
  /** Creates a group consumer. Throws a `ConfigError` for a bad property. */
  createConsumer(options: ConsumerOptions): ConsumerTransport;
  /** Creates a producer. Throws a `ConfigError` for a bad property. */
  createProducer(options: ProducerOptions): ProducerTransport;
  /** Creates an admin client. Throws a `ConfigError` for a bad property. */
  createAdmin(options: AdminOptions): AdminTransport;
}

/** librdkafka's marker for "no offset" (`RD_KAFKA_OFFSET_INVALID`). */
export const OFFSET_INVALID = -1001;
