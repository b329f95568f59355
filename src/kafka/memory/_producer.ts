/**
 * The memory adapter's producer. A message is written to the in-process log
 * when `produce()` is called (so tests see it at once) and its delivery report
 * resolves on the next microtask. While the broker is unavailable messages wait
 * in the producer's queue, in order, until it comes back or their
 * `message.timeout.ms` runs out.
 *
 * @module
 */

import type { KafkaError } from "../../errors.ts";
import type {
  DeliveryReport,
  Header,
  ProduceRecord,
  ProducerOptions,
  ProducerTransport,
} from "../transport.ts";
import type { Cluster, ClusterClient } from "./_cluster.ts";
import { readBoolean, readChoice, readInteger } from "./_config.ts";
import { kafkaError } from "./_errors.ts";
import { topicStillUnknown } from "../_partition_count.ts";
import { pickPartition } from "./_partitioner.ts";
import { LIBRDKAFKA_DEFAULTS, type PartitionerName, PARTITIONERS } from "../../_librdkafka.ts";

const CREATE = "Cannot create producer";

interface Outgoing {
  topic: string;
  partition: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Header[];
  timestamp: number | undefined;
}

interface Pending {
  record: Outgoing;
  resolve: (report: DeliveryReport) => void;
  reject: (error: KafkaError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A producer to the in-process broker. */
export class MemoryProducer implements ProducerTransport {
  #cluster: Cluster;
  #options: ProducerOptions;
  #partitioner: PartitionerName;
  #maxBytes: number;
  #messageTimeoutMs: number;
  #queueMax: number;
  /** librdkafka's `allow.auto.create.topics` (true for producers): ask the broker to create. */
  #autoCreate: boolean;
  #queue: Pending[] = [];
  #client: ClusterClient;
  #closed = false;
  #closeDone: Promise<void> | null = null;

  constructor(cluster: Cluster, options: ProducerOptions) {
    const config = options.config;
    this.#cluster = cluster;
    this.#options = options;
    this.#partitioner = readChoice<PartitionerName>(
      config,
      "partitioner",
      LIBRDKAFKA_DEFAULTS.partitioner,
      CREATE,
      Object.fromEntries(PARTITIONERS.map((p) => [p, p])),
    );
    this.#maxBytes = readInteger(config, "message.max.bytes", 1_000_000, CREATE, {
      min: 1000,
      max: 1_000_000_000,
    });
    this.#messageTimeoutMs = readInteger(
      config,
      "message.timeout.ms",
      LIBRDKAFKA_DEFAULTS["message.timeout.ms"],
      CREATE,
      { min: 0, max: 2_147_483_647 },
    );
    this.#queueMax = readInteger(config, "queue.buffering.max.messages", 100_000, CREATE, {
      min: 0,
      max: 2_147_483_647,
    });
    this.#autoCreate = readBoolean(config, "allow.auto.create.topics", true, CREATE);
    this.#client = {
      down: (error) => this.#options.onError?.(error),
      up: () => this.#drain(),
    };
    cluster.register(this.#client);
  }

  produce(record: ProduceRecord): Promise<DeliveryReport> {
    let outgoing: Outgoing;
    try {
      outgoing = validateRecord(record);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) {
      return Promise.reject(kafkaError("_STATE", "Cannot produce: the producer is closed"));
    }
    const size = (outgoing.key?.length ?? 0) + (outgoing.value?.length ?? 0) +
      outgoing.headers.reduce((n, h) => n + h.key.length + (h.value?.length ?? 0), 0);
    if (size > this.#maxBytes) {
      return Promise.reject(
        kafkaError(
          "MSG_SIZE_TOO_LARGE",
          `Cannot produce to topic "${outgoing.topic}": the message has ${size} bytes, more than "message.max.bytes" (${this.#maxBytes})`,
        ),
      );
    }
    if (this.#cluster.available && this.#queue.length === 0) {
      try {
        return Promise.resolve(this.#deliver(outgoing));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (this.#queue.length >= this.#queueMax) {
      return Promise.reject(
        kafkaError(
          "_QUEUE_FULL",
          `Cannot produce to topic "${outgoing.topic}": ${this.#queue.length} messages wait for the broker ("queue.buffering.max.messages")`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = { record: outgoing, resolve, reject, timer: undefined };
      if (this.#messageTimeoutMs > 0) {
        pending.timer = setTimeout(() => {
          const index = this.#queue.indexOf(pending);
          if (index >= 0) this.#queue.splice(index, 1);
          reject(
            kafkaError(
              "_MSG_TIMED_OUT",
              `the broker did not acknowledge the message to topic "${outgoing.topic}" within ${this.#messageTimeoutMs} ms`,
            ),
          );
          this.#cluster.changed.notify();
        }, this.#messageTimeoutMs);
      }
      this.#queue.push(pending);
    });
  }

  async partitionCount(topic: string, timeoutMs: number): Promise<number> {
    if (typeof topic !== "string" || topic === "") {
      throw new TypeError(`Cannot read partition count: topic is ${JSON.stringify(topic)}`);
    }
    if (this.#closed) {
      throw kafkaError("_STATE", "Cannot read partition count: the producer is closed");
    }
    const deadline = Date.now() + timeoutMs;
    await this.#cluster.waitAvailable(timeoutMs, `Cannot read partition count of "${topic}"`);
    // As librdkafka's adapters do, wait for a topic that is not known yet.
    const known = () => this.#cluster.partitionCount(topic) !== undefined;
    if (!(await this.#cluster.changed.until(known, Math.max(0, deadline - Date.now())))) {
      throw topicStillUnknown(topic, timeoutMs, kafkaError("UNKNOWN_TOPIC_OR_PART"));
    }
    return this.#cluster.partitionCount(topic)!;
  }

  async flush(timeoutMs: number): Promise<void> {
    if (!(await this.#cluster.changed.until(() => this.#queue.length === 0, timeoutMs))) {
      throw kafkaError(
        "_TIMED_OUT",
        `Cannot flush producer: ${this.#queue.length} messages still undelivered after ${timeoutMs} ms`,
      );
    }
  }

  close(timeoutMs = 5000): Promise<void> {
    this.#closeDone ??= this.#close(timeoutMs);
    return this.#closeDone;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    await this.flush(timeoutMs).catch(() => {});
    for (const pending of this.#queue.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(
        kafkaError("_PURGE_QUEUE", "the producer was closed before the broker took the message"),
      );
    }
    this.#cluster.unregister(this.#client);
  }

  /** Writes one message; throws the delivery failure. */
  #deliver(record: Outgoing): DeliveryReport {
    const { topic } = record;
    let count = this.#cluster.partitionCount(topic);
    if (count === undefined) {
      if (!this.#cluster.autoCreateTopics || !this.#autoCreate) {
        throw kafkaError(
          "_UNKNOWN_TOPIC",
          `topic "${topic}" does not exist and auto-creation is off`,
        );
      }
      this.#cluster.createTopic(topic, this.#cluster.numPartitions);
      count = this.#cluster.numPartitions;
    }
    const failure = this.#cluster.takeProduceFailure(topic);
    if (failure !== undefined) throw failure;
    let partition = record.partition;
    if (partition === -1) {
      partition = pickPartition(this.#partitioner, record.key, count, this.#cluster.random);
    } else if (partition >= count) {
      throw kafkaError(
        "_UNKNOWN_PARTITION",
        `topic "${topic}" has ${count} partitions, not ${partition + 1}`,
      );
    }
    const limit = this.#cluster.maxMessageBytes(topic);
    const size = (record.key?.length ?? 0) + (record.value?.length ?? 0);
    if (limit !== undefined && size > limit) {
      throw kafkaError(
        "MSG_SIZE_TOO_LARGE",
        `topic "${topic}" takes at most ${limit} bytes ("max.message.bytes")`,
      );
    }
    const offset = this.#cluster.append(topic, partition, record);
    return { topic, partition, offset };
  }

  #drain(): void {
    while (this.#cluster.available && this.#queue.length > 0) {
      const pending = this.#queue.shift()!;
      clearTimeout(pending.timer);
      try {
        pending.resolve(this.#deliver(pending.record));
      } catch (error) {
        pending.reject(error as KafkaError);
      }
    }
    this.#cluster.changed.notify();
  }
}

function validateRecord(record: ProduceRecord): Outgoing {
  if (typeof record !== "object" || record === null) {
    throw new TypeError(`Cannot produce: expected a record object, got ${record}`);
  }
  const { topic, value, key = null, partition = -1, headers = [], timestamp } = record;
  if (typeof topic !== "string" || topic === "") {
    throw new TypeError(`Cannot produce: topic is ${JSON.stringify(topic)}, expected a name`);
  }
  if (value !== null && !(value instanceof Uint8Array)) {
    throw new TypeError(`Cannot produce to topic "${topic}": value must be a Uint8Array or null`);
  }
  if (key !== null && !(key instanceof Uint8Array)) {
    throw new TypeError(`Cannot produce to topic "${topic}": key must be a Uint8Array or null`);
  }
  if (!Number.isInteger(partition) || partition < -1) {
    throw new RangeError(
      `Cannot produce to topic "${topic}": partition is ${partition}, expected an integer of 0 or more`,
    );
  }
  if (timestamp !== undefined && !Number.isFinite(timestamp)) {
    throw new RangeError(
      `Cannot produce to topic "${topic}": timestamp is ${timestamp}, expected milliseconds since the epoch`,
    );
  }
  if (!Array.isArray(headers)) {
    throw new TypeError(`Cannot produce to topic "${topic}": headers must be an array`);
  }
  return {
    topic,
    partition,
    key: key?.slice() ?? null,
    value: value?.slice() ?? null,
    headers: headers.map((h) => ({ key: h.key, value: h.value?.slice() ?? null })),
    timestamp,
  };
}
