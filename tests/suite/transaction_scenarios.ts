/**
 * Exactly-once scenarios on the real broker, for every adapter with
 * transactions: the port's transactional producing (committed output is seen
 * by read_committed readers with its offsets, aborted output never), and the
 * real `racecar` command running a `transactional` echo consumer that is
 * killed with SIGKILL at random points and restarted, with and without
 * injected processing errors: the output, read with read_committed, holds
 * every input exactly once.
 *
 * Runtime-neutral: `node:child_process` works in Deno and Node alike.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ConsumerTransport } from "../../src/kafka/transport.ts";
import {
  bytes,
  committedOffsets,
  killAtCleanup,
  newConsumer,
  newTopic,
  produceMessages,
  testConsumerConfig,
  text,
  waitFor,
} from "./_kafka.ts";
import type { RacecarProcess, Scenario, SuiteContext } from "./_suite.ts";

const PARTITIONS = 3;
const MESSAGES = 20_000;

/** Reads a topic with read_committed and counts what it sees, duplicates included. */
class CommittedReader {
  readonly inputs = new Set<string>();
  count = 0;
  readonly #reader: ConsumerTransport;

  constructor(ctx: SuiteContext, topic: string, isolation = "read_committed") {
    this.#reader = newConsumer(ctx, {
      config: testConsumerConfig(ctx, ctx.uniqueName("racecar-eos-reader"), {
        "isolation.level": isolation,
      }),
    });
    this.#reader.subscribe([topic]);
  }

  /** Reads what arrived within `timeoutMs`; resolves with how many messages. */
  async poll(timeoutMs = 100): Promise<number> {
    const messages = await this.#reader.consume(1_000, timeoutMs);
    for (const message of messages) {
      this.inputs.add(text(message.value)!);
      this.count += 1;
    }
    return messages.length;
  }

  /**
   * Reads until nothing new came for `quietMs`. A read_committed reader cannot
   * compare its position with the high watermark (transaction markers sit at
   * the end), so it reads until the committed log stays quiet.
   */
  async drain(quietMs = 2_000): Promise<void> {
    let quietSince = Date.now();
    while (Date.now() - quietSince < quietMs) {
      if ((await this.poll(200)) > 0) quietSince = Date.now();
    }
  }
}

/**
 * Runs the transactional echo consumer over 20,000 inputs, killing it with
 * SIGKILL `kills` times at random points and restarting it, with `process` and
 * `processBatch` in turn; the last run ends with SIGTERM once every input's
 * output was committed. `env` goes to the fixture (e.g. `FIXTURE_FAIL_EVERY`).
 * With `steady`, a second member (its own `transactional_id`) runs throughout,
 * so each restart revokes partitions from a member with a transaction open.
 */
async function killAndRestart(
  ctx: SuiteContext,
  kills: number,
  env: Record<string, string>,
  options: { steady?: boolean } = {},
): Promise<void> {
  const racecar = ctx.racecar;
  assert.ok(racecar !== undefined, "this scenario needs ctx.racecar");
  const input = await newTopic(ctx, PARTITIONS, "racecar-eos-in");
  const output = await newTopic(ctx, PARTITIONS, "racecar-eos-out");
  const group = ctx.uniqueName("racecar-eos");
  await produceMessages(ctx, input, MESSAGES, PARTITIONS);
  const reader = new CommittedReader(ctx, output);
  const start = (round: number, extra: Record<string, string>): RacecarProcess => {
    const child = racecar.start([
      racecar.fixture("transactional_echo_consumer"),
      "--group-id",
      group,
      "--max-wait-time",
      "0.2",
      "--fetch-messages",
      "500",
      "--pause-timeout",
      "0.1",
      // A killed member holds its partitions until its session times out.
      "--session-timeout",
      "3",
      "--heartbeat-interval",
      "0.5",
    ], {
      RACECAR_BROKERS: ctx.brokers,
      FIXTURE_TOPIC: input,
      FIXTURE_OUTPUT: output,
      // Runs alternate between process and processBatch: both commit the same way.
      FIXTURE_BATCH: round % 2 === 1 ? "1" : "0",
      ...env,
      ...extra,
    });
    killAtCleanup(ctx, child);
    return child;
  };
  const steady = options.steady
    ? start(0, { RACECAR_TRANSACTIONAL_ID: `${group}-steady` })
    : undefined;

  for (let round = 0; round <= kills; round++) {
    const last = round === kills;
    const child = start(round, {});
    // Kill after a random number of newly committed outputs; the last run goes to the end.
    const target = reader.count + 1_000 + Math.floor(Math.random() * 4_000);
    try {
      await waitFor(
        async () => {
          await reader.poll();
          return last ? reader.inputs.size >= MESSAGES : reader.count >= target;
        },
        last ? "every input's output was committed" : `${target} outputs were committed`,
        { timeoutMs: 90_000, everyMs: 5 },
      );
    } finally {
      child.kill(last ? "SIGTERM" : "SIGKILL");
    }
    const code: number | null = await child.exited;
    if (last) assert.equal(code, 0, "a SIGTERM stop exits cleanly");
    if (last && steady !== undefined) {
      steady.kill("SIGTERM");
      assert.equal(await steady.exited, 0, "the steady member stops cleanly");
    }
    assert.equal(
      reader.count,
      reader.inputs.size,
      `round ${round}: ${reader.count - reader.inputs.size} outputs were committed twice`,
    );
  }
  await reader.drain();
  assert.equal(reader.inputs.size, MESSAGES, "every input's output was committed");
  assert.equal(reader.count, MESSAGES, "no output was committed twice");
  // produceMessages spreads the inputs round-robin; the offsets went with the transactions.
  assert.deepEqual(
    await committedOffsets(ctx, group, input, PARTITIONS),
    Array.from({ length: PARTITIONS }, (_, p) => Math.ceil((MESSAGES - p) / PARTITIONS)),
    "the group's offsets were committed with the last transaction",
  );
  console.log(`  ${kills} kills: ${reader.count} outputs for ${MESSAGES} inputs, no duplicates`);
}

/** The scenarios, in the order they run. */
export const transactionScenarios: Scenario[] = [
  {
    name: "ProducerTransport transactions commit output with the group's offsets and hide " +
      "aborted output from read_committed readers",
    async fn(ctx) {
      assert.equal(ctx.transport.features.transactions, true, "the adapter has transactions");
      const input = await newTopic(ctx, 1, "racecar-txn-in");
      const output = await newTopic(ctx, 1, "racecar-txn-out");
      const group = ctx.uniqueName("racecar-txn");
      await produceMessages(ctx, input, 1, 1);
      const consumer = newConsumer(ctx, { config: testConsumerConfig(ctx, group) });
      consumer.subscribe([input]);
      await waitFor(async () => (await consumer.consume(10, 200)).length > 0, "the input arrived");
      const producer = ctx.transport.createProducer({
        config: { "bootstrap.servers": ctx.brokers, "transactional.id": ctx.uniqueName("txn") },
      });
      ctx.defer(() => producer.close(10_000));
      await producer.initTransactions!(30_000);

      await producer.beginTransaction!();
      await producer.produce({ topic: output, value: bytes("aborted") });
      await producer.abortTransaction!(30_000);

      await producer.beginTransaction!();
      await producer.produce({ topic: output, value: bytes("committed") });
      await producer.sendOffsetsToTransaction!(
        [{ topic: input, partition: 0, offset: 1 }],
        consumer.groupMetadata!(),
        30_000,
      );
      await producer.commitTransaction!(30_000);

      const committed = new CommittedReader(ctx, output);
      await waitFor(async () => (await committed.poll(), committed.count > 0), "output arrived");
      await committed.drain(1_000);
      assert.deepEqual([...committed.inputs], ["committed"]);
      assert.equal(committed.count, 1);
      const uncommitted = new CommittedReader(ctx, output, "read_uncommitted");
      await waitFor(async () => (await uncommitted.poll(), uncommitted.count >= 2), "both arrived");
      assert.deepEqual([...uncommitted.inputs].sort(), ["aborted", "committed"]);
      await consumer.close();
      assert.deepEqual(await committedOffsets(ctx, group, input, 1), [1]);
    },
  },
  {
    name: "racecar with transactional: true commits every input's output exactly once, " +
      "killed with SIGKILL at random points next to a member that keeps running",
    timeoutMs: 240_000,
    fn: (ctx) => killAndRestart(ctx, 3, {}, { steady: true }),
  },
  {
    name: "racecar with transactional: true commits every input's output exactly once when " +
      "processing fails after producing, killed with SIGKILL at random points",
    timeoutMs: 240_000,
    // Every 997th offset fails once, after its output was produced: that output must be aborted.
    fn: (ctx) => killAndRestart(ctx, 2, { FIXTURE_FAIL_EVERY: "997" }),
  },
];
