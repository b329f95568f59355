/**
 * Logs operators can use, built from a runner's events (the runner itself
 * only emits them):
 *
 * - Kafka connectivity: the first sign that no broker is reachable is logged
 *   once with its cause, then one summary line every `summaryIntervalSeconds`
 *   while it lasts ("No broker reachable for 60 s: 127.0.0.1:1: connection
 *   refused"), and one line when Kafka answers again. No stacks: these are
 *   expected conditions that librdkafka retries by itself.
 * - A subscribed topic that does not exist: logged, then repeated at the same
 *   low rate until it is assigned, saying whether the consumer lets the broker
 *   create it.
 * - At `debug`, one line per partition and batch (offsets, count, time); at
 *   `trace`, one per message. Decided when the consumer joins its group (the
 *   application configures logging before), so no payload is built otherwise.
 *
 * @example
 * ```ts
 * import { Instrumenter } from "./events.ts";
 * import { installLogSubscriber } from "./log_subscriber.ts";
 * const events = new Instrumenter();
 * const off = installLogSubscriber(events, { summaryIntervalSeconds: 60 });
 * console.assert(events.listens("error"));
 * off();
 * console.assert(!events.listens("error"));
 * ```
 *
 * @module
 */

import { topicPartitionKey } from "./_topic_partition.ts";
import { unrefInterval } from "./_runtime.ts";
import { ErrorCode, KafkaError } from "./errors.ts";
import type { BasePayload, Instrumenter } from "./events.ts";
import { logger } from "./logger.ts";

/** Options of {@link installLogSubscriber}. */
export interface LogSubscriberOptions {
  /** How often a lasting problem is logged again, in seconds. @default 60 */
  summaryIntervalSeconds?: number;
  /** Whether the consumer asks the broker to create missing topics (`allow.auto.create.topics`). @default false */
  autoCreateTopics?: boolean;
  /** The bootstrap servers, named when librdkafka's message does not say which broker failed. */
  brokers?: string;
  /** The clock, in ms since the epoch. @default Date.now */
  clock?: () => number;
}

/** No connection error for this long (or a summary interval, if longer) ends an outage. */
const QUIET_MS = 30_000;
const CONNECTIVITY = new Set<number>([
  ErrorCode.TRANSPORT,
  ErrorCode.ALL_BROKERS_DOWN,
  ErrorCode.RESOLVE,
]);

const kafkaLog = logger("kafka");
const processingLog = logger("processing");

/**
 * The short cause of a librdkafka connection error: `127.0.0.1:1: connection
 * refused` from `127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed:
 * Connection refused (after 0ms in state CONNECT, 1 identical error(s) suppressed)`.
 *
 * @example
 * ```ts
 * import { connectionCause } from "./log_subscriber.ts";
 * console.assert(
 *   connectionCause("127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: " +
 *     "Connection refused (after 0ms in state CONNECT)") === "127.0.0.1:1: connection refused",
 * );
 * ```
 */
export function connectionCause(text: string): string {
  const match = /^([^/\s]+)\/\S*: (?:Connect to \S+ failed: )?(.*?)(?: \(after .*\))?$/.exec(
    text,
  );
  if (match === null) return text;
  const reason = match[2]!;
  return `${match[1]}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`;
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}

/** Subscribes the logging to `events`; returns a function that unsubscribes. */
export function installLogSubscriber(
  events: Instrumenter,
  options: LogSubscriberOptions = {},
): () => void {
  const intervalMs = (options.summaryIntervalSeconds ?? 60) * 1000;
  if (!(intervalMs > 0)) {
    throw new RangeError(
      `Cannot log Kafka problems: summaryIntervalSeconds is ${options.summaryIntervalSeconds}, ` +
        `expected seconds above 0`,
    );
  }
  const clock = options.clock ?? Date.now;
  // node-rdkafka passes only the code's text ("Local: Broker transport failure"): name the brokers.
  const cause = (text: string) => {
    const short = connectionCause(text);
    if (short !== text || options.brokers === undefined) return short;
    const reason = text.slice(text.lastIndexOf(": ") + 1).trim();
    return `${options.brokers}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`;
  };
  // While a problem lasts, a timer makes sure summaries come even when no event does.
  let stopTimer: (() => void) | undefined;
  const watch = () => {
    const problem = downSince !== undefined || missing.size > 0;
    if (problem && stopTimer === undefined) {
      stopTimer = unrefInterval(tick, Math.min(intervalMs, 1000));
    }
    if (!problem && stopTimer !== undefined) {
      stopTimer();
      stopTimer = undefined;
    }
  };
  // Topics subscribed to and topics with partitions assigned, for messages that name no topic.
  let subscribed: readonly string[] = [];
  const assignedTopics = new Set<string>();
  const hint = topicHint(options.autoCreateTopics ?? false);

  // Connectivity: the last cause seen, and since when no broker is reachable.
  let lastCause: string | undefined;
  let downSince: number | undefined;
  let lastErrorAt = 0;
  let lastSummaryAt = 0;
  // Missing topics and when each was last logged.
  const missing = new Map<string, { since: number; loggedAt: number }>();

  function up(): void {
    if (downSince !== undefined) {
      kafkaLog.info("Kafka is reachable again after {seconds} s", {
        seconds: seconds(clock() - downSince),
      });
    }
    downSince = undefined;
    watch();
  }

  function tick(): void {
    tickOnce();
    watch();
  }

  function tickOnce(): void {
    const now = clock();
    if (downSince !== undefined && now - lastSummaryAt >= intervalMs) {
      if (now - lastErrorAt >= Math.max(intervalMs, QUIET_MS)) {
        // Every failed attempt is reported (librdkafka backs off to 10 s at most, node-rdkafka
        // retries every 11 s), so a longer quiet spell means a connection was made.
        kafkaLog.info("No Kafka connection errors for {seconds} s", {
          seconds: seconds(now - lastErrorAt),
        });
        downSince = undefined;
      } else {
        lastSummaryAt = now;
        kafkaLog.warn("No broker reachable for {seconds} s: {cause}", {
          seconds: seconds(now - downSince),
          cause: lastCause ?? "unknown cause",
        });
      }
    }
    for (const [topic, state] of missing) {
      if (now - state.loggedAt < intervalMs) continue;
      state.loggedAt = now;
      kafkaLog.warn(`Subscribed topic {topic} still does not exist after {seconds} s${hint}`, {
        topic,
        seconds: seconds(now - state.since),
      });
    }
  }

  function onError(payload: BasePayload & { error: unknown; fatal: boolean }): void {
    const error = payload.error;
    if (!(error instanceof KafkaError) || error.fatal) return;
    const now = clock();
    if (CONNECTIVITY.has(error.errno)) {
      lastErrorAt = now;
      if (error.errno !== ErrorCode.ALL_BROKERS_DOWN) lastCause = cause(error.message);
      if (downSince === undefined && error.errno === ErrorCode.ALL_BROKERS_DOWN) {
        downSince = now;
        lastSummaryAt = now;
        kafkaLog.warn(
          "No broker reachable: {cause}; librdkafka keeps retrying, a summary follows every {interval} s",
          { cause: lastCause ?? error.message, interval: seconds(intervalMs) },
        );
      } else if (downSince === undefined) {
        // One broker of several went away (or closed an idle connection): not an outage.
        kafkaLog.debug("Kafka connection error: {cause}", {
          cause: lastCause ?? cause(error.message),
        });
      }
      return tick();
    }
    if (error.errno === ErrorCode.UNKNOWN_TOPIC_OR_PART) {
      const named = /Subscribed topic not available: (.+?): /.exec(error.message)?.[1];
      // Without a name (node-rdkafka): the subscribed topics that have no partition yet.
      const topics = named !== undefined
        ? [named]
        : subscribed.filter((topic) => !assignedTopics.has(topic));
      if (topics.length > 0) {
        for (const topic of topics) {
          if (missing.has(topic)) continue;
          missing.set(topic, { since: now, loggedAt: now });
          kafkaLog.warn(`Subscribed topic {topic} does not exist${hint}`, { topic });
        }
        watch();
        return tick();
      }
    }
    kafkaLog.warn("Kafka client error: {code}: {message}", {
      code: error.code,
      message: error.message,
    });
  }

  let joined = false;
  const offs = [
    events.on("error", onError),
    events.on("main_loop", (payload) => {
      if (payload.messageCount > 0) up();
      tick();
    }),
    events.on("partitions_assigned", (payload) => {
      up();
      for (const tp of payload.partitions) {
        missing.delete(tp.topic);
        assignedTopics.add(tp.topic);
      }
      watch();
    }),
    events.on("acknowledged_message", up),
    events.on("join_group", (payload) => {
      subscribed = payload.topics;
      if (!joined) offs.push(...processingLines(events));
      joined = true;
    }),
    events.on("shut_down", () => {
      stopTimer?.();
      stopTimer = undefined;
    }),
  ];
  return () => {
    stopTimer?.();
    stopTimer = undefined;
    for (const off of offs.splice(0)) off();
  };
}

/** What to do about a missing topic; literal text (no braces) inside a log template. */
function topicHint(autoCreate: boolean): string {
  return autoCreate
    ? "; allow.auto.create.topics is true but the broker did not create it (its " +
      "auto.create.topics.enable is probably false): create the topic"
    : "; consumers do not ask the broker to create topics (allow.auto.create.topics is false): " +
      "create the topic, e.g. racecarctl create_topic <topic>";
}

/** The per-batch (debug) and per-message (trace) lines, when those levels are on. */
function processingLines(events: Instrumenter): (() => void)[] {
  const offs: (() => void)[] = [];
  if (!processingLog.isEnabledFor("debug")) return offs;
  const trace = processingLog.isEnabledFor("trace");
  offs.push(events.on("process_batch", (p) => {
    processingLog.debug(
      "Processed batch {topic}/{partition} offsets {firstOffset}..{lastOffset} " +
        "({messageCount} messages) in {ms} ms{failed}",
      { ...p, ms: p.durationMs.toFixed(1), failed: p.error === undefined ? "" : " (failed)" },
    );
  }));
  // process() consumers: one line per partition and poll, from the messages processed.
  const batches = new Map<string, {
    topic: string;
    partition: number;
    first: number;
    last: number;
    count: number;
    ms: number;
    failed: number;
  }>();
  offs.push(events.on("process_message", (p) => {
    if (trace) {
      processingLog.trace("Processed {topic}/{partition}@{offset} in {ms} ms{failed}", {
        ...p,
        ms: p.durationMs.toFixed(1),
        failed: p.error === undefined ? "" : " (failed)",
      });
    }
    const key = topicPartitionKey(p.topic, p.partition);
    const batch = batches.get(key);
    const failed = p.error === undefined ? 0 : 1;
    if (batch === undefined) {
      batches.set(key, {
        topic: p.topic,
        partition: p.partition,
        first: p.offset,
        last: p.offset,
        count: 1,
        ms: p.durationMs,
        failed,
      });
    } else {
      batch.first = Math.min(batch.first, p.offset);
      batch.last = Math.max(batch.last, p.offset);
      batch.count += 1;
      batch.ms += p.durationMs;
      batch.failed += failed;
    }
  }));
  offs.push(events.on("main_loop", () => {
    for (const b of batches.values()) {
      processingLog.debug(
        "Processed {topic}/{partition} offsets {first}..{last} ({count} messages) in {ms} ms{failed}",
        { ...b, ms: b.ms.toFixed(1), failed: b.failed === 0 ? "" : ` (${b.failed} failed)` },
      );
    }
    batches.clear();
  }));
  return offs;
}
