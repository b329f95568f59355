/**
 * The Node call layer: the `koffi` package (prebuilt binaries, no compiler
 * needed). Pointers are koffi's: `bigint` addresses, `null` for NULL.
 * `nonblocking` symbols run through `func.async` on koffi's worker threads and
 * return promises. Callbacks are `koffi.register`ed; koffi queues a call made
 * from another thread to the main thread and lets that thread wait, as Deno's
 * thread-safe callbacks do.
 *
 * Reading memory is where koffi is slow on the hot path: `koffi.view` (an
 * external ArrayBuffer) and a fresh `Uint8Array` per message each cost
 * microseconds under Node 20, more than the rest of a message's handling. So
 * struct reads and payload copies `memcpy` into slabs of JS memory (one
 * `ArrayBuffer` per 256 KiB) and hand out views of them: one native call per
 * struct or payload and no allocation of its own. A payload kept by the user
 * keeps its slab alive, as Node's pooled `Buffer`s do.
 *
 * @module
 */

import koffi from "koffi";
import type {
  CallbackSpec,
  FfiLayer,
  NativeCallback,
  NativePointer,
  NativeType,
  OpenedLibrary,
  Pointer,
  StructView,
  SymbolTable,
} from "../_layer.ts";
import { int53At, uint53At } from "../_layer.ts";

/** The symbol table's kinds in koffi's C type names (LP64). */
const C_TYPES: Readonly<Record<NativeType, string>> = {
  void: "void",
  i32: "int32_t",
  i64: "int64_t",
  usize: "size_t",
  isize: "intptr_t",
  pointer: "void *",
  buffer: "void *",
  function: "void *",
};

type KoffiFunction = ReturnType<ReturnType<typeof koffi.load>["func"]>;

const SLAB_BYTES = 256 * 1024;

/** `memcpy` of the C library the process already runs on (`dlopen(NULL)`). */
let memcpy: KoffiFunction | undefined;
let slab = new ArrayBuffer(0);
let slabAddress = 0n;
let slabUsed = 0;

/** Copies `length` bytes at `pointer` into slab memory; returns the slab and the offset. */
function copyOut(pointer: NativePointer, length: number): [ArrayBuffer, number] {
  memcpy ??= koffi.load(null).func("memcpy", "void *", ["void *", "void *", "size_t"]);
  if (slabUsed + length > slab.byteLength) {
    slab = new ArrayBuffer(Math.max(SLAB_BYTES, length));
    slabAddress = koffi.address(new Uint8Array(slab));
    slabUsed = 0;
  }
  const offset = slabUsed;
  // 8-byte aligned, so DataViews of structs stay aligned.
  slabUsed += (length + 7) & ~7;
  memcpy(slabAddress + BigInt(offset), pointer, length);
  return [slab, offset];
}

/** A struct reader over a copy of the struct's bytes. */
class KoffiView implements StructView {
  readonly #data: DataView;

  constructor(data: DataView) {
    this.#data = data;
  }

  getAddress(offset: number): number {
    return uint53At(this.#data, offset);
  }

  getSafeInteger(offset: number): number {
    return int53At(this.#data, offset);
  }

  getInt32(offset: number): number {
    return this.#data.getInt32(offset, true);
  }

  getBigInt64(offset: number): bigint {
    return this.#data.getBigInt64(offset, true);
  }

  getBigUint64(offset: number): bigint {
    return this.#data.getBigUint64(offset, true);
  }

  getPointer(offset: number): Pointer {
    return toPointer(this.#data.getBigUint64(offset, true));
  }
}

/** The scratch reader's memory: one buffer, one view, copied into by each `scratchView`. */
const SCRATCH_BYTES = 256;
const scratch = new Uint8Array(SCRATCH_BYTES);
const scratchView = new KoffiView(new DataView(scratch.buffer));
let scratchAddress: bigint | undefined;

function toPointer(address: bigint): Pointer {
  return address === 0n ? null : address as unknown as NativePointer;
}

/** The promise form of a call on koffi's worker threads. */
function onWorker(fn: KoffiFunction): (...args: unknown[]) => Promise<unknown> {
  return (...args) =>
    new Promise((resolve, reject) => {
      fn.async(...args, (error: unknown, result: unknown) => {
        if (error) reject(error);
        else resolve(result);
      });
    });
}

/** The `koffi` layer. */
export const koffiLayer: FfiLayer = {
  runtime: "node",
  open<T extends SymbolTable>(path: string, symbols: T): OpenedLibrary<T> {
    const library = koffi.load(path);
    const bound: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(symbols)) {
      let fn: KoffiFunction;
      try {
        fn = library.func(
          spec.name ?? key,
          C_TYPES[spec.result],
          spec.parameters.map((type) => C_TYPES[type]),
        );
      } catch (error) {
        if (spec.optional) {
          bound[key] = null;
          continue;
        }
        library.unload();
        throw error;
      }
      bound[key] = spec.nonblocking ? onWorker(fn) : fn;
    }
    return {
      symbols: bound as OpenedLibrary<T>["symbols"],
      close: () => library.unload(),
    };
  },
  callback(spec: CallbackSpec, fn: (...args: never[]) => void): NativeCallback {
    const type = koffi.pointer(
      koffi.proto(C_TYPES[spec.result], spec.parameters.map((t) => C_TYPES[t])),
    );
    const address = koffi.register(fn, type);
    return { pointer: toPointer(address), close: () => koffi.unregister(address) };
  },
  pointer: toPointer,
  address: (pointer: Pointer): bigint => (pointer as unknown as bigint | null) ?? 0n,
  addressOf: (bytes: ArrayBufferView): bigint => koffi.address(bytes),
  view(pointer: NativePointer, size: number): StructView {
    const [buffer, offset] = copyOut(pointer, size);
    return new KoffiView(new DataView(buffer, offset, size));
  },
  scratchView(pointer: NativePointer, size: number): StructView {
    if (size > SCRATCH_BYTES) return koffiLayer.view(pointer, size);
    memcpy ??= koffi.load(null).func("memcpy", "void *", ["void *", "void *", "size_t"]);
    scratchAddress ??= koffi.address(scratch);
    memcpy(scratchAddress, pointer, size);
    return scratchView;
  },
  cstring: (pointer: Pointer): string | null =>
    pointer === null ? null : koffi.decode.string(pointer),
  copy(pointer: Pointer, length: number): Uint8Array | null {
    if (pointer === null) return null;
    if (length === 0) return new Uint8Array(0);
    const [buffer, offset] = copyOut(pointer, length);
    return new Uint8Array(buffer, offset, length);
  },
  buffer: (pointer: NativePointer, length: number): ArrayBuffer => koffi.view(pointer, length),
};
