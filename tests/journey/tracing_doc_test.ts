/**
 * docs/tracing.md followed literally: its two commands run as written from
 * `examples/` (the documented broker replaced by the test one, the trace id and
 * the consumer group unique to the run), and the consumer prints the spans the
 * document says, through the ConsoleSpanExporter the example registers.
 *
 * @module
 */

import { join } from "node:path";
import assert from "node:assert/strict";
import { BROKERS, cleanEnv, createTopics, Proc, ROOT, unique } from "../cli/_helpers.ts";
import { commandLines, parseCommand } from "../docs/_docs.ts";

const DOC_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const DOC_PARENT = "00f067aa0ba902b7";

function run(line: string, replace: Record<string, string>, extraEnv: Record<string, string>) {
  let text = line.replaceAll("127.0.0.1:9092", BROKERS);
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  const { env, argv } = parseCommand(text);
  assert.deepEqual(argv[0], "deno", `a docs/tracing.md command that is not deno: ${line}`);
  return new Proc([Deno.execPath(), ...argv.slice(1)], {
    cwd: join(ROOT, "examples"),
    env: cleanEnv({ ...env, ...extraEnv }),
  });
}

Deno.test({
  name:
    "docs/tracing.md: TracedOrdersConsumer prints the process span of a produced order, a child of the trace in its traceparent header",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const lines = await commandLines("docs/tracing.md", /^(RACECAR_\w+=\S+ )*deno run -A /);
    assert.deepEqual(lines.length, 2, lines.join("\n"));
    const [start, produce] = lines as [string, string];
    assert.ok(start.includes("TracedOrdersConsumer"), start);
    assert.ok(produce.includes(`traceparent=00-${DOC_TRACE_ID}-${DOC_PARENT}-01`), produce);
    await createTopics([{ name: "racecar-demo-orders", partitions: 1 }]).catch((error) => {
      if (!String(error).includes("already exists")) throw error;
    });
    const traceId = crypto.randomUUID().replaceAll("-", "");
    const consumer = run(start, {}, { RACECAR_GROUP_ID: unique("racecar-tracing-doc") });
    try {
      await consumer.waitFor("Wrooooom!", 60_000);
      assert.ok(
        consumer.output.includes("OpenTelemetry tracing and metrics enabled"),
        consumer.output,
      );
      // A new group starts from the beginning (start_from_beginning): no need to wait for it.
      const producer = run(produce, { [DOC_TRACE_ID]: traceId }, {});
      assert.deepEqual((await producer.status(60_000)).code, 0, producer.output);
      await consumer.waitFor(/name: ["']process racecar-demo-orders["']/, 60_000);
      // The span printed last for this trace is the process span; the user's span came first.
      const printed = consumer.stdout.split(/\n(?=\{)/).filter((s) => s.includes(traceId));
      const processSpan = printed.find((s) => s.includes("process racecar-demo-orders"));
      const userSpan = printed.find((s) => s.includes("reserve stock"));
      assert.ok(processSpan !== undefined && userSpan !== undefined, consumer.stdout);
      assert.ok(
        processSpan.includes(`spanId: "${DOC_PARENT}"`) ||
          processSpan.includes(`spanId: '${DOC_PARENT}'`),
        processSpan,
      );
      assert.ok(
        /"messaging.destination.name": ["']racecar-demo-orders["']/.test(processSpan),
        processSpan,
      );
      assert.ok(/kind: 4/.test(processSpan), `a CONSUMER span: ${processSpan}`);
      const id = /\bid: ["']([0-9a-f]{16})["']/.exec(processSpan)?.[1];
      assert.ok(
        id !== undefined && userSpan.includes(id),
        `reserve stock is a child of ${id}: ${userSpan}`,
      );
      consumer.kill("SIGTERM");
      assert.deepEqual((await consumer.status(60_000)).code, 0, consumer.output);
    } finally {
      await consumer.dispose();
    }
  },
});

Deno.test({
  name:
    "docs/tracing.md: with tracing_enabled and no SDK registered, racecar warns and runs untraced",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // GreetingsConsumer registers no SDK.
    const consumer = new Proc([Deno.execPath(), "run", "-A", "../cli.ts", "GreetingsConsumer"], {
      cwd: join(ROOT, "examples"),
      env: cleanEnv({
        RACECAR_BROKERS: BROKERS,
        RACECAR_TRACING_ENABLED: "true",
        RACECAR_GROUP_ID: unique("racecar-tracing-no-sdk"),
      }),
    });
    try {
      await consumer.waitFor("Wrooooom!", 60_000);
      await consumer.waitFor("no tracer provider is registered", 30_000);
      assert.ok(consumer.output.includes("no meter provider is registered"), consumer.output);
      consumer.kill("SIGTERM");
      assert.deepEqual((await consumer.status(60_000)).code, 0, consumer.output);
    } finally {
      await consumer.dispose();
    }
  },
});
