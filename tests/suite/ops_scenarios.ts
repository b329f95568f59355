/**
 * Operability scenarios, run with the real commands of each runtime against
 * the real broker: what `racecar` logs when Kafka is unreachable or a topic is
 * missing, the JSON log format and per-batch lines, and the `racecarctl`
 * cluster commands (topics, groups, offsets) as the docs show them.
 *
 * Runtime-neutral: the runner files give the commands (`deno run` or `node`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newTopic, produceMessages, waitFor } from "./_kafka.ts";
import type { Scenario, SuiteContext } from "./_suite.ts";

/** What one `racecarctl` run printed and how it ended. */
export interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `racecarctl <args>` of one runtime to its end (no RACECAR_* of the parent's). */
export type RunCtl = (args: readonly string[], env: Record<string, string>) => Promise<CtlResult>;

function logDir(ctx: SuiteContext): string {
  const dir = mkdtempSync(join(tmpdir(), "racecar-ops-"));
  ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n").filter((line) => line !== "");
  } catch {
    return [];
  }
}

/** Starts `racecar LedgerConsumer` logging to `logfile`; stopped with SIGTERM at the end. */
function startLedger(
  ctx: SuiteContext,
  args: readonly string[],
  env: Record<string, string>,
): { lines: string[] } {
  const racecar = ctx.racecar;
  assert.ok(racecar !== undefined, "this scenario needs ctx.racecar");
  const child = racecar.start([racecar.fixture("ledger_consumer"), ...args], env);
  const lines: string[] = [];
  child.onLine((line) => lines.push(line));
  ctx.defer(async () => {
    child.kill("SIGTERM");
    await child.exited;
  });
  return { lines };
}

function ctlOk(result: CtlResult, what: string): string {
  assert.equal(result.code, 0, `${what} failed: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** The rows of a printed table whose first cell is `first`, split on runs of spaces. */
function rows(output: string, first: string): string[][] {
  return output.split("\n").map((line) => line.trim().split(/\s+/)).filter((cells) =>
    cells[0] === first
  );
}

/** The scenarios, given how to run `racecarctl`. */
export function opsScenarios(runCtl: RunCtl): Scenario[] {
  return [
    {
      name:
        "racecar logs an unreachable broker once with its cause, then summaries, without stacks",
      async fn(ctx) {
        const logfile = join(logDir(ctx), "racecar.log");
        startLedger(ctx, ["--logfile", logfile, "--log-summary-interval", "1"], {
          RACECAR_BROKERS: "127.0.0.1:1",
          FIXTURE_TOPIC: ctx.uniqueName("racecar-ops-down"),
        });
        const summaries = () =>
          readLines(logfile).filter((l) => l.includes("No broker reachable for"));
        await waitFor(() => summaries().length >= 2, "two summary lines were logged");
        const lines = readLines(logfile);
        const first = lines.filter((l) => l.includes("No broker reachable: "));
        assert.equal(first.length, 1, lines.join("\n"));
        // node-rdkafka passes only the error code's text, not librdkafka's reason (docs/node.md).
        const cause = ctx.transport.name === "node-rdkafka"
          ? "127\\.0\\.0\\.1:1: broker transport failure"
          : "127\\.0\\.0\\.1:1: connection refused";
        assert.match(
          first[0]!,
          new RegExp(`No broker reachable: ${cause}; librdkafka keeps retrying`),
        );
        assert.match(summaries()[0]!, new RegExp(`No broker reachable for \\d+ s: ${cause}$`));
        assert.deepEqual(lines.filter((l) => /^\s+at /.test(l) || l.includes("KafkaError")), []);
      },
    },
    {
      name:
        "racecar repeats that a subscribed topic does not exist and says topics are not auto-created",
      async fn(ctx) {
        const logfile = join(logDir(ctx), "racecar.log");
        const topic = ctx.uniqueName("racecar-ops-missing");
        startLedger(ctx, ["--logfile", logfile, "--log-summary-interval", "1"], {
          RACECAR_BROKERS: ctx.brokers,
          FIXTURE_TOPIC: topic,
        });
        await waitFor(
          () => readLines(logfile).some((l) => l.includes(`${topic} still does not exist after`)),
          "the missing topic was logged again",
        );
        const first = readLines(logfile).filter((l) =>
          l.includes(`Subscribed topic ${topic} does not exist`)
        );
        assert.equal(first.length, 1);
        assert.match(first[0]!, /allow\.auto\.create\.topics is false/);
      },
    },
    {
      name: "racecar writes JSON lines with per-batch (debug) and per-message (trace) lines",
      async fn(ctx) {
        const logfile = join(logDir(ctx), "racecar.log");
        const topic = await newTopic(ctx, 1, "racecar-ops-json");
        await produceMessages(ctx, topic, 3);
        const run = startLedger(ctx, [
          "--logfile",
          logfile,
          "--log-format",
          "json",
          "--log-level",
          "trace",
          "--group-id",
          ctx.uniqueName("racecar-ops-json"),
        ], { RACECAR_BROKERS: ctx.brokers, FIXTURE_TOPIC: topic });
        await waitFor(() => run.lines.length >= 3, "the 3 messages were processed");
        const records = () => readLines(logfile).map((line) => JSON.parse(line));
        await waitFor(
          () =>
            records().some((r) =>
              r.message ===
                `Processed ${topic}/0 offsets 0..2 (3 messages) in ${r.properties.ms} ms`
            ),
          "the batch line was logged",
        );
        const all = records();
        const batch = all.find((r) => String(r.message).startsWith(`Processed ${topic}/0 offsets`));
        assert.equal(batch.level, "DEBUG");
        assert.equal(batch.logger, "racecar.processing");
        const perMessage = all.filter((r) => String(r.message).startsWith(`Processed ${topic}/0@`));
        assert.deepEqual(perMessage.map((r) => r.properties.offset), [0, 1, 2]);
        assert.ok(perMessage.every((r) => r.level === "TRACE"));
        // librdkafka's own lines stay at librdkafka_log_level (warn) however low log_level is.
        assert.deepEqual(
          all.filter((r) =>
            r.logger === "racecar.librdkafka" && ["TRACE", "DEBUG", "INFO"].includes(r.level)
          ),
          [],
        );
      },
    },
    {
      name: "racecarctl create_topic creates a topic that list_topics then shows",
      async fn(ctx) {
        const topic = ctx.uniqueName("racecar-ops-created");
        const env = { RACECAR_BROKERS: ctx.brokers };
        ctx.defer(async () => {
          const admin = ctx.transport.createAdmin({ config: { "bootstrap.servers": ctx.brokers } });
          await admin.deleteTopics([topic], 10_000).catch(() => {});
          await admin.close();
        });
        const created = ctlOk(
          await runCtl([
            "create_topic",
            topic,
            "--partitions",
            "3",
            "--config",
            "retention.ms=3600000",
          ], env),
          "create_topic",
        );
        assert.equal(created, `Created topic ${topic} (3 partitions)\n`);
        const again = ctlOk(await runCtl(["create_topic", topic], env), "create_topic again");
        assert.equal(again, `Topic ${topic} already exists (3 partitions)\n`);
        const listed = ctlOk(await runCtl(["list_topics"], env), "list_topics");
        assert.deepEqual(rows(listed, topic), [[topic, "3"]]);
        assert.deepEqual(rows(listed, "__consumer_offsets"), []);
        const all = ctlOk(await runCtl(["list_topics", "--all"], env), "list_topics --all");
        assert.equal(rows(all, "__consumer_offsets").length, 1);
      },
    },
    {
      name:
        "racecarctl describe_group shows members, committed offsets and lag; reset_offsets is refused while members run",
      timeoutMs: 90_000,
      async fn(ctx) {
        const topic = await newTopic(ctx, 2, "racecar-ops-group");
        const group = ctx.uniqueName("racecar-ops-group");
        const env = { RACECAR_BROKERS: ctx.brokers };
        await produceMessages(ctx, topic, 6, 2);
        const run = startLedger(ctx, [
          "--group-id",
          group,
          "--offset-commit-interval",
          "0.2",
        ], { ...env, FIXTURE_TOPIC: topic });
        await waitFor(() => run.lines.length >= 6, "the 6 messages were processed");
        let described = "";
        await waitFor(async () => {
          described = ctlOk(await runCtl(["describe_group", group], env), "describe_group");
          return rows(described, topic).filter((r) => r[2] === "3" && r[4] === "0").length === 2;
        }, "both partitions show committed 3, lag 0");
        const partitions = rows(described, topic);
        assert.deepEqual(partitions.map((r) => r.slice(0, 5)), [
          [topic, "0", "3", "3", "0"],
          [topic, "1", "3", "3", "0"],
        ]);
        if (ctx.transport.name === "node-rdkafka") {
          assert.match(described, /members not shown \(node-rdkafka cannot describe groups/);
        } else {
          assert.match(
            described,
            new RegExp(`^Group ${group}: Stable, assignor \\S+, 1 member$`, "m"),
          );
          const member = partitions[0]![5]!;
          assert.ok(member.length > 0 && member !== "-", described);
          assert.equal(rows(described, member)[0]![3], `${topic}/0,${topic}/1`);
          const listed = ctlOk(await runCtl(["list_groups"], env), "list_groups");
          assert.deepEqual(rows(listed, group), [[group, "Stable", "consumer"]]);
        }
        const refused = await runCtl(
          ["reset_offsets", group, "--topic", topic, "--to-earliest"],
          env,
        );
        assert.equal(refused.code, 1, refused.stdout);
        assert.match(
          refused.stderr,
          new RegExp(`Cannot reset offsets of group "${group}": .*stop its consumers first`),
        );
        // Nothing moved.
        const after = ctlOk(await runCtl(["describe_group", group], env), "describe_group");
        assert.deepEqual(rows(after, topic).map((r) => r[2]), ["3", "3"]);
      },
    },
    {
      name:
        "racecarctl reset_offsets moves a stopped group to an offset, a time, the earliest and the latest offset",
      timeoutMs: 90_000,
      async fn(ctx) {
        const topic = await newTopic(ctx, 2, "racecar-ops-reset");
        const group = ctx.uniqueName("racecar-ops-reset");
        const env = { RACECAR_BROKERS: ctx.brokers };
        await produceMessages(ctx, topic, 4, 2);
        const middle = new Date(Date.now() + 1).toISOString();
        // Messages produced after `middle` (timestamps are ms; wait for the clock to pass it).
        await waitFor(() => Date.now() > Date.parse(middle) + 1, "the clock passed the middle");
        await produceMessages(ctx, topic, 2, 2, 4);
        const reset = async (...target: string[]) =>
          ctlOk(
            await runCtl(["reset_offsets", group, "--topic", topic, ...target], env),
            target[0]!,
          );
        const committed = async () =>
          rows(
            ctlOk(await runCtl(["describe_group", group, "--topic", topic], env), "describe"),
            topic,
          )
            .map((r) => [r[2], r[3], r[4]]);

        assert.deepEqual(rows(await reset("--to-offset", "1"), topic), [
          [topic, "0", "-", "1"],
          [topic, "1", "-", "1"],
        ]);
        assert.deepEqual(await committed(), [["1", "3", "2"], ["1", "3", "2"]]);
        assert.deepEqual(rows(await reset("--to-datetime", middle), topic).map((r) => r[3]), [
          "2",
          "2",
        ]);
        assert.deepEqual(rows(await reset("--to-latest", "--partition", "1"), topic), [[
          topic,
          "1",
          "2",
          "3",
        ]]);
        assert.deepEqual(await committed(), [["2", "3", "1"], ["3", "3", "0"]]);
        assert.deepEqual(rows(await reset("--to-earliest"), topic).map((r) => r[3]), ["0", "0"]);
        assert.deepEqual(await committed(), [["0", "3", "3"], ["0", "3", "3"]]);

        const bad = await runCtl(
          ["reset_offsets", group, "--topic", topic, "--to-offset", "9"],
          env,
        );
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /Invalid --to-offset 9: .*\/0 holds offsets 0 to 3/);
        const none = await runCtl(["reset_offsets", group, "--topic", topic], env);
        assert.equal(none.code, 2);
        assert.match(none.stderr, /No target specified: pass one of --to-earliest/);
      },
    },
    {
      name:
        "racecarctl list_groups lists a group with its state (Deno) or says why it cannot (Node)",
      async fn(ctx) {
        const topic = await newTopic(ctx, 1, "racecar-ops-list");
        const group = ctx.uniqueName("racecar-ops-list");
        const env = { RACECAR_BROKERS: ctx.brokers };
        ctlOk(
          await runCtl(["reset_offsets", group, "--topic", topic, "--to-earliest"], env),
          "reset",
        );
        const result = await runCtl(["list_groups"], env);
        if (ctx.transport.name === "node-rdkafka") {
          assert.equal(result.code, 1);
          assert.match(
            result.stderr,
            /Cannot list consumer groups under Node: node-rdkafka 3\.6 has no consumer group listing/,
          );
        } else {
          // Only ever committed to, never joined: no protocol type.
          assert.deepEqual(rows(ctlOk(result, "list_groups"), group), [[group, "Empty", "-"]]);
        }
      },
    },
    {
      name:
        "racecarctl cluster commands fail within --timeout naming the brokers when none answers",
      async fn() {
        const result = await runCtl(["list_topics", "--timeout", "2"], {
          RACECAR_BROKERS: "127.0.0.1:1",
        });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /brokers 127\.0\.0\.1:1, waited 2 s/);
      },
    },
  ];
}
