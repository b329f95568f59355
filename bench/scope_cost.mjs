// What the runner's per-message delivery scope costs by itself: 1,000,000
// awaited async calls, bare and inside `AsyncLocalStorage.run` (what
// `withDeliveryScope` in src/consumer.ts does around every `process` call),
// alternating twice. Runs on both runtimes:
//   deno run bench/scope_cost.mjs
//   node bench/scope_cost.mjs
// On Node, the first `run` also switches promise hooks on for every later
// promise of the process, so the second bare round shows that cost too.

import { AsyncLocalStorage } from "node:async_hooks";

const N = 1_000_000;
const scope = new AsyncLocalStorage();
let seen = 0;
const process1 = async () => {
  seen += 1;
  await undefined;
};

async function bare() {
  for (let i = 0; i < N; i++) await process1();
}

async function scoped() {
  for (let i = 0; i < N; i++) await scope.run([], process1);
}

for (const [name, fn] of [["bare", bare], ["scoped", scoped], ["bare", bare], ["scoped", scoped]]) {
  const started = performance.now();
  await fn();
  console.log(`${name.padEnd(6)} ${((performance.now() - started) * 1000 / N).toFixed(3)} µs/call`);
}
if (seen !== 4 * N) throw new Error(`expected ${4 * N} calls, got ${seen}`);
