/**
 * Exactly-once consume-process-produce (`transactional: true`): the runner
 * processes each polled batch inside one Kafka transaction of its producer.
 * What the consumer produced (`produce`, dead letters) and the offsets of the
 * messages it finished are committed together, or not at all.
 *
 * The runner calls this module at a few points: {@link Transactions.begin}
 * before a batch, {@link Transactions.touch} as each partition starts,
 * {@link Transactions.record} instead of storing an offset,
 * {@link Transactions.doom} when processing fails, and
 * {@link Transactions.end} after the batch. `end` commits, or aborts and
 * returns where each partition of the batch must go back to: its position
 * when the transaction began, i.e. its last committed offset. Offsets never go
 * through the consumer's own store or commit.
 *
 * What to do after a failed transactional call comes from the error's flags
 * (see {@link nextStep}): abort and do the batch again, call again, or crash
 * (a fatal error, e.g. a newer worker with the same `transactional.id` fenced
 * this one).
 *
 * @module
 */

import { ConfigError, KafkaError, RacecarError } from "./errors.ts";
import type {
  ConsumerTransport,
  ProducerTransport,
  TopicPartition,
  TopicPartitionOffset,
  Transport,
} from "./kafka/transport.ts";
import { logger } from "./logger.ts";

const log = logger("transaction");

/** How long one call to the transaction coordinator may take, ms. */
export const TRANSACTION_CALL_TIMEOUT_MS = 30_000;
/** How often a call that failed with a retriable error is made again. */
export const TRANSACTION_CALL_TRIES = 5;

/** What to do after a transactional call failed. */
export type NextStep = "abort" | "retry" | "crash";

/**
 * The step after a failed transactional call, from librdkafka's flags: a
 * fatal error ends the producer (crash; the restarted worker fences nothing
 * but starts clean), an abortable one aborts the transaction, a retriable one
 * calls again; anything else crashes.
 *
 * @example
 * ```ts
 * import { KafkaError } from "./errors.ts";
 * import { nextStep } from "./transaction.ts";
 * const fenced = new KafkaError(-144, "ERR__FENCED", "fenced", { fatal: true });
 * console.assert(nextStep(fenced) === "crash");
 * const abortable = new KafkaError(-152, "ERR__PURGE_QUEUE", "x", { txnRequiresAbort: true });
 * console.assert(nextStep(abortable) === "abort");
 * console.assert(nextStep(new KafkaError(-185, "ERR__TIMED_OUT", "timed out")) === "retry");
 * ```
 */
export function nextStep(error: unknown): NextStep {
  if (!(error instanceof KafkaError)) return "crash";
  if (error.fatal) return "crash";
  if (error.txnRequiresAbort) return "abort";
  return error.retriable ? "retry" : "crash";
}

/**
 * Throws a `ConfigError` when `transport` cannot run a consumer
 * transactionally, naming the class and what to do instead.
 */
export function assertTransactions(transport: Transport, className: string): void {
  if (transport.features.transactions === true) return;
  const kit = transport.name === "memory"
    ? " (with the testing kit: testConsumer(consumer, { settings: { transactional: false } }))"
    : "";
  throw new ConfigError(
    `Cannot run ${className} with 'transactional' enabled: the ${transport.name} transport ` +
      `has no Kafka transactions; run it on librdkafka (the deno-ffi, koffi or node-rdkafka ` +
      `transport), or unset 'transactional'${kit}`,
    { key: "transactional" },
  );
}

function key(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

/** The transaction state of one runner: at most one transaction open at a time. */
export class Transactions {
  readonly #producer: ProducerTransport;
  readonly #consumer: ConsumerTransport;
  readonly #timeoutMs: number;
  /** Where each partition processed in the open transaction started. */
  readonly #starts = new Map<string, TopicPartitionOffset>();
  /** The next offset to commit per partition, sent with the commit. */
  readonly #offsets = new Map<string, TopicPartitionOffset>();
  #open = false;
  #doomed: unknown = undefined;
  #isDoomed = false;
  #ended: Promise<void> = Promise.resolve();
  #endOpen: () => void = () => {};

  /** Over the runner's producer (with a `transactional.id`) and consumer. */
  constructor(
    producer: ProducerTransport,
    consumer: ConsumerTransport,
    options: { timeoutMs?: number } = {},
  ) {
    this.#producer = producer;
    this.#consumer = consumer;
    this.#timeoutMs = options.timeoutMs ?? TRANSACTION_CALL_TIMEOUT_MS;
  }

  /** Whether a transaction is open. */
  get open(): boolean {
    return this.#open;
  }

  /** Registers the `transactional.id`, fencing the zombie of an earlier run of this worker. */
  async init(): Promise<void> {
    await this.#call(
      "initialize transactions",
      () => this.#producer.initTransactions!(this.#timeoutMs),
    );
  }

  /** Opens a transaction for the next batch. */
  async begin(): Promise<void> {
    if (this.#open) throw new TypeError("Cannot begin a transaction: one is open already");
    this.#starts.clear();
    this.#offsets.clear();
    this.#doomed = undefined;
    this.#isDoomed = false;
    await this.#producer.beginTransaction!();
    this.#open = true;
    this.#ended = new Promise((resolve) => this.#endOpen = resolve);
  }

  /**
   * A partition's processing starts in this transaction at `offset`: if the
   * transaction aborts, the partition goes back there. The first call per
   * partition counts.
   */
  touch(tp: TopicPartition, offset: number): void {
    const k = key(tp);
    if (!this.#starts.has(k)) {
      this.#starts.set(k, { topic: tp.topic, partition: tp.partition, offset });
    }
  }

  /** The next offset to consume of a partition whose work finished in this transaction. */
  record(position: TopicPartitionOffset): void {
    this.#offsets.set(key(position), { ...position });
  }

  /** Processing failed in this transaction: it will abort, whatever else succeeds. */
  doom(reason: unknown): void {
    if (this.#isDoomed) return;
    this.#isDoomed = true;
    this.#doomed = reason;
  }

  /** Whether the open transaction will abort. */
  get doomed(): boolean {
    return this.#isDoomed;
  }

  /** Resolves once no transaction is open (the one open now committed or aborted). */
  settled(): Promise<void> {
    return this.#open ? this.#ended : Promise.resolve();
  }

  /**
   * Ends the open transaction: commits its messages and offsets, or, when it
   * was doomed or the commit needs an abort, aborts it. Resolves with the
   * positions to go back to (empty after a commit). Rejects when the producer
   * cannot go on (a fatal error, or retries ran out): the caller crashes, and
   * the restarted worker's `init` aborts what is left open.
   */
  async end(): Promise<TopicPartitionOffset[]> {
    if (!this.#open) return [];
    try {
      if (!this.#isDoomed) {
        try {
          await this.#commit();
          return [];
        } catch (error) {
          if (nextStep(error) !== "abort") throw error;
          this.doom(error);
        }
      }
      log.warn("Aborting the transaction: {error}", { error: this.#doomed });
      await this.#call(
        "abort the transaction",
        () => this.#producer.abortTransaction!(this.#timeoutMs),
      );
      return [...this.#starts.values()];
    } finally {
      this.#open = false;
      this.#endOpen();
    }
  }

  async #commit(): Promise<void> {
    const offsets = [...this.#offsets.values()];
    if (offsets.length > 0) {
      // Taken now, so the broker checks the generation the work was done in.
      const metadata = this.#consumer.groupMetadata!();
      await this.#call(
        "send offsets to the transaction",
        () => this.#producer.sendOffsetsToTransaction!(offsets, metadata, this.#timeoutMs),
      );
    }
    await this.#call(
      "commit the transaction",
      () => this.#producer.commitTransaction!(this.#timeoutMs),
    );
  }

  /** Makes a call, again while it fails with a retriable error. */
  async #call(action: string, call: () => Promise<void>): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        return await call();
      } catch (error) {
        const step = nextStep(error);
        if (step === "retry" && attempt < TRANSACTION_CALL_TRIES) {
          log.warn("Cannot {action} (try {attempt}/{tries}), trying again: {error}", {
            action,
            attempt,
            tries: TRANSACTION_CALL_TRIES,
            error,
          });
          continue;
        }
        if (step === "abort") throw error;
        throw new RacecarError(
          error instanceof KafkaError ? error.code : "ERR__FAIL",
          `Cannot ${action}: ${error instanceof Error ? error.message : String(error)}` +
            (error instanceof KafkaError && error.fatal
              ? " (fatal: the producer cannot go on; a restart aborts the open transaction)"
              : ""),
          { cause: error },
        );
      }
    }
  }
}
