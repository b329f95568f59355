import { Instrumenter, type MessagePayload } from "../../src/events.ts";
import {
  installPrometheus,
  partitionLags,
  type PrometheusHandle,
} from "../../src/metrics/prometheus.ts";
import assert from "node:assert/strict";

const base = { clientId: "web", groupId: "orders", consumerClass: "OrdersConsumer" };
const message: MessagePayload = {
  ...base,
  topic: "orders",
  partition: 3,
  offset: 42,
  createTime: null,
  key: null,
  value: null,
  headers: {},
  retriesCount: 0,
};
const P3 = 'client_id="web",group_id="orders",topic="orders",partition="3"';

async function withEndpoint(fn: (events: Instrumenter, handle: PrometheusHandle) => Promise<void>) {
  const events = new Instrumenter({
    onListenerError: (error) => {
      throw error;
    },
  });
  const handle = await installPrometheus(events, {
    prometheusHost: "127.0.0.1",
    prometheusPort: 0,
  });
  try {
    await fn(events, handle);
  } finally {
    await handle.close();
  }
}

async function scrape(handle: PrometheusHandle): Promise<string> {
  const response = await fetch(handle.url!);
  assert.deepEqual(response.status, 200);
  assert.ok(response.headers.get("content-type")?.startsWith("text/plain"));
  return await response.text();
}

function assertHas(text: string, line: string): void {
  assert.ok(text.split("\n").includes(line), `expected line\n  ${line}\nin\n${text}`);
}

Deno.test("installPrometheus() serves processed messages, errors and latency when messages are processed", async () => {
  await withEndpoint(async (events, handle) => {
    events.emit("process_message", () => ({ ...message, durationMs: 20 }));
    events.emit("process_message", () => ({ ...message, offset: 43, durationMs: 2 }));
    events.emit("process_message", () => ({ ...message, durationMs: 1, error: new Error("x") }));
    const text = await scrape(handle);
    assertHas(text, "# TYPE racecar_messages_processed_total counter");
    assertHas(text, `racecar_messages_processed_total{${P3}} 2`);
    assertHas(text, `racecar_processing_errors_total{${P3},mode="message"} 1`);
    assertHas(text, "# TYPE racecar_process_message_duration_seconds histogram");
    const topic = 'client_id="web",group_id="orders",topic="orders"';
    assertHas(text, `racecar_process_message_duration_seconds_bucket{le="0.005",${topic}} 2`);
    assertHas(text, `racecar_process_message_duration_seconds_bucket{le="0.025",${topic}} 3`);
    assertHas(text, `racecar_process_message_duration_seconds_count{${topic}} 3`);
    assertHas(text, `racecar_process_message_duration_seconds_sum{${topic}} 0.023`);
  });
});

Deno.test("installPrometheus() counts batch messages and observes batch sizes when batches are processed", async () => {
  await withEndpoint(async (events, handle) => {
    const batch = {
      ...base,
      topic: "orders",
      partition: 3,
      firstOffset: 0,
      lastOffset: 9,
      lastCreateTime: null,
      messageCount: 10,
      retriesCount: 0,
      durationMs: 100,
    };
    events.emit("process_batch", () => batch);
    events.emit("process_batch", () => ({ ...batch, messageCount: 3, error: new Error("x") }));
    const text = await scrape(handle);
    const topic = 'client_id="web",group_id="orders",topic="orders"';
    assertHas(text, `racecar_messages_processed_total{${P3}} 10`);
    assertHas(text, `racecar_processing_errors_total{${P3},mode="batch"} 1`);
    assertHas(text, `racecar_batch_size_bucket{le="5",${topic}} 1`);
    assertHas(text, `racecar_batch_size_bucket{le="10",${topic}} 2`);
    assertHas(text, `racecar_batch_size_sum{${topic}} 13`);
    assertHas(text, `racecar_process_batch_duration_seconds_count{${topic}} 2`);
  });
});

Deno.test("installPrometheus() tracks pauses per partition when partitions pause and resume", async () => {
  await withEndpoint(async (events, handle) => {
    const tp = { topic: "orders", partition: 3 };
    events.emit("pause", () => ({ ...base, ...tp, offset: 42, timeoutSeconds: 10, error: "x" }));
    events.emit("pause_status", () => ({ ...base, ...tp, durationSeconds: 4.5 }));
    let text = await scrape(handle);
    assertHas(text, `racecar_pauses_total{${P3}} 1`);
    assertHas(text, `racecar_partition_paused{${P3}} 1`);
    assertHas(text, `racecar_pause_duration_seconds{${P3}} 4.5`);
    events.emit("resume", () => ({ ...base, ...tp }));
    text = await scrape(handle);
    assertHas(text, `racecar_partition_paused{${P3}} 0`);
    assertHas(text, `racecar_pause_duration_seconds{${P3}} 0`);
  });
});

Deno.test("installPrometheus() counts rebalances and gauges assigned partitions when partitions move", async () => {
  await withEndpoint(async (events, handle) => {
    const partitions = [0, 1, 2].map((partition) => ({ topic: "orders", partition }));
    events.emit("partitions_assigned", () => ({ ...base, partitions, durationMs: 1 }));
    events.emit("partitions_revoked", () => ({
      ...base,
      partitions: [partitions[2]!],
      durationMs: 1,
    }));
    const text = await scrape(handle);
    const group = 'client_id="web",group_id="orders"';
    const topic = `${group},topic="orders"`;
    assertHas(text, `racecar_rebalances_total{${group},kind="assigned"} 1`);
    assertHas(text, `racecar_rebalances_total{${group},kind="revoked"} 1`);
    assertHas(text, `racecar_partitions_assigned_total{${topic}} 3`);
    assertHas(text, `racecar_partitions_revoked_total{${topic}} 1`);
    assertHas(text, `racecar_assigned_partitions{${topic}} 2`);
  });
});

Deno.test("installPrometheus() counts dead letters, produced and delivered messages when they happen", async () => {
  await withEndpoint(async (events, handle) => {
    events.emit("dead_letter", () => ({
      ...base,
      topic: "orders",
      partition: 3,
      offsets: [4, 5],
      deadLetterTopic: "orders-dlq",
      attempts: 3,
      error: "x",
    }));
    const produced = {
      clientId: "web",
      topic: "activity",
      key: null,
      partition: undefined,
      partitionKey: undefined,
      messageSize: 3,
      bufferSize: 0,
    };
    events.emit("produce_message", () => produced);
    events.emit("produce_async", () => ({ ...produced, durationMs: 0 }));
    events.emit("produce_sync", () => ({ ...produced, durationMs: 4 }));
    events.emit("produce_sync", () => ({ ...produced, durationMs: 4, error: new Error("x") }));
    events.emit("acknowledged_message", () => ({
      clientId: "web",
      topic: "activity",
      partition: 0,
      offset: 1,
    }));
    events.emit("produce_delivery_error", () => ({ clientId: "web", topic: "activity", error: 1 }));
    const text = await scrape(handle);
    assertHas(
      text,
      'racecar_dead_letters_total{client_id="web",group_id="orders",topic="orders",' +
        'dead_letter_topic="orders-dlq"} 2',
    );
    const p = 'client_id="web",topic="activity"';
    assertHas(text, `racecar_produced_messages_total{${p},api="produce"} 1`);
    assertHas(text, `racecar_produced_messages_total{${p},api="produce_async"} 1`);
    assertHas(text, `racecar_produced_messages_total{${p},api="produce_sync"} 1`);
    assertHas(text, `racecar_produce_errors_total{${p},api="produce_sync"} 1`);
    assertHas(text, `racecar_delivered_messages_total{${p}} 1`);
    assertHas(text, `racecar_delivery_errors_total{${p}} 1`);
  });
});

Deno.test("installPrometheus() reports consumer lag per partition when statistics arrive", async () => {
  await withEndpoint(async (events, handle) => {
    const stats = (lags: Record<string, number>) => ({
      ...base,
      statistics: {
        type: "consumer",
        topics: {
          orders: {
            partitions: Object.fromEntries(
              Object.entries(lags).map((
                [p, lag],
              ) => [p, { partition: Number(p), consumer_lag: lag }]),
            ),
          },
        },
      },
    });
    events.emit("statistics", () => stats({ "0": 12, "1": 0, "-1": -1 }));
    let text = await scrape(handle);
    const p = (n: number) => `client_id="web",group_id="orders",topic="orders",partition="${n}"`;
    assertHas(text, "# TYPE racecar_consumer_lag gauge");
    assertHas(text, `racecar_consumer_lag{${p(0)}} 12`);
    assertHas(text, `racecar_consumer_lag{${p(1)}} 0`);
    assert.ok(!text.includes('partition="-1"'));
    // Partition 1 moved to another consumer: its lag is no longer this consumer's to report.
    events.emit("statistics", () => stats({ "0": 7 }));
    text = await scrape(handle);
    assertHas(text, `racecar_consumer_lag{${p(0)}} 7`);
    assert.ok(!text.includes(`racecar_consumer_lag{${p(1)}}`));
  });
});

Deno.test("installPrometheus() answers 404 when the path is not /metrics", async () => {
  await withEndpoint(async (_events, handle) => {
    const response = await fetch(handle.url!.replace("/metrics", "/other"));
    assert.deepEqual(response.status, 404);
    await response.body?.cancel();
  });
});

Deno.test("installPrometheus() close() stops the endpoint and unsubscribes", async () => {
  const events = new Instrumenter();
  const handle = await installPrometheus(events, {
    prometheusHost: "127.0.0.1",
    prometheusPort: 0,
  });
  assert.ok(events.listens("statistics"));
  await handle.close();
  await handle.close();
  assert.ok(!events.listens("statistics"));
  assert.ok(!events.listens("process_message"));
  let refused = false;
  try {
    await fetch(handle.url!);
  } catch {
    refused = true;
  }
  assert.ok(refused, "the endpoint still answers after close()");
});

Deno.test("installPrometheus() rejects with the port when it is taken", async () => {
  await withEndpoint(async (_events, handle) => {
    const port = Number(new URL(handle.url!).port);
    let message = "";
    try {
      const other = await installPrometheus(new Instrumenter(), {
        prometheusHost: "127.0.0.1",
        prometheusPort: port,
      });
      await other.close();
    } catch (error) {
      message = (error as Error).message;
    }
    assert.ok(message.includes(`127.0.0.1:${port}`), message);
  });
});

Deno.test("installPrometheus() records without serving when serve is false", async () => {
  const events = new Instrumenter();
  const handle = await installPrometheus(events, {}, { serve: false });
  try {
    assert.deepEqual(handle.url, undefined);
    events.emit("process_message", () => ({ ...message, durationMs: 1 }));
    assertHas(await handle.metrics(), `racecar_messages_processed_total{${P3}} 1`);
  } finally {
    await handle.close();
  }
});

Deno.test("partitionLags() skips unknown lags and librdkafka's internal partition when given statistics", () => {
  assert.deepEqual(
    partitionLags({
      topics: {
        a: { partitions: { "0": { consumer_lag: 3 }, "1": { consumer_lag: -1 }, "-1": {} } },
        b: { partitions: { "2": { consumer_lag: 0 } } },
      },
    }),
    [{ topic: "a", partition: 0, consumerLag: 3 }, { topic: "b", partition: 2, consumerLag: 0 }],
  );
  assert.deepEqual(partitionLags({}), []);
});
