/**
 * The Bun call layer: `bun:ffi`. Pointers are Bun's: numbers, `null` for NULL.
 *
 * `bun:ffi` has no calls on worker threads, and a `JSCallback` runs its
 * function synchronously only on the thread that made it. So `nonblocking`
 * symbols run in one of two ways:
 *
 * - Calls that serve the consumer queue (`rd_kafka_consume_batch_queue` with a
 *   timeout, `rd_kafka_consumer_close`) stay on the main thread, because they
 *   run the rebalance callback, which must copy the partition list and assign
 *   before it returns. They become zero-timeout calls plus waits: the wait ends
 *   when librdkafka's queue event callback (`rd_kafka_queue_cb_event_enable`,
 *   a thread-safe `JSCallback` that Bun queues to the main thread) says
 *   something arrived, when `rd_kafka_queue_yield` is called, or at the
 *   timeout. Close runs `rd_kafka_consumer_close_queue` and serves that queue
 *   until `rd_kafka_consumer_closed`.
 * - Every other wait (flush, sync commit, committed offsets, metadata, the
 *   main-queue poll, destroy) runs in a Bun `Worker` of a small pool
 *   (`_worker.ts`): the worker opens the same library and calls it with the
 *   pointers and buffer addresses as numbers. None of those calls runs a JS
 *   callback.
 *
 * Struct fields are read in place with `read.*`; payloads are copied out of C
 * memory with `toArrayBuffer` and `slice`.
 *
 * @module
 */

import type {
  CallbackSpec,
  FfiLayer,
  NativeCallback,
  NativePointer,
  NativeType,
  OpenedLibrary,
  Pointer,
  StructView,
  SymbolSpec,
  SymbolTable,
} from "../_layer.ts";
import { TWO_32 } from "../_layer.ts";

// Not a literal: `deno check` and `tsc` have no types for Bun's built-in module.
const BUN_FFI = "bun:ffi";
// deno-lint-ignore no-explicit-any
const ffi: any = await import(BUN_FFI);

/** The symbol table's kinds in `bun:ffi`'s names. */
const BUN_TYPES: Readonly<Record<NativeType, string>> = {
  void: "void",
  i32: "i32",
  i64: "i64",
  usize: "usize",
  isize: "isize",
  pointer: "ptr",
  buffer: "ptr",
  function: "function",
};

/** Functions the layer itself needs to keep waits off the event loop (librdkafka >= 1.9). */
const WAIT_SYMBOLS = {
  // The callback as a plain pointer: NULL turns the events off again.
  rd_kafka_queue_cb_event_enable: { args: ["ptr", "ptr", "ptr"], returns: "void" },
  rd_kafka_consumer_close_queue: { args: ["ptr", "ptr"], returns: "ptr" },
  rd_kafka_consumer_closed: { args: ["ptr"], returns: "i32" },
} as const;

/** Calls that serve the consumer queue: they stay on the main thread (see above). */
const MAIN_THREAD_WAITS = new Set(["rd_kafka_consume_batch_queue", "rd_kafka_consumer_close"]);

/** Idle workers kept for the next wait; more are started when calls overlap. */
const MAX_IDLE_WORKERS = 4;

/** The longest pause between checks while a close completes (nothing is queued when it does). */
const MAX_CLOSE_PAUSE_MS = 32;

type Fn = (...args: unknown[]) => unknown;

/** What the layer uses of Bun's `Worker` (the Node build has no DOM types). */
interface BunWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  ref(): void;
  unref(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message: string }) => void) | null;
}

// deno-lint-ignore no-explicit-any
const WorkerClass: new (url: string, options: { type: "module" }) => BunWorker = (globalThis as any)
  .Worker;

function bunDefinition(spec: SymbolSpec): { args: string[]; returns: string } {
  return { args: spec.parameters.map((type) => BUN_TYPES[type]), returns: BUN_TYPES[spec.result] };
}

function toPointer(address: number | bigint | null): Pointer {
  return address === null || address === 0 || address === 0n
    ? null
    : Number(address) as unknown as NativePointer;
}

function isPresent(path: string, name: string, spec: SymbolSpec): boolean {
  try {
    ffi.dlopen(path, { [name]: bunDefinition(spec) }).close();
    return true;
  } catch {
    return false;
  }
}

interface Call {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Keeps the buffers whose addresses the worker uses alive until it answered. */
  args: unknown[];
}

/** Workers that make librdkafka's waiting calls, one call each at a time. */
class WorkerPool {
  readonly #path: string;
  readonly #definitions: Record<string, { args: string[]; returns: string }>;
  readonly #idle: BunWorker[] = [];
  readonly #calls = new Map<number, Call>();
  /** The call each busy worker makes. */
  readonly #busy = new Map<BunWorker, number>();
  #nextId = 0;

  constructor(path: string, definitions: Record<string, { args: string[]; returns: string }>) {
    this.#path = path;
    this.#definitions = definitions;
  }

  call(name: string, args: unknown[]): Promise<unknown> {
    const worker = this.#idle.pop() ?? this.#spawn();
    const id = ++this.#nextId;
    // Buffers go over as addresses: the worker writes into this thread's memory.
    const wire = args.map((arg) => ArrayBuffer.isView(arg) ? ffi.ptr(arg) : arg);
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject, args });
      this.#busy.set(worker, id);
      worker.ref();
      worker.postMessage({ id, key: name, args: wire });
    });
  }

  #spawn(): BunWorker {
    const file = import.meta.url.endsWith(".ts") ? "./_worker.ts" : "./_worker.js";
    const worker = new WorkerClass(new URL(file, import.meta.url).href, { type: "module" });
    worker.onmessage = (event) => {
      const { id, result, error } = event.data as { id: number; result?: unknown; error?: string };
      const call = this.#calls.get(id);
      this.#calls.delete(id);
      this.#busy.delete(worker);
      worker.unref();
      if (this.#idle.length < MAX_IDLE_WORKERS) this.#idle.push(worker);
      else worker.terminate();
      if (call === undefined) return;
      if (error !== undefined) call.reject(new Error(error));
      else call.resolve(result);
    };
    worker.onerror = (event) => {
      // A worker that failed loses the call it had and is dropped; the others keep going.
      const id = this.#busy.get(worker);
      this.#busy.delete(worker);
      worker.terminate();
      const call = id === undefined ? undefined : this.#calls.get(id);
      if (id !== undefined) this.#calls.delete(id);
      call?.reject(new Error(`A bun:ffi worker failed: ${event.message}`));
    };
    worker.postMessage({ open: this.#path, symbols: this.#definitions });
    return worker;
  }
}

/** Waits on queues, woken by librdkafka's queue event callback or by a yield. */
class QueueWaits {
  readonly #enable: Fn;
  readonly #waiters = new Map<number, () => void>();
  readonly #enabled = new Set<number>();
  readonly #yielded = new Set<number>();
  readonly #wake: { ptr: number; close(): void };

  constructor(enable: Fn) {
    this.#enable = enable;
    this.#wake = new ffi.JSCallback(
      (_rk: unknown, opaque: number | null) => this.#resolve(Number(opaque ?? 0)),
      { args: ["ptr", "ptr"], returns: "void", threadsafe: true },
    );
  }

  /** Arms the event callback for `queue`; `false` if it was armed already. */
  arm(queue: number): boolean {
    if (this.#enabled.has(queue)) return false;
    this.#enabled.add(queue);
    this.#enable(queue, this.#wake.ptr, queue);
    return true;
  }

  /** Resolves after an event on `queue`, a yield of it, or `ms`. */
  wait(queue: number, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#waiters.get(queue) === done) this.#waiters.delete(queue);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#waiters.set(queue, done);
    });
  }

  yielded(queue: number): void {
    this.#yielded.add(queue);
    this.#resolve(queue);
  }

  /** Whether a yield of `queue` is pending; answers it. */
  takeYield(queue: number): boolean {
    return this.#yielded.delete(queue);
  }

  forget(queue: number): void {
    // No more events for a queue that is about to go: librdkafka may keep its internals.
    if (this.#enabled.delete(queue)) this.#enable(queue, null, null);
    this.#yielded.delete(queue);
    this.#resolve(queue);
  }

  close(): void {
    this.#wake.close();
  }

  #resolve(queue: number): void {
    this.#waiters.get(queue)?.();
  }
}

/** Binds `symbols` of `path`; `nonblocking` ones become promises as described above. */
function open<T extends SymbolTable>(path: string, symbols: T): OpenedLibrary<T> {
  // One binding per C function; keys that bind one function twice share it.
  const definitions: Record<string, { args: string[]; returns: string }> = {};
  const missing = new Set<string>();
  for (const [key, spec] of Object.entries(symbols)) {
    const name = spec.name ?? key;
    if (definitions[name] !== undefined || missing.has(name)) continue;
    if (spec.optional && !isPresent(path, name, spec)) {
      missing.add(name);
      continue;
    }
    definitions[name] = bunDefinition(spec);
  }
  const entries = Object.entries(symbols);
  const needsWaits = entries.some(([key, spec]) =>
    spec.nonblocking && MAIN_THREAD_WAITS.has(spec.name ?? key)
  );
  const library = ffi.dlopen(path, needsWaits ? { ...definitions, ...WAIT_SYMBOLS } : definitions);
  const native = library.symbols as Record<string, Fn>;
  const waiting: Record<string, { args: string[]; returns: string }> = {};
  for (const [key, spec] of entries) {
    const name = spec.name ?? key;
    if (spec.nonblocking && !MAIN_THREAD_WAITS.has(name)) waiting[name] = definitions[name]!;
  }
  const pool = Object.keys(waiting).length > 0 ? new WorkerPool(path, waiting) : null;
  const waits = needsWaits ? new QueueWaits(native.rd_kafka_queue_cb_event_enable!) : null;

  const bound: Record<string, unknown> = {};
  for (const [key, spec] of entries) {
    const name = spec.name ?? key;
    if (missing.has(name)) {
      bound[key] = null;
    } else if (!spec.nonblocking) {
      bound[key] = native[name];
    } else if (name === "rd_kafka_consume_batch_queue") {
      bound[key] = consumeWaiting(native, waits!);
    } else if (name === "rd_kafka_consumer_close") {
      bound[key] = closeConsumer(native, waits!);
    } else {
      bound[key] = (...args: unknown[]) => pool!.call(name, args);
    }
  }
  if (waits !== null) {
    // A yield must also end a wait of this layer; a destroyed queue is forgotten.
    const yieldQueue = native.rd_kafka_queue_yield;
    const destroyQueue = native.rd_kafka_queue_destroy;
    if (yieldQueue !== undefined && "rd_kafka_queue_yield" in bound) {
      bound.rd_kafka_queue_yield = (queue: number) => {
        yieldQueue(queue);
        waits.yielded(queue);
      };
    }
    if (destroyQueue !== undefined && "rd_kafka_queue_destroy" in bound) {
      bound.rd_kafka_queue_destroy = (queue: number) => {
        waits.forget(queue);
        destroyQueue(queue);
      };
    }
  }
  return {
    symbols: bound as OpenedLibrary<T>["symbols"],
    close: () => {
      waits?.close();
      library.close();
    },
  };
}

/** `rd_kafka_consume_batch_queue` with a timeout, as zero-timeout takes and waits. */
function consumeWaiting(native: Record<string, Fn>, waits: QueueWaits): Fn {
  const take = native.rd_kafka_consume_batch_queue!;
  return async (queue, timeoutMs, slots, max) => {
    const q = queue as number;
    const deadline = performance.now() + Number(timeoutMs);
    for (;;) {
      const count = take(q, 0, slots, max) as number | bigint;
      if (Number(count) !== 0 || waits.takeYield(q)) return count;
      // Arming races with arrivals: take once more after it.
      if (waits.arm(q)) continue;
      const left = deadline - performance.now();
      if (left <= 0) return count;
      await waits.wait(q, left);
    }
  };
}

/** `rd_kafka_consumer_close` as `rd_kafka_consumer_close_queue` served from the main thread. */
function closeConsumer(native: Record<string, Fn>, waits: QueueWaits): Fn {
  return async (rk) => {
    const queue = native.rd_kafka_queue_new!(rk) as number;
    try {
      const error = native.rd_kafka_consumer_close_queue!(rk, queue) as number | null;
      if (error !== null && error !== 0) {
        const code = native.rd_kafka_error_code!(error);
        native.rd_kafka_error_destroy!(error);
        return code;
      }
      waits.arm(queue);
      // As rd_kafka_consumer_close serves it: with callbacks (a queue poll would
      // hand the final revoke back as an event instead of calling the callback).
      const slots = new BigUint64Array(16);
      let pause = 1;
      while (native.rd_kafka_consumer_closed!(rk) === 0) {
        const count = Number(native.rd_kafka_consume_batch_queue!(queue, 0, slots, 16));
        for (let i = 0; i < count; i++) native.rd_kafka_message_destroy!(Number(slots[i]));
        if (count > 0) continue;
        await waits.wait(queue, pause);
        pause = Math.min(pause * 2, MAX_CLOSE_PAUSE_MS);
      }
      return 0;
    } finally {
      waits.forget(queue);
      native.rd_kafka_queue_destroy!(queue);
    }
  };
}

/** A struct reader over C memory, read in place. */
class BunView implements StructView {
  #pointer: number;

  constructor(pointer: number) {
    this.#pointer = pointer;
  }

  /** Points the reader at another struct (the scratch reader). */
  retarget(pointer: number): void {
    this.#pointer = pointer;
  }

  getAddress(offset: number): number {
    return ffi.read.ptr(this.#pointer, offset) as number;
  }

  getSafeInteger(offset: number): number {
    return ffi.read.u32(this.#pointer, offset) + ffi.read.i32(this.#pointer, offset + 4) * TWO_32;
  }

  getInt32(offset: number): number {
    return ffi.read.i32(this.#pointer, offset);
  }

  getBigInt64(offset: number): bigint {
    return ffi.read.i64(this.#pointer, offset);
  }

  getBigUint64(offset: number): bigint {
    return ffi.read.u64(this.#pointer, offset);
  }

  getPointer(offset: number): Pointer {
    return toPointer(ffi.read.ptr(this.#pointer, offset));
  }
}

/** The one reader `scratchView` hands out: it reads in place, so it only needs the pointer. */
const scratchView = new BunView(0);

/** The `bun:ffi` layer. */
export const bunLayer: FfiLayer = {
  runtime: "bun",
  open,
  callback(spec: CallbackSpec, fn: (...args: never[]) => void): NativeCallback {
    // Not thread-safe on purpose: the calls that run it stay on the main thread.
    const callback = new ffi.JSCallback(fn, bunDefinition(spec as SymbolSpec));
    return { pointer: toPointer(callback.ptr), close: () => callback.close() };
  },
  pointer: (address: bigint): Pointer => toPointer(address),
  address: (pointer: Pointer): bigint => BigInt((pointer as unknown as number | null) ?? 0),
  addressOf: (bytes: ArrayBufferView): bigint => BigInt(ffi.ptr(bytes)),
  view: (pointer: NativePointer): StructView => new BunView(pointer as unknown as number),
  scratchView(pointer: NativePointer): StructView {
    scratchView.retarget(pointer as unknown as number);
    return scratchView;
  },
  cstring: (pointer: Pointer): string | null =>
    pointer === null ? null : new ffi.CString(pointer).toString(),
  copy(pointer: Pointer, length: number): Uint8Array | null {
    if (pointer === null) return null;
    if (length === 0) return new Uint8Array(0);
    return new Uint8Array(ffi.toArrayBuffer(pointer, 0, length)).slice();
  },
  buffer: (pointer: NativePointer, length: number): ArrayBuffer =>
    ffi.toArrayBuffer(pointer, 0, length),
};
