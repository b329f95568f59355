/**
 * Racecar's instrumentation events, typed. Features that watch a consumer (the
 * liveness probe, metrics, logging) subscribe here instead of growing the
 * runner. Payloads are built only when someone listens.
 *
 * Event names follow racecar's (`process_message`, `main_loop`, ...); events
 * that wrap work carry `durationMs` and, when the work failed, `error`.
 *
 * @module
 */

import type { Header, TopicPartition } from "./kafka/transport.ts";

/** Fields every event carries. */
export interface BasePayload {
  /** `client.id` of the consumer or producer. */
  clientId: string;
  /** The consumer group, when the event comes from a consumer. */
  groupId?: string;
  /** Name of the consumer class, when the event comes from a consumer. */
  consumerClass?: string;
}

/** Fields of events that wrap work. */
export interface Timed {
  /** How long the work took, in milliseconds. */
  durationMs: number;
  /** The error the work failed with. */
  error?: unknown;
}

/** Where a single message came from. */
export interface MessagePayload extends BasePayload {
  topic: string;
  partition: number;
  offset: number;
  createTime: Date | null;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Readonly<Record<string, string>>;
  retriesCount: number;
}

/** What a batch held. */
export interface BatchPayload extends BasePayload {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
  lastCreateTime: Date | null;
  messageCount: number;
  retriesCount: number;
  /** Each message's headers, in order (tracing links the batch to each message's trace). */
  messageHeaders?: readonly Readonly<Record<string, string>>[];
}

/**
 * A message about to be handed to Kafka by a producer. `headers` is the list
 * that will be sent: hooks around `send_message` may add to it (tracing injects
 * the trace context there).
 */
export interface SendPayload extends BasePayload {
  topic: string;
  key: Uint8Array | string | null | undefined;
  partition: number | undefined;
  headers: Header[];
}

/** A produced message. */
export interface ProducePayload extends BasePayload {
  topic: string;
  key: Uint8Array | string | null | undefined;
  partition: number | undefined;
  partitionKey: string | undefined;
  messageSize: number;
  bufferSize: number;
}

/** Every event and its payload. */
export interface EventMap {
  /** Each turn of the main loop starts (the liveness probe touches its file). */
  start_main_loop: BasePayload;
  /** One turn of the main loop: poll and process. */
  main_loop: BasePayload & Timed & { messageCount: number };
  start_process_message: MessagePayload;
  /** `process` plus delivery of what it produced. */
  process_message: MessagePayload & Timed;
  start_process_batch: BatchPayload;
  /** `processBatch` plus delivery of what it produced. */
  process_batch: BatchPayload & Timed;
  /** A paused partition's state, each loop while it is paused. */
  pause_status: BasePayload & TopicPartition & { durationSeconds: number };
  /** A partition was paused after an error. */
  pause: BasePayload & TopicPartition & { offset: number; timeoutSeconds: number; error: unknown };
  /** A paused partition resumed. */
  resume: BasePayload & TopicPartition;
  /** A message (or batch) failed for good and went to the dead-letter topic. */
  dead_letter:
    & BasePayload
    & TopicPartition
    & { offsets: number[]; deadLetterTopic: string; attempts: number; error: unknown };
  /** Polling failed and will be retried. */
  poll_retry: BasePayload & { attempt: number; error: unknown };
  /** The consumer subscribed and waits for its first assignment. */
  join_group: BasePayload & Timed & { topics: string[] };
  /** The consumer left the group. */
  leave_group: BasePayload & Timed;
  /** The consumer got its first assignment: it is ready. */
  ready: BasePayload & { partitions: TopicPartition[] };
  partitions_assigned: BasePayload & Timed & { partitions: TopicPartition[] };
  partitions_revoked: BasePayload & Timed & { partitions: TopicPartition[] };
  /** The group took partitions away before they could be revoked: nothing was committed. */
  partitions_lost: BasePayload & Timed & { partitions: TopicPartition[] };
  /** Offsets were committed. */
  commit: BasePayload & Timed & { reason: "revoke" | "shutdown" };
  /** A producer hands a message to Kafka and waits for its acknowledgement. */
  send_message: SendPayload & Timed;
  /** A consumer's `produce` queued a message. */
  produce_message: ProducePayload;
  /** A consumer waited for the delivery of what it produced. */
  deliver_messages: BasePayload & Timed & { deliveredMessageCount: number };
  /** The broker acknowledged a produced message. */
  acknowledged_message: BasePayload & TopicPartition & { offset: number };
  /** A produced message could not be delivered. */
  produce_delivery_error: BasePayload & { topic: string; partition?: number; error: unknown };
  /** `produceAsync` queued a message. */
  produce_async: ProducePayload & Timed;
  /** `produceSync` delivered a message (or failed to). */
  produce_sync: ProducePayload & Timed;
  /** librdkafka's statistics, parsed. */
  statistics: BasePayload & { statistics: Record<string, unknown> };
  /** An error that did not belong to one message (client errors, crashes). */
  error: BasePayload & { error: unknown; fatal: boolean };
  /** The consumer stopped (the liveness probe deletes its file). */
  shut_down: BasePayload;
}

/** Any event name. */
export type EventName = keyof EventMap;

/** A subscriber to one event. */
export type Listener<K extends EventName> = (payload: EventMap[K]) => void;

/** What {@link Instrumenter.instrument} passes to hooks: the payload without the outcome. */
export type WorkPayload<K extends EventName> = Omit<EventMap[K], "durationMs" | "error">;

/**
 * A hook that runs around the work of an event (`instrument`): it must call
 * `work` once and return what it returns. Tracing uses it to make a span the
 * active context while the work runs.
 */
export type Around<K extends EventName> = <T>(
  payload: WorkPayload<K>,
  work: () => Promise<T>,
) => Promise<T>;

/**
 * A typed, synchronous event bus. A listener that throws is reported through
 * `onListenerError` and never breaks the runner.
 *
 * @example
 * ```ts
 * import { Instrumenter } from "./events.ts";
 * const events = new Instrumenter();
 * let seen = 0;
 * events.on("start_main_loop", () => seen++);
 * events.emit("start_main_loop", () => ({ clientId: "racecar" }));
 * console.assert(seen === 1);
 * ```
 */
export class Instrumenter {
  readonly #listeners = new Map<EventName, Set<Listener<EventName>>>();
  readonly #around = new Map<EventName, Set<Around<EventName>>>();
  readonly #onListenerError: (error: unknown, event: EventName) => void;

  /** Creates an instrumenter; listener failures go to `onListenerError`. */
  constructor(options: { onListenerError?: (error: unknown, event: EventName) => void } = {}) {
    this.#onListenerError = options.onListenerError ?? (() => {});
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends EventName>(event: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<EventName>);
    return () => {
      set.delete(listener as Listener<EventName>);
    };
  }

  /**
   * Adds a hook that wraps the work of `event` (see {@link Around}); returns a
   * function that removes it. Hooks run outermost first, in the order added. A
   * hook that fails without running the work, or after it succeeded, is
   * reported through `onListenerError` and never changes the outcome.
   *
   * @example
   * ```ts
   * import { Instrumenter } from "./events.ts";
   * const events = new Instrumenter();
   * const seen: string[] = [];
   * events.around("deliver_messages", async (_payload, work) => {
   *   seen.push("before");
   *   try {
   *     return await work();
   *   } finally {
   *     seen.push("after");
   *   }
   * });
   * await events.instrument("deliver_messages", () => ({ clientId: "c", deliveredMessageCount: 0 }), () => {
   *   seen.push("work");
   * });
   * console.assert(seen.join() === "before,work,after");
   * ```
   */
  around<K extends EventName>(event: K, hook: Around<K>): () => void {
    let set = this.#around.get(event);
    if (set === undefined) {
      set = new Set();
      this.#around.set(event, set);
    }
    set.add(hook as Around<EventName>);
    return () => {
      set.delete(hook as Around<EventName>);
    };
  }

  /** Whether anyone listens to `event` or wraps its work. */
  wraps(event: EventName): boolean {
    return this.listens(event) || (this.#around.get(event)?.size ?? 0) > 0;
  }

  /** Whether anyone listens to `event`. */
  listens(event: EventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  /**
   * Whether `event` has neither listeners nor hooks: then `instrument` would
   * only run the work, and a hot path may run it directly.
   */
  quiet(event: EventName): boolean {
    return !this.listens(event) && (this.#around.get(event)?.size ?? 0) === 0;
  }

  /** Emits an event; `payload` is called only when someone listens. */
  emit<K extends EventName>(event: K, payload: () => EventMap[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined || set.size === 0) return;
    const value = payload();
    for (const listener of set) {
      try {
        listener(value);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }

  /**
   * Runs `work`, then emits `event` with its duration and error (if any).
   * The work's result or error passes through unchanged.
   */
  async instrument<K extends EventName, T>(
    event: K,
    payload: () => Omit<EventMap[K], "durationMs" | "error">,
    work: () => Promise<T> | T,
  ): Promise<T> {
    const hooks = this.#around.get(event);
    if (hooks !== undefined && hooks.size > 0) {
      const built = payload();
      const inner = work;
      const wrapped = [...hooks].reduceRight<() => Promise<T>>(
        (next, hook) => () => this.#runAround(event, hook, built as WorkPayload<EventName>, next),
        async () => await inner(),
      );
      return await this.#timed(event, () => built, wrapped);
    }
    return await this.#timed(event, payload, work);
  }

  async #timed<K extends EventName, T>(
    event: K,
    payload: () => Omit<EventMap[K], "durationMs" | "error">,
    work: () => Promise<T> | T,
  ): Promise<T> {
    if (!this.listens(event)) return await work();
    const started = performance.now();
    try {
      const result = await work();
      const durationMs = performance.now() - started;
      this.emit(event, () => ({ ...payload(), durationMs }) as EventMap[K]);
      return result;
    } catch (error) {
      const durationMs = performance.now() - started;
      this.emit(event, () => ({ ...payload(), durationMs, error }) as EventMap[K]);
      throw error;
    }
  }

  async #runAround<T>(
    event: EventName,
    hook: Around<EventName>,
    payload: WorkPayload<EventName>,
    work: () => Promise<T>,
  ): Promise<T> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    const once = async (): Promise<T> => {
      if (outcome !== undefined) throw new Error(`A hook around "${event}" ran the work twice`);
      try {
        const value = await work();
        outcome = { ok: true, value };
        return value;
      } catch (error) {
        outcome = { ok: false, error };
        throw error;
      }
    };
    try {
      await hook(payload, once);
    } catch (error) {
      if (outcome === undefined || outcome.ok) this.#onListenerError(error, event);
    }
    if (outcome === undefined) return await work();
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }
}
