/** Assertions for Deno unit tests, on top of `node:assert/strict` (no JSR here). */

import { strict as nodeAssert } from "node:assert";

export function assert(value: unknown, message?: string): asserts value {
  nodeAssert.ok(value, message);
}

export function assertFalse(value: unknown, message?: string): void {
  nodeAssert.ok(!value, message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

export function assertThrows(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  errorClass?: new (...args: any[]) => Error,
  includes?: string,
): Error {
  try {
    fn();
  } catch (error) {
    if (errorClass !== undefined) {
      nodeAssert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${error}`);
    }
    if (includes !== undefined) {
      nodeAssert.ok(
        String((error as Error).message).includes(includes),
        `"${(error as Error).message}" does not include "${includes}"`,
      );
    }
    return error as Error;
  }
  throw new nodeAssert.AssertionError({ message: "expected the function to throw" });
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  errorClass?: new (...args: any[]) => Error,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    if (errorClass !== undefined) {
      nodeAssert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${error}`);
    }
    if (includes !== undefined) {
      nodeAssert.ok(
        String((error as Error).message).includes(includes),
        `"${(error as Error).message}" does not include "${includes}"`,
      );
    }
    return error as Error;
  }
  throw new nodeAssert.AssertionError({ message: "expected the promise to reject" });
}
