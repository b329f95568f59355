import { configure, type LogRecord, reset } from "@logtape/logtape";
import { KafkaError } from "../src/errors.ts";
import { Instrumenter } from "../src/events.ts";
import { connectionCause, installLogSubscriber } from "../src/log_subscriber.ts";
import assert from "node:assert/strict";

const base = { clientId: "racecar", groupId: "orders" };
const refused = "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused " +
  "(after 0ms in state CONNECT, 1 identical error(s) suppressed)";

/** Runs `fn` with Racecar's logs at `level` captured as `[level, text]`. */
async function captured(
  level: "trace" | "debug" | "info",
  fn: (events: Instrumenter, clock: { now: number }, lines: string[]) => void | Promise<void>,
): Promise<void> {
  const lines: string[] = [];
  const render = (r: LogRecord) =>
    `${r.level} ${r.message.map((part, i) => i % 2 === 1 ? String(part) : part).join("")}`;
  await configure({
    reset: true,
    sinks: { memory: (record) => void lines.push(render(record)) },
    loggers: [
      { category: ["racecar"], lowestLevel: level, sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  const events = new Instrumenter();
  const clock = { now: 1_000_000 };
  const off = installLogSubscriber(events, {
    summaryIntervalSeconds: 60,
    brokers: "kafka1:9092",
    clock: () => clock.now,
  });
  try {
    await fn(events, clock, lines);
  } finally {
    off();
    await reset();
  }
}

function clientError(events: Instrumenter, errno: number, code: string, message: string) {
  events.emit(
    "error",
    () => ({ ...base, error: new KafkaError(errno, code, message), fatal: false }),
  );
}

function loop(events: Instrumenter, messageCount = 0) {
  events.emit("main_loop", () => ({ ...base, durationMs: 1, messageCount }));
}

Deno.test("installLogSubscriber() logs an outage once with its cause, then one summary per interval", async () => {
  await captured("info", (events, clock, lines) => {
    clientError(events, -195, "ERR__TRANSPORT", refused);
    clientError(events, -187, "ERR__ALL_BROKERS_DOWN", "1/1 brokers are down");
    for (let second = 1; second <= 130; second++) {
      clock.now += 1000;
      clientError(events, -195, "ERR__TRANSPORT", refused);
      loop(events);
    }
    assert.deepEqual(lines, [
      "warning No broker reachable: 127.0.0.1:1: connection refused; librdkafka keeps " +
      "retrying, a summary follows every 60 s",
      "warning No broker reachable for 60 s: 127.0.0.1:1: connection refused",
      "warning No broker reachable for 120 s: 127.0.0.1:1: connection refused",
    ]);
  });
});

Deno.test("installLogSubscriber() says Kafka is reachable again when messages arrive after an outage", async () => {
  await captured("info", (events, clock, lines) => {
    clientError(events, -187, "ERR__ALL_BROKERS_DOWN", "1/1 brokers are down");
    clock.now += 5000;
    loop(events, 3);
    loop(events, 3);
    assert.deepEqual(lines.slice(1), ["info Kafka is reachable again after 5 s"]);
  });
});

Deno.test("installLogSubscriber() names the brokers when the error does not (node-rdkafka)", async () => {
  await captured("info", (events, _clock, lines) => {
    clientError(events, -195, "ERR__TRANSPORT", "Local: Broker transport failure");
    clientError(events, -187, "ERR__ALL_BROKERS_DOWN", "Local: All broker connections are down");
    assert.match(lines[0]!, /^warning No broker reachable: kafka1:9092: broker transport failure;/);
  });
});

Deno.test("installLogSubscriber() logs one broker's connection error at debug only, when the others are up", async () => {
  await captured("debug", (events, _clock, lines) => {
    clientError(events, -195, "ERR__TRANSPORT", refused);
    assert.deepEqual(lines, ["debug Kafka connection error: 127.0.0.1:1: connection refused"]);
  });
});

Deno.test("installLogSubscriber() repeats a missing topic every interval until it is assigned", async () => {
  await captured("info", (events, clock, lines) => {
    events.emit("join_group", () => ({ ...base, durationMs: 1, topics: ["orders", "refunds"] }));
    const missing = "Subscribed topic not available: refunds: Broker: Unknown topic or partition";
    clientError(events, 3, "ERR_UNKNOWN_TOPIC_OR_PART", missing);
    clientError(events, 3, "ERR_UNKNOWN_TOPIC_OR_PART", missing);
    clock.now += 61_000;
    loop(events);
    clock.now += 10_000;
    loop(events);
    events.emit("partitions_assigned", () => ({
      ...base,
      durationMs: 1,
      partitions: [{ topic: "refunds", partition: 0 }],
    }));
    clock.now += 61_000;
    loop(events);
    assert.deepEqual(lines.length, 2);
    assert.match(
      lines[0]!,
      /^warning Subscribed topic refunds does not exist; consumers do not ask the broker to create topics \(allow\.auto\.create\.topics is false\)/,
    );
    assert.match(lines[1]!, /^warning Subscribed topic refunds still does not exist after 61 s;/);
  });
});

Deno.test("installLogSubscriber() blames the unassigned subscribed topics when the error names none (node-rdkafka)", async () => {
  await captured("info", (events, _clock, lines) => {
    events.emit("join_group", () => ({ ...base, durationMs: 1, topics: ["orders", "refunds"] }));
    events.emit("partitions_assigned", () => ({
      ...base,
      durationMs: 1,
      partitions: [{ topic: "orders", partition: 0 }],
    }));
    clientError(events, 3, "ERR_UNKNOWN_TOPIC_OR_PART", "Broker: Unknown topic or partition");
    assert.deepEqual(lines.length, 1);
    assert.match(lines[0]!, /^warning Subscribed topic refunds does not exist;/);
  });
});

Deno.test("installLogSubscriber() logs other client errors by code and message, without a stack", async () => {
  await captured("info", (events, _clock, lines) => {
    clientError(events, -169, "ERR__AUTHENTICATION", "SASL authentication failed");
    assert.deepEqual(lines, [
      "warning Kafka client error: ERR__AUTHENTICATION: SASL authentication failed",
    ]);
  });
});

Deno.test("installLogSubscriber() logs one line per partition and poll at debug, per message at trace", async () => {
  await captured("trace", (events, _clock, lines) => {
    events.emit("join_group", () => ({ ...base, durationMs: 1, topics: ["orders"] }));
    for (const offset of [7, 8]) {
      events.emit("process_message", () => ({
        ...base,
        topic: "orders",
        partition: 2,
        offset,
        createTime: null,
        key: null,
        value: null,
        headers: {},
        retriesCount: 0,
        durationMs: 1.5,
      }));
    }
    loop(events, 2);
    assert.deepEqual(lines, [
      "trace Processed orders/2@7 in 1.5 ms",
      "trace Processed orders/2@8 in 1.5 ms",
      "debug Processed orders/2 offsets 7..8 (2 messages) in 3.0 ms",
    ]);
  });
});

Deno.test("installLogSubscriber() builds no per-message payload when debug is off", async () => {
  await captured("info", (events) => {
    events.emit("join_group", () => ({ ...base, durationMs: 1, topics: ["orders"] }));
    assert.deepEqual(events.listens("process_message"), false);
    assert.deepEqual(events.listens("process_batch"), false);
  });
});

Deno.test("connectionCause() shortens librdkafka's resolve failures too", () => {
  assert.deepEqual(
    connectionCause(
      "nohost:9092/bootstrap: Failed to resolve 'nohost:9092': Name or service not known " +
        "(after 2ms in state CONNECT)",
    ),
    "nohost:9092: failed to resolve 'nohost:9092': Name or service not known",
  );
});

Deno.test("installLogSubscriber() ends an outage quietly after 30 s without connection errors", async () => {
  await captured("info", (events, clock, lines) => {
    clientError(events, -187, "ERR__ALL_BROKERS_DOWN", "1/1 brokers are down");
    clock.now += 61_000;
    loop(events);
    clientError(events, -195, "ERR__TRANSPORT", refused);
    assert.deepEqual(lines.slice(1), ["info No Kafka connection errors for 61 s"]);
    clientError(events, -187, "ERR__ALL_BROKERS_DOWN", "1/1 brokers are down");
    assert.match(lines[2]!, /^warning No broker reachable: 127\.0\.0\.1:1: connection refused;/);
  });
});

Deno.test("installLogSubscriber() logs one line per batch at debug for processBatch consumers", async () => {
  await captured("debug", (events, _clock, lines) => {
    events.emit("join_group", () => ({ ...base, durationMs: 1, topics: ["orders"] }));
    events.emit("process_batch", () => ({
      ...base,
      topic: "orders",
      partition: 1,
      firstOffset: 40,
      lastOffset: 49,
      lastCreateTime: null,
      messageCount: 10,
      retriesCount: 0,
      durationMs: 12.25,
    }));
    assert.deepEqual(lines, [
      "debug Processed batch orders/1 offsets 40..49 (10 messages) in 12.3 ms",
    ]);
  });
});
