/**
 * Tracing with OpenTelemetry (docs/tracing.md): this module registers an SDK
 * that prints every finished span to the console, and a consumer whose work is
 * traced. Run it with `tracing_enabled` on (from `examples/`):
 *
 *   RACECAR_TRACING_ENABLED=true deno run -A jsr:@racecar/cli TracedOrdersConsumer
 *
 * Each message gets a `process racecar-demo-orders` span, a child of the trace
 * in the message's `traceparent` header when it has one; the `reserve stock`
 * span made in `process` is its child.
 */

import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from "@opentelemetry/core";
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { Consumer, type Message } from "@racecar/cli";

// The SDK: what an application registers once at start-up. A real one exports
// to a collector (e.g. @opentelemetry/exporter-trace-otlp-http) with a batching
// processor; the console exporter shows the spans here.
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(
  new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  }),
);

const tracer = trace.getTracer("orders-service");

export class TracedOrdersConsumer extends Consumer {
  static {
    this.subscribesTo("racecar-demo-orders");
  }

  override async process(message: Message): Promise<void> {
    // The process span is active here: this span (and HTTP or database spans
    // of instrumented libraries) becomes its child.
    await tracer.startActiveSpan("reserve stock", async (span) => {
      span.setAttribute("order", message.text() ?? "");
      await Promise.resolve();
      span.end();
    });
  }
}
