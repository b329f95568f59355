/**
 * Restarts with and without static membership (`group_instance_id`), through
 * the real `racecar` command: two members share a topic, one is killed with
 * SIGKILL and started again at once. With static membership the other member
 * sees no revoke and the restarted one gets its own partitions back; without
 * it the group rebalances. Nothing is lost either way.
 *
 * {@link killAndRestart} is also what `bench/static_membership.ts` times, so
 * the benchmark measures exactly the restart these scenarios check.
 *
 * Runtime-neutral: `node:child_process` works in Deno and Node alike.
 *
 * @module
 */

import assert from "node:assert/strict";
import { newTopic, produceMessages, waitFor } from "./_kafka.ts";
import type { RacecarProcess, Scenario, SuiteContext } from "./_suite.ts";

const PARTITIONS = 4;
const BATCH = 200;

/** One `racecar MemberConsumer` process and what it printed, with arrival times. */
export interface Member {
  /** The process. */
  process: RacecarProcess;
  /** `[partition, offset, Date.now()]` per processed message. */
  messages: [number, number, number][];
  /** Every `assigned` and `revoked` line, in order. */
  events: { kind: "assigned" | "revoked"; partitions: number[] }[];
  /** The partitions it holds now, by its hooks. */
  current: Set<number>;
  /** Exit code once it exited, `null` after a signal; `undefined` while it runs. */
  exitCode: number | null | undefined;
}

/** Options of {@link startMember}. */
export interface MemberOptions {
  topic: string;
  group: string;
  /** `--group-instance-id`; unset for a dynamic member. */
  instanceId?: string | undefined;
  /** `--session-timeout` in seconds. */
  sessionTimeout: number;
}

/** Starts `racecar MemberConsumer`; it is killed when the scenario ends, if still running. */
export function startMember(ctx: SuiteContext, options: MemberOptions): Member {
  const racecar = ctx.racecar;
  assert.ok(racecar !== undefined, "this scenario needs ctx.racecar");
  const args = [
    racecar.fixture("member_consumer"),
    "--group-id",
    options.group,
    "--session-timeout",
    String(options.sessionTimeout),
    "--heartbeat-interval",
    "0.5",
    "--offset-commit-interval",
    "0.2",
    "--max-wait-time",
    "0.2",
  ];
  if (options.instanceId !== undefined) args.push("--group-instance-id", options.instanceId);
  const child = racecar.start(args, { RACECAR_BROKERS: ctx.brokers, FIXTURE_TOPIC: options.topic });
  const member: Member = {
    process: child,
    messages: [],
    events: [],
    current: new Set(),
    exitCode: undefined,
  };
  child.onLine((line) => {
    const [kind, a, b] = line.split(" ");
    if (kind === "message") member.messages.push([Number(a), Number(b), Date.now()]);
    if (kind === "assigned" || kind === "revoked") {
      const partitions = a ? a.split(",").map(Number) : [];
      member.events.push({ kind, partitions });
      for (const p of partitions) {
        if (kind === "assigned") member.current.add(p);
        else member.current.delete(p);
      }
    }
  });
  child.exited.then((code) => member.exitCode = code);
  ctx.defer(async () => {
    if (member.exitCode === undefined) {
      child.kill("SIGKILL");
      await child.exited;
    }
  });
  return member;
}

/** What {@link killAndRestart} saw. */
export interface RestartReport {
  /** The partitions of the killed member before the kill. */
  killedPartitions: number[];
  /** The other member's `assigned`/`revoked` events after the kill. */
  otherEventsAfterKill: Member["events"];
  /** The restarted member's `assigned`/`revoked` events. */
  restartedEvents: Member["events"];
  /** Messages the restarted member processed. */
  restartedProcessed: number;
  /** The stopped member's `assigned`/`revoked` events from the signal on (its revoke at close). */
  stoppedEvents: Member["events"];
  /** Exit code of the stopped member (`null` after SIGKILL). */
  stoppedCode: number | null;
  /**
   * From starting the killed member again to the first message of its old
   * partitions processed by any member, in ms.
   */
  resumeMs: number;
  /** `partition:offset` of produced messages nobody processed (empty when nothing was lost). */
  missing: string[];
  /** Exit codes of the two members stopped with SIGTERM at the end. */
  exitCodes: (number | null)[];
}

function processedAll(members: Member[], count: number): string[] {
  const seen = new Set<string>();
  for (const member of members) for (const [p, o] of member.messages) seen.add(`${p}:${o}`);
  const missing: string[] = [];
  // produceMessages sends message i to partition i % PARTITIONS: its offset is i / PARTITIONS.
  for (let i = 0; i < count; i++) {
    const key = `${i % PARTITIONS}:${Math.floor(i / PARTITIONS)}`;
    if (!seen.has(key)) missing.push(key);
  }
  return missing;
}

/**
 * Two members split a topic; one is killed with SIGKILL (or stopped with
 * `options.stopWith`), messages arrive for it, and it is started again at once
 * with the same settings (with `options.static`, the same `group_instance_id`).
 */
export async function killAndRestart(
  ctx: SuiteContext,
  options: { static: boolean; sessionTimeout: number; stopWith?: "SIGKILL" | "SIGTERM" },
): Promise<RestartReport> {
  const topic = await newTopic(ctx, PARTITIONS, "racecar-static");
  const group = ctx.uniqueName("racecar-static");
  const ids = options.static ? [`${group}-a`, `${group}-b`] : [undefined, undefined];
  const start = (instanceId: string | undefined) =>
    startMember(ctx, { topic, group, instanceId, sessionTimeout: options.sessionTimeout });
  const other = start(ids[0]);
  const victim = start(ids[1]);
  const split = () =>
    other.current.size > 0 && victim.current.size > 0 &&
    other.current.size + victim.current.size === PARTITIONS &&
    new Set([...other.current, ...victim.current]).size === PARTITIONS;
  await waitFor(split, "the two members split the partitions", { timeoutMs: 60_000 });
  await produceMessages(ctx, topic, BATCH, PARTITIONS);
  await waitFor(
    () => processedAll([other, victim], BATCH).length === 0,
    "the first batch was processed",
    { timeoutMs: 60_000 },
  );
  assert.ok(split(), "the assignment did not change while the first batch was processed");

  const killedPartitions = [...victim.current].sort((a, b) => a - b);
  const otherEventsBefore = other.events.length;
  const victimEventsBefore = victim.events.length;
  victim.process.kill(options.stopWith ?? "SIGKILL");
  const stoppedCode = await victim.process.exited;
  await produceMessages(ctx, topic, BATCH, PARTITIONS, BATCH);
  const restartedAt = Date.now();
  const restarted = start(ids[1]);
  const members = [other, victim, restarted];
  await waitFor(
    () => processedAll(members, 2 * BATCH).length === 0,
    "every message was processed after the restart",
    { timeoutMs: 60_000 + 2 * options.sessionTimeout * 1000 },
  );
  const resumedAt = Math.min(
    ...[other, restarted].flatMap((m) =>
      m.messages.filter(([p, , t]) => t >= restartedAt && killedPartitions.includes(p))
        .map(([, , t]) => t)
    ),
  );
  // A third batch after the group settled: the restarted member holds partitions again, so it
  // processes some of it (the second batch may all have gone to the other member).
  await produceMessages(ctx, topic, BATCH, PARTITIONS, 2 * BATCH);
  await waitFor(
    () => processedAll(members, 3 * BATCH).length === 0,
    "the third batch was processed",
    { timeoutMs: 60_000 },
  );
  const otherEventsAfterKill = other.events.slice(otherEventsBefore);
  const restartedEvents = [...restarted.events];

  other.process.kill("SIGTERM");
  restarted.process.kill("SIGTERM");
  const exitCodes = await Promise.all([other.process.exited, restarted.process.exited]);
  return {
    killedPartitions,
    otherEventsAfterKill,
    restartedEvents,
    restartedProcessed: restarted.messages.length,
    stoppedEvents: victim.events.slice(victimEventsBefore),
    stoppedCode,
    resumeMs: resumedAt - restartedAt,
    missing: processedAll(members, 3 * BATCH),
    exitCodes,
  };
}

/** The name of the scenario of a deploy: SIGTERM, then a start within the session timeout. */
export const STATIC_MEMBER_SIGTERM_SCENARIO =
  "racecar --group-instance-id: a member stopped with SIGTERM does not leave the group, and " +
  "started again within the session timeout it gets its partitions back (a deploy)";

/** The scenarios, in the order they run. */
export const staticMembershipScenarios: Scenario[] = [
  {
    name: "racecar --group-instance-id: a member killed and restarted within the session " +
      "timeout gets its partitions back, and the other member is not rebalanced",
    timeoutMs: 180_000,
    async fn(ctx) {
      // Long enough for the restart on a busy machine; nothing waits for it to pass.
      const report = await killAndRestart(ctx, { static: true, sessionTimeout: 30 });
      assert.deepEqual(report.otherEventsAfterKill, [], "the other member saw no rebalance");
      assert.deepEqual(
        report.restartedEvents,
        [{ kind: "assigned", partitions: report.killedPartitions }],
        "the restarted member got its own partitions back",
      );
      assert.ok(report.restartedProcessed > 0, "the restarted member processed messages");
      assert.deepEqual(report.missing, [], "every message was processed at least once");
      assert.deepEqual(report.exitCodes, [0, 0], "both members stopped cleanly");
      console.log(`  static member resumed ${report.resumeMs} ms after its restart`);
    },
  },
  {
    name: STATIC_MEMBER_SIGTERM_SCENARIO,
    timeoutMs: 180_000,
    async fn(ctx) {
      const report = await killAndRestart(ctx, {
        static: true,
        sessionTimeout: 30,
        stopWith: "SIGTERM",
      });
      assert.equal(report.stoppedCode, 0, "the member stopped cleanly");
      assert.deepEqual(
        report.stoppedEvents,
        [{ kind: "revoked", partitions: report.killedPartitions }],
        "the stopped member's revoke hook ran once, at close",
      );
      assert.deepEqual(report.otherEventsAfterKill, [], "the other member saw no rebalance");
      assert.deepEqual(
        report.restartedEvents,
        [{ kind: "assigned", partitions: report.killedPartitions }],
        "the restarted member got its own partitions back",
      );
      assert.deepEqual(report.missing, [], "every message was processed at least once");
      assert.deepEqual(report.exitCodes, [0, 0], "both members stopped cleanly");
    },
  },
  {
    name: "racecar without a group instance id: a member killed and restarted makes the group " +
      "rebalance the other member, and nothing is lost",
    timeoutMs: 180_000,
    async fn(ctx) {
      const report = await killAndRestart(ctx, { static: false, sessionTimeout: 6 });
      assert.ok(
        report.otherEventsAfterKill.some((e) => e.kind === "revoked"),
        `the other member was rebalanced: ${JSON.stringify(report.otherEventsAfterKill)}`,
      );
      assert.ok(report.restartedProcessed > 0, "the restarted member processed messages");
      assert.deepEqual(report.missing, [], "every message was processed at least once");
      assert.deepEqual(report.exitCodes, [0, 0], "both members stopped cleanly");
      console.log(`  dynamic member resumed ${report.resumeMs} ms after its restart`);
    },
  },
  {
    name: "racecar --group-instance-id: a second member with the same id fences the first, " +
      "which exits 1, and takes over its partitions",
    timeoutMs: 120_000,
    async fn(ctx) {
      const topic = await newTopic(ctx, 2, "racecar-fenced");
      const group = ctx.uniqueName("racecar-fenced");
      const options = { topic, group, instanceId: `${group}-0`, sessionTimeout: 30 };
      const first = startMember(ctx, options);
      await waitFor(() => first.current.size === 2, "the first member holds both partitions", {
        timeoutMs: 60_000,
      });
      const second = startMember(ctx, options);
      assert.equal(await first.process.exited, 1, "the fenced member exits 1");
      await waitFor(() => second.current.size === 2, "the second member holds both partitions", {
        timeoutMs: 60_000,
      });
      await produceMessages(ctx, topic, 10, 2);
      await waitFor(() => second.messages.length >= 10, "the second member processes messages");
      second.process.kill("SIGTERM");
      assert.equal(await second.process.exited, 0);
    },
  },
];
