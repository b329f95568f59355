/**
 * The admin transport's read and offset calls, held to one behaviour on every
 * adapter: topics from metadata, groups and their members, watermarks and
 * offsets by time. node-rdkafka cannot list or describe groups; there the
 * scenarios check the clear error instead.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../src/errors.ts";
import { newConsumer, newTopic, produceMessages, testConsumerConfig, waitFor } from "./_kafka.ts";
import type { Scenario, SuiteContext } from "./_suite.ts";

function admin(ctx: SuiteContext) {
  const client = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
  ctx.defer(() => client.close());
  return client;
}

function groupsUnsupported(ctx: SuiteContext): boolean {
  return ctx.transport.name === "node-rdkafka";
}

/** The scenarios, in the order they run. */
export const adminScenarios: Scenario[] = [
  {
    name: "listTopics() lists a created topic with its partition count",
    async fn(ctx) {
      const topic = await newTopic(ctx, 3, "racecar-admin-topics");
      const topics = await admin(ctx).listTopics(10_000);
      assert.deepEqual(topics.filter((t) => t.name === topic), [{ name: topic, partitions: 3 }]);
      const names = topics.map((t) => t.name);
      assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)));
    },
  },
  {
    name: "watermarks() gives each partition's first and next offset; offsetsForTimes() finds " +
      "the first message at a time",
    async fn(ctx) {
      const topic = await newTopic(ctx, 2, "racecar-admin-marks");
      await produceMessages(ctx, topic, 5, 2);
      const client = admin(ctx);
      assert.deepEqual(
        await client.watermarks([{ topic, partition: 0 }, { topic, partition: 1 }], 10_000),
        [{ topic, partition: 0, low: 0, high: 3 }, { topic, partition: 1, low: 0, high: 2 }],
      );
      const found = await client.offsetsForTimes([
        { topic, partition: 0, offset: 0 },
        { topic, partition: 1, offset: Date.now() + 3_600_000 },
      ], 10_000);
      assert.deepEqual(found, [
        { topic, partition: 0, offset: 0 },
        { topic, partition: 1, offset: -1 },
      ]);
    },
  },
  {
    name: "describeGroup() shows a running member and its assignment; listGroups() lists the group",
    async fn(ctx) {
      const topic = await newTopic(ctx, 2, "racecar-admin-group");
      const group = ctx.uniqueName("racecar-admin-group");
      const client = admin(ctx);
      if (groupsUnsupported(ctx)) {
        for (
          const call of [() => client.listGroups(10_000), () => client.describeGroup(group, 10_000)]
        ) {
          await assert.rejects(call, (error: unknown) => {
            assert.ok(error instanceof KafkaError);
            assert.equal(error.errno, ErrorCode.NOT_IMPLEMENTED);
            assert.match(
              error.message,
              /under Node: node-rdkafka 3\.6 has no consumer group listing/,
            );
            return true;
          });
        }
        return;
      }
      const consumer = newConsumer(ctx, {
        config: testConsumerConfig(ctx, group, { "client.id": "admin-scenario" }),
      });
      consumer.subscribe([topic]);
      await waitFor(async () => {
        await consumer.consume(1, 100);
        return consumer.assignment().length === 2;
      }, "the consumer got both partitions");
      let description = await client.describeGroup(group, 10_000);
      await waitFor(async () => {
        description = await client.describeGroup(group, 10_000);
        return description.state === "Stable";
      }, "the group is Stable");
      assert.equal(description.groupId, group);
      assert.equal(description.protocolType, "consumer");
      assert.equal(description.members.length, 1);
      assert.equal(description.members[0]!.clientId, "admin-scenario");
      assert.deepEqual(description.members[0]!.assignment, [
        { topic, partition: 0 },
        { topic, partition: 1 },
      ]);
      const listed = (await client.listGroups(10_000)).filter((g) => g.groupId === group);
      assert.deepEqual(listed, [{ groupId: group, state: "Stable", protocolType: "consumer" }]);
      const unknown = await client.describeGroup(ctx.uniqueName("racecar-admin-nobody"), 10_000);
      assert.equal(unknown.state, "Dead");
      assert.deepEqual(unknown.members, []);
    },
  },
];
