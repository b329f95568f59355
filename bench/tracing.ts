/**
 * What `tracing_enabled` costs when the application registered no
 * OpenTelemetry SDK: the `Runner` over the in-memory transport (no network, so
 * the runner's own per-message work is all there is to measure) processing the
 * same messages with tracing off and with `installOpenTelemetry` on its events
 * but nothing registered, rounds interleaved; the median of each.
 *
 * Usage: `deno run -A bench/tracing.ts [messages] [rounds]` (defaults 200000 5).
 * Every message carries a `traceparent` header, so the no-op path still reads
 * it. This process registers no tracer provider, meter provider, propagator or
 * context manager.
 *
 * @module
 */

import { Consumer } from "../src/consumer.ts";
import { Instrumenter } from "../src/events.ts";
import { createMemoryTransport } from "../src/kafka/memory/mod.ts";
import { installOpenTelemetry } from "../src/metrics/opentelemetry.ts";
import { Runner } from "../src/runner.ts";

const total = Number(Deno.args[0] ?? 200_000);
const rounds = Number(Deno.args[1] ?? 5);
const TOPIC = "bench-tracing";

type Mode = "off" | "on, no SDK";

async function secondsFor(mode: Mode): Promise<number> {
  const transport = createMemoryTransport();
  transport.broker.createTopic(TOPIC, 1);
  const value = new Uint8Array(100);
  const traceparent = new TextEncoder().encode(
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  );
  for (let i = 0; i < total; i++) {
    transport.broker.append({
      topic: TOPIC,
      partition: 0,
      value,
      key: null,
      headers: [{ key: "traceparent", value: traceparent }],
    });
  }
  let seen = 0;
  const stop = { runner: undefined as Runner | undefined };
  class CountConsumer extends Consumer {
    static {
      this.subscribesTo(TOPIC);
    }
    override process(): void {
      seen += 1;
      if (seen === total) stop.runner!.stop();
    }
  }
  const events = new Instrumenter();
  const otel = mode === "off" ? undefined : await installOpenTelemetry(events);
  const runner = new Runner({
    consumer: new CountConsumer(),
    transport,
    consumerConfig: { "group.id": "bench-tracing", "auto.offset.reset": "earliest" },
    producerConfig: {},
    settings: { clientId: "bench", groupId: "bench-tracing", maxWaitTime: 0.02 },
    instrumenter: events,
  });
  stop.runner = runner;
  const started = performance.now();
  await runner.run();
  const seconds = (performance.now() - started) / 1000;
  await otel?.close();
  if (seen !== total) throw new Error(`${mode}: processed ${seen} of ${total}`);
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const results: Record<Mode, number[]> = { "off": [], "on, no SDK": [] };
await secondsFor("off"); // warm-up: JIT and module loading count for neither
for (let round = 0; round < rounds; round++) {
  for (const mode of Object.keys(results) as Mode[]) results[mode].push(await secondsFor(mode));
}
const off = median(results["off"]);
console.log(`${total} messages, ${rounds} rounds (median, then every round in seconds)`);
for (const [mode, seconds] of Object.entries(results)) {
  const m = median(seconds);
  console.log(
    `${mode.padEnd(12)} ${m.toFixed(3)} s  ${Math.round(total / m).toLocaleString("en")} msg/s  ` +
      `x${(m / off).toFixed(3)}  [${seconds.map((s) => s.toFixed(3)).join(", ")}]`,
  );
}
