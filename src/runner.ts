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
 * @module
 */

import { SETTINGS, snakeCase } from "./config/schema.ts";
import { bindContext, type Consumer } from "./consumer.ts";
import { DeliveryScope } from "./delivery.ts";
import { type ErrorInfo, KafkaError, RacecarError } from "./errors.ts";
import { Instrumenter } from "./events.ts";
import type {
  ConfigMap,
  ConsumerTransport,
  RawMessage,
  RebalanceEvent,
  TopicPartition,
  Transport,
} from "./kafka/transport.ts";
import { forwardClientLog, logger } from "./logger.ts";
import { installLogSubscriber } from "./log_subscriber.ts";
import { Message } from "./message.ts";
import { Pause } from "./pause.ts";
import {
  type Bytes,
  type ProduceOptions,
  Producer,
  type ProducerSettings,
  toBytes,
} from "./producer.ts";

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
}

const log = logger("runner");
const MAX_POLL_TRIES = 10;
/** The loop turns (and emits `start_main_loop`) at least this often, ms. */
const LOOP_TURN_MS = 1000;
/** Wait before trying again a seek back that failed at the end of a pause, ms. */
const SEEK_RETRY_MS = 100;

function key(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
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
  #kafka: ConsumerTransport | undefined;
  #producer: Producer | undefined;
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
      synchronousCommits: s.synchronousCommits ?? SETTINGS.synchronousCommits.default,
      revokeTimeout: s.revokeTimeout ?? SETTINGS.revokeTimeout.default,
      shutdownTimeout: s.shutdownTimeout ?? SETTINGS.shutdownTimeout.default,
      logSummaryInterval: s.logSummaryInterval ?? SETTINGS.logSummaryInterval.default,
    };
    validateSettings(this.#settings, this.#className);
    if (
      typeof this.#consumer.process !== "function" &&
      typeof this.#consumer.processBatch !== "function"
    ) {
      throw new RacecarError(
        "NO_PROCESS_METHOD",
        `Cannot run ${this.#className}: implement process(message) or processBatch(messages)`,
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
      if (messages.length > 0) await this.#processAll(messages);
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

  /** Splits a batch by partition and processes each, `concurrency` at a time. */
  async #processAll(messages: RawMessage[]): Promise<void> {
    const groups = new Map<string, RawMessage[]>();
    for (const message of messages) {
      const k = key(message);
      let group = groups.get(k);
      if (group === undefined) groups.set(k, group = []);
      group.push(message);
    }
    const queue = [...groups.entries()];
    const lanes = Math.max(1, Math.min(this.#settings.concurrency, queue.length));
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const [k, group] = next;
        const state = this.#partitions.get(k);
        if (state === undefined || state.revoked || state.pause.paused) continue;
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
    // Offsets are stored once per run of a partition's messages, not per message:
    // storing is local and cheap to delay, and the commit happens later anyway.
    let done: number | undefined;
    try {
      for (const message of raw) {
        if (state.revoked || this.#fatal !== undefined) return;
        if (!(await this.#processOne(state, message))) return;
        done = message.offset;
      }
    } finally {
      if (done !== undefined) this.#store(state, done + 1);
    }
  }

  /** Processes one message; returns false when the partition must stop for now. */
  async #processOne(state: PartitionState, raw: RawMessage): Promise<boolean> {
    const message = new Message(raw, state.pause.pausesCount);
    const fields = () => ({
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      createTime: message.createTime,
      key: message.key,
      value: message.value,
      headers: message.headers,
      retriesCount: message.retriesCount,
    });
    const payload = () => ({ ...this.#base(), ...fields() });
    this.#events.emit("start_process_message", payload);
    try {
      await this.#events.instrument(
        "process_message",
        payload,
        () => this.#processInScope(() => this.#consumer.process!(message)),
      );
    } catch (error) {
      // Dead-lettered: the partition moves on; otherwise it waits for the retry.
      return (await this.#failed(state, [raw], error, {
        consumerClass: this.#className,
        ...fields(),
      })) === "skipped";
    }
    state.pause.reset();
    state.deadLettersInARow = 0;
    return true;
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
    try {
      await this.#events.instrument(
        "process_batch",
        payload,
        () => this.#processInScope(() => this.#consumer.processBatch!(messages)),
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
    this.#succeeded(state, last.offset);
  }

  /**
   * Runs one processing call in its own delivery scope and waits for what it
   * produced, so a failed delivery fails the work before its offset is stored.
   */
  async #processInScope(work: () => void | Promise<void>): Promise<void> {
    const scope = new DeliveryScope();
    await scope.run(work);
    await this.#deliver(scope);
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

  #succeeded(state: PartitionState, offset: number): void {
    state.pause.reset();
    state.deadLettersInARow = 0;
    this.#store(state, offset + 1);
  }

  /**
   * Stores `next` (the next offset to consume) for a partition: the one place
   * offsets are stored. Work that finishes while a revoke waits for it is
   * stored, and the revoke's commit includes it. Once that commit started, or
   * when the assignment was lost, nothing more is stored: a later store would
   * be committed on behalf of the partition's next owner (racecar #198).
   */
  #store(state: PartitionState, next: number): void {
    if (state.closed || this.#abandoned) return;
    this.#kafka!.storeOffsets([{ ...state.tp, offset: next }]);
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
    const where = `${state.tp.topic}/${state.tp.partition} at ${
      raw.length === 1 ? first.offset : `${first.offset}..${last.offset}`
    }`;
    log.error("Failed to process {where}: {error}", { where, error });
    if (state.revoked) return "retry";

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
    const seconds = state.pause.backoffInterval();
    state.pause.pause(this.#clock());
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
          `${state.tp.topic}/${state.tp.partition} went to dead-letter topic "${topic}" and the ` +
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
    this.#store(state, raw[raw.length - 1]!.offset + 1);
  }

  async #resumeExpiredPauses(): Promise<void> {
    const now = this.#clock();
    for (const state of this.#partitions.values()) {
      if (!state.pause.paused) continue;
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
    const pending = states.map((s) => s.inFlight).filter((p) => p !== undefined);
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
      this.#producer = new Producer(
        this.#transport.createProducer({
          config: this.#producerConfig,
          onError: (error) => this.#onClientError(error),
          onLog: (entry) => forwardClientLog(entry),
        }),
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

const BOUNDED = ["fetchMessages", "maxWaitTime", "concurrency", "shutdownTimeout"] as const;

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

function describe(partitions: readonly TopicPartition[]): string {
  return partitions.map((tp) => `${tp.topic}/${tp.partition}`).join(", ") || "nothing";
}
