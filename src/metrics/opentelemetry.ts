/**
 * OpenTelemetry: traces and metrics through `@opentelemetry/api` only, as a
 * subscriber to a runner's (or a producer's) {@link Instrumenter}. The
 * application registers the SDK, exporter, propagator and context manager;
 * racecar asks the API for a tracer and a meter when it installs; when none is
 * registered then, it logs a warning and does not subscribe, so the runner's
 * path stays as without tracing.
 *
 * - `process <topic>` (CONSUMER) around each `process`, a child of the trace
 *   context extracted from the message's headers (`traceparent`, `tracestate`,
 *   `baggage`), and the active context while `process` runs, so the spans
 *   the application makes there are its children.
 * - `process <topic>` (CONSUMER) around each `processBatch`, with a link to
 *   each message's trace context.
 * - `send <topic>` (PRODUCER) around each message a producer sends (a
 *   consumer's `produce`, an application producer, dead letters); its context
 *   is injected into the message's headers so the next consumer continues the
 *   trace.
 *
 * Names follow OpenTelemetry's messaging semantic conventions as of v1.27
 * (the messaging conventions have no stable release yet); the list is in
 * `docs/tracing.md`.
 *
 * @example
 * ```ts ignore
 * import { installOpenTelemetry } from "./opentelemetry.ts";
 * const otel = await installOpenTelemetry(runner.events);
 * await runner.run();
 * await otel.close();
 * ```
 *
 * @module
 */

import type * as Api from "@opentelemetry/api";
import type { BatchPayload, Instrumenter, MessagePayload, WorkPayload } from "../events.ts";
import type { Header } from "../kafka/transport.ts";
import { logger } from "../logger.ts";
import type { MetricsHandle } from "./datadog.ts";
import { importOptional } from "./_optional.ts";
import { partitionLags } from "./prometheus.ts";

/** The instrumentation scope racecar's spans and metrics carry. */
export const INSTRUMENTATION_SCOPE = "racecar";

/** Extra knobs of {@link installOpenTelemetry}. */
export interface OpenTelemetryOptions {
  /** Record spans. @default true */
  traces?: boolean;
  /** Record metrics. @default true */
  metrics?: boolean;
}

type Attributes = Api.Attributes;

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * Subscribes OpenTelemetry spans and metrics to `instrumenter`. Loads
 * `@opentelemetry/api` (an optional peer dependency under Node); the handle
 * unsubscribes.
 *
 * @throws {ConfigError} when `@opentelemetry/api` is not installed.
 *
 * @example
 * ```ts
 * import { Instrumenter } from "../events.ts";
 * import { installOpenTelemetry } from "./opentelemetry.ts";
 * const events = new Instrumenter();
 * // No SDK registered: a warning, and nothing subscribes.
 * const otel = await installOpenTelemetry(events);
 * console.assert(!events.wraps("process_message"));
 * await otel.close();
 * ```
 */
export async function installOpenTelemetry(
  instrumenter: Instrumenter,
  options: OpenTelemetryOptions = {},
): Promise<MetricsHandle> {
  const api = await importOptional("@opentelemetry/api", () => import("@opentelemetry/api"));
  const offs: (() => void)[] = [];
  if (options.traces ?? true) {
    if (hasTracerProvider(api)) offs.push(...subscribeTraces(api, instrumenter));
    else log.warn(NO_SDK, { what: "tracer provider" });
  }
  if (options.metrics ?? true) {
    if (hasMeterProvider(api)) offs.push(...subscribeMetrics(api, instrumenter));
    else log.warn(NO_SDK, { what: "meter provider" });
  }
  return {
    close() {
      for (const off of offs.splice(0)) off();
      return Promise.resolve();
    },
  };
}

const log = logger("opentelemetry");

const NO_SDK = "OpenTelemetry is enabled but no {what} is registered: nothing is recorded; " +
  "register the SDK before racecar starts (in the consumer's module), see docs/tracing.md";

/**
 * Whether the application registered a tracer provider. Without one, racecar
 * does not subscribe at all, so the no-op costs nothing per message.
 */
function hasTracerProvider(api: typeof Api): boolean {
  const provider = api.trace.getTracerProvider();
  return !(provider instanceof api.ProxyTracerProvider) ||
    provider.getDelegateTracer(INSTRUMENTATION_SCOPE) !== undefined;
}

/** Whether the application registered a meter provider (the API's own hands out no-op meters). */
function hasMeterProvider(api: typeof Api): boolean {
  return api.metrics.getMeter(INSTRUMENTATION_SCOPE).constructor !==
    api.createNoopMeter().constructor;
}

/** A Kafka key as an attribute: only when it is text. */
function keyText(key: Uint8Array | string | null | undefined): string | undefined {
  if (key === null || key === undefined) return undefined;
  if (typeof key === "string") return key;
  try {
    return decoder.decode(key);
  } catch {
    return undefined;
  }
}

function consumerAttributes(
  p: { topic: string; partition: number; groupId?: string; clientId: string },
): Attributes {
  const attributes: Attributes = {
    "messaging.system": "kafka",
    "messaging.operation.type": "process",
    "messaging.operation.name": "process",
    "messaging.destination.name": p.topic,
    "messaging.destination.partition.id": String(p.partition),
    "messaging.client.id": p.clientId,
  };
  if (p.groupId !== undefined) attributes["messaging.consumer.group.name"] = p.groupId;
  return attributes;
}

function messageAttributes(p: WorkPayload<"process_message">): Attributes {
  const attributes: Attributes = {
    ...consumerAttributes(p),
    "messaging.kafka.offset": p.offset,
    "racecar.retries_count": p.retriesCount,
  };
  const key = keyText(p.key);
  if (key !== undefined) attributes["messaging.kafka.message.key"] = key;
  if (p.value === null) attributes["messaging.kafka.message.tombstone"] = true;
  else attributes["messaging.message.body.size"] = p.value.length;
  if (p.consumerClass !== undefined) attributes["racecar.consumer.class"] = p.consumerClass;
  return attributes;
}

function batchAttributes(p: WorkPayload<"process_batch">): Attributes {
  const attributes: Attributes = {
    ...consumerAttributes(p),
    "messaging.batch.message_count": p.messageCount,
    "racecar.batch.first_offset": p.firstOffset,
    "racecar.batch.last_offset": p.lastOffset,
    "racecar.retries_count": p.retriesCount,
  };
  if (p.consumerClass !== undefined) attributes["racecar.consumer.class"] = p.consumerClass;
  return attributes;
}

function sendAttributes(p: WorkPayload<"send_message">): Attributes {
  const attributes: Attributes = {
    "messaging.system": "kafka",
    "messaging.operation.type": "send",
    "messaging.operation.name": "send",
    "messaging.destination.name": p.topic,
    "messaging.client.id": p.clientId,
  };
  if (p.partition !== undefined) {
    attributes["messaging.destination.partition.id"] = String(p.partition);
  }
  const key = keyText(p.key);
  if (key !== undefined) attributes["messaging.kafka.message.key"] = key;
  return attributes;
}

/** `error.type`: the error's class name, as the conventions ask. */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** A list of Kafka headers as a text carrier: the last value of each key wins. */
function headerCarrier(headers: readonly Header[]): Record<string, string> {
  const carrier: Record<string, string> = {};
  for (const { key, value } of headers) {
    if (value === null) continue;
    try {
      carrier[key] = decoder.decode(value);
    } catch {
      // Not text: not a trace header.
    }
  }
  return carrier;
}

function subscribeTraces(api: typeof Api, events: Instrumenter): (() => void)[] {
  const { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = api;
  const tracer = trace.getTracer(INSTRUMENTATION_SCOPE);

  /** Runs `work` as the active span `span` in `ctx`; ends the span with its outcome. */
  function within<T>(span: Api.Span, ctx: Api.Context, work: () => Promise<T>): Promise<T> {
    return context.with(trace.setSpan(ctx, span), async () => {
      try {
        return await work();
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setAttribute("error.type", errorType(error));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  return [
    events.around("process_message", (p, work) => {
      const parent = propagation.extract(ROOT_CONTEXT, p.headers);
      const span = tracer.startSpan(`process ${p.topic}`, {
        kind: SpanKind.CONSUMER,
        attributes: messageAttributes(p),
      }, parent);
      return within(span, parent, work);
    }),
    events.around("process_batch", (p, work) => {
      const links: Api.Link[] = [];
      for (const headers of p.messageHeaders ?? []) {
        const linked = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, headers));
        if (linked !== undefined && trace.isSpanContextValid(linked)) {
          links.push({ context: linked });
        }
      }
      const active = context.active();
      const span = tracer.startSpan(`process ${p.topic}`, {
        kind: SpanKind.CONSUMER,
        attributes: batchAttributes(p),
        links,
      }, active);
      return within(span, active, work);
    }),
    events.around("send_message", (p, work) => {
      // Inside `process` the active span is the parent; elsewhere (an app's
      // request without tracing, dead letters) the trace the headers carry.
      let parent = context.active();
      if (trace.getSpan(parent) === undefined) {
        parent = propagation.extract(parent, headerCarrier(p.headers));
      }
      const span = tracer.startSpan(`send ${p.topic}`, {
        kind: SpanKind.PRODUCER,
        attributes: sendAttributes(p),
      }, parent);
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(parent, span), carrier);
      const injected = Object.keys(carrier);
      if (injected.length > 0) {
        // Replace what the message carried (a dead letter copies the original's headers).
        const keep = p.headers.filter((h) => !(h.key in carrier));
        p.headers.splice(0, p.headers.length, ...keep);
        for (const key of injected) p.headers.push({ key, value: encoder.encode(carrier[key]) });
      }
      return within(span, parent, async () => {
        const report = await work();
        const { partition, offset } = (report ?? {}) as { partition?: unknown; offset?: unknown };
        if (typeof partition === "number") {
          span.setAttribute("messaging.destination.partition.id", String(partition));
        }
        if (typeof offset === "number") span.setAttribute("messaging.kafka.offset", offset);
        return report;
      });
    }),
  ];
}

function subscribeMetrics(api: typeof Api, events: Instrumenter): (() => void)[] {
  const meter = api.metrics.getMeter(INSTRUMENTATION_SCOPE);
  const processDuration = meter.createHistogram("messaging.process.duration", {
    unit: "s",
    description: "How long processing a message (or batch) took, with delivery of what it produced",
  });
  const consumed = meter.createCounter("messaging.client.consumed.messages", {
    unit: "{message}",
    description: "Messages handed to process or processBatch",
  });
  const processErrors = meter.createCounter("racecar.process.errors", {
    unit: "{error}",
    description: "Failed process or processBatch calls (each retry counts)",
  });
  const sendDuration = meter.createHistogram("messaging.client.operation.duration", {
    unit: "s",
    description: "How long sending a message took, until the broker acknowledged it",
  });
  const sent = meter.createCounter("messaging.client.sent.messages", {
    unit: "{message}",
    description: "Messages sent (acknowledged or failed)",
  });
  const deadLetters = meter.createCounter("racecar.dead_letters", {
    unit: "{message}",
    description: "Messages sent to the dead-letter topic",
  });
  const lag = meter.createGauge("racecar.consumer.lag", {
    unit: "{message}",
    description: "High watermark minus committed offset, from librdkafka's statistics",
  });

  const processed = (
    p: MessagePayload | BatchPayload,
    count: number,
    durationMs: number,
    error: unknown,
  ) => {
    const attributes = consumerAttributes(p);
    if (error !== undefined) attributes["error.type"] = errorType(error);
    processDuration.record(durationMs / 1000, attributes);
    consumed.add(count, attributes);
    if (error !== undefined) processErrors.add(1, attributes);
  };
  return [
    events.on("process_message", (p) => processed(p, 1, p.durationMs, p.error)),
    events.on("process_batch", (p) => processed(p, p.messageCount, p.durationMs, p.error)),
    events.on("send_message", (p) => {
      const attributes = sendAttributes(p);
      delete attributes["messaging.kafka.message.key"];
      if (p.error !== undefined) attributes["error.type"] = errorType(p.error);
      sendDuration.record(p.durationMs / 1000, attributes);
      sent.add(1, attributes);
    }),
    events.on("dead_letter", (p) => {
      deadLetters.add(p.offsets.length, {
        "messaging.system": "kafka",
        "messaging.destination.name": p.topic,
        "messaging.destination.partition.id": String(p.partition),
        "racecar.dead_letter_topic": p.deadLetterTopic,
        ...(p.groupId === undefined ? {} : { "messaging.consumer.group.name": p.groupId }),
      });
    }),
    events.on("statistics", (p) => {
      for (const { topic, partition, consumerLag } of partitionLags(p.statistics)) {
        lag.record(consumerLag, {
          "messaging.system": "kafka",
          "messaging.destination.name": topic,
          "messaging.destination.partition.id": String(partition),
          ...(p.groupId === undefined ? {} : { "messaging.consumer.group.name": p.groupId }),
        });
      }
    }),
  ];
}
