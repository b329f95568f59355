import { getLogger, reset } from "@logtape/logtape";
import { setUpLogging } from "../../src/cli/_logging.ts";
import { KafkaError } from "../../src/errors.ts";
import assert from "node:assert/strict";

async function logged(
  options: Omit<Parameters<typeof setUpLogging>[0], "logfile">,
  write: () => void,
): Promise<string[]> {
  const dir = await Deno.makeTempDir();
  const logfile = `${dir}/racecar.log`;
  try {
    await setUpLogging({ ...options, logfile });
    write();
    await reset();
    const text = await Deno.readTextFile(logfile).catch(() => ""); // nothing logged: no file
    return text.split("\n").filter((line) => line !== "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("setUpLogging() writes one JSON object per line, errors without a stack, when the format is json", async () => {
  const lines = await logged({ level: "info", format: "json" }, () => {
    const error = new KafkaError(-195, "ERR__TRANSPORT", "Connection refused");
    getLogger(["racecar", "runner"]).warn("Poll failed for {consumer}: {error}", {
      consumer: "OrdersConsumer",
      error,
    });
  });
  assert.deepEqual(lines.length, 1);
  const record = JSON.parse(lines[0]!);
  assert.deepEqual(record.level, "WARN");
  assert.deepEqual(record.logger, "racecar.runner");
  assert.deepEqual(record.message, "Poll failed for OrdersConsumer: Connection refused");
  assert.deepEqual(record.properties.error, {
    name: "KafkaError",
    message: "Connection refused",
    code: "ERR__TRANSPORT",
  });
});

Deno.test("setUpLogging() keeps librdkafka's lines at librdkafka_log_level when log_level is lower", async () => {
  const lines = await logged({ level: "debug", librdkafkaLevel: "warn" }, () => {
    getLogger(["racecar", "librdkafka"]).info("[CONNECT] chatty");
    getLogger(["racecar", "librdkafka"]).warn("[FAIL] kept");
    getLogger(["racecar", "runner"]).debug("racecar detail");
  });
  assert.deepEqual(lines.map((line) => line.replace(/^\S+ \S+ \S+ \[\w+\] /, "")), [
    "racecar·librdkafka: [FAIL] kept",
    "racecar·runner: racecar detail",
  ]);
});

Deno.test("setUpLogging() lets log_level win when it is stricter than librdkafka_log_level", async () => {
  const lines = await logged({ level: "error", librdkafkaLevel: "debug" }, () => {
    getLogger(["racecar", "librdkafka"]).warn("[FAIL] hidden");
  });
  assert.deepEqual(lines, []);
});
