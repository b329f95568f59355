/**
 * The message a consumer receives: payload, key, headers and where it came from.
 *
 * @module
 */

import { topicPartitionKey } from "./_topic_partition.ts";
import type { Header, RawMessage, TimestampType } from "./kafka/transport.ts";

const decoder = new TextDecoder();

/**
 * One Kafka message, as passed to `process` and `processBatch`.
 *
 * @example
 * ```ts
 * import { Message } from "./message.ts";
 * const message = new Message({
 *   topic: "orders", partition: 0, offset: 41,
 *   key: new TextEncoder().encode("o-1"), value: new TextEncoder().encode('{"total":3}'),
 *   headers: [], timestamp: 0, timestampType: "create",
 * });
 * console.assert(message.json<{ total: number }>().total === 3);
 * ```
 */
export class Message {
  /** Topic the message came from. */
  readonly topic: string;
  /** Partition the message came from. */
  readonly partition: number;
  /** Offset of the message in its partition. */
  readonly offset: number;
  /**
   * Key bytes; `null` when the message has no key. Like {@link value}, a view
   * of a buffer that may hold other messages' bytes too.
   */
  readonly key: Uint8Array | null;
  /**
   * Value bytes; `null` for a tombstone. The FFI adapters (the defaults) copy a
   * batch's keys and values into shared buffers (of up to 1 MiB) and hand out
   * views of them, as Node pools small `Buffer`s: `value.buffer` is the shared
   * buffer, and a value kept after processing keeps it alive. `slice()` makes
   * a copy of its own.
   */
  readonly value: Uint8Array | null;
  /** Headers in wire order, keys may repeat. */
  readonly rawHeaders: readonly Header[];
  /** The message's timestamp, or `null` when it has none. */
  readonly createTime: Date | null;
  /** Whether the producer or the broker set {@link createTime}. */
  readonly timestampType: TimestampType;
  /**
   * How many times processing this message's partition failed in a row before
   * this attempt: 0 on the first attempt.
   */
  readonly retriesCount: number;

  #headers: Record<string, string> | undefined;

  /** Wraps a fetched message. */
  constructor(raw: RawMessage, retriesCount = 0) {
    this.topic = raw.topic;
    this.partition = raw.partition;
    this.offset = raw.offset;
    this.key = raw.key;
    this.value = raw.value;
    this.rawHeaders = raw.headers;
    this.createTime = raw.timestamp === null ? null : new Date(raw.timestamp);
    this.timestampType = raw.timestampType;
    this.retriesCount = retriesCount;
  }

  /** Headers decoded as UTF-8; for a repeated key, the last value wins. */
  get headers(): Readonly<Record<string, string>> {
    if (this.#headers === undefined) {
      const headers: Record<string, string> = {};
      for (const header of this.rawHeaders) {
        headers[header.key] = header.value === null ? "" : decoder.decode(header.value);
      }
      this.#headers = headers;
    }
    return this.#headers;
  }

  /** The key decoded as UTF-8, or `null` when there is none. */
  get keyText(): string | null {
    return this.key === null ? null : decoder.decode(this.key);
  }

  /** The value decoded as UTF-8, or `null` for a tombstone. */
  text(): string | null {
    return this.value === null ? null : decoder.decode(this.value);
  }

  /**
   * The value parsed as JSON. Throws a `SyntaxError` naming the message's
   * position when the value is not JSON, and a `TypeError` for a tombstone.
   */
  json<T = unknown>(): T {
    const text = this.text();
    if (text === null) {
      throw new TypeError(`Cannot parse message ${this.#where()} as JSON: its value is null`);
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new SyntaxError(
        `Cannot parse message ${this.#where()} as JSON: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  #where(): string {
    return `${topicPartitionKey(this.topic, this.partition)}@${this.offset}`;
  }
}
