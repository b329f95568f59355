/**
 * OpenTelemetry on the real broker, runtime-neutral: a trace an application
 * starts with a producer continues through a consumer that produces onward and
 * through a dead letter; a batch span links to each message's trace. Spans go to
 * an in-memory exporter registered as the global SDK (the way an application
 * registers its own), and `installOpenTelemetry` subscribes to the runner's and
 * the producer's events.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Attributes,
  context,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { createProducer } from "../../src/app_producer.ts";
import { Consumer } from "../../src/consumer.ts";
import { Instrumenter } from "../../src/events.ts";
import type { Message } from "../../src/message.ts";
import { installOpenTelemetry } from "../../src/metrics/opentelemetry.ts";
import { Producer } from "../../src/producer.ts";
import { Runner } from "../../src/runner.ts";
import { newTopic, testConsumerConfig, waitFor } from "./_kafka.ts";
import type { Scenario, SuiteContext } from "./_suite.ts";

const exporter = new InMemorySpanExporter();
let registered = false;

/** A metric reader the scenario collects from when it wants. */
class OnDemandReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}
const reader = new OnDemandReader();

/** The sum of a counter's (or count of a histogram's) data points whose attributes include `where`. */
async function metricTotal(name: string, where: Attributes): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  let total = 0;
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        if (!Object.entries(where).every(([k, v]) => point.attributes[k] === v)) continue;
        const value = point.value as number | { count: number };
        total += typeof value === "number" ? value : value.count;
      }
    }
  }
  return total;
}

/** Registers the SDK once per process, as an application's start-up would. */
function registerSdk(): void {
  if (registered) return;
  registered = true;
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
}

function spansOf(traceId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

function one(
  spans: ReadableSpan[],
  name: string,
  where: (s: ReadableSpan) => boolean = () => true,
) {
  const found = spans.filter((s) => s.name === name && where(s));
  assert.equal(found.length, 1, `one span "${name}" in ${spans.map((s) => s.name).join(", ")}`);
  return found[0]!;
}

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** Starts a traced runner in the background; the scenario's clean-up stops it. */
async function startTraced(
  ctx: SuiteContext,
  consumer: Consumer,
  group: string,
  settings: { deadLetterTopic?: string; maxRetries?: number } = {},
): Promise<void> {
  const events = new Instrumenter();
  const otel = await installOpenTelemetry(events);
  const runner = new Runner({
    consumer,
    transport: ctx.transport,
    consumerConfig: testConsumerConfig(ctx, group),
    producerConfig: { "bootstrap.servers": ctx.brokers, "linger.ms": "5" },
    settings: {
      clientId: "racecar-tracing",
      groupId: group,
      maxWaitTime: 0.2,
      pauseTimeout: 0.05,
      ...settings,
    },
    instrumenter: events,
  });
  const done = runner.run();
  ctx.defer(async () => {
    runner.stop();
    await done;
    await otel.close();
  });
}

/** An application producer whose sends are traced. */
async function tracedProducer(ctx: SuiteContext): Promise<Producer> {
  const events = new Instrumenter();
  const otel = await installOpenTelemetry(events);
  const producer = new Producer(
    ctx.transport.createProducer({ config: { "bootstrap.servers": ctx.brokers } }),
    { clientId: "web", instrumenter: events },
  );
  ctx.defer(async () => {
    await producer.close(10_000);
    await otel.close();
  });
  return producer;
}

/** The scenarios, in the order they run. */
export const tracingScenarios: Scenario[] = [
  {
    name:
      "installOpenTelemetry() continues a producer's trace through a consumer that produces onward and through a dead letter",
    timeoutMs: 90_000,
    async fn(ctx) {
      registerSdk();
      const tracer = trace.getTracer("test");
      const orders = await newTopic(ctx, 1, "racecar-trace-orders");
      const invoices = await newTopic(ctx, 1, "racecar-trace-invoices");
      const dlq = await newTopic(ctx, 1, "racecar-trace-dlq");
      const group = ctx.uniqueName("racecar-trace");
      const seen = new Map<string, { baggage: string | undefined; userParent: string }>();
      let userSpanParent: string | undefined;

      class OrdersConsumer extends Consumer {
        static {
          this.subscribesTo([orders, invoices, dlq]);
        }
        override process(message: Message): void {
          if (message.topic === orders) {
            if (message.headers["fail"] === "yes") throw new Error("card declined");
            // What the application does in process is a child of the process span.
            const work = tracer.startSpan("charge card");
            userSpanParent = (work as unknown as ReadableSpan).parentSpanContext?.spanId;
            work.end();
            this.produce(`invoice for ${message.key}`, { topic: invoices, key: "order-1" });
            return;
          }
          seen.set(message.topic, {
            baggage: propagation.getActiveBaggage()?.getEntry("tenant")?.value,
            userParent: trace.getActiveSpan()?.spanContext().spanId ?? "",
          });
        }
      }
      await startTraced(ctx, new OrdersConsumer(), group, { deadLetterTopic: dlq, maxRetries: 1 });

      const producer = await tracedProducer(ctx);
      const root = tracer.startSpan("checkout");
      const traceId = root.spanContext().traceId;
      const baggage = propagation.createBaggage({ tenant: { value: "acme" } });
      await context.with(
        propagation.setBaggage(trace.setSpan(context.active(), root), baggage),
        async () => {
          await producer.produceSync("order 1", { topic: orders, key: "order-1" });
          await producer.produceSync("order 2", {
            topic: orders,
            key: "order-2",
            headers: { fail: "yes" },
          });
        },
      );
      root.end();

      await waitFor(
        () =>
          spansOf(traceId).some((s) => s.name === `process ${invoices}`) &&
          spansOf(traceId).some((s) => s.name === `process ${dlq}`),
        "the invoice and the dead letter were processed within the trace",
      );
      const spans = spansOf(traceId);
      const rootId = root.spanContext().spanId;

      // checkout -> send orders (x2, the application producer)
      const sendOk = one(
        spans,
        `send ${orders}`,
        (s) => s.attributes["messaging.kafka.message.key"] === "order-1",
      );
      const sendBad = one(
        spans,
        `send ${orders}`,
        (s) => s.attributes["messaging.kafka.message.key"] === "order-2",
      );
      for (const send of [sendOk, sendBad]) {
        assert.equal(parentOf(send), rootId);
        assert.equal(send.kind, SpanKind.PRODUCER);
        assert.equal(send.attributes["messaging.system"], "kafka");
        assert.equal(send.attributes["messaging.operation.type"], "send");
        assert.equal(send.attributes["messaging.destination.name"], orders);
        assert.equal(send.attributes["messaging.destination.partition.id"], "0");
        assert.equal(typeof send.attributes["messaging.kafka.offset"], "number");
      }

      // send orders -> process orders -> (charge card, send invoices -> process invoices)
      const processOk = one(
        spans,
        `process ${orders}`,
        (s) => parentOf(s) === sendOk.spanContext().spanId,
      );
      assert.equal(processOk.kind, SpanKind.CONSUMER);
      assert.deepEqual(
        {
          system: processOk.attributes["messaging.system"],
          operation: processOk.attributes["messaging.operation.type"],
          topic: processOk.attributes["messaging.destination.name"],
          partition: processOk.attributes["messaging.destination.partition.id"],
          offset: processOk.attributes["messaging.kafka.offset"],
          group: processOk.attributes["messaging.consumer.group.name"],
          key: processOk.attributes["messaging.kafka.message.key"],
          retries: processOk.attributes["racecar.retries_count"],
        },
        {
          system: "kafka",
          operation: "process",
          topic: orders,
          partition: "0",
          offset: sendOk.attributes["messaging.kafka.offset"],
          group,
          key: "order-1",
          retries: 0,
        },
      );
      assert.equal(processOk.status.code, SpanStatusCode.UNSET);
      assert.equal(userSpanParent, processOk.spanContext().spanId);
      assert.equal(parentOf(one(spans, "charge card")), processOk.spanContext().spanId);
      const sendInvoice = one(spans, `send ${invoices}`);
      assert.equal(parentOf(sendInvoice), processOk.spanContext().spanId);
      const processInvoice = one(spans, `process ${invoices}`);
      assert.equal(parentOf(processInvoice), sendInvoice.spanContext().spanId);
      assert.equal(seen.get(invoices)?.userParent, processInvoice.spanContext().spanId);
      assert.equal(seen.get(invoices)?.baggage, "acme", "baggage travels with the trace");

      // send orders (order-2) -> process orders, failed twice (a retry), then the dead letter.
      const failures = spans
        .filter((s) =>
          s.name === `process ${orders}` && parentOf(s) === sendBad.spanContext().spanId
        )
        .sort((a, b) =>
          Number(a.attributes["racecar.retries_count"]) -
          Number(b.attributes["racecar.retries_count"])
        );
      assert.deepEqual(failures.map((s) => s.attributes["racecar.retries_count"]), [0, 1]);
      for (const failed of failures) {
        assert.equal(failed.status.code, SpanStatusCode.ERROR);
        assert.equal(failed.status.message, "card declined");
        assert.equal(failed.attributes["error.type"], "Error");
        const exception = failed.events.find((e) => e.name === "exception");
        assert.equal(exception?.attributes?.["exception.message"], "card declined");
      }
      const sendDlq = one(spans, `send ${dlq}`);
      assert.equal(
        parentOf(sendDlq),
        sendBad.spanContext().spanId,
        "the dead letter continues the trace",
      );
      assert.equal(sendDlq.attributes["messaging.kafka.message.key"], "order-2");
      const processDlq = one(spans, `process ${dlq}`);
      assert.equal(parentOf(processDlq), sendDlq.spanContext().spanId);
      assert.equal(seen.get(dlq)?.baggage, "acme");

      // The same run as OpenTelemetry metrics: two messages handed to process three times
      // (one failed twice), one dead letter, three sends by the application and the runner.
      const consumedAt = (topic: string) => ({
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": group,
      });
      assert.equal(await metricTotal("messaging.client.consumed.messages", consumedAt(orders)), 3);
      assert.equal(await metricTotal("racecar.process.errors", consumedAt(orders)), 2);
      assert.equal(await metricTotal("messaging.process.duration", consumedAt(orders)), 3);
      assert.equal(
        await metricTotal("messaging.process.duration", {
          ...consumedAt(orders),
          "error.type": "Error",
        }),
        2,
      );
      assert.equal(await metricTotal("racecar.dead_letters", consumedAt(orders)), 1);
      for (const topic of [orders, invoices, dlq]) {
        const sentAt = { "messaging.destination.name": topic };
        const expected = topic === orders ? 2 : 1;
        assert.equal(await metricTotal("messaging.client.sent.messages", sentAt), expected, topic);
        assert.equal(await metricTotal("messaging.client.operation.duration", sentAt), expected);
      }
    },
  },
  {
    name:
      "installOpenTelemetry() links a processBatch span to the trace of each message in the batch",
    timeoutMs: 60_000,
    async fn(ctx) {
      registerSdk();
      const tracer = trace.getTracer("test");
      const topic = await newTopic(ctx, 1, "racecar-trace-batch");
      const group = ctx.uniqueName("racecar-trace-batch");
      // An application producer traced by the setting, as the default producer is.
      const producer = await createProducer(
        { brokers: [ctx.brokers], clientId: "web", tracingEnabled: true },
        { transport: ctx.transport },
      );
      ctx.defer(() => producer.close(10_000));
      const sends: string[] = [];
      for (let i = 0; i < 3; i++) {
        const root = tracer.startSpan(`request ${i}`);
        await context.with(trace.setSpan(context.active(), root), async () => {
          await producer.produceSync(`m${i}`, { topic });
        });
        root.end();
        const send = one(spansOf(root.spanContext().traceId), `send ${topic}`);
        sends.push(send.spanContext().spanId);
      }
      let processed = 0;
      class BatchConsumer extends Consumer {
        static {
          this.subscribesTo(topic);
        }
        override processBatch(messages: Message[]): void {
          processed += messages.length;
        }
      }
      await startTraced(ctx, new BatchConsumer(), group);
      await waitFor(() => processed >= 3, "the three messages were processed");
      await waitFor(
        () => exporter.getFinishedSpans().some((s) => s.name === `process ${topic}`),
        "the batch span ended",
      );
      const batches = exporter.getFinishedSpans().filter((s) => s.name === `process ${topic}`);
      const linked = batches.flatMap((b) => b.links.map((l) => l.context.spanId)).sort();
      assert.deepEqual(linked, [...sends].sort());
      let count = 0;
      for (const batch of batches) {
        assert.equal(batch.kind, SpanKind.CONSUMER);
        assert.equal(batch.attributes["messaging.operation.type"], "process");
        assert.equal(batch.attributes["messaging.consumer.group.name"], group);
        count += Number(batch.attributes["messaging.batch.message_count"]);
      }
      assert.equal(count, 3);
    },
  },
];
