/**
 * The `Consumer` contract users extend: what to subscribe to, how to process,
 * and how to produce from inside processing.
 *
 * @module
 */

import { DEFAULT_MAX_BYTES_PER_PARTITION } from "./config/rdkafka.ts";
import type { TopicPartition } from "./kafka/transport.ts";
import type { Message } from "./message.ts";
import type { Bytes, ProduceOptions } from "./producer.ts";

/** How to subscribe to a topic. */
export interface SubscribeOptions {
  /**
   * Where a group with no committed offset starts: the beginning of the topic
   * (`true`) or only new messages (`false`). @default true
   */
  startFromBeginning?: boolean;
  /** Fetch at most this many bytes per partition per request. @default 1048576 (1 MiB) */
  maxBytesPerPartition?: number;
  /** Raw librdkafka consumer properties that override everything else. @default {} */
  additionalConfig?: Record<string, string>;
}

/** One subscribed topic, with its settings. */
export interface Subscription {
  /** Topic name. */
  topic: string;
  /** See {@link SubscribeOptions.startFromBeginning}. */
  startFromBeginning: boolean;
  /** See {@link SubscribeOptions.maxBytesPerPartition}. */
  maxBytesPerPartition: number;
  /** See {@link SubscribeOptions.additionalConfig}. */
  additionalConfig: Record<string, string>;
}

/** What the runner hands a consumer before it starts: where `produce` and `deliver` go. */
export interface ConsumerContext {
  /** Queues a message in the delivery scope of the work running now. */
  produce(value: Bytes | null, options: ProduceOptions): void;
  /** Waits for the deliveries of the work running now. */
  deliver(): Promise<void>;
}

/** Internal hook the runner uses to hand over its context. */
export const bindContext: unique symbol = Symbol("racecar.bindContext");

const subscriptionsByClass = new WeakMap<object, Subscription[]>();

/**
 * Extend this class to consume messages: subscribe in a static block, and
 * implement `process(message)` or `processBatch(messages)`.
 *
 * @example
 * ```ts
 * import { Consumer, type Message } from "../mod.ts";
 *
 * class GreetingsConsumer extends Consumer {
 *   static {
 *     this.subscribesTo("greetings");
 *   }
 *
 *   override process(message: Message) {
 *     console.log(`Hello, ${message.text()}!`);
 *   }
 * }
 * console.assert(GreetingsConsumer.subscriptions[0]?.topic === "greetings");
 * ```
 */
export abstract class Consumer {
  /** The consumer group; derived from the class name when unset. */
  static groupId?: string;
  /** Seconds to wait for messages per poll; overrides the `max_wait_time` setting. */
  static maxWaitTime?: number;
  /** Messages per batch; overrides the `fetch_messages` setting. */
  static fetchMessages?: number;
  /** Worker processes to run in the same group. @default 1 */
  static parallelWorkers?: number;
  /** Partitions processed at the same time in one process. @default 1 */
  static concurrency?: number;
  /**
   * Keys of one partition processed at the same time, in order per key; `1`
   * processes a partition strictly in order (`key_concurrency`). @default 1
   */
  static keyConcurrency?: number;
  /** Process each batch in one Kafka transaction (exactly-once). @default false */
  static transactional?: boolean;

  /**
   * Subscribes this consumer class to one or more topics. Call it in a static
   * block; call it again for topics that need other options.
   */
  static subscribesTo(topics: string | readonly string[], options: SubscribeOptions = {}): void {
    const names = typeof topics === "string" ? [topics] : topics;
    if (names.length === 0) {
      throw new TypeError(`Cannot subscribe ${this.name}: name at least one topic`);
    }
    let list = subscriptionsByClass.get(this);
    if (list === undefined) {
      list = [];
      subscriptionsByClass.set(this, list);
    }
    for (const topic of names) {
      if (typeof topic !== "string" || topic.trim() === "") {
        throw new TypeError(
          `Cannot subscribe ${this.name}: topic names must be non-empty strings, got ${
            JSON.stringify(topic)
          }`,
        );
      }
      list.push({
        topic,
        startFromBeginning: options.startFromBeginning ?? true,
        maxBytesPerPartition: options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION,
        additionalConfig: { ...options.additionalConfig },
      });
    }
  }

  /** The topics this class subscribed to, in order. */
  static get subscriptions(): readonly Subscription[] {
    return subscriptionsByClass.get(this) ?? [];
  }

  /** Processes one message. Implement this or {@link processBatch}. */
  process?(message: Message): void | Promise<void>;

  /**
   * Processes the messages of one partition, in offset order. If it throws,
   * the whole batch is retried.
   */
  processBatch?(messages: Message[]): void | Promise<void>;

  /** Async set-up, run once before the first message. */
  setup?(): void | Promise<void>;

  /** Clean-up, run once at shutdown after the last delivery. */
  teardown?(): void | Promise<void>;

  /**
   * Called after partitions were assigned to this instance. An empty list
   * means it joined the group but got nothing (more members than partitions):
   * an idle member, still a healthy one.
   */
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;

  /**
   * Called before partitions are taken away: finish per-partition work here.
   * Their processed offsets are committed right after.
   */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;

  /**
   * Called instead of {@link onPartitionsRevoked} when the group already gave
   * the partitions to other members (this member missed `session_timeout` or
   * `max_poll_interval`): drop per-partition state without flushing it. Nothing
   * is committed for them; their uncommitted messages are processed again by
   * the new owners. The member rejoins and gets partitions again.
   */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;

  /** Receives librdkafka's statistics every `statistics_interval` seconds. */
  statisticsCallback?(statistics: Record<string, unknown>): void;

  #context: ConsumerContext | undefined;

  /** @internal The runner hands over its context here. */
  [bindContext](context: ConsumerContext): void {
    this.#context = context;
  }

  /**
   * Queues a message. Its delivery is awaited after `process` returns and
   * before the processed message's offset is stored, so a failed delivery
   * fails the message. Call {@link deliver} to wait earlier.
   */
  protected produce(value: Bytes | null, options: ProduceOptions): void {
    this.#requireContext("produce").produce(value, options);
  }

  /**
   * Waits until every message produced so far (in this processing call) was
   * delivered; throws the first delivery error.
   */
  async deliver(): Promise<void> {
    await this.#requireContext("deliver").deliver();
  }

  #requireContext(action: string): ConsumerContext {
    if (this.#context === undefined) {
      throw new TypeError(
        `Cannot ${action} from ${this.constructor.name}: the consumer is not running yet ` +
          `(produce from process, processBatch or setup)`,
      );
    }
    return this.#context;
  }
}

/** A consumer class (the constructor users pass to the runner or CLI). */
export type ConsumerClass = (abstract new () => Consumer) & typeof Consumer;

/**
 * The group id racecar derives from a class name: `OrdersConsumer` becomes
 * `orders-consumer`, with an optional prefix.
 */
export function defaultGroupId(className: string, prefix = ""): string {
  // Racecar's rule, not kebabCase: an acronym stays one word (`HTTPConsumer` ->
  // `httpconsumer`), so group ids, and their committed offsets, match racecar's.
  const dashed = className.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
  return `${prefix}${dashed}`;
}
