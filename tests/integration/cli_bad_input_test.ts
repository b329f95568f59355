/**
 * The bad-input cases of tests/suite/bad_input.ts through `deno run cli.ts`
 * and `racecarctl.ts`; the Node suite runs the same table on the compiled bins.
 *
 * @module
 */

import { join } from "node:path";
import { BAD_INPUT_CASES, PRODUCE_CASES, runBadInputCase } from "../suite/bad_input.ts";
import { BROKERS, cleanEnv, ROOT } from "../cli/_helpers.ts";

const runtime = {
  racecar: [Deno.execPath(), "run", "-A", join(ROOT, "cli.ts")],
  racecarctl: [Deno.execPath(), "run", "-A", join(ROOT, "racecarctl.ts")],
  lib: join(ROOT, "mod.ts"),
  env: cleanEnv(),
  brokers: BROKERS,
};

for (const testCase of [...BAD_INPUT_CASES, ...PRODUCE_CASES]) {
  Deno.test({
    name: `\`${testCase.command ?? "racecar"}\` answers ${testCase.name} (${testCase.group})`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => runBadInputCase(runtime, testCase),
  });
}
