/**
 * Test your consumers without Kafka. The kit runs the real runner (the same
 * order, offset, retry and delivery rules as production) over an in-memory
 * broker, so a test feeds messages in and looks at what the consumer did and
 * produced.
 *
 * @example
 * ```ts
 * import { Consumer, type Message } from "./mod.ts";
 * import { testConsumer } from "./testing.ts";
 *
 * class UppercaseConsumer extends Consumer {
 *   static {
 *     this.subscribesTo("words");
 *   }
 *   override process(message: Message) {
 *     this.produce(message.text()!.toUpperCase(), { topic: "shouts", key: message.key });
 *   }
 * }
 *
 * const kit = await testConsumer(new UppercaseConsumer());
 * kit.send("words", "hello", { key: "k1" });
 * await kit.drain();
 * console.assert(kit.produced("shouts")[0]?.value === "HELLO");
 * await kit.stop();
 * ```
 *
 * @module
 */

import { classSettings, createRunner } from "./src/assembly.ts";
import { defaultConfig, type RacecarConfig } from "./src/config/mod.ts";
import type { Consumer, ConsumerClass } from "./src/consumer.ts";
import type { Header, RawMessage } from "./src/kafka/transport.ts";
import { createMemoryTransport, type MemoryTransport } from "./src/kafka/memory/mod.ts";
import { Message } from "./src/message.ts";
import { type Bytes, type HeadersInit, toBytes, toHeaders } from "./src/producer.ts";
import type { Runner } from "./src/runner.ts";

export {
  createMemoryTransport,
  type MemoryBroker,
  type MemoryTransport,
  type MemoryTransportOptions,
} from "./src/kafka/memory/mod.ts";

/** Fields of a {@link fakeMessage}; everything but the value has a default. */
export interface FakeMessageInit {
  /** @default "test-topic" */
  topic?: string;
  /** @default 0 */
  partition?: number;
  /** @default 0 */
  offset?: number;
  /** @default null */
  key?: Bytes | null;
  /** Headers. @default {} */
  headers?: HeadersInit;
  /** @default now */
  createTime?: Date;
  /** @default 0 */
  retriesCount?: number;
}

/**
 * A {@link Message} for calling `process` directly in a unit test.
 *
 * @example
 * ```ts
 * import { fakeMessage } from "./testing.ts";
 * const message = fakeMessage('{"id":1}', { topic: "orders", key: "o-1" });
 * console.assert(message.json<{ id: number }>().id === 1 && message.keyText === "o-1");
 * ```
 */
export function fakeMessage(value: Bytes | null, init: FakeMessageInit = {}): Message {
  const raw: RawMessage = {
    topic: init.topic ?? "test-topic",
    partition: init.partition ?? 0,
    offset: init.offset ?? 0,
    key: init.key === undefined || init.key === null ? null : toBytes(init.key),
    value: value === null ? null : toBytes(value),
    headers: toHeaders(init.headers),
    timestamp: (init.createTime ?? new Date()).getTime(),
    timestampType: "create",
  };
  return new Message(raw, init.retriesCount ?? 0);
}

/** A message the consumer under test produced, decoded for assertions. */
export interface ProducedMessage {
  topic: string;
  partition: number;
  offset: number;
  /** The key as text, or `null`. */
  key: string | null;
  /** The value as text, or `null`. */
  value: string | null;
  /** Headers decoded as text (last value wins). */
  headers: Record<string, string>;
  /** The raw message. */
  raw: RawMessage;
}

/** Options of {@link testConsumer}. */
export interface TestConsumerOptions {
  /**
   * Settings, as in `config/racecar.ts`; they win over the consumer class's
   * own (`static concurrency`, ...), which win over the kit's defaults. The
   * kit polls every 20 ms (`maxWaitTime: 0.02`) and by default does not retry
   * a processing error (`pauseTimeout: 0`): it stops the run and
   * {@link ConsumerTestKit.drain} rejects with it. Set `pauseTimeout`,
   * `maxRetries` and `deadLetterTopic` to test retries and dead letters.
   */
  settings?: Partial<RacecarConfig>;
  /** Partitions of each subscribed topic. @default 1 */
  partitions?: number;
  /** Bring your own in-memory transport (e.g. to share a broker). */
  transport?: MemoryTransport;
}

/** A running consumer over an in-memory broker. */
export interface ConsumerTestKit {
  /** The in-memory broker, for inspection and fault injection. */
  readonly transport: MemoryTransport;
  /** The runner (its `events` can be subscribed to). */
  readonly runner: Runner;
  /** Puts a message on a topic for the consumer to process. */
  send(
    topic: string,
    value: Bytes | null,
    options?: { key?: Bytes | null; partition?: number; headers?: HeadersInit },
  ): void;
  /**
   * Waits until every message sent so far was processed (or dead-lettered).
   * Rejects with the consumer's error if the run stopped, and after
   * `timeoutMs` with what is still pending.
   */
  drain(timeoutMs?: number): Promise<void>;
  /** What the consumer produced to `topic`, in order. */
  produced(topic: string): ProducedMessage[];
  /** Stops the runner (as SIGTERM would) and waits for the shutdown. */
  stop(): Promise<void>;
}

const decoder = new TextDecoder();

function decode(raw: RawMessage): ProducedMessage {
  const headers: Record<string, string> = {};
  for (const header of raw.headers as Header[]) {
    headers[header.key] = header.value === null ? "" : decoder.decode(header.value);
  }
  return {
    topic: raw.topic,
    partition: raw.partition,
    offset: raw.offset,
    key: raw.key === null ? null : decoder.decode(raw.key),
    value: raw.value === null ? null : decoder.decode(raw.value),
    headers,
    raw,
  };
}

/**
 * Starts `consumer` on an in-memory broker with the real runner, and resolves
 * once it was assigned its partitions. Remember to `await kit.stop()` at the
 * end of the test.
 */
export async function testConsumer(
  consumer: Consumer,
  options: TestConsumerOptions = {},
): Promise<ConsumerTestKit> {
  const transport = options.transport ?? createMemoryTransport();
  const ctor = consumer.constructor as ConsumerClass;
  for (const subscription of ctor.subscriptions) {
    if (!transport.broker.topics().includes(subscription.topic)) {
      transport.broker.createTopic(subscription.topic, options.partitions ?? 1);
    }
  }
  // Production's assembly, over the defaults with the kit's own for speed.
  const config: RacecarConfig = {
    ...defaultConfig(),
    clientId: "racecar-test",
    maxWaitTime: 0.02,
    pauseTimeout: 0,
    ...classSettings(ctor),
    ...options.settings,
  };
  const runner = await createRunner(consumer, config, { transport });

  // What was handled (processed or dead-lettered) per partition: with `keyConcurrency` a later
  // offset may be handled before an earlier one, so each offset counts.
  const handled = new Map<string, Set<number>>();
  const mark = (topic: string, partition: number, ...offsets: number[]) => {
    const key = `${topic}\u0000${partition}`;
    let set = handled.get(key);
    if (set === undefined) handled.set(key, set = new Set());
    for (const offset of offsets) set.add(offset);
  };
  runner.events.on("process_message", (e) => {
    if (e.error === undefined) mark(e.topic, e.partition, e.offset);
  });
  runner.events.on("process_batch", (e) => {
    if (e.error === undefined) {
      const offsets = [];
      for (let offset = e.firstOffset; offset <= e.lastOffset; offset++) offsets.push(offset);
      mark(e.topic, e.partition, ...offsets);
    }
  });
  runner.events.on("dead_letter", (e) => mark(e.topic, e.partition, ...e.offsets));

  let failure: unknown;
  let finished = false;
  const done = runner.run().then(
    () => void (finished = true),
    (error) => {
      failure = error;
      finished = true;
    },
  );
  const sent = new Map<string, number[]>();
  // Return once the consumer holds its partitions, so tests start from a known state.
  await Promise.race([
    new Promise<void>((resolve) => {
      if (runner.ready) resolve();
      else runner.events.on("ready", () => resolve());
    }),
    done.then(() => {
      if (failure !== undefined) throw failure;
    }),
  ]);

  return {
    transport,
    runner,
    send(topic, value, sendOptions = {}) {
      const report = transport.broker.append({
        topic,
        value: value === null ? null : toBytes(value),
        key: sendOptions.key === undefined || sendOptions.key === null
          ? null
          : toBytes(sendOptions.key),
        headers: toHeaders(sendOptions.headers),
        ...(sendOptions.partition === undefined ? {} : { partition: sendOptions.partition }),
      });
      const key = `${report.topic}\u0000${report.partition}`;
      const offsets = sent.get(key);
      if (offsets === undefined) sent.set(key, [report.offset]);
      else offsets.push(report.offset);
    },
    async drain(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (failure !== undefined) throw failure;
        const pending = [...sent].map(([key, offsets]) => {
          const done = handled.get(key);
          return [key, offsets.filter((offset) => !done?.has(offset))] as const;
        }).filter(([, offsets]) => offsets.length > 0);
        if (pending.length === 0) return;
        if (finished) {
          throw new Error("Cannot drain: the consumer stopped with messages still unprocessed");
        }
        if (Date.now() > deadline) {
          throw new Error(
            `Cannot drain within ${timeoutMs} ms: still waiting for ${
              pending.map(([key, offsets]) =>
                `${key.replace("\u0000", "/")} up to ${offsets.at(-1)}`
              )
                .join(", ")
            }`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    produced(topic) {
      return transport.broker.topics().includes(topic)
        ? transport.broker.messages(topic).map(decode)
        : [];
    },
    async stop() {
      runner.stop();
      await done;
    },
  };
}
