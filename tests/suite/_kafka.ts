/**
 * Helpers shared by the runtime-neutral scenarios: topics, producing, waiting.
 * No `Deno.*` or `process.*` here either.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ConsumerOptions, ConsumerTransport } from "../../src/kafka/transport.ts";
import type { RacecarProcess, SuiteContext } from "./_suite.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A UTF-8 string of bytes, or `null`. */
export function text(value: Uint8Array | null): string | null {
  return value === null ? null : decoder.decode(value);
}

/** Creates a topic for the scenario and deletes it afterwards. */
export async function newTopic(
  ctx: SuiteContext,
  partitions: number,
  prefix = "racecar-test",
): Promise<string> {
  const topic = ctx.uniqueName(prefix);
  const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
  ctx.defer(async () => {
    await admin.deleteTopics([topic], 10_000).catch(() => {});
    await admin.close();
  });
  await admin.createTopics([{ name: topic, partitions, replicationFactor: 1 }], 10_000);
  return topic;
}

/** Produces `count` messages (`m<i>`, key `k<i>`) round-robin over `partitions`. */
export async function produceMessages(
  ctx: SuiteContext,
  topic: string,
  count: number,
  partitions = 1,
  from = 0,
): Promise<void> {
  const producer = ctx.transport.createProducer({
    config: { "bootstrap.servers": ctx.brokers, "linger.ms": "5" },
  });
  try {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        producer.produce({
          topic,
          partition: (from + i) % partitions,
          key: bytes(`k${from + i}`),
          value: bytes(`m${from + i}`),
        })),
    );
  } finally {
    await producer.close(10_000);
  }
}

/** librdkafka consumer properties for a test group with short timeouts. */
export function testConsumerConfig(
  ctx: SuiteContext,
  group: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    "bootstrap.servers": ctx.brokers,
    "group.id": group,
    "auto.offset.reset": "earliest",
    "session.timeout.ms": "10000",
    "heartbeat.interval.ms": "500",
    ...extra,
  };
}

/** A consumer closed when the scenario ends. */
export function newConsumer(ctx: SuiteContext, options: ConsumerOptions): ConsumerTransport {
  const consumer = ctx.transport.createConsumer(options);
  ctx.defer(() => consumer.close());
  return consumer;
}

/** Waits until `condition()` holds, polling every `everyMs`; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 50));
  }
}

/** The group's committed offsets (next offset to consume) per partition. */
export async function committedOffsets(
  ctx: SuiteContext,
  group: string,
  topic: string,
  partitions: number,
): Promise<number[]> {
  const reader = ctx.transport.createConsumer({ config: testConsumerConfig(ctx, group) });
  try {
    const offsets = await reader.committed(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
      10_000,
    );
    return offsets.sort((a, b) => a.partition - b.partition).map((o) => o.offset);
  } finally {
    await reader.close();
  }
}

/** SIGKILLs `child` when the scenario cleans up, unless it has exited by then. */
export function killAtCleanup(ctx: SuiteContext, child: RacecarProcess): void {
  let ended = false;
  child.exited.then(() => ended = true);
  ctx.defer(async () => {
    if (!ended) {
      child.kill("SIGKILL");
      await child.exited;
    }
  });
}
