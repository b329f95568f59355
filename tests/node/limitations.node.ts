/**
 * Pins where the node-rdkafka adapter cannot behave like the Deno FFI adapter,
 * because node-rdkafka does not pass the information through. Each test fails
 * (and should then be turned into a shared scenario) once node-rdkafka fixes
 * it. The list is in docs/node.md, "Limitations".
 *
 * @module
 */

import { strict as assert } from "node:assert";
import { test } from "node:test";
import { createNodeRdkafkaTransport } from "../../src/kafka/node_rdkafka/mod.ts";
import type { RawMessage } from "../../src/kafka/transport.ts";
import { brokers } from "./_register.ts";

const transport = createNodeRdkafkaTransport();

async function roundTrip(
  topicConfig: Record<string, string>,
  record: { headers?: { key: string; value: Uint8Array | null }[] },
): Promise<RawMessage> {
  const topic = `node-limits-${crypto.randomUUID().slice(0, 12)}`;
  const admin = transport.createAdmin({ config: { "bootstrap.servers": brokers } });
  const producer = transport.createProducer({ config: { "bootstrap.servers": brokers } });
  const consumer = transport.createConsumer({
    config: {
      "bootstrap.servers": brokers,
      "group.id": topic,
      "auto.offset.reset": "earliest",
    },
  });
  try {
    await admin.createTopics([{ name: topic, partitions: 1, config: topicConfig }], 15_000);
    await producer.produce({ topic, value: new TextEncoder().encode("v"), ...record });
    consumer.subscribe([topic]);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const [message] = await consumer.consume(1, 250);
      if (message) return message;
    }
    throw new Error("no message arrived");
  } finally {
    await consumer.close();
    await producer.close(1_000);
    await admin.deleteTopics([topic], 15_000).catch(() => {});
    await admin.close();
  }
}

test("produce() sends header values as UTF-8 text: invalid UTF-8 and NUL bytes do not survive", async () => {
  const binary = new Uint8Array([0x61, 0xff, 0x00, 0x62]);
  const message = await roundTrip({}, { headers: [{ key: "bin", value: binary }] });
  assert.equal(message.headers.length, 1);
  assert.notDeepEqual(message.headers[0]!.value, binary);
  // 0xff became U+FFFD and the NUL ended the string.
  assert.deepEqual(message.headers[0]!.value, new Uint8Array([0x61, 0xef, 0xbf, 0xbd]));
});

test("produce() sends a null header value as an empty one", async () => {
  const message = await roundTrip({}, { headers: [{ key: "none", value: null }] });
  assert.deepEqual(message.headers, [{ key: "none", value: new Uint8Array(0) }]);
});

test("consume() reports timestampType 'create' for log-append-time topics", async () => {
  const message = await roundTrip({ "message.timestamp.type": "LogAppendTime" }, {});
  assert.equal(message.timestampType, "create");
  assert.equal(typeof message.timestamp, "number");
});
