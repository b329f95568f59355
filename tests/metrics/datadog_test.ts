import { ConfigError, KafkaError } from "../../src/errors.ts";
import { type BasePayload, Instrumenter, type MessagePayload } from "../../src/events.ts";
import { installDatadog, type MetricsHandle, pollErrorCode } from "../../src/metrics/datadog.ts";
import assert from "node:assert/strict";
import { type FakeAgent, startFakeAgent } from "./_statsd.ts";

const NOW = Date.UTC(2024, 0, 1, 12, 0, 0);
const base: BasePayload = { clientId: "web", groupId: "orders", consumerClass: "OrdersConsumer" };
const message: MessagePayload = {
  ...base,
  topic: "orders",
  partition: 3,
  offset: 42,
  createTime: new Date(NOW - 1500),
  key: null,
  value: new TextEncoder().encode("hello"),
  headers: {},
  retriesCount: 0,
};
const TAGS = "client:web,group_id:orders,topic:orders,partition:3";

async function withAgent(
  fn: (agent: FakeAgent, events: Instrumenter, handle: MetricsHandle) => Promise<void>,
  config: Parameters<typeof installDatadog>[1] = {},
): Promise<void> {
  const agent = await startFakeAgent();
  const events = new Instrumenter({
    onListenerError: (error) => {
      throw error;
    },
  });
  const handle = await installDatadog(
    events,
    { datadogHost: "127.0.0.1", datadogPort: agent.port, ...config },
    // Origin detection would add this container's id to every line.
    { clock: () => NOW, clientOptions: { originDetection: false, bufferFlushInterval: 20 } },
  );
  try {
    await fn(agent, events, handle);
  } finally {
    await handle.close();
    await agent.close();
  }
}

function lineCount(n: number) {
  return (lines: string[]) => lines.length >= n;
}

/** Datagrams may arrive in any order: compare the lines as a sorted list. */
function assertLines(actual: string[], expected: string[]): void {
  assert.deepEqual([...actual].sort(), [...expected].sort());
}

Deno.test("installDatadog() sends latency, messages, offset and time lag when a message is processed", async () => {
  await withAgent(async (agent, events) => {
    events.emit("process_message", () => ({ ...message, durationMs: 12.5 }));
    const lines = await agent.waitFor(lineCount(4));
    assertLines(lines, [
      `racecar.consumer.process_message.latency:12.5|ms|#${TAGS}`,
      `racecar.consumer.messages:1|c|#${TAGS}`,
      `racecar.consumer.offset:42|g|#${TAGS}`,
      `racecar.consumer.time_lag:1500|g|#${TAGS}`,
    ]);
  });
});

Deno.test("installDatadog() counts an error instead of latency when processing a message fails", async () => {
  await withAgent(async (agent, events) => {
    events.emit("process_message", () => ({
      ...message,
      createTime: null,
      durationMs: 3,
      error: new Error("boom"),
    }));
    const lines = await agent.waitFor(lineCount(2));
    assertLines(lines, [
      `racecar.consumer.process_message.errors:1|c|#${TAGS}`,
      `racecar.consumer.offset:42|g|#${TAGS}`,
    ]);
  });
});

Deno.test("installDatadog() sends batch latency, count, size, offset and lag when a batch is processed", async () => {
  await withAgent(async (agent, events) => {
    events.emit("process_batch", () => ({
      ...base,
      topic: "orders",
      partition: 3,
      firstOffset: 40,
      lastOffset: 49,
      lastCreateTime: new Date(NOW - 250),
      messageCount: 10,
      retriesCount: 0,
      durationMs: 80,
    }));
    events.emit("process_batch", () => ({
      ...base,
      topic: "orders",
      partition: 3,
      firstOffset: 50,
      lastOffset: 51,
      lastCreateTime: null,
      messageCount: 2,
      retriesCount: 1,
      durationMs: 5,
      error: new Error("boom"),
    }));
    const lines = await agent.waitFor(lineCount(8));
    assertLines(lines, [
      `racecar.consumer.process_batch.latency:80|ms|#${TAGS}`,
      `racecar.consumer.messages:10|c|#${TAGS}`,
      `racecar.consumer.batch_size:10|h|#${TAGS}`,
      `racecar.consumer.offset:49|g|#${TAGS}`,
      `racecar.consumer.time_lag:250|g|#${TAGS}`,
      `racecar.consumer.process_batch.errors:1|c|#${TAGS}`,
      `racecar.consumer.batch_size:2|h|#${TAGS}`,
      `racecar.consumer.offset:51|g|#${TAGS}`,
    ]);
  });
});

Deno.test("installDatadog() times joining and leaving the group and counts their errors", async () => {
  await withAgent(async (agent, events) => {
    events.emit("join_group", () => ({ ...base, topics: ["orders"], durationMs: 250 }));
    events.emit("leave_group", () => ({ ...base, durationMs: 40, error: new Error("gone") }));
    const lines = await agent.waitFor(lineCount(3));
    assertLines(lines, [
      "racecar.consumer.join_group:250|ms|#client:web,group_id:orders",
      "racecar.consumer.leave_group:40|ms|#client:web,group_id:orders",
      "racecar.consumer.leave_group.errors:1|c|#client:web,group_id:orders",
    ]);
  });
});

Deno.test("installDatadog() reports poll errors by code, loop duration and pause duration", async () => {
  await withAgent(async (agent, events) => {
    events.emit("poll_retry", () => ({
      ...base,
      attempt: 1,
      error: new KafkaError(-195, "ERR__TRANSPORT", "Broker transport failure"),
    }));
    events.emit("main_loop", () => ({ ...base, messageCount: 5, durationMs: 1002 }));
    events.emit("pause_status", () => ({
      ...base,
      topic: "orders",
      partition: 3,
      durationSeconds: 7.5,
    }));
    const lines = await agent.waitFor(lineCount(3));
    assertLines(lines, [
      "racecar.consumer.poll.rdkafka_error.transport:1|c|#client:web,group_id:orders",
      "racecar.consumer.loop.duration:1002|h|#client:web,group_id:orders",
      `racecar.consumer.pause.duration:7.5|g|#${TAGS}`,
    ]);
  });
});

Deno.test("installDatadog() sends racecar's producer metrics when messages are produced and delivered", async () => {
  await withAgent(async (agent, events) => {
    const produced = {
      clientId: "web",
      topic: "activity",
      key: "k",
      partition: undefined,
      partitionKey: undefined,
      messageSize: 11,
      bufferSize: 4,
    };
    events.emit("produce_message", () => produced);
    events.emit("produce_async", () => ({ ...produced, durationMs: 0.1 }));
    events.emit("produce_sync", () => ({ ...produced, durationMs: 9 }));
    events.emit("produce_sync", () => ({ ...produced, durationMs: 9, error: new Error("x") }));
    events.emit("deliver_messages", () => ({ ...base, deliveredMessageCount: 3, durationMs: 20 }));
    events.emit("acknowledged_message", () => ({
      clientId: "web",
      topic: "activity",
      partition: 0,
      offset: 9,
    }));
    events.emit("produce_delivery_error", () => ({
      clientId: "web",
      topic: "activity",
      error: new Error("x"),
    }));
    const lines = await agent.waitFor(lineCount(16));
    const tags = "#client:web,topic:activity";
    assertLines(lines, [
      `racecar.producer.produce.messages:1|c|${tags}`,
      `racecar.producer.produce.message_size:11|h|${tags}`,
      `racecar.producer.produce.message_size.sum:11|c|${tags}`,
      `racecar.producer.buffer.size:4|h|${tags}`,
      `racecar.producer.produce.messages:1|c|${tags}`,
      `racecar.producer.produce.message_size:11|h|${tags}`,
      `racecar.producer.produce.message_size.sum:11|c|${tags}`,
      `racecar.producer.buffer.size:4|h|${tags}`,
      `racecar.producer.produce.messages:1|c|${tags}`,
      `racecar.producer.produce.message_size:11|h|${tags}`,
      `racecar.producer.produce.message_size.sum:11|c|${tags}`,
      `racecar.producer.produce.errors:1|c|${tags}`,
      "racecar.producer.deliver.latency:20|ms|#client:web",
      "racecar.producer.deliver.messages:3|c|#client:web",
      "racecar.producer.ack.messages:1|c|#client:web",
      "racecar.producer.produce.delivery.errors:1|c|#client:web",
    ]);
  });
});

Deno.test("installDatadog() uses the namespace and adds global tags when configured", async () => {
  await withAgent(async (agent, events) => {
    events.emit("main_loop", () => ({ ...base, messageCount: 0, durationMs: 1 }));
    const lines = await agent.waitFor(lineCount(1));
    assertLines(lines, [
      "kafka.consumer.loop.duration:1|h|#env:test,team:payments,client:web,group_id:orders",
    ]);
  }, { datadogNamespace: "kafka", datadogTags: ["env:test", "team:payments"] });
});

Deno.test("installDatadog() close() unsubscribes from every event", async () => {
  await withAgent(async (_agent, events, handle) => {
    assert.ok(events.listens("process_message"));
    await handle.close();
    await handle.close();
    for (
      const event of ["process_message", "process_batch", "main_loop", "produce_sync"] as const
    ) {
      assert.ok(!events.listens(event), event);
    }
  });
});

Deno.test("installDatadog() throws a ConfigError naming the socket when Unix sockets are unavailable", async () => {
  await assert.rejects(
    () => installDatadog(new Instrumenter(), { datadogSocketPath: "/var/run/datadog/dsd.socket" }),
    (error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /socket "\/var\/run\/datadog\/dsd\.socket"/);
      assert.deepEqual(error.key, "datadogSocketPath");
      return true;
    },
  );
});

Deno.test("pollErrorCode() gives rdkafka-ruby's code names when given Kafka errors", () => {
  assert.deepEqual(
    pollErrorCode(new KafkaError(10, "ERR_MSG_SIZE_TOO_LARGE", "x")),
    "msg_size_too_large",
  );
  assert.deepEqual(pollErrorCode(new KafkaError(-195, "ERR__TRANSPORT", "x")), "transport");
  assert.deepEqual(pollErrorCode(new Error("plain")), "unknown");
  assert.deepEqual(pollErrorCode({ code: "E-42" }), "e42");
});
