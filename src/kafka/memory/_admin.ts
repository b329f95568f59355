/**
 * The memory adapter's admin client: creates, deletes and lists topics of the
 * in-process broker, lists and describes its groups, reads watermarks.
 *
 * @module
 */

import { topicPartitionKey } from "../../_topic_partition.ts";
import type {
  AdminOptions,
  AdminTransport,
  GroupDescription,
  GroupListing,
  NewTopic,
  TopicListing,
  TopicPartition,
  TopicPartitionOffset,
  Watermarks,
} from "../transport.ts";
import { byTopicPartition, type Cluster, type ClusterClient } from "./_cluster.ts";
import { kafkaError } from "./_errors.ts";

/** An admin client of the in-process broker. */
export class MemoryAdmin implements AdminTransport {
  #cluster: Cluster;
  #client: ClusterClient;
  #closed = false;

  constructor(cluster: Cluster, options: AdminOptions) {
    this.#cluster = cluster;
    this.#client = { down: (error) => options.onError?.(error), up: () => {} };
    cluster.register(this.#client);
  }

  async createTopics(topics: readonly NewTopic[], timeoutMs: number): Promise<void> {
    for (const topic of topics) {
      if (typeof topic?.name !== "string" || topic.name === "") {
        throw new TypeError(
          `Cannot create topics: name is ${JSON.stringify(topic?.name)}, expected a topic name`,
        );
      }
      if (!Number.isInteger(topic.partitions) || topic.partitions < 1) {
        throw new RangeError(
          `Cannot create topic "${topic.name}": partitions is ${topic.partitions}, expected a positive integer`,
        );
      }
    }
    this.#assertOpen("create topics");
    await this.#cluster.waitAvailable(timeoutMs, "Cannot create topics");
    for (const topic of topics) {
      this.#cluster.createTopic(topic.name, topic.partitions, topic.config ?? {});
    }
  }

  async deleteTopics(names: readonly string[], timeoutMs: number): Promise<void> {
    for (const name of names) {
      if (typeof name !== "string" || name === "") {
        throw new TypeError(
          `Cannot delete topics: name is ${JSON.stringify(name)}, expected a topic name`,
        );
      }
    }
    this.#assertOpen("delete topics");
    await this.#cluster.waitAvailable(timeoutMs, "Cannot delete topics");
    for (const name of names) this.#cluster.deleteTopic(name);
  }

  async createPartitions(topic: string, totalCount: number, timeoutMs: number): Promise<void> {
    if (!Number.isInteger(totalCount) || totalCount < 1) {
      throw new RangeError(
        `Cannot add partitions to topic "${topic}": totalCount is ${totalCount}, expected a positive integer`,
      );
    }
    this.#assertOpen("add partitions");
    await this.#cluster.waitAvailable(timeoutMs, "Cannot add partitions");
    const current = this.#cluster.partitionCount(topic);
    if (current === undefined) {
      throw kafkaError(
        "UNKNOWN_TOPIC_OR_PART",
        `Cannot add partitions: topic "${topic}" does not exist`,
      );
    }
    if (totalCount <= current) {
      throw kafkaError(
        "INVALID_PARTITIONS",
        `Cannot add partitions to topic "${topic}": it has ${current}, asked for ${totalCount}`,
      );
    }
    this.#cluster.createTopic(topic, totalCount, {}, true);
  }

  async listTopics(timeoutMs: number): Promise<TopicListing[]> {
    await this.#ready("list topics", timeoutMs);
    return this.#cluster.topicNames().map((name) => ({
      name,
      partitions: this.#cluster.partitionCount(name) ?? 0,
    }));
  }

  async listGroups(timeoutMs: number): Promise<GroupListing[]> {
    await this.#ready("list groups", timeoutMs);
    return this.#cluster.groupIds().map((id) => {
      const { groupId, state, protocolType } = this.#describe(id);
      return { groupId, state, protocolType };
    });
  }

  async describeGroup(groupId: string, timeoutMs: number): Promise<GroupDescription> {
    await this.#ready("describe group", timeoutMs);
    if (!this.#cluster.groupIds().includes(groupId)) {
      return { groupId, state: "Dead", protocolType: "", protocol: "", members: [] };
    }
    return this.#describe(groupId);
  }

  #describe(groupId: string): GroupDescription {
    const group = this.#cluster.group(groupId);
    const members = group.members.map((member) => ({
      memberId: member.id,
      clientId: member.clientId,
      host: "/memory",
      assignment: this.#cluster.topicNames().flatMap((topic) =>
        Array.from({ length: this.#cluster.partitionCount(topic) ?? 0 }, (_, partition) => ({
          topic,
          partition,
        }))
      ).filter((tp) => group.owners.get(topicPartitionKey(tp.topic, tp.partition)) === member.id)
        .sort(byTopicPartition),
    }));
    return {
      groupId,
      state: members.length === 0 ? "Empty" : "Stable",
      protocolType: "consumer",
      protocol: group.members[0]?.strategy ?? "",
      members,
    };
  }

  async watermarks(
    partitions: readonly TopicPartition[],
    timeoutMs: number,
  ): Promise<Watermarks[]> {
    await this.#ready("read watermarks", timeoutMs);
    return partitions.map(({ topic, partition }) => {
      this.#assertPartition(topic, partition);
      return { topic, partition, low: 0, high: this.#cluster.highWatermark(topic, partition) };
    });
  }

  async offsetsForTimes(
    partitions: readonly TopicPartitionOffset[],
    timeoutMs: number,
  ): Promise<TopicPartitionOffset[]> {
    await this.#ready("look up offsets by time", timeoutMs);
    return partitions.map(({ topic, partition, offset: time }) => {
      this.#assertPartition(topic, partition);
      const found = this.#cluster.messages(topic, partition)
        .find((m) => (m.timestamp ?? 0) >= time);
      return { topic, partition, offset: found?.offset ?? -1 };
    });
  }

  async #ready(action: string, timeoutMs: number): Promise<void> {
    this.#assertOpen(action);
    await this.#cluster.waitAvailable(timeoutMs, `Cannot ${action}`);
  }

  #assertPartition(topic: string, partition: number): void {
    const count = this.#cluster.partitionCount(topic);
    if (count === undefined || partition < 0 || partition >= count) {
      throw kafkaError(
        "UNKNOWN_TOPIC_OR_PART",
        `${topicPartitionKey(topic, partition)}: Broker: Unknown topic or partition`,
      );
    }
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#cluster.unregister(this.#client);
    }
    return Promise.resolve();
  }

  #assertOpen(action: string): void {
    if (this.#closed) throw kafkaError("_STATE", `Cannot ${action}: the admin client is closed`);
  }
}
