/**
 * `racecar` refuses a `group_instance_id` Kafka would reject, as a configuration
 * error (exit 2, no stack trace), before it connects; the Kubernetes and
 * systemd examples of docs/operations.md give each process a static member id
 * the broker accepts. The restarts themselves
 * are tested in tests/suite/static_membership_scenarios.ts (both runtimes) and
 * cli_workers_test.ts (parallel workers).
 *
 * @module
 */

import { join } from "node:path";
import { parse } from "yaml";
import assert from "node:assert/strict";
import {
  BROKERS,
  cleanEnv,
  createTopics,
  FIXTURES,
  racecar,
  ROOT,
  unique,
} from "../cli/_helpers.ts";
import { MAX_GROUP_INSTANCE_ID_LENGTH } from "../../src/config/validate.ts";

async function runToEnd(args: string[], env: Record<string, string>) {
  const proc = racecar(args, {
    env: cleanEnv({ RACECAR_TRANSPORT: "memory", FIXTURE_TOPIC: unique("static"), ...env }),
  });
  try {
    const status = await proc.status(60_000);
    return { code: status.code, stderr: proc.stderr };
  } finally {
    await proc.dispose();
  }
}

Deno.test("`racecar --group-instance-id` exits 2 naming the flag when the id has a space", async () => {
  const result = await runToEnd(
    ["EchoConsumer", "--require", FIXTURES, "--group-instance-id", "pod 0"],
    {},
  );
  assert.deepEqual(result.code, 2, result.stderr);
  assert.deepEqual(
    result.stderr.trim(),
    `Error: Invalid configuration 'group_instance_id' from --group-instance-id: may contain ` +
      `only ASCII letters, digits, ".", "_" and "-", got "pod 0"`,
  );
});

Deno.test("`racecar --group-instance-id ''` exits 2: an empty id is not a static member", async () => {
  const result = await runToEnd(
    ["EchoConsumer", "--require", FIXTURES, "--group-instance-id", ""],
    {},
  );
  assert.deepEqual(result.code, 2, result.stderr);
  assert.ok(
    result.stderr.startsWith(
      "Error: Invalid configuration 'group_instance_id' from --group-instance-id: must not be " +
        "empty",
    ),
    result.stderr,
  );
});

Deno.test("`racecar` exits 2 when parallel workers would make group_instance_id too long", async () => {
  const base = "p".repeat(MAX_GROUP_INSTANCE_ID_LENGTH - 1);
  const result = await runToEnd(
    ["ParallelConsumer", "--require", FIXTURES],
    { RACECAR_GROUP_INSTANCE_ID: base },
  );
  assert.deepEqual(result.code, 2, result.stderr);
  assert.ok(
    result.stderr.includes(
      `with 3 parallel workers it becomes "${base}-3" for the last one, which must be at most ` +
        `${MAX_GROUP_INSTANCE_ID_LENGTH} characters long, got ${base.length + 2}`,
    ),
    result.stderr,
  );
  assert.ok(!result.stderr.includes("Started worker"), "no worker was started");
});

/** The fenced code blocks of docs/operations.md's "Restarts without rebalances", by language. */
async function documentedExamples(): Promise<Map<string, string>> {
  const docs = await Deno.readTextFile(join(ROOT, "docs", "operations.md"));
  const start = docs.indexOf("\n## Restarts without rebalances\n");
  assert.ok(start >= 0, "docs/operations.md has the section");
  const end = docs.indexOf("\n## ", start + 1);
  const section = docs.slice(start, end < 0 ? undefined : end);
  const blocks = new Map<string, string>();
  for (const [, lang, body] of section.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    blocks.set(lang!, body!);
  }
  return blocks;
}

/** Runs `racecar EchoConsumer` on the real broker with `env`; resolves with its stderr once it has partitions. */
async function runUntilAssigned(env: Record<string, string>): Promise<string> {
  const topic = unique("static-docs");
  await createTopics([{ name: topic, partitions: 1 }]);
  const proc = racecar(["EchoConsumer", "--require", FIXTURES], {
    env: cleanEnv({
      ...env,
      // The test's broker and a group of its own; everything else as documented.
      RACECAR_BROKERS: BROKERS,
      RACECAR_GROUP_ID: unique("static-docs"),
      RACECAR_HEARTBEAT_INTERVAL: "1",
      FIXTURE_TOPIC: topic,
    }),
  });
  try {
    await proc.waitFor(/assignment pid=\d+ \[\S+\]/, 60_000);
    proc.kill("SIGTERM");
    assert.deepEqual((await proc.status(60_000)).code, 0, proc.stderr);
    return proc.stderr;
  } finally {
    await proc.dispose();
  }
}

Deno.test({
  name: "docs/operations.md: the StatefulSet's environment makes each pod a static member " +
    "named after the pod",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const manifest = parse((await documentedExamples()).get("yaml")!) as {
      kind: string;
      metadata: { name: string };
      spec: {
        template: {
          spec: {
            containers: {
              env: {
                name: string;
                value?: string;
                valueFrom?: { fieldRef?: { fieldPath: string } };
              }[];
            }[];
          };
        };
      };
    };
    assert.deepEqual(manifest.kind, "StatefulSet");
    // A StatefulSet names its pods <name>-<ordinal>; the downward API hands the name in.
    const podName = `${manifest.metadata.name}-1`;
    const env: Record<string, string> = {};
    for (const entry of manifest.spec.template.spec.containers[0]!.env) {
      if (entry.value !== undefined) env[entry.name] = entry.value;
      else if (entry.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[entry.name] = podName;
    }
    assert.deepEqual(env.RACECAR_GROUP_INSTANCE_ID, podName);
    const stderr = await runUntilAssigned(env);
    assert.ok(stderr.includes(`=> Static member ${podName} (group.instance.id)`), stderr);
  },
});

Deno.test({
  name: "docs/operations.md: the systemd template unit makes each instance a static member " +
    "named after host and instance",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const unit = (await documentedExamples()).get("ini")!;
    // What systemd substitutes in racecar-payments@2.service on host "worker-7.example.com".
    const specifiers: Record<string, string> = { i: "2", H: "worker-7.example.com" };
    const env: Record<string, string> = {};
    for (const [, name, value] of unit.matchAll(/^Environment=(\w+)=(.*)$/gm)) {
      env[name!] = value!.replace(/%(\w)/g, (_, s: string) => specifiers[s] ?? `%${s}`);
    }
    const id = "payments-worker-7.example.com-2";
    assert.deepEqual(env.RACECAR_GROUP_INSTANCE_ID, id);
    const stderr = await runUntilAssigned(env);
    assert.ok(stderr.includes(`=> Static member ${id} (group.instance.id)`), stderr);
  },
});
