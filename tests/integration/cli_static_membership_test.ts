/**
 * `racecar` refuses a `group_instance_id` Kafka would reject, as a configuration
 * error (exit 2, no stack trace), before it connects. The restarts themselves
 * are tested in tests/suite/static_membership_scenarios.ts (both runtimes) and
 * cli_workers_test.ts (parallel workers).
 *
 * @module
 */

import { assert, assertEquals } from "../_assert.ts";
import { cleanEnv, FIXTURES, racecar, unique } from "../cli/_helpers.ts";
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
  assertEquals(result.code, 2, result.stderr);
  assertEquals(
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
  assertEquals(result.code, 2, result.stderr);
  assert(
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
  assertEquals(result.code, 2, result.stderr);
  assert(
    result.stderr.includes(
      `with 3 parallel workers it becomes "${base}-3" for the last one, which must be at most ` +
        `${MAX_GROUP_INSTANCE_ID_LENGTH} characters long, got ${base.length + 2}`,
    ),
    result.stderr,
  );
  assert(!result.stderr.includes("Started worker"), "no worker was started");
});
