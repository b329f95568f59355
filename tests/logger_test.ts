import { configure, type LogRecord, reset } from "@logtape/logtape";
import { forwardClientLog } from "../src/logger.ts";
import assert from "node:assert/strict";

Deno.test("forwardClientLog() keeps unreachable-broker FAIL lines for debug and other FAIL lines as they are", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (record) => void records.push(record) },
    loggers: [
      { category: ["racecar"], lowestLevel: "trace", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  try {
    forwardClientLog({
      level: 3,
      facility: "FAIL",
      message: "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused " +
        "(after 0ms in state CONNECT)",
    });
    forwardClientLog({
      level: 3,
      facility: "FAIL",
      message: "b1:9094/bootstrap: SASL authentication error: Authentication failed during " +
        "authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256",
    });
    forwardClientLog({ level: 4, facility: "MAXPOLL", message: "max.poll.interval.ms exceeded" });
    assert.deepEqual(records.map((r) => [r.level, r.properties.facility]), [
      ["debug", "FAIL"],
      ["error", "FAIL"],
      ["warning", "MAXPOLL"],
    ]);
  } finally {
    await reset();
  }
});
