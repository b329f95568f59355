/**
 * A Bun worker of the `bun:ffi` call layer (`layer.ts`): it opens the same
 * librdkafka (the process already holds it, so the handles are shared) and
 * makes the calls that wait, one at a time, so that Bun's event loop does
 * not. Pointers and the addresses of the caller's buffers arrive as numbers.
 *
 * Protocol: `{ open: path, symbols }` once, then `{ id, key, args }` per call,
 * answered with `{ id, result }` or `{ id, error }`.
 *
 * @module
 */

// Not a literal: `deno check` and `tsc` have no types for Bun's built-in module.
const BUN_FFI = "bun:ffi";
const { dlopen } = await import(BUN_FFI);

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
let symbols: Record<string, (...args: unknown[]) => unknown> | undefined;

scope.onmessage = (event: { data: Record<string, unknown> }) => {
  const data = event.data;
  if (typeof data.open === "string") {
    symbols = dlopen(data.open, data.symbols).symbols;
    return;
  }
  const { id, key, args } = data as { id: number; key: string; args: unknown[] };
  try {
    const result = symbols![key]!(...args);
    scope.postMessage({ id, result });
  } catch (error) {
    scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};
