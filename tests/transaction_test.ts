/**
 * Unit tests of the transaction bookkeeping (`src/transaction.ts`) over a
 * recording fake producer, the configuration rules of `transactional`, and
 * the clear error of a transport without transactions. The real thing runs in
 * tests/integration/exactly_once_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./cli/_helpers.ts";
import { codeBlocks, writeCheckoutImportMap } from "./docs/_docs.ts";
import { createRunner, transactionalProducerConfig } from "../src/assembly.ts";
import { prepareRun } from "../src/cli/run.ts";
import { WORKER_ENV } from "../src/cli/supervisor.ts";
import { defaultConfig, validateConfig } from "../src/config/mod.ts";
import { Consumer } from "../src/consumer.ts";
import { testConsumer } from "../testing.ts";
import { ConfigError, KafkaError, RacecarError } from "../src/errors.ts";
import { createMemoryTransport } from "../src/kafka/memory/mod.ts";
import type {
  ConsumerTransport,
  GroupMetadata,
  ProducerTransport,
  TopicPartitionOffset,
} from "../src/kafka/transport.ts";
import { OffsetTracker } from "../src/offset_tracker.ts";
import { nextStep, TRANSACTION_CALL_TRIES, Transactions } from "../src/transaction.ts";

const fenced = () => new KafkaError(-144, "ERR__FENCED", "fenced", { fatal: true });
const abortable = () =>
  new KafkaError(48, "ERR_INVALID_TXN_STATE", "needs abort", { txnRequiresAbort: true });
const timedOut = () => new KafkaError(-185, "ERR__TIMED_OUT", "timed out");

/** A producer that records the transactional calls and fails them as told. */
function fakeProducer(fail: Partial<Record<string, () => unknown>> = {}) {
  const calls: string[] = [];
  const sent: TopicPartitionOffset[][] = [];
  const call = (name: string) => {
    calls.push(name);
    const error = fail[name]?.();
    return error === undefined ? Promise.resolve() : Promise.reject(error);
  };
  const producer = {
    initTransactions: () => call("init"),
    beginTransaction: () => call("begin"),
    sendOffsetsToTransaction: (offsets: readonly TopicPartitionOffset[], _m: GroupMetadata) => {
      sent.push([...offsets]);
      return call("sendOffsets");
    },
    commitTransaction: () => call("commit"),
    abortTransaction: () => call("abort"),
  } as unknown as ProducerTransport;
  const consumer = { groupMetadata: () => ({ groupId: "g" }) } as unknown as ConsumerTransport;
  return { producer, consumer, calls, sent };
}

Deno.test("nextStep() crashes on fatal errors, aborts when asked, retries retriable ones", () => {
  assert.equal(nextStep(fenced()), "crash");
  assert.equal(nextStep(abortable()), "abort");
  assert.equal(nextStep(timedOut()), "retry");
  assert.equal(nextStep(new KafkaError(10, "ERR_MSG_SIZE_TOO_LARGE", "too large")), "crash");
  assert.equal(nextStep(new Error("not Kafka's")), "crash");
  // Fatal wins over the other flags.
  assert.equal(
    nextStep(new KafkaError(-144, "ERR__FENCED", "x", { fatal: true, txnRequiresAbort: true })),
    "crash",
  );
});

Deno.test("Transactions.end() sends the recorded offsets, then commits", async () => {
  const fake = fakeProducer();
  const txn = new Transactions(fake.producer, fake.consumer);
  await txn.init();
  await txn.begin();
  txn.touch({ topic: "t", partition: 0 }, 10);
  txn.record({ topic: "t", partition: 0, offset: 11 });
  txn.record({ topic: "t", partition: 0, offset: 15 });
  txn.record({ topic: "t", partition: 1, offset: 3 });
  assert.deepEqual(await txn.end(), []);
  assert.deepEqual(fake.calls, ["init", "begin", "sendOffsets", "commit"]);
  assert.deepEqual(fake.sent, [[
    { topic: "t", partition: 0, offset: 15 },
    { topic: "t", partition: 1, offset: 3 },
  ]]);
  assert.equal(txn.open, false);
});

Deno.test("Transactions.end() commits without offsets when nothing finished", async () => {
  const fake = fakeProducer();
  const txn = new Transactions(fake.producer, fake.consumer);
  await txn.begin();
  assert.deepEqual(await txn.end(), []);
  assert.deepEqual(fake.calls, ["begin", "commit"]);
});

Deno.test("Transactions.end() aborts a doomed transaction and returns where partitions began", async () => {
  const fake = fakeProducer();
  const txn = new Transactions(fake.producer, fake.consumer);
  await txn.begin();
  txn.touch({ topic: "t", partition: 0 }, 10);
  txn.touch({ topic: "t", partition: 0 }, 12); // the first touch counts
  txn.touch({ topic: "t", partition: 2 }, 7);
  txn.record({ topic: "t", partition: 0, offset: 12 });
  txn.doom(new Error("processing failed"));
  assert.equal(txn.doomed, true);
  assert.deepEqual(await txn.end(), [
    { topic: "t", partition: 0, offset: 10 },
    { topic: "t", partition: 2, offset: 7 },
  ]);
  assert.deepEqual(fake.calls, ["begin", "abort"]);

  // The next transaction starts clean.
  await txn.begin();
  assert.equal(txn.doomed, false);
  assert.deepEqual(await txn.end(), []);
});

Deno.test("Transactions.end() aborts when the commit needs an abort", async () => {
  const fake = fakeProducer({ commit: abortable });
  const txn = new Transactions(fake.producer, fake.consumer);
  await txn.begin();
  txn.touch({ topic: "t", partition: 0 }, 4);
  txn.record({ topic: "t", partition: 0, offset: 6 });
  assert.deepEqual(await txn.end(), [{ topic: "t", partition: 0, offset: 4 }]);
  assert.deepEqual(fake.calls, ["begin", "sendOffsets", "commit", "abort"]);
});

Deno.test("Transactions.end() calls again after a retriable error", async () => {
  let failures = 2;
  const fake = fakeProducer({ commit: () => failures-- > 0 ? timedOut() : undefined });
  const txn = new Transactions(fake.producer, fake.consumer);
  await txn.begin();
  assert.deepEqual(await txn.end(), []);
  assert.deepEqual(fake.calls, ["begin", "commit", "commit", "commit"]);
});

Deno.test("Transactions.end() rejects when retries run out or the producer was fenced", async () => {
  const slow = fakeProducer({ commit: timedOut });
  const txn = new Transactions(slow.producer, slow.consumer);
  await txn.begin();
  await assert.rejects(txn.end(), (error: RacecarError) => {
    assert.equal(error.code, "ERR__TIMED_OUT");
    assert.match(error.message, /^Cannot commit the transaction: timed out/);
    return true;
  });
  assert.equal(slow.calls.filter((c) => c === "commit").length, TRANSACTION_CALL_TRIES);
  assert.equal(txn.open, false, "a failed end still closes the transaction");

  const zombie = fakeProducer({ sendOffsets: fenced });
  const fencedTxn = new Transactions(zombie.producer, zombie.consumer);
  await fencedTxn.begin();
  fencedTxn.record({ topic: "t", partition: 0, offset: 1 });
  await assert.rejects(fencedTxn.end(), /fatal: the producer cannot go on/);
  assert.deepEqual(zombie.calls, ["begin", "sendOffsets"]);
});

Deno.test("Transactions.settled() waits for the open transaction only", async () => {
  const fake = fakeProducer();
  const txn = new Transactions(fake.producer, fake.consumer);
  await txn.settled(); // none open: at once
  await txn.begin();
  let settled = false;
  const waiting = txn.settled().then(() => settled = true);
  await Promise.resolve();
  assert.equal(settled, false);
  await txn.end();
  await waiting;
  assert.equal(settled, true);
  await assert.rejects(
    (async () => {
      await txn.begin();
      await txn.begin();
    })(),
    /one is open already/,
  );
});

Deno.test("OffsetTracker.rewind() starts over below the finished prefix", () => {
  const tracker = new OffsetTracker();
  tracker.begin(10);
  tracker.begin(11);
  tracker.finish(10);
  assert.equal(tracker.take(), 11);
  tracker.rewind(10);
  assert.equal(tracker.next, undefined);
  tracker.begin(10); // begun again after the abort
  tracker.finish(10);
  assert.equal(tracker.take(), 11);
});

Deno.test("createRunner() refuses transactional on the memory transport with a clear error", async () => {
  class Orders extends Consumer {
    static {
      this.subscribesTo("orders");
    }
    static override transactional = true;
    override process() {}
  }
  await assert.rejects(
    createRunner(new Orders(), { ...defaultConfig(), transactional: true }, {
      transport: createMemoryTransport(),
    }),
    (error: ConfigError) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.key, "transactional");
      assert.equal(
        error.message,
        "Cannot run Orders with 'transactional' enabled: the memory transport has no Kafka " +
          "transactions; run it on librdkafka (the deno-ffi, koffi or node-rdkafka transport), " +
          "or unset 'transactional' (with the testing kit: testConsumer(consumer, { settings: " +
          "{ transactional: false } }))",
      );
      return true;
    },
  );
});

Deno.test("docs/exactly_once.md: the testing kit block runs with transactional turned off", async () => {
  const markdown = await Deno.readTextFile(join(ROOT, "docs", "exactly_once.md"));
  const block = codeBlocks(markdown).find((b) =>
    b.lang === "ts" && b.text.includes("testConsumer")
  );
  assert.ok(block !== undefined, "docs/exactly_once.md has a testing kit block");
  const dir = await Deno.makeTempDir({ prefix: "racecar-eos-doc-" });
  try {
    const importMap = await writeCheckoutImportMap(dir);
    // A failed console.assert only prints: make it fail the run.
    await Deno.writeTextFile(
      join(dir, "block.ts"),
      "console.assert = (ok: unknown, ...rest: unknown[]) => { if (!ok) throw new Error(String(rest)); };\n" +
        block.text,
    );
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--import-map", importMap, join(dir, "block.ts")],
      cwd: ROOT,
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Without the override, the kit says how to test it.
  class Shipping extends Consumer {
    static {
      this.subscribesTo("orders");
    }
    static override transactional = true;
    override process() {}
  }
  await assert.rejects(testConsumer(new Shipping()), /with the testing kit: testConsumer/);
});

Deno.test("validateConfig() refuses transactional with read_uncommitted", () => {
  const config = {
    ...defaultConfig(),
    transactional: true,
    isolationLevel: "read_uncommitted" as const,
  };
  assert.throws(
    () => validateConfig(config),
    (error: ConfigError) => {
      assert.equal(error.key, "isolationLevel");
      assert.match(
        error.message,
        /^Invalid configuration 'isolation_level': must be "read_committed"/,
      );
      return true;
    },
  );
  validateConfig({ ...config, transactional: false });
});

Deno.test("transactionalProducerConfig() keeps a transaction timeout the producer entries set", () => {
  const props = transactionalProducerConfig(
    { "message.timeout.ms": "30000", "transaction.timeout.ms": "90000" },
    "orders-2",
  );
  assert.equal(props["transactional.id"], "orders-2");
  assert.equal(props["transaction.timeout.ms"], "90000");
  assert.equal(props["message.timeout.ms"], "30000", "a shorter message timeout stays");
  assert.equal(transactionalProducerConfig({}, "o")["message.timeout.ms"], "60000");
});

Deno.test("prepareRun() gives parallel worker n the transactional id <group_id>-<n>", async () => {
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/consumers`);
  await Deno.writeTextFile(
    `${cwd}/consumers/ledger_consumer.ts`,
    `import { Consumer } from "${new URL("../mod.ts", import.meta.url).href}";\n` +
      `export class LedgerConsumer extends Consumer {\n` +
      `  static { this.subscribesTo("ledger"); }\n` +
      `  static override transactional = true;\n  override process() {}\n}\n`,
  );
  const memory = createMemoryTransport();
  // Nothing connects before run(): a memory transport that claims transactions is enough here.
  const transport = { ...memory, features: { ...memory.features, transactions: true } };
  const prepare = () => prepareRun({ consumer: "LedgerConsumer", flags: {}, cwd, transport });
  try {
    assert.equal((await prepare()).config.transactionalId, "ledger-consumer");
    Deno.env.set(WORKER_ENV, "2");
    assert.equal((await prepare()).config.transactionalId, "ledger-consumer-2");
  } finally {
    Deno.env.delete(WORKER_ENV);
    await Deno.remove(cwd, { recursive: true });
  }
});

Deno.test("createRunner() refuses transactional with key_concurrency and a dead-letter topic", async () => {
  class Orders extends Consumer {
    static {
      this.subscribesTo("orders");
    }
    override process() {}
  }
  const memory = createMemoryTransport();
  const transport = { ...memory, features: { ...memory.features, transactions: true } };
  const config = {
    ...defaultConfig(),
    transactional: true,
    keyConcurrency: 4,
    maxRetries: 2,
    deadLetterTopic: "orders-dlq",
  };
  await assert.rejects(
    createRunner(new Orders(), config, { transport }),
    /^ConfigError: Cannot run Orders: 'transactional' with 'key_concurrency' \(4\) cannot dead-letter exactly once/,
  );
  // Either alone is fine.
  await createRunner(new Orders(), { ...config, keyConcurrency: 1 }, { transport });
  await createRunner(new Orders(), {
    ...config,
    maxRetries: undefined,
    deadLetterTopic: undefined,
  }, { transport });
});
