/**
 * The admin client of the node-rdkafka adapter.
 *
 * @module
 */

import { topicPartitionKey } from "../../_topic_partition.ts";
import Kafka from "node-rdkafka";
import type {
  IAdminClient,
  KafkaConsumer as NativeConsumer,
  Metadata as NativeMetadata,
  TopicPartitionOffset as NativeTopicPartitionOffset,
} from "node-rdkafka";
import { ErrorCode, KafkaError } from "../../errors.ts";
import type {
  AdminOptions,
  AdminTransport,
  ConfigMap,
  GroupDescription,
  GroupListing,
  NewTopic,
  TopicListing,
  TopicPartition,
  TopicPartitionOffset,
  Watermarks,
} from "../transport.ts";
import { ERR } from "../../_librdkafka.ts";
import { configError, kafkaError, toKafkaError } from "./_errors.ts";
import { type NativeConfig } from "./_helpers.ts";

export class NodeRdkafkaAdmin implements AdminTransport {
  #client: IAdminClient | undefined;
  readonly #config: ConfigMap;
  /**
   * node-rdkafka's AdminClient has no metadata, watermark or offset calls; a
   * consumer that never subscribes (so never joins a group) makes them.
   */
  #reader: Promise<NativeConsumer> | undefined;

  constructor(options: AdminOptions) {
    this.#config = options.config;
    try {
      this.#client = Kafka.AdminClient.create(options.config as NativeConfig);
    } catch (error) {
      throw configError("admin client", error, options.config);
    }
  }

  #connectedReader(action: string, timeoutMs: number): Promise<NativeConsumer> {
    this.#live(action);
    this.#reader ??= new Promise<NativeConsumer>((resolve, reject) => {
      const reader = new Kafka.KafkaConsumer(
        {
          ...this.#config,
          "group.id": "racecar-admin",
          "enable.auto.commit": false,
        } as NativeConfig,
        {},
      );
      reader.connect({ timeout: timeoutMs }, (error) => {
        if (error) reject(toKafkaError(error, `Cannot ${action}`));
        else resolve(reader);
      });
    });
    this.#reader.catch(() => this.#reader = undefined);
    return this.#reader;
  }

  async listTopics(timeoutMs: number): Promise<TopicListing[]> {
    const reader = await this.#connectedReader("list topics", timeoutMs);
    const metadata = await new Promise<NativeMetadata>((resolve, reject) => {
      reader.getMetadata({ allTopics: true, timeout: timeoutMs }, (error, data) => {
        if (error) reject(toKafkaError(error, "Cannot list topics"));
        else resolve(data);
      });
    });
    return metadata.topics.map((t) => ({ name: t.name, partitions: t.partitions.length }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  listGroups(): Promise<GroupListing[]> {
    return Promise.reject(groupsUnsupported("list consumer groups"));
  }

  describeGroup(groupId: string): Promise<GroupDescription> {
    return Promise.reject(groupsUnsupported(`describe the members of group "${groupId}"`));
  }

  async watermarks(
    partitions: readonly TopicPartition[],
    timeoutMs: number,
  ): Promise<Watermarks[]> {
    const reader = await this.#connectedReader("read watermarks", timeoutMs);
    const result: Watermarks[] = [];
    for (const { topic, partition } of partitions) {
      result.push(
        await new Promise<Watermarks>((resolve, reject) => {
          reader.queryWatermarkOffsets(topic, partition, timeoutMs, (error, offsets) => {
            if (error) {
              reject(
                toKafkaError(
                  error,
                  `Cannot read watermarks of ${topicPartitionKey(topic, partition)}`,
                ),
              );
            } else resolve({ topic, partition, low: offsets.lowOffset, high: offsets.highOffset });
          });
        }),
      );
    }
    return result;
  }

  async offsetsForTimes(
    partitions: readonly TopicPartitionOffset[],
    timeoutMs: number,
  ): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return [];
    const reader = await this.#connectedReader("look up offsets by time", timeoutMs);
    const found = await new Promise<NativeTopicPartitionOffset[]>((resolve, reject) => {
      reader.offsetsForTimes(
        partitions.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
        timeoutMs,
        (error, offsets) => {
          if (error) reject(toKafkaError(error, "Cannot look up offsets by time"));
          else resolve(offsets);
        },
      );
    });
    return found.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
  }

  #live(action: string): IAdminClient {
    if (!this.#client) throw kafkaError(ERR._STATE, `Cannot ${action}: the admin client is closed`);
    return this.#client;
  }

  async createTopics(topics: readonly NewTopic[], timeoutMs: number): Promise<void> {
    const client = this.#live("create topics");
    await Promise.all(topics.map((topic) =>
      new Promise<void>((resolve, reject) => {
        client.createTopic(
          {
            topic: topic.name,
            num_partitions: topic.partitions,
            replication_factor: topic.replicationFactor ?? -1,
            ...(topic.config ? { config: topic.config } : {}),
          },
          timeoutMs,
          (error) => {
            if (!error || error.code === ERR.TOPIC_ALREADY_EXISTS) resolve();
            else reject(toKafkaError(error, `Cannot create topic "${topic.name}"`));
          },
        );
      })
    ));
  }

  async deleteTopics(names: readonly string[], timeoutMs: number): Promise<void> {
    const client = this.#live("delete topics");
    await Promise.all(names.map((name) =>
      new Promise<void>((resolve, reject) => {
        client.deleteTopic(name, timeoutMs, (error) => {
          if (!error || error.code === ERR.UNKNOWN_TOPIC_OR_PART) resolve();
          else reject(toKafkaError(error, `Cannot delete topic "${name}"`));
        });
      })
    ));
  }

  async createPartitions(topic: string, totalCount: number, timeoutMs: number): Promise<void> {
    const client = this.#live("add partitions");
    await new Promise<void>((resolve, reject) => {
      client.createPartitions(topic, totalCount, timeoutMs, (error) => {
        if (!error) resolve();
        else reject(toKafkaError(error, `Cannot add partitions to topic "${topic}"`));
      });
    });
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    client?.disconnect();
    const reader = await this.#reader?.catch(() => undefined);
    this.#reader = undefined;
    if (reader !== undefined) {
      await new Promise<void>((resolve) => reader.disconnect(() => resolve()));
    }
  }
}

function groupsUnsupported(action: string): KafkaError {
  return kafkaError(
    ErrorCode.NOT_IMPLEMENTED,
    `Cannot ${action} under Node: node-rdkafka 3.6 has no consumer group listing ` +
      `(docs/node.md, Limitations); run racecarctl under Deno, or use kafka-consumer-groups.sh`,
  );
}
