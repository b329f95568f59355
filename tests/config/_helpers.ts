/**
 * Helpers for configuration tests: a throw-away working directory with a
 * `config/racecar.yml`, and an assertion on `ConfigError`s.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError } from "../../src/errors.ts";

/** Creates a temporary directory holding `config/racecar.yml` with `yaml`; returns it and a clean-up. */
export async function withYaml(
  yaml: string,
  fn: (cwd: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "racecar-config-" });
  try {
    await Deno.mkdir(`${dir}/config`);
    await Deno.writeTextFile(`${dir}/config/racecar.yml`, yaml);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts that `fn` throws (or rejects with) a `ConfigError` whose message is `message` or matches it. */
export async function assertConfigError(
  fn: () => unknown,
  message: string | RegExp,
  key?: string,
): Promise<ConfigError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${caught}`);
  if (typeof message === "string") assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  if (key !== undefined) assert.equal(caught.key, key);
  return caught;
}
