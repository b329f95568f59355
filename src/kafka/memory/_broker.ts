/**
 * The test-facing side of the memory adapter: a handle on the in-process
 * broker to seed and inspect topics, read committed offsets and group members,
 * and steer failures (unavailability, failing deliveries and commits, expired
 * members).
 *
 * @module
 */

import { parseTopicPartitionKey } from "../../_topic_partition.ts";
import { LIBRDKAFKA_DEFAULTS } from "../../_librdkafka.ts";
import type { KafkaError } from "../../errors.ts";
import type { DeliveryReport, ProduceRecord, RawMessage, TopicPartition } from "../transport.ts";
import { byTopicPartition, type Cluster } from "./_cluster.ts";
import { kafkaError } from "./_errors.ts";
import { pickPartition } from "./_partitioner.ts";

/** A member of a consumer group, as {@link MemoryBroker.members} reports it. */
export interface MemberInfo {
  /** The member id the broker gave it: `${client.id}-<sequence>`. */
  memberId: string;
  /** The consumer's `client.id` (`rdkafka` when not set). */
  clientId: string;
  /** Topics and `^regex` patterns it subscribed to. */
  subscription: string[];
  /** Partitions it holds right now (not those it is about to get). */
  assignment: TopicPartition[];
}

/** Topic options for {@link MemoryBroker.createTopic}. */
export interface MemoryTopicOptions {
  /**
   * Topic-level configuration. The memory broker honours
   * `message.timestamp.type` (`CreateTime` or `LogAppendTime`) and
   * `max.message.bytes`, and ignores the rest.
   * @default {}
   */
  config?: Record<string, string>;
}

/**
 * The in-process broker behind a memory transport, for tests to inspect and
 * steer.
 *
 * @example Seed a topic and read what was produced
 * ```ts
 * import { createMemoryTransport } from "./mod.ts";
 *
 * const { broker } = createMemoryTransport();
 * broker.createTopic("orders", 3);
 * broker.append({ topic: "orders", partition: 1, value: new TextEncoder().encode("hi") });
 * console.assert(broker.messages("orders", 1).length === 1);
 * console.assert(broker.committed("billing", "orders", 1) === -1001);
 * ```
 */
export interface MemoryBroker {
  /** Whether the broker answers; see {@link MemoryBroker.setAvailable}. */
  readonly available: boolean;
  /**
   * Takes the whole cluster down (`false`) or brings it back (`true`). While
   * down: every client's `onError` hears `ERR__ALL_BROKERS_DOWN` once;
   * produced messages wait in their producer (in order) until the broker is
   * back, or fail with `ERR__MSG_TIMED_OUT` after the producer's
   * `message.timeout.ms`; `consume` returns nothing and no rebalance
   * progresses; commits fail with `ERR__TRANSPORT`; admin calls,
   * `committed` and `partitionCount` wait up to their timeout, then fail with
   * `ERR__TIMED_OUT`.
   */
  setAvailable(available: boolean): void;
  /**
   * Creates a topic with `partitions` partitions, or grows an existing one to
   * that many (which rebalances the groups subscribed to it). Throws a
   * `RangeError` to shrink a topic and a `KafkaError` (`ERR_TOPIC_EXCEPTION`)
   * for a name Kafka refuses.
   */
  createTopic(name: string, partitions: number, options?: MemoryTopicOptions): void;
  /** Deletes a topic, its messages and the groups' committed offsets for it. */
  deleteTopic(name: string): void;
  /** Names of the existing topics, sorted. */
  topics(): string[];
  /** A topic's partition count, or `undefined` when it does not exist. */
  partitionCount(topic: string): number | undefined;
  /**
   * Writes a message straight into a topic (created with the broker's
   * `numPartitions` when missing), bypassing availability and injected
   * failures. Without a partition, the key picks one as librdkafka's default
   * `consistent_random` partitioner does.
   */
  append(record: ProduceRecord): DeliveryReport;
  /**
   * Copies of the messages in a topic, or in one partition of it, in the order
   * they were written. Empty for a topic that does not exist.
   */
  messages(topic: string, partition?: number): RawMessage[];
  /** A group's committed offset (the next to consume), or `-1001` when it has none. */
  committed(group: string, topic: string, partition: number): number;
  /** A group's members in join order, with what each holds right now. */
  members(group: string): MemberInfo[];
  /**
   * Makes the next delivery to `topic` fail with `error` (or a `KafkaError`
   * with that librdkafka code), as a final delivery failure. Calls queue up:
   * each fails one more delivery.
   */
  failNextProduce(topic: string, error: KafkaError | number): void;
  /** Makes the group's next commit fail with `error` (or that librdkafka code). Calls queue up. */
  failNextCommit(group: string, error: KafkaError | number): void;
  /**
   * Drops a member from its group as if its session timed out: its partitions
   * go to the others at once; it hears of it in its next `consume`, where its
   * `onRebalance` gets a revoke while `assignmentLost()` is true, then it
   * rejoins. Unknown members are ignored.
   */
  expireMember(group: string, memberId: string): void;
}

/** Wraps the cluster state in the {@link MemoryBroker} handle. */
export function createBroker(cluster: Cluster): MemoryBroker {
  const toError = (error: KafkaError | number) =>
    typeof error === "number" ? kafkaError(error, "injected by the memory broker") : error;
  return {
    get available() {
      return cluster.available;
    },
    setAvailable(available) {
      cluster.setAvailable(available);
    },
    createTopic(name, partitions, options = {}) {
      if (!Number.isInteger(partitions) || partitions < 1) {
        throw new RangeError(
          `Cannot create topic "${name}": partitions is ${partitions}, expected a positive integer`,
        );
      }
      cluster.createTopic(name, partitions, options.config ?? {}, true);
    },
    deleteTopic(name) {
      cluster.deleteTopic(name);
    },
    topics() {
      return cluster.topicNames();
    },
    partitionCount(topic) {
      return cluster.partitionCount(topic);
    },
    append(record) {
      const { topic, key = null, value, headers = [], timestamp } = record;
      if (cluster.partitionCount(topic) === undefined) {
        cluster.createTopic(topic, cluster.numPartitions);
      }
      const count = cluster.partitionCount(topic)!;
      const partition = record.partition === undefined || record.partition === -1
        ? pickPartition(LIBRDKAFKA_DEFAULTS.partitioner, key, count, cluster.random)
        : record.partition;
      if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
        throw new RangeError(
          `Cannot append to topic "${topic}": partition is ${partition}, expected 0 to ${
            count - 1
          }`,
        );
      }
      const offset = cluster.append(topic, partition, { key, value, headers, timestamp });
      return { topic, partition, offset };
    },
    messages(topic, partition) {
      return cluster.messages(topic, partition);
    },
    committed(group, topic, partition) {
      return cluster.committed(group, topic, partition);
    },
    members(group) {
      const state = cluster.group(group);
      return state.members.map((member) => ({
        memberId: member.id,
        clientId: member.clientId,
        subscription: [...member.subscription],
        assignment: [...state.owners]
          .filter(([, owner]) => owner === member.id)
          .map(([key]) => parseTopicPartitionKey(key))
          .sort(byTopicPartition),
      }));
    },
    failNextProduce(topic, error) {
      cluster.failNextProduce(topic, toError(error));
    },
    failNextCommit(group, error) {
      cluster.failNextCommit(group, toError(error));
    },
    expireMember(group, memberId) {
      const member = cluster.group(group).members.find((m) => m.id === memberId);
      if (member !== undefined) {
        cluster.expire(
          member,
          kafkaError("_ASSIGNMENT_LOST", `member "${memberId}" was expired by the memory broker`),
        );
      }
    },
  };
}
