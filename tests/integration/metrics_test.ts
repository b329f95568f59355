/**
 * Metrics from a real run: a runner built by `createRunner` consumes a real topic on the broker at
 * `RACECAR_BROKERS` (default `127.0.0.1:9092`) through the Deno FFI transport,
 * with Prometheus and Datadog installed on its events.
 */

import { createProducer } from "../../src/app_producer.ts";
import { createRunner } from "../../src/assembly.ts";
import { defaultConfig } from "../../src/config/mod.ts";
import { Consumer } from "../../src/consumer.ts";
import { Instrumenter } from "../../src/events.ts";
import { createFfiTransport } from "../../src/kafka/ffi/mod.ts";
import type { Message } from "../../src/message.ts";
import { installDatadog } from "../../src/metrics/datadog.ts";
import { installPrometheus } from "../../src/metrics/prometheus.ts";
import assert from "node:assert/strict";
import { startFakeAgent } from "../metrics/_statsd.ts";

const brokers = Deno.env.get("RACECAR_BROKERS") ?? "127.0.0.1:9092";
const transport = createFfiTransport();

function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 12)}`;
}

/** Polls `condition` every 50 ms until it holds; fails after `timeoutMs`. */
async function waitUntil(
  condition: () => Promise<boolean> | boolean,
  what: () => string,
  timeoutMs = 45_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function sample(text: string, name: string, labels: string): number | undefined {
  const prefix = `${name}{${labels}} `;
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

Deno.test({
  name:
    "installPrometheus() and installDatadog() report a real Runner's processing and lag when it consumes a topic",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const topic = unique("racecar-metrics");
    const groupId = unique("racecar-metrics-group");
    const admin = transport.createAdmin({ config: { "bootstrap.servers": brokers } });
    await admin.createTopics([{ name: topic, partitions: 2, replicationFactor: 1 }], 15_000);
    const producer = await createProducer({ brokers: [brokers] }, { transport });
    await producer.waitForDelivery(() => {
      for (let i = 0; i < 20; i++) producer.produceAsync(`m${i}`, { topic, partition: i % 2 });
    });
    await producer.close();

    let processed = 0;
    class MetricsConsumer extends Consumer {
      static {
        this.subscribesTo(topic);
      }
      override process(_message: Message): void {
        processed++;
      }
    }

    const config = {
      ...defaultConfig(),
      brokers: [brokers],
      groupId,
      clientId: "metrics-test",
      statisticsInterval: 0.2,
      maxWaitTime: 0.2,
      // createRunner turns librdkafka's statistics on for it.
      prometheusEnabled: true,
    };
    const events = new Instrumenter();
    const agent = await startFakeAgent();
    const datadog = await installDatadog(
      events,
      { datadogHost: "127.0.0.1", datadogPort: agent.port, datadogTags: ["env:test"] },
      { clientOptions: { originDetection: false, bufferFlushInterval: 50 } },
    );
    const prometheus = await installPrometheus(events, {
      prometheusHost: "127.0.0.1",
      prometheusPort: 0,
    });
    const runner = await createRunner(new MetricsConsumer(), config, {
      transport,
      instrumenter: events,
    });
    const run = runner.run();
    try {
      const scrape = async () => await (await fetch(prometheus.url!)).text();
      const labels = (p: number) =>
        `client_id="metrics-test",group_id="${groupId}",topic="${topic}",partition="${p}"`;
      let text = "";
      await waitUntil(async () => {
        text = await scrape();
        return sample(text, "racecar_messages_processed_total", labels(0)) === 10 &&
          sample(text, "racecar_messages_processed_total", labels(1)) === 10 &&
          sample(text, "racecar_consumer_lag", labels(0)) !== undefined &&
          sample(text, "racecar_consumer_lag", labels(1)) !== undefined;
      }, () => `the scrape shows 20 processed messages and lag per partition:\n${text}`);
      assert.ok(processed === 20, `processed ${processed}`);
      assert.ok(
        sample(
          text,
          "racecar_assigned_partitions",
          `client_id="metrics-test",group_id="${groupId}",topic="${topic}"`,
        ) === 2,
        text,
      );
      // Everything is processed and committed in the end: the lag drains to zero.
      await waitUntil(async () => {
        text = await scrape();
        return sample(text, "racecar_consumer_lag", labels(0)) === 0 &&
          sample(text, "racecar_consumer_lag", labels(1)) === 0;
      }, () => `the lag drains to 0:\n${text}`);

      const tags = (p: number) =>
        `#env:test,client:metrics-test,group_id:${groupId},topic:${topic},partition:${p}`;
      await agent.waitFor((lines) =>
        lines.filter((l) => l === `racecar.consumer.messages:1|c|${tags(0)}`).length === 10 &&
        lines.filter((l) => l === `racecar.consumer.messages:1|c|${tags(1)}`).length === 10 &&
        lines.some((l) =>
          l.startsWith("racecar.consumer.join_group:") &&
          l.endsWith(`|ms|#env:test,client:metrics-test,group_id:${groupId}`)
        ) &&
        lines.some((l) => l.startsWith("racecar.consumer.process_message.latency:")) &&
        lines.some((l) => l.startsWith("racecar.consumer.loop.duration:"))
      );
    } finally {
      runner.stop();
      await run;
      await prometheus.close();
      await datadog.close();
      await agent.close();
      await admin.deleteTopics([topic], 15_000);
      await admin.close();
    }
  },
});
