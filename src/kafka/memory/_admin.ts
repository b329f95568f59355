/**
 * The memory adapter's admin client: creates and deletes topics of the
 * in-process broker.
 *
 * @module
 */

import type { AdminOptions, AdminTransport, NewTopic } from "../transport.ts";
import type { Cluster, ClusterClient } from "./_cluster.ts";
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
      throw kafkaError(3, `Cannot add partitions: topic "${topic}" does not exist`);
    }
    if (totalCount <= current) {
      throw kafkaError(
        37,
        `Cannot add partitions to topic "${topic}": it has ${current}, asked for ${totalCount}`,
      );
    }
    this.#cluster.createTopic(topic, totalCount, {}, true);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#cluster.unregister(this.#client);
    }
    return Promise.resolve();
  }

  #assertOpen(action: string): void {
    if (this.#closed) throw kafkaError(-172, `Cannot ${action}: the admin client is closed`);
  }
}
