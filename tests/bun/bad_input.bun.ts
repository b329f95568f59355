/**
 * The bad-input cases (usage and config mistakes: exit 2, one clear line, no
 * stack trace) against the compiled bins run by Bun.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { allEnv } from "../../src/_runtime.ts";
import { BAD_INPUT_CASES, PRODUCE_CASES, runBadInputCase } from "../suite/bad_input.ts";
import { brokers } from "../node/_register.ts";

const DIST = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const runtime = {
  racecar: [process.execPath, join(DIST, "bin", "racecar.js")],
  racecarctl: [process.execPath, join(DIST, "bin", "racecarctl.js")],
  lib: join(DIST, "mod.js"),
  env: Object.fromEntries(
    Object.entries(allEnv()).filter(([key]) => !key.startsWith("RACECAR_")),
  ),
  brokers,
};

for (const testCase of [...BAD_INPUT_CASES, ...PRODUCE_CASES]) {
  test(
    `\`${testCase.command ?? "racecar"}\` answers ${testCase.name} (${testCase.group})`,
    { timeout: 60_000 },
    () => runBadInputCase(runtime, testCase),
  );
}
