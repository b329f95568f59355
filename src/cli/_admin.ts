/**
 * `racecarctl`'s cluster commands: list and create topics, list and describe
 * consumer groups (members, assignment, committed offset, end offset and lag)
 * and reset a group's offsets. All go through the library's admin API
 * ({@link AdminTransport}) and, for a group's committed offsets, a consumer of
 * that group that never subscribes (so it never joins the group).
 *
 * @module
 */

import { topicPartitionKey } from "../_topic_partition.ts";
import { writeStdout } from "../_runtime.ts";
import { consumerConfig, producerConfig, type RacecarConfig } from "../config/mod.ts";
import { ErrorCode, KafkaError } from "../errors.ts";
import {
  type AdminTransport,
  type ConsumerTransport,
  type GroupDescription,
  OFFSET_INVALID,
  type TopicPartition,
  type TopicPartitionOffset,
  type Transport,
} from "../kafka/transport.ts";
import { UsageError } from "./_exit.ts";

const { NOT_IMPLEMENTED, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS } = ErrorCode;

/** What the cluster commands share. */
export interface AdminContext {
  config: RacecarConfig;
  transport: Transport;
  /** Bound of each request, ms. */
  timeoutMs: number;
}

/** Prints rows as columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)).join("  ")
      .trimEnd() + "\n";
  return line(header) + rows.map(line).join("");
}

async function withAdmin<T>(ctx: AdminContext, fn: (admin: AdminTransport) => Promise<T>) {
  const admin = ctx.transport.createAdmin({ config: producerConfig(ctx.config) });
  try {
    return await fn(admin);
  } catch (error) {
    throw explain(error, ctx);
  } finally {
    await admin.close();
  }
}

/** Kafka failures name the brokers asked, so a wrong address is obvious. */
function explain(error: unknown, ctx: AdminContext): unknown {
  if (!(error instanceof KafkaError) || error.errno === NOT_IMPLEMENTED) return error;
  const unreachable: number[] = [
    ErrorCode.TIMED_OUT,
    ErrorCode.TRANSPORT,
    ErrorCode.ALL_BROKERS_DOWN,
  ];
  if (unreachable.includes(error.errno)) {
    return new KafkaError(
      error.errno,
      error.code,
      `${error.message} (brokers ${ctx.config.brokers.join(",")}, waited ${
        ctx.timeoutMs / 1000
      } s)`,
      { cause: error },
    );
  }
  return error;
}

/** `list_topics`: name and partition count; internal topics only with `all`. */
export async function listTopics(ctx: AdminContext, all: boolean): Promise<number> {
  const topics = await withAdmin(ctx, (admin) => admin.listTopics(ctx.timeoutMs));
  const shown = topics.filter((t) => all || !t.name.startsWith("__"));
  writeStdout(table(["TOPIC", "PARTITIONS"], shown.map((t) => [t.name, String(t.partitions)])));
  return 0;
}

/** `create_topic`: creates one topic; an existing one is reported, not an error. */
export async function createTopic(
  ctx: AdminContext,
  name: string,
  options: { partitions: number; replicationFactor?: number; config: Record<string, string> },
): Promise<number> {
  await withAdmin(ctx, async (admin) => {
    const before = await admin.listTopics(ctx.timeoutMs);
    const existing = before.find((t) => t.name === name);
    if (existing !== undefined) {
      writeStdout(`Topic ${name} already exists (${existing.partitions} partitions)\n`);
      return;
    }
    await admin.createTopics([{
      name,
      partitions: options.partitions,
      ...(options.replicationFactor === undefined
        ? {}
        : { replicationFactor: options.replicationFactor }),
      config: options.config,
    }], ctx.timeoutMs);
    writeStdout(`Created topic ${name} (${options.partitions} partitions)\n`);
  });
  return 0;
}

/** `list_groups`: id, state and kind of every group. */
export async function listGroups(ctx: AdminContext): Promise<number> {
  const groups = await withAdmin(ctx, (admin) => admin.listGroups(ctx.timeoutMs));
  writeStdout(
    table(
      ["GROUP", "STATE", "TYPE"],
      groups.map((g) => [g.groupId, g.state, g.protocolType || "-"]),
    ),
  );
  return 0;
}

/** A consumer of `group` that never subscribes: it reads and commits the group's offsets. */
function groupReader(ctx: AdminContext, group: string): ConsumerTransport {
  return ctx.transport.createConsumer({
    config: { ...consumerConfig(ctx.config), "group.id": group, "enable.auto.commit": "false" },
  });
}

async function describe(
  admin: AdminTransport,
  group: string,
  ctx: AdminContext,
): Promise<GroupDescription | undefined> {
  try {
    return await admin.describeGroup(group, ctx.timeoutMs);
  } catch (error) {
    // node-rdkafka cannot describe groups; offsets still work.
    if (error instanceof KafkaError && error.errno === NOT_IMPLEMENTED) return undefined;
    throw error;
  }
}

/** Every partition of these topics (all non-internal topics when none are given). */
async function partitionsOf(
  admin: AdminTransport,
  topics: readonly string[],
  ctx: AdminContext,
): Promise<TopicPartition[]> {
  const listed = await admin.listTopics(ctx.timeoutMs);
  const result: TopicPartition[] = [];
  for (const name of topics) {
    if (!listed.some((t) => t.name === name)) {
      throw new UsageError(`Unknown topic "${name}": racecarctl list_topics shows the topics`);
    }
  }
  for (const topic of listed) {
    if (topics.length === 0 ? topic.name.startsWith("__") : !topics.includes(topic.name)) continue;
    for (let partition = 0; partition < topic.partitions; partition++) {
      result.push({ topic: topic.name, partition });
    }
  }
  return result;
}

/**
 * `describe_group`: state and members, then per partition the committed
 * offset, the end of the log and the lag. Partitions shown: those of `topics`,
 * else those assigned or committed.
 */
export async function describeGroup(
  ctx: AdminContext,
  group: string,
  topics: readonly string[],
): Promise<number> {
  await withAdmin(ctx, async (admin) => {
    const description = await describe(admin, group, ctx);
    const owner = new Map<string, string>();
    for (const member of description?.members ?? []) {
      for (const tp of member.assignment) {
        owner.set(topicPartitionKey(tp.topic, tp.partition), member.memberId);
      }
    }
    const assignedTopics = [
      ...new Set(description?.members.flatMap((m) => m.assignment.map((tp) => tp.topic)) ?? []),
    ];
    const candidates = await partitionsOf(
      admin,
      topics.length > 0 ? topics : assignedTopics,
      ctx,
    );
    const reader = groupReader(ctx, group);
    let committed: TopicPartitionOffset[];
    try {
      committed = await reader.committed(candidates, ctx.timeoutMs);
    } finally {
      await reader.close();
    }
    const shown = committed.filter((c) =>
      topics.length > 0 || c.offset !== OFFSET_INVALID ||
      owner.has(topicPartitionKey(c.topic, c.partition))
    );
    const ends = await admin.watermarks(shown, ctx.timeoutMs);
    if (description === undefined) {
      writeStdout(
        `Group ${group}: members not shown (node-rdkafka cannot describe groups; see docs/node.md)\n`,
      );
    } else {
      const count = description.members.length;
      writeStdout(
        `Group ${group}: ${description.state}` +
          (description.protocol === "" ? "" : `, assignor ${description.protocol}`) +
          `, ${count} member${count === 1 ? "" : "s"}\n`,
      );
      if (count > 0) {
        writeStdout(
          "\n" + table(
            ["MEMBER", "CLIENT", "HOST", "PARTITIONS"],
            description.members.map((m) => [
              m.memberId,
              m.clientId,
              m.host,
              m.assignment.map((tp) => topicPartitionKey(tp.topic, tp.partition)).join(",") || "-",
            ]),
          ),
        );
      }
    }
    if (shown.length === 0) {
      writeStdout(
        "\nNo committed offsets" +
          (topics.length > 0 ? "" : " (pass --topic to list a topic's partitions)") + "\n",
      );
      return;
    }
    writeStdout(
      "\n" + table(
        ["TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "MEMBER"],
        shown.map((c, i) => {
          const end = ends[i]!.high;
          const has = c.offset !== OFFSET_INVALID;
          return [
            c.topic,
            String(c.partition),
            has ? String(c.offset) : "-",
            String(end),
            has ? String(Math.max(0, end - c.offset)) : "-",
            owner.get(topicPartitionKey(c.topic, c.partition)) ?? "-",
          ];
        }),
      ),
    );
  });
  return 0;
}

/** Where `reset_offsets` moves a group. */
export type ResetTarget =
  | { to: "earliest" }
  | { to: "latest" }
  | { to: "datetime"; timestamp: number }
  | { to: "offset"; offset: number };

/**
 * `reset_offsets`: commits new offsets for a group's partitions of `topic`.
 * Refused while the group has members (their next commit would undo it); the
 * broker refuses it too, which is what protects it under Node.
 */
export async function resetOffsets(
  ctx: AdminContext,
  group: string,
  topic: string,
  partitions: readonly number[],
  target: ResetTarget,
): Promise<number> {
  await withAdmin(ctx, async (admin) => {
    const description = await describe(admin, group, ctx);
    if (description !== undefined && description.members.length > 0) {
      throw new KafkaError(
        UNKNOWN_MEMBER_ID,
        "ERR_UNKNOWN_MEMBER_ID",
        refusal(group, `it has ${description.members.length} active member(s)`),
      );
    }
    let chosen = await partitionsOf(admin, [topic], ctx);
    if (partitions.length > 0) {
      const unknown = partitions.filter((p) => !chosen.some((tp) => tp.partition === p));
      if (unknown.length > 0) {
        throw new UsageError(
          `Invalid --partition ${unknown.join(",")}: topic "${topic}" has partitions 0 to ${
            chosen.length - 1
          }`,
        );
      }
      chosen = chosen.filter((tp) => partitions.includes(tp.partition));
    }
    const marks = await admin.watermarks(chosen, ctx.timeoutMs);
    let next: number[];
    switch (target.to) {
      case "earliest":
        next = marks.map((m) => m.low);
        break;
      case "latest":
        next = marks.map((m) => m.high);
        break;
      case "offset":
        next = marks.map((m) => {
          if (target.offset < m.low || target.offset > m.high) {
            throw new UsageError(
              `Invalid --to-offset ${target.offset}: ${
                topicPartitionKey(m.topic, m.partition)
              } holds offsets ` +
                `${m.low} to ${m.high} (${m.high} is the end)`,
            );
          }
          return target.offset;
        });
        break;
      case "datetime": {
        const found = await admin.offsetsForTimes(
          chosen.map((tp) => ({ ...tp, offset: target.timestamp })),
          ctx.timeoutMs,
        );
        // -1: no message that recent, so the end of the log.
        next = found.map((f, i) => f.offset < 0 ? marks[i]!.high : f.offset);
        break;
      }
    }
    const reader = groupReader(ctx, group);
    let before: TopicPartitionOffset[];
    try {
      before = await reader.committed(chosen, ctx.timeoutMs);
      await reader.commit(chosen.map((tp, i) => ({ ...tp, offset: next[i]! })), { sync: true });
    } catch (error) {
      if (
        error instanceof KafkaError &&
        ([UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS] as number[]).includes(
          error.errno,
        )
      ) {
        throw new KafkaError(
          error.errno,
          error.code,
          refusal(group, `the broker refused the commit (${error.message})`),
          { cause: error },
        );
      }
      throw error;
    } finally {
      await reader.close();
    }
    writeStdout(
      table(
        ["TOPIC", "PARTITION", "BEFORE", "AFTER"],
        chosen.map((tp, i) => [
          tp.topic,
          String(tp.partition),
          before[i]!.offset === OFFSET_INVALID ? "-" : String(before[i]!.offset),
          String(next[i]),
        ]),
      ),
    );
  });
  return 0;
}

function refusal(group: string, why: string): string {
  return `Cannot reset offsets of group "${group}": ${why}; stop its consumers first ` +
    `(racecarctl describe_group ${group} lists them)`;
}
