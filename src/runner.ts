/**
 * The loop at the heart of Racecar: poll a batch, process it per partition in
 * offset order, wait for produced messages, store offsets, commit, and stop
 * cleanly. Errors pause only their partition; bounded retries end in a
 * dead-letter topic when one is configured.
 *
 * Offsets: a message's offset is stored only after it was processed and
 * everything it produced was delivered; librdkafka commits stored offsets every
 * `offsetCommitInterval`, and the runner commits synchronously when partitions
 * are revoked and at shutdown. A crash therefore re-delivers at most the work
 * done since the last commit, and never skips a message.
 *
 * Deliveries are pipelined: `process` goes on with the next messages while
 * what earlier ones produced is in flight (at most `maxPendingDeliveries` per
 * partition and `maxPendingDeliveriesTotal` in all), and each partition's
 * {@link OffsetTracker} lets the stored offset move only over the contiguous
 * prefix of messages that were processed and delivered.
 *
 * @module
 */

import { SETTINGS, snakeCase } from "./config/schema.ts";
import { bindContext, type Consumer } from "./consumer.ts";
import { DeliveryLane, DeliveryScope } from "./delivery.ts";
import { ConfigError, type ErrorInfo, KafkaError, RacecarError } from "./errors.ts";
import { Instrumenter } from "./events.ts";
import type {
  ConfigMap,
  ConsumerTransport,
  ProducerTransport,
  RawMessage,
  RebalanceEvent,
  TopicPartition,
  TopicPartitionOffset,
  Transport,
} from "./kafka/transport.ts";
import { laneOf, runByKey } from "./key_lanes.ts";
import { forwardClientLog, logger } from "./logger.ts";
import { installLogSubscriber } from "./log_subscriber.ts";
import { Message } from "./message.ts";
import { OffsetTracker } from "./offset_tracker.ts";
import { Pause } from "./pause.ts";
import {
  type Bytes,
  type ProduceOptions,
  Producer,
  type ProducerSettings,
  toBytes,
} from "./producer.ts";
import { assertTransactions, Transactions } from "./transaction.ts";
import { topicPartitionKey } from "./_topic_partition.ts";

/**
 * The runner's behaviour, in racecar's terms (times in seconds). Each optional
 * field defaults to its setting's default in the configuration schema.
 */
export interface RunnerSettings {
  /** `client.id`. */
  clientId: string;
  /** The consumer group. */
  groupId: string;
  /** Messages per poll (`fetch_messages`). */
  fetchMessages?: number;
  /** Seconds to wait for messages per poll (`max_wait_time`). */
  maxWaitTime?: number;
  /** Seconds to pause a partition after an error; -1 forever; 0 do not pause (`pause_timeout`). */
  pauseTimeout?: number;
  /** Cap of the exponential backoff, seconds. */
  maxPauseTimeout?: number | undefined;
  /** Double the pause after each consecutive failure (`pause_with_exponential_backoff`). */
  pauseWithExponentialBackoff?: boolean;
  /** After this many failed attempts a message goes to `deadLetterTopic`. */
  maxRetries?: number | undefined;
  /** Where messages go after `maxRetries` failures. */
  deadLetterTopic?: string | undefined;
  /**
   * Stop the consumer instead of dead-lettering when this many failures in a
   * row of one partition would be dead-lettered (a bad deploy, not a bad
   * message). A failed batch (`processBatch`) counts once; 0 means no limit
   * (`dead_letter_safety_limit`).
   */
  deadLetterSafetyLimit?: number;
  /** Partitions processed at the same time (`concurrency`). */
  concurrency?: number;
  /**
   * Keys of one partition processed at the same time by `process`, in order
   * per key (`key_concurrency`; see `key_lanes.ts`). 1: strictly in order.
   */
  keyConcurrency?: number;
  /**
   * Processed messages of one partition whose deliveries may be in flight
   * before `process` waits for the oldest (`max_pending_deliveries`).
   */
  maxPendingDeliveries?: number;
  /** The same bound over all partitions (`max_pending_deliveries_total`). */
  maxPendingDeliveriesTotal?: number;
  /** Wait for the broker's answer when committing at shutdown (`synchronous_commits`). */
  synchronousCommits?: boolean;
  /** Seconds to wait for in-flight work of revoked partitions (`revoke_timeout`). */
  revokeTimeout?: number;
  /**
   * Seconds from {@link Runner.stop} to the end of the shutdown (work in hand,
   * final commit, leaving the group). After it, `run()` rejects with a
   * `SHUTDOWN_TIMEOUT` error and nothing more is committed (`shutdown_timeout`).
   */
  shutdownTimeout?: number;
  /** Receives every processing error with racecar's payload. */
  onError?: (error: unknown, info: ErrorInfo) => void | Promise<void>;
  /** Seconds between summary lines of a lasting Kafka problem (see `log_subscriber.ts`). @default 60 */
  logSummaryInterval?: number;
  /**
   * Process each polled batch in one Kafka transaction, so its output and its
   * offsets are committed together (`transactional`; see `transaction.ts`).
   * `producerConfig` must then set `transactional.id`.
   */
  transactional?: boolean;
}

/** Everything a runner needs. */
export interface RunnerOptions {
  /** The consumer instance to run. */
  consumer: Consumer;
  /** The Kafka adapter. */
  transport: Transport;
  /** librdkafka properties for the consumer (see `consumerConfig`). */
  consumerConfig: ConfigMap;
  /** librdkafka properties for the producer (see `producerConfig`). */
  producerConfig: ConfigMap;
  /**
   * What the producer wrapper must know of `producerConfig`: the partitioner
   * `partitionKey` hashes with, and the queue-full retry limit (see
   * `producerParts`). @default the schema's defaults
   */
  producerSettings?: Pick<ProducerSettings, "partitioner" | "messageTimeoutMs">;
  /** Behaviour. */
  settings: RunnerSettings;
  /** Event bus; a private one when omitted. */
  instrumenter?: Instrumenter;
  /** The clock, in ms since the epoch. @default Date.now */
  clock?: () => number;
}

interface PartitionState {
  readonly tp: TopicPartition;
  readonly pause: Pause;
  inFlight: Promise<void> | undefined;
  /** Revoked or lost: start no new work. */
  revoked: boolean;
  /** Store no more offsets: the revoke committed, or the assignment was lost. */
  closed: boolean;
  /** Failures of this partition dead-lettered since its last success. */
  deadLettersInARow: number;
  /** Offset to seek to when a pause ends. */
  resumeAt: number | undefined;
  /** What may be stored: the finished prefix of processed and delivered messages. */
  readonly tracker: OffsetTracker;
  /** In-flight deliveries of processed messages; each settles into `tracker`. */
  readonly deliveries: Set<Promise<void>>;
  /** The earliest message whose delivery failed; handled before more work here. */
  failedDelivery: { raw: RawMessage; error: unknown; retriesCount: number } | undefined;
  /**
   * The failed message an aborted transaction went back past: the retries are
   * forgotten only once the work got beyond it (`transactional`).
   */
  failedOffset: number | undefined;
}

const log = logger("runner");
const MAX_POLL_TRIES = 10;
/** The loop turns (and emits `start_main_loop`) at least this often, ms. */
const LOOP_TURN_MS = 1000;
/** Wait before trying again a seek back that failed at the end of a pause, ms. */
const SEEK_RETRY_MS = 100;

function key(tp: TopicPartition): string {
  return topicPartitionKey(tp.topic, tp.partition);
}

/**
 * Runs one consumer until {@link stop} is called or it fails for good.
 *
 * Most applications build it with `createRunner(consumer, config)`, which
 * derives these options from the configuration.
 *
 * @example
 * ```ts
 * import { Consumer, type Message, Runner } from "../mod.ts";
 * import { createMemoryTransport } from "../testing.ts";
 *
 * const greeted: string[] = [];
 * class GreetingsConsumer extends Consumer {
 *   static {
 *     this.subscribesTo("greetings");
 *   }
 *   override process(message: Message) {
 *     greeted.push(`Hello, ${message.text()}!`);
 *   }
 * }
 *
 * const transport = createMemoryTransport();
 * transport.broker.createTopic("greetings", 1);
 * transport.broker.append({ topic: "greetings", value: new TextEncoder().encode("world") });
 * const runner = new Runner({
 *   consumer: new GreetingsConsumer(),
 *   transport,
 *   consumerConfig: { "group.id": "greeters", "auto.offset.reset": "earliest" },
 *   producerConfig: {},
 *   settings: { clientId: "example", groupId: "greeters", maxWaitTime: 0.05 },
 * });
 * // An application stops on SIGTERM; this example once the message is processed.
 * runner.events.on("process_message", () => runner.stop());
 * await runner.run();
 * console.assert(greeted[0] === "Hello, world!");
 * ```
 */
export class Runner {
  readonly #consumer: Consumer;
  readonly #transport: Transport;
  readonly #consumerConfig: ConfigMap;
  readonly #producerConfig: ConfigMap;
  readonly #producerSettings: Pick<ProducerSettings, "partitioner" | "messageTimeoutMs">;
  readonly #settings:
    & Required<
      Omit<RunnerSettings, "maxPauseTimeout" | "maxRetries" | "deadLetterTopic" | "onError">
    >
    & RunnerSettings;
  readonly #events: Instrumenter;
  readonly #clock: () => number;
  readonly #className: string;
  readonly #partitions = new Map<string, PartitionState>();
  /** Every partition's in-flight deliveries, for the total bound and the shutdown. */
  readonly #deliveries = new Set<Promise<void>>();
  #kafka: ConsumerTransport | undefined;
  #producer: Producer | undefined;
  #producerTransport: ProducerTransport | undefined;
  /** The transactions of a `transactional` runner. */
  #txn: Transactions | undefined;
  /** What the consumer produced outside processing (from `setup`): delivered at shutdown. */
  readonly #unscoped = new DeliveryScope();
  #stopRequested = false;
  #stopped: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #ready = false;
  #fatal: unknown;
  #shutdownTimer: ReturnType<typeof setTimeout> | undefined;
  #timeOutShutdown: () => void = () => {};
  /** Resolves when a started shutdown outlasts `shutdownTimeout`. */
  readonly #shutdownTimedOut = new Promise<"timeout">((resolve) => {
    this.#timeOutShutdown = () => resolve("timeout");
  });
  /** The shutdown timed out: commit nothing more. */
  #abandoned = false;
  #running = false;

  /** Prepares a runner; nothing connects until {@link run}. */
  constructor(options: RunnerOptions) {
    this.#consumer = options.consumer;
    this.#transport = options.transport;
    this.#consumerConfig = options.consumerConfig;
    this.#producerConfig = options.producerConfig;
    this.#producerSettings = options.producerSettings ?? {};
    this.#events = options.instrumenter ?? new Instrumenter();
    this.#clock = options.clock ?? Date.now;
    this.#className = options.consumer.constructor.name;
    const s = options.settings;
    this.#settings = {
      ...s,
      fetchMessages: s.fetchMessages ?? SETTINGS.fetchMessages.default,
      maxWaitTime: s.maxWaitTime ?? SETTINGS.maxWaitTime.default,
      pauseTimeout: s.pauseTimeout ?? SETTINGS.pauseTimeout.default,
      pauseWithExponentialBackoff: s.pauseWithExponentialBackoff ??
        SETTINGS.pauseWithExponentialBackoff.default,
      deadLetterSafetyLimit: s.deadLetterSafetyLimit ?? SETTINGS.deadLetterSafetyLimit.default,
      concurrency: s.concurrency ?? SETTINGS.concurrency.default,
      keyConcurrency: s.keyConcurrency ?? SETTINGS.keyConcurrency.default,
      maxPendingDeliveries: s.maxPendingDeliveries ?? SETTINGS.maxPendingDeliveries.default,
      maxPendingDeliveriesTotal: s.maxPendingDeliveriesTotal ??
        SETTINGS.maxPendingDeliveriesTotal.default,
      synchronousCommits: s.synchronousCommits ?? SETTINGS.synchronousCommits.default,
      revokeTimeout: s.revokeTimeout ?? SETTINGS.revokeTimeout.default,
      shutdownTimeout: s.shutdownTimeout ?? SETTINGS.shutdownTimeout.default,
      logSummaryInterval: s.logSummaryInterval ?? SETTINGS.logSummaryInterval.default,
      transactional: s.transactional ?? SETTINGS.transactional.default,
    };
    validateSettings(this.#settings, this.#className);
    if (this.#settings.transactional) {
      assertTransactions(this.#transport, this.#className);
      if (this.#settings.keyConcurrency > 1 && this.#settings.deadLetterTopic !== undefined) {
        // A dead letter lets the partition go on while other keys' finished work past the gap
        // is done again: committed twice, in two transactions.
        throw new ConfigError(
          `Cannot run ${this.#className}: 'transactional' with 'key_concurrency' ` +
            `(${this.#settings.keyConcurrency}) cannot dead-letter exactly once; unset ` +
            `'dead_letter_topic', or set 'key_concurrency' to 1`,
          { key: "transactional" },
        );
      }
      if (!this.#producerConfig["transactional.id"]) {
        throw new RangeError(
          `Cannot run ${this.#className} transactionally: the producer configuration has no ` +
            `'transactional.id' (createRunner derives it from 'transactional_id')`,
        );
      }
    }
    if (
      typeof this.#consumer.process !== "function" &&
      typeof this.#consumer.processBatch !== "function"
    ) {
      throw new RacecarError(
        "NO_PROCESS_METHOD",
        `Cannot run ${this.#className}: implement process(message) or processBatch(messages)`,
      );
    }
    if (this.#settings.keyConcurrency > 1 && typeof this.#consumer.processBatch === "function") {
      throw new ConfigError(
        `Cannot run ${this.#className}: 'key_concurrency' (${this.#settings.keyConcurrency}) ` +
          `needs a consumer that implements process(message), and this one implements ` +
          `processBatch(messages), which gets a partition's messages in one call; set ` +
          `'key_concurrency' to 1, or implement process instead`,
        { key: "keyConcurrency" },
      );
    }
    const ctor = this.#consumer.constructor as typeof Consumer;
    if (ctor.subscriptions.length === 0) {
      throw new RacecarError(
        "NO_SUBSCRIPTIONS",
        `Cannot run ${this.#className}: it subscribes to no topic; call ` +
          `this.subscribesTo("topic") in a static block of the class`,
      );
    }
    // Client errors, missing topics and per-batch lines are logged by a subscriber.
    installLogSubscriber(this.#events, {
      summaryIntervalSeconds: this.#settings.logSummaryInterval,
      autoCreateTopics: this.#consumerConfig["allow.auto.create.topics"] === "true",
      ...(this.#consumerConfig["bootstrap.servers"] === undefined
        ? {}
        : { brokers: this.#consumerConfig["bootstrap.servers"] }),
      clock: this.#clock,
    });
  }

  /** The event bus this runner reports to. */
  get events(): Instrumenter {
    return this.#events;
  }

  /** Whether the consumer has joined its group and received its first assignment. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Asks the loop to finish the work in hand and shut down cleanly. */
  stop(): void {
    this.#stopRequested = true;
    this.#startShutdownClock();
    this.#wake?.();
    // A poll in progress returns now instead of waiting out max_wait_time.
    this.#kafka?.wakeup();
  }

  /**
   * Runs the consumer; resolves after a clean shutdown, rejects on a crash or
   * when the shutdown outlasts `shutdownTimeout`.
   */
  async run(): Promise<void> {
    this.#running = true;
    const running = this.#run();
    try {
      const outcome = await Promise.race([
        running.then(() => "done" as const, () => "done" as const),
        this.#shutdownTimedOut,
      ]);
      if (outcome === "timeout") {
        this.#abandoned = true;
        running.catch(() => {});
        const error = new RacecarError(
          "SHUTDOWN_TIMEOUT",
          `Cannot stop ${this.#className} cleanly: the shutdown took longer than ` +
            `'shutdown_timeout' (${this.#settings.shutdownTimeout} s); giving up without ` +
            `committing more (uncommitted work is processed again by the partitions' next owner)`,
        );
        this.#events.emit("error", () => ({ ...this.#base(), error, fatal: true }));
        throw error;
      }
      await running;
    } finally {
      clearTimeout(this.#shutdownTimer);
    }
  }

  /**
   * Starts the `shutdownTimeout` clock, once: at stop(), or when the loop ends
   * on its own. Not before run(), whose end clears it.
   */
  #startShutdownClock(): void {
    if (this.#shutdownTimer !== undefined || !this.#running) return;
    this.#shutdownTimer = setTimeout(
      () => this.#timeOutShutdown(),
      this.#settings.shutdownTimeout * 1000,
    );
  }

  async #run(): Promise<void> {
    const base = this.#base();
    let crashed: unknown;
    try {
      this.#kafka = this.#transport.createConsumer({
        config: this.#consumerConfig,
        onRebalance: (event) => this.#onRebalance(event),
        onError: (error) => this.#onClientError(error),
        onLog: (entry) => forwardClientLog(entry),
        onStatistics: (json) => this.#onStatistics(json),
      });
      this.#consumer[bindContext]({
        produce: (value, options) => this.#produce(value, options),
        deliver: () => this.#deliver(DeliveryScope.current() ?? this.#unscoped),
      });
      if (this.#settings.transactional) {
        this.#sharedProducer();
        this.#txn = new Transactions(this.#producerTransport!, this.#kafka);
        await this.#txn.init();
      }
      await this.#consumer.setup?.();
      const topics = [
        ...new Set(
          (this.#consumer.constructor as typeof Consumer).subscriptions.map((s) => s.topic),
        ),
      ];
      await this.#events.instrument("join_group", () => ({ ...base, topics }), () => {
        this.#kafka!.subscribe(topics);
      });
      log.info("{consumerClass} subscribed to {topics} in group {groupId}", {
        consumerClass: this.#className,
        topics,
        groupId: this.#settings.groupId,
      });
      await this.#loop();
      this.#startShutdownClock();
      await this.#shutDownGracefully();
    } catch (error) {
      this.#startShutdownClock();
      crashed = error;
      this.#events.emit("error", () => ({ ...base, error, fatal: true }));
    } finally {
      await this.#closeClients(crashed !== undefined);
      this.#events.emit("shut_down", () => base);
    }
    if (crashed !== undefined) throw crashed;
  }

  async #loop(): Promise<void> {
    const base = this.#base();
    let pollTries = 0;
    while (!this.#stopRequested) {
      if (this.#fatal !== undefined) throw this.#fatal;
      await this.#resumeExpiredPauses();
      await this.#handleFailedDeliveries();
      this.#events.emit("start_main_loop", () => base);
      let messages: RawMessage[];
      const started = performance.now();
      try {
        messages = await this.#kafka!.consume(this.#settings.fetchMessages, this.#pollTimeoutMs());
        pollTries = 0;
      } catch (error) {
        pollTries += 1;
        this.#events.emit("poll_retry", () => ({ ...base, attempt: pollTries, error }));
        if (pollTries >= MAX_POLL_TRIES || (error instanceof KafkaError && error.fatal)) {
          throw error;
        }
        log.error("Polling failed (try {try}/{max}): {error}", {
          try: pollTries,
          max: MAX_POLL_TRIES,
          error,
        });
        await this.#sleep(Math.min(50 * 2 ** pollTries, this.#settings.maxWaitTime * 1000));
        continue;
      }
      if (messages.length > 0) {
        await (this.#txn === undefined
          ? this.#processAll(messages)
          : this.#processInTransaction(messages));
      }
      this.#events.emit("main_loop", () => ({
        ...base,
        messageCount: messages.length,
        durationMs: performance.now() - started,
      }));
    }
  }

  /**
   * How long the next poll may wait for a message: `max_wait_time`, but no
   * longer than until the next pause ends (so a retry is not late by up to a
   * poll) nor than {@link LOOP_TURN_MS} (so the loop, and the liveness touch on
   * `start_main_loop`, turns on time however long `max_wait_time` is).
   */
  #pollTimeoutMs(): number {
    const now = this.#clock();
    let ms = Math.min(this.#settings.maxWaitTime * 1000, LOOP_TURN_MS);
    for (const state of this.#partitions.values()) {
      const until = state.pause.pausedUntil;
      if (!state.pause.paused || until === undefined) continue;
      // Expired but still paused: a failed seek back, retried shortly.
      ms = Math.min(ms, until > now ? until - now : SEEK_RETRY_MS);
    }
    return Math.max(0, Math.ceil(ms));
  }

  /**
   * Processes a batch in one transaction (`transactional`): its output and
   * offsets commit together; or it aborts, and every partition it touched goes
   * back to where the transaction began.
   */
  async #processInTransaction(messages: RawMessage[]): Promise<void> {
    const txn = this.#txn!;
    await txn.begin();
    try {
      await this.#processAll(messages);
      // Offsets are recorded as deliveries succeed; a failed one is handled (and dooms it) now.
      while (this.#deliveries.size > 0) await Promise.allSettled(this.#deliveries);
      await this.#handleFailedDeliveries();
    } catch (error) {
      txn.doom(error);
      await txn.end().catch((abortError) =>
        log.error("Aborting the transaction failed: {error}", { error: abortError })
      );
      throw error;
    }
    for (const position of await txn.end()) this.#rewind(position);
  }

  /** After an aborted transaction: the partition goes back to `position`, its last commit. */
  #rewind(position: TopicPartitionOffset): void {
    const state = this.#partitions.get(key(position));
    if (state === undefined || state.revoked) return;
    if (state.pause.paused && state.resumeAt !== undefined) state.failedOffset = state.resumeAt;
    state.tracker.rewind(position.offset);
    state.failedDelivery = undefined;
    state.resumeAt = position.offset;
    // Whatever was fetched after it is dropped; #resumeExpiredPauses seeks back and resumes.
    this.#kafka!.pause([state.tp]);
  }

  /** Splits a batch by partition and processes each, `concurrency` at a time. */
  async #processAll(messages: RawMessage[]): Promise<void> {
    // Batches come in runs of one partition: a key is made once per run.
    const groups = new Map<string, RawMessage[]>();
    let group: RawMessage[] = [];
    let last: RawMessage | undefined;
    for (const message of messages) {
      if (
        last === undefined || message.partition !== last.partition || message.topic !== last.topic
      ) {
        const k = key(message);
        group = groups.get(k) ?? [];
        if (group.length === 0) groups.set(k, group);
      }
      group.push(message);
      last = message;
    }
    const queue = [...groups.entries()];
    const lanes = Math.max(1, Math.min(this.#settings.concurrency, queue.length));
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const [k, group] = next;
        const state = this.#partitions.get(k);
        if (
          state === undefined || state.revoked || state.pause.paused ||
          state.resumeAt !== undefined
        ) continue;
        this.#txn?.touch(state.tp, group[0]!.offset);
        const work = this.#processPartition(state, group);
        state.inFlight = work;
        try {
          await work;
        } finally {
          state.inFlight = undefined;
        }
      }
    };
    await Promise.all(Array.from({ length: lanes }, worker));
  }

  async #processPartition(state: PartitionState, raw: RawMessage[]): Promise<void> {
    if (typeof this.#consumer.processBatch === "function") {
      await this.#processBatch(state, raw);
      return;
    }
    if (this.#settings.keyConcurrency > 1) {
      await this.#processByKey(state, raw);
      return;
    }
    // Offsets of messages that produced nothing are stored once per run of a
    // partition's messages: storing is local and cheap to delay, and the commit
    // happens later anyway. The run's messages are processed one after another,
    // so they share one delivery context, each with its own scope.
    const lane = new DeliveryLane();
    await lane.run(async () => {
      try {
        for (const message of raw) {
          if (this.#mustWait(state)) await this.#makeRoom(state);
          if (state.failedDelivery !== undefined) return await this.#deliveryFailed(state);
          if (state.revoked || state.resumeAt !== undefined || this.#fatal !== undefined) return;
          state.tracker.begin(message.offset);
          const failure = await this.#runProcess(state, message, lane);
          if (failure !== undefined && !(await this.#processFailed(state, message, failure))) {
            return;
          }
        }
      } finally {
        this.#store(state);
      }
    });
  }

  /** Whether {@link #makeRoom} would wait (checked first, so the usual case awaits nothing). */
  #mustWait(state: PartitionState): boolean {
    return state.deliveries.size >= this.#settings.maxPendingDeliveries ||
      this.#deliveries.size >= this.#settings.maxPendingDeliveriesTotal;
  }

  /** Back-pressure: waits while too many processed messages await their deliveries. */
  async #makeRoom(state: PartitionState): Promise<void> {
    while (state.deliveries.size >= this.#settings.maxPendingDeliveries) {
      await Promise.race(state.deliveries);
    }
    while (this.#deliveries.size >= this.#settings.maxPendingDeliveriesTotal) {
      await Promise.race(this.#deliveries);
    }
  }

  /** Waits until no delivery of the partition is in flight. */
  async #drain(state: PartitionState): Promise<void> {
    while (state.deliveries.size > 0) await Promise.allSettled(state.deliveries);
  }

  /**
   * Lets the deliveries of a processed message settle in the background: the
   * partition's offset moves past it once they succeeded, and a failure is
   * handled on the loop (see {@link #deliveryFailed}).
   */
  #await(state: PartitionState, raw: RawMessage, scope: DeliveryScope, retriesCount: number) {
    const delivery: Promise<void> = this.#deliver(scope).then(
      () => {
        this.#finished(state, raw.offset);
        this.#store(state);
      },
      (error) => {
        const earliest = state.failedDelivery;
        if (earliest === undefined || raw.offset < earliest.raw.offset) {
          state.failedDelivery = { raw, error, retriesCount };
        }
        this.#kafka?.wakeup();
      },
    ).finally(() => {
      state.deliveries.delete(delivery);
      this.#deliveries.delete(delivery);
    });
    state.deliveries.add(delivery);
    this.#deliveries.add(delivery);
  }

  /** Handles failed deliveries of partitions that are not being processed now. */
  async #handleFailedDeliveries(): Promise<void> {
    for (const state of this.#partitions.values()) {
      if (state.failedDelivery !== undefined && !state.revoked) await this.#deliveryFailed(state);
    }
  }

  /**
   * Fails the earliest message whose delivery failed, exactly like a failure of
   * its processing, once every earlier delivery settled. The messages after it
   * are processed again (at-least-once), whether or not their output arrived.
   */
  async #deliveryFailed(state: PartitionState): Promise<void> {
    await this.#drain(state);
    const { raw, error, retriesCount } = state.failedDelivery!;
    state.failedDelivery = undefined;
    const message = new Message(raw, retriesCount);
    const outcome = await this.#failed(state, [raw], error, {
      consumerClass: this.#className,
      ...messageFields(message),
    });
    if (outcome === "skipped" && !state.revoked) {
      // Dead-lettered; later messages were dropped from the tracker: read them again from the
      // end of the finished prefix (past later messages that were delivered already).
      state.resumeAt = state.tracker.next ?? raw.offset + 1;
      this.#kafka!.pause([state.tp]);
    }
  }

  /**
   * After `process` failed on a message of a lane: returns false when the
   * partition must stop for now, true when it moves on (dead-lettered).
   */
  async #processFailed(
    state: PartitionState,
    raw: RawMessage,
    failure: { error: unknown; message: Message },
  ): Promise<boolean> {
    // Earlier messages' deliveries settle first; an earlier failure comes first.
    await this.#drain(state);
    if (state.failedDelivery !== undefined) {
      await this.#deliveryFailed(state);
      return false;
    }
    // Dead-lettered: the partition moves on; otherwise it waits for the retry.
    return (await this.#failed(state, [raw], failure.error, {
      consumerClass: this.#className,
      ...messageFields(failure.message),
    })) === "skipped";
  }

  /**
   * Calls `process` on a message already begun in the tracker, and leaves its
   * deliveries in flight; returns the failure, if it failed. In a `lane` (one
   * message after another) the lane's context carries the scope; without one
   * (lanes by key run at once) the call gets a context of its own.
   */
  async #runProcess(
    state: PartitionState,
    raw: RawMessage,
    lane?: DeliveryLane,
  ): Promise<{ error: unknown; message: Message } | undefined> {
    const retriesCount = state.pause.pausesCount;
    const message = new Message(raw, retriesCount);
    const payload = () => ({ ...this.#base(), ...messageFields(message) });
    this.#events.emit("start_process_message", payload);
    const scope = new DeliveryScope();
    try {
      if (lane !== undefined && this.#events.quiet("process_message")) {
        // The usual case, with no frames around the call: nobody watches, and
        // the lane's context carries the scope while the call runs.
        lane.enter(scope);
        try {
          await this.#consumer.process!(message);
        } finally {
          lane.leave();
        }
      } else {
        const work = () => this.#consumer.process!(message);
        const run = () => lane === undefined ? scope.run(work) : lane.within(scope, work);
        await this.#events.instrument("process_message", payload, run);
      }
    } catch (error) {
      return { error, message };
    }
    if (scope.size === 0) this.#finished(state, raw.offset);
    else this.#await(state, raw, scope, retriesCount);
    return undefined;
  }

  /**
   * `key_concurrency` > 1: processes a partition's messages in lanes by key
   * (see `key_lanes.ts`). The tracker still begins them in offset order, so
   * only the finished prefix is stored. A failure (of processing or of a
   * delivery) stops the partition at its offset: messages before it that
   * lanes hold still run, later ones do not. Once every lane ended, the first
   * failure pauses the whole partition and it goes back there; later messages
   * of other keys that had finished are processed again (at-least-once).
   */
  async #processByKey(state: PartitionState, raw: RawMessage[]): Promise<void> {
    let failure: { raw: RawMessage; error: unknown; message: Message } | undefined;
    const mayGoOn = (offset: number) =>
      offset <
        Math.min(failure?.raw.offset ?? Infinity, state.failedDelivery?.raw.offset ?? Infinity) &&
      !state.revoked && state.resumeAt === undefined && this.#fatal === undefined;
    try {
      await runByKey(raw, {
        limit: this.#settings.keyConcurrency,
        keyOf: (message) => laneOf(message.key),
        admit: async (message) => {
          await this.#makeRoom(state);
          if (!mayGoOn(message.offset)) return false;
          state.tracker.begin(message.offset);
          return true;
        },
        run: async (message) => {
          if (!mayGoOn(message.offset)) return false;
          const failed = await this.#runProcess(state, message);
          if (failed === undefined) {
            // A slow key may hold the poll's batch for long: store the prefix as it grows.
            this.#store(state);
            return true;
          }
          if (failure === undefined || message.offset < failure.raw.offset) {
            failure = { raw: message, ...failed };
          }
          return false;
        },
      });
      if (failure === undefined && state.failedDelivery === undefined) return;
      // Every lane stopped; earlier deliveries settle before deciding which failure comes first.
      await this.#drain(state);
      const delivery = state.failedDelivery;
      if (
        failure === undefined ||
        (delivery !== undefined && delivery.raw.offset < failure.raw.offset)
      ) {
        if (!state.revoked) await this.#deliveryFailed(state);
        return;
      }
      // A later message's failed delivery: it is processed again after the retry.
      state.failedDelivery = undefined;
      const outcome = await this.#failed(state, [failure.raw], failure.error, {
        consumerClass: this.#className,
        ...messageFields(failure.message),
      });
      if (outcome === "skipped" && !state.revoked) {
        // Dead-lettered, and everything before it finished: go on after the finished prefix.
        state.resumeAt = state.tracker.next ?? failure.raw.offset + 1;
        this.#kafka!.pause([state.tp]);
      }
    } finally {
      this.#store(state);
    }
  }

  /** A message (or batch ending at `offset`) was processed and delivered. */
  #finished(state: PartitionState, offset: number): void {
    // Failures are forgotten only once everything before succeeded too: a later
    // message delivered before an earlier one failed must not reset its retries.
    if (
      state.tracker.finish(offset) &&
      (state.failedOffset === undefined || (state.tracker.next ?? 0) > state.failedOffset)
    ) {
      state.pause.reset();
      state.deadLettersInARow = 0;
      state.failedOffset = undefined;
    }
  }

  async #processBatch(state: PartitionState, raw: RawMessage[]): Promise<void> {
    const retriesCount = state.pause.pausesCount;
    const messages = raw.map((m) => new Message(m, retriesCount));
    const first = messages[0]!;
    const last = messages[messages.length - 1]!;
    const payload = () => ({
      ...this.#base(),
      topic: first.topic,
      partition: first.partition,
      firstOffset: first.offset,
      lastOffset: last.offset,
      lastCreateTime: last.createTime,
      messageCount: messages.length,
      retriesCount,
      messageHeaders: messages.map((m) => m.headers),
    });
    this.#events.emit("start_process_batch", payload);
    state.tracker.begin(last.offset);
    try {
      await this.#events.instrument(
        "process_batch",
        payload,
        async () => {
          // A batch's offset is stored only after its deliveries, as before pipelining.
          await this.#deliver(await this.#runInScope(() => this.#consumer.processBatch!(messages)));
        },
      );
    } catch (error) {
      await this.#failed(state, raw, error, {
        consumerClass: this.#className,
        topic: first.topic,
        partition: first.partition,
        firstOffset: first.offset,
        lastOffset: last.offset,
        createTime: last.createTime,
        messageCount: messages.length,
        retriesCount,
      });
      return;
    }
    this.#finished(state, last.offset);
    this.#store(state);
  }

  /** Runs one processing call in its own delivery scope; returns the scope. */
  async #runInScope(work: () => void | Promise<void>): Promise<DeliveryScope> {
    const scope = new DeliveryScope();
    await scope.run(work);
    return scope;
  }

  /** A consumer's `produce`: queues on the shared producer, tracked by the current scope. */
  #produce(value: Bytes | null, options: ProduceOptions): void {
    const producer = this.#sharedProducer();
    (DeliveryScope.current() ?? this.#unscoped).track(producer.send(value, options));
    this.#events.emit("produce_message", () => ({
      ...this.#base(),
      topic: options.topic,
      key: options.key,
      partition: options.partition,
      partitionKey: options.partitionKey === undefined ? undefined : String(options.partitionKey),
      messageSize: value === null ? 0 : toBytes(value).byteLength,
      bufferSize: producer.bufferSize,
    }));
  }

  /** Waits for the deliveries of `scope`; rejects with the first failure. */
  async #deliver(scope: DeliveryScope): Promise<void> {
    const count = scope.size;
    if (count === 0) return;
    await this.#events.instrument(
      "deliver_messages",
      () => ({ ...this.#base(), deliveredMessageCount: count }),
      () => scope.settle(),
    );
  }

  /**
   * Stores a partition's next offset to consume: the one place offsets are
   * stored. Only the tracker's finished prefix is stored, the messages that
   * were processed and whose deliveries all succeeded ({@link #finished}).
   * Work that finishes while a revoke waits for it is stored, and the revoke's
   * commit includes it. Once that commit started, or when the assignment was
   * lost, nothing more is stored: a later store would be committed on behalf
   * of the partition's next owner (racecar #198).
   */
  #store(state: PartitionState): void {
    if (state.closed || this.#abandoned) return;
    const next = state.tracker.take();
    if (next === undefined) return;
    if (this.#txn !== undefined) this.#txn.record({ ...state.tp, offset: next });
    else this.#kafka!.storeOffsets([{ ...state.tp, offset: next }]);
  }

  async #failed(
    state: PartitionState,
    raw: RawMessage[],
    error: unknown,
    info: ErrorInfo,
  ): Promise<"retry" | "skipped"> {
    const first = raw[0]!;
    const last = raw[raw.length - 1]!;
    try {
      // An async handler's rejection is caught too: it must never end the process.
      await this.#settings.onError?.(error, info);
    } catch (handlerError) {
      log.error("The error handler itself failed: {error}", { error: handlerError });
    }
    const where = `${topicPartitionKey(state.tp.topic, state.tp.partition)} at ${
      raw.length === 1 ? first.offset : `${first.offset}..${last.offset}`
    }`;
    log.error("Failed to process {where}: {error}", { where, error });
    if (state.revoked) {
      this.#txn?.doom(error);
      return "retry";
    }

    const attempts = state.pause.pausesCount + 1;
    const { maxRetries, deadLetterTopic } = this.#settings;
    if (maxRetries !== undefined && attempts > maxRetries && deadLetterTopic !== undefined) {
      await this.#deadLetter(state, raw, error, attempts);
      return "skipped";
    }
    if (this.#settings.pauseTimeout === 0) {
      throw new RacecarError(
        "PROCESSING_FAILED",
        `Stopping ${this.#className}: processing ${where} failed and 'pause_timeout' is 0 ` +
          `(pausing disabled): ${
            error instanceof Error ? `${error.name}: ${error.message}` : error
          }`,
        { cause: error },
      );
    }
    // What the failed work produced is in the open transaction: only an abort takes it back.
    this.#txn?.doom(error);
    const seconds = state.pause.backoffInterval();
    state.pause.pause(this.#clock());
    state.tracker.discard();
    state.resumeAt = first.offset;
    this.#kafka!.pause([state.tp]);
    log.warn("Pausing partition {topic}/{partition} for {seconds} seconds", {
      topic: state.tp.topic,
      partition: state.tp.partition,
      seconds,
    });
    this.#events.emit("pause", () => ({
      ...this.#base(),
      ...state.tp,
      offset: first.offset,
      timeoutSeconds: seconds,
      error,
    }));
    return "retry";
  }

  async #deadLetter(
    state: PartitionState,
    raw: RawMessage[],
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const topic = this.#settings.deadLetterTopic!;
    // A failure counts once, a message's or a whole batch's, per partition.
    const limit = this.#settings.deadLetterSafetyLimit;
    if (limit > 0 && state.deadLettersInARow + 1 > limit) {
      throw new RacecarError(
        "DEAD_LETTER_LIMIT",
        `Stopping ${this.#className}: ${state.deadLettersInARow} failures in a row of ` +
          `${
            topicPartitionKey(state.tp.topic, state.tp.partition)
          } went to dead-letter topic "${topic}" and the ` +
          `one at ${raw[0]!.offset} would exceed 'dead_letter_safety_limit' ` +
          `(${this.#settings.deadLetterSafetyLimit}); this looks like a bug in the consumer, ` +
          `not bad messages. Nothing was skipped: fix the cause and restart`,
        { cause: error },
      );
    }
    const producer = this.#sharedProducer();
    const reason = error instanceof Error ? error : new Error(String(error));
    await Promise.all(raw.map((message) =>
      producer.send(message.value, {
        topic,
        key: message.key,
        headers: [
          ...message.headers,
          ...Object.entries({
            "racecar-original-topic": message.topic,
            "racecar-original-partition": String(message.partition),
            "racecar-original-offset": String(message.offset),
            "racecar-original-timestamp": message.timestamp === null
              ? ""
              : String(message.timestamp),
            "racecar-consumer-group": this.#settings.groupId,
            "racecar-error-class": reason.name,
            "racecar-error-message": reason.message,
            "racecar-attempts": String(attempts),
          }).map(([k, v]) => ({ key: k, value: new TextEncoder().encode(v) })),
        ],
        // Written now: the original timestamp (in its header) may be near the end of retention.
      })
    ));
    state.deadLettersInARow += 1;
    this.#events.emit("dead_letter", () => ({
      ...this.#base(),
      ...state.tp,
      offsets: raw.map((m) => m.offset),
      deadLetterTopic: topic,
      attempts,
      error,
    }));
    log.warn("Sent {count} message(s) of {topic}/{partition} to {dlq} after {attempts} attempts", {
      count: raw.length,
      topic: state.tp.topic,
      partition: state.tp.partition,
      dlq: topic,
      attempts,
    });
    state.pause.reset();
    state.tracker.finish(raw[raw.length - 1]!.offset);
    state.tracker.discard();
    this.#store(state);
  }

  async #resumeExpiredPauses(): Promise<void> {
    const now = this.#clock();
    for (const state of this.#partitions.values()) {
      if (!state.pause.paused) {
        // A dead-lettered delivery failure: go back to the message after it.
        if (state.resumeAt !== undefined && (await this.#seekBack(state))) {
          this.#kafka!.resume([state.tp]);
        }
        continue;
      }
      if (!state.pause.expired(now)) {
        this.#events.emit("pause_status", () => ({
          ...this.#base(),
          ...state.tp,
          durationSeconds: state.pause.duration(now),
        }));
        continue;
      }
      // The partition stays paused until the seek back succeeded; a failed seek is retried
      // on the next loop.
      if (!(await this.#seekBack(state))) continue;
      log.info("Resuming partition {topic}/{partition}: its pause ended", { ...state.tp });
      this.#kafka!.resume([state.tp]);
      this.#events.emit("resume", () => ({ ...this.#base(), ...state.tp }));
    }
  }

  /**
   * Moves a paused partition back to its failed offset and ends the pause;
   * false (and still paused) when the seek failed.
   */
  async #seekBack(state: PartitionState): Promise<boolean> {
    if (state.resumeAt !== undefined) {
      try {
        await this.#kafka!.seek({ ...state.tp, offset: state.resumeAt }, 10_000);
      } catch (error) {
        log.warn(
          "Cannot seek {topic}/{partition} back to {offset}; it stays paused and the seek is " +
            "retried on the next loop: {error}",
          { ...state.tp, offset: state.resumeAt, error },
        );
        return false;
      }
      state.resumeAt = undefined;
    }
    state.pause.resume();
    return true;
  }

  async #onRebalance(event: RebalanceEvent): Promise<void> {
    const base = this.#base();
    if (event.kind === "assign") {
      for (const tp of event.partitions) {
        this.#partitions.set(key(tp), {
          tp,
          pause: new Pause({
            timeout: this.#settings.pauseTimeout,
            maxTimeout: this.#settings.maxPauseTimeout,
            exponentialBackoff: this.#settings.pauseWithExponentialBackoff,
          }),
          inFlight: undefined,
          revoked: false,
          closed: false,
          deadLettersInARow: 0,
          resumeAt: undefined,
          tracker: new OffsetTracker(),
          deliveries: new Set(),
          failedDelivery: undefined,
          failedOffset: undefined,
        });
      }
      // A partition paused before it moved away must not come back paused (racecar #335).
      if (event.partitions.length > 0) this.#kafka?.resume(event.partitions);
      await this.#events.instrument(
        "partitions_assigned",
        () => ({ ...base, partitions: event.partitions }),
        () => this.#consumer.onPartitionsAssigned?.(event.partitions),
      );
      // An idle member (more members than partitions) is a healthy one: ready once it joined and
      // got its first assignment, empty or not.
      if (!this.#ready) {
        this.#ready = true;
        this.#events.emit("ready", () => ({ ...base, partitions: event.partitions }));
      }
      log.info("Assigned {partitions}", { partitions: describe(event.partitions) });
      return;
    }

    const states = event.partitions
      .map((tp) => this.#partitions.get(key(tp)))
      .filter((s): s is PartitionState => s !== undefined);
    if (this.#kafka?.assignmentLost() === true) {
      await this.#onPartitionsLost(event.partitions, states);
      return;
    }
    await this.#events.instrument(
      "partitions_revoked",
      () => ({ ...base, partitions: event.partitions }),
      async () => {
        for (const state of states) state.revoked = true;
        await this.#waitFor(states, this.#settings.revokeTimeout * 1000);
        try {
          await this.#consumer.onPartitionsRevoked?.(event.partitions);
        } finally {
          for (const state of states) state.closed = true;
          await this.#commit("revoke");
          for (const state of states) this.#partitions.delete(key(state.tp));
        }
      },
    );
    log.info("Revoked {partitions}", { partitions: describe(event.partitions) });
  }

  /**
   * The group took the partitions away already (session timeout, max poll
   * interval): other members own them, so nothing is stored or committed for
   * them; their uncommitted work is processed again there.
   */
  async #onPartitionsLost(partitions: TopicPartition[], states: PartitionState[]): Promise<void> {
    for (const state of states) {
      state.revoked = true;
      state.closed = true;
    }
    await this.#events.instrument(
      "partitions_lost",
      () => ({ ...this.#base(), partitions }),
      async () => {
        try {
          await this.#waitFor(states, this.#settings.revokeTimeout * 1000);
          await this.#consumer.onPartitionsLost?.(partitions);
        } finally {
          for (const state of states) this.#partitions.delete(key(state.tp));
        }
      },
    );
    log.warn("Lost {partitions}: the group gave them to other members", {
      partitions: describe(partitions),
    });
  }

  async #waitFor(states: PartitionState[], timeoutMs: number): Promise<void> {
    // Processing in flight and the deliveries of processed messages.
    const pending = states.flatMap((s) => [s.inFlight, ...s.deliveries])
      .filter((p) => p !== undefined);
    if (pending.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const outcome = await Promise.race([Promise.allSettled(pending), timeout]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      log.warn("In-flight work of revoked partitions did not finish within {seconds} s", {
        seconds: timeoutMs / 1000,
      });
    }
  }

  async #commit(reason: "revoke" | "shutdown"): Promise<void> {
    // Transactional offsets commit with their batch: wait until the open one ended.
    if (this.#txn !== undefined) return await this.#txn.settled();
    const kafka = this.#kafka;
    if (kafka === undefined || this.#abandoned) return;
    try {
      await this.#events.instrument(
        "commit",
        () => ({ ...this.#base(), reason }),
        () =>
          kafka.commit(null, {
            sync: reason === "revoke" || this.#settings.synchronousCommits,
          }),
      );
    } catch (error) {
      // Nothing is lost: uncommitted work is re-delivered to whoever gets the partition.
      log.warn("Committing offsets ({reason}) failed: {error}", { reason, error });
    }
  }

  async #shutDownGracefully(): Promise<void> {
    log.info("Gracefully shutting down {consumerClass}", { consumerClass: this.#className });
    // Processed messages' deliveries store their offsets before the final commit.
    while (this.#deliveries.size > 0) await Promise.allSettled(this.#deliveries);
    await this.#deliver(this.#unscoped);
    await this.#consumer.teardown?.();
    await this.#commit("shutdown");
  }

  async #closeClients(crashed: boolean): Promise<void> {
    const kafka = this.#kafka;
    if (kafka !== undefined) {
      try {
        await this.#events.instrument("leave_group", () => this.#base(), () => kafka.close());
      } catch (error) {
        log.error("Leaving the group failed: {error}", { error });
      }
    }
    if (this.#producer !== undefined) {
      try {
        await this.#producer.close(crashed ? 5_000 : 30_000);
      } catch (error) {
        log.error("Closing the producer failed: {error}", { error });
      }
    }
  }

  #sharedProducer(): Producer {
    if (this.#producer === undefined) {
      this.#producerTransport = this.#transport.createProducer({
        config: this.#producerConfig,
        onError: (error) => this.#onClientError(error),
        onLog: (entry) => forwardClientLog(entry),
      });
      this.#producer = new Producer(
        this.#producerTransport,
        {
          ...this.#producerSettings,
          clientId: this.#settings.clientId,
          instrumenter: this.#events,
        },
      );
    }
    return this.#producer;
  }

  #onClientError(error: KafkaError): void {
    this.#events.emit("error", () => ({ ...this.#base(), error, fatal: error.fatal }));
    if (error.fatal) {
      this.#fatal = error;
      this.#wake?.();
      log.error("Fatal Kafka client error: {error}", { error });
    }
  }

  #onStatistics(json: string): void {
    const wanted = typeof this.#consumer.statisticsCallback === "function" ||
      this.#events.listens("statistics");
    if (!wanted) return;
    let statistics: Record<string, unknown>;
    try {
      statistics = JSON.parse(json);
    } catch {
      return;
    }
    this.#events.emit("statistics", () => ({ ...this.#base(), statistics }));
    try {
      this.#consumer.statisticsCallback?.(statistics);
    } catch (error) {
      log.error("statisticsCallback failed: {error}", { error });
    }
  }

  #base() {
    return {
      clientId: this.#settings.clientId,
      groupId: this.#settings.groupId,
      consumerClass: this.#className,
    };
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

const BOUNDED = [
  "fetchMessages",
  "maxWaitTime",
  "concurrency",
  "maxPendingDeliveries",
  "maxPendingDeliveriesTotal",
  "shutdownTimeout",
] as const;

/** Guards for settings that bypassed the configuration (a `Runner` built in code). */
function validateSettings(
  settings:
    & RunnerSettings
    & Required<Pick<RunnerSettings, (typeof BOUNDED)[number] | "pauseTimeout">>,
  className: string,
): void {
  // The schema's bounds; the configuration already enforced them on what it loaded.
  for (const name of BOUNDED) {
    const value = settings[name];
    const min = SETTINGS[name].min;
    if (!(value >= min)) {
      throw new RangeError(
        `Cannot run ${className}: '${snakeCase(name)}' must be at least ${min}, got ${value}`,
      );
    }
  }
  if (settings.maxRetries !== undefined && settings.deadLetterTopic === undefined) {
    throw new RangeError(
      `Cannot run ${className}: 'max_retries' needs 'dead_letter_topic' (where failed messages go)`,
    );
  }
  if (settings.maxRetries !== undefined && settings.pauseTimeout <= 0) {
    throw new RangeError(
      `Cannot run ${className}: 'pause_timeout' ${settings.pauseTimeout} ` +
        (settings.pauseTimeout === 0
          ? "stops the consumer on the first error"
          : "pauses a failing partition until restart") +
        `, so 'max_retries' (${settings.maxRetries}) would never be reached and nothing ` +
        `dead-lettered; set a positive 'pause_timeout' or unset 'max_retries'`,
    );
  }
}

/** A message's fields in event payloads and error infos. */
function messageFields(message: Message) {
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    createTime: message.createTime,
    key: message.key,
    value: message.value,
    headers: message.headers,
    retriesCount: message.retriesCount,
  };
}

function describe(partitions: readonly TopicPartition[]): string {
  return partitions.map((tp) => topicPartitionKey(tp.topic, tp.partition)).join(", ") || "nothing";
}
