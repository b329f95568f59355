/**
 * The Deno call layer: `Deno.dlopen`, whose notation the symbol table already
 * uses. `nonblocking` symbols run on Deno's worker threads and return
 * promises; callbacks are `Deno.UnsafeCallback.threadSafe`, which Deno runs on
 * the main thread while a native thread waits for them.
 *
 * Struct reads copy the struct's bytes into JS memory with one native call and
 * read the fields there, as the koffi layer does: an `UnsafePointerView` reads
 * every field with a call of its own (eight per consumed message, four per
 * delivery report), except pointer fields. The copies go into slabs of 64 KiB,
 * one `DataView` each.
 *
 * @module
 */

import type {
  CallbackSpec,
  FfiLayer,
  NativeCallback,
  NativePointer,
  OpenedLibrary,
  Pointer,
  StructView,
  SymbolTable,
} from "../_layer.ts";

const SLAB_BYTES = 64 * 1024;

let slab = new Uint8Array(0);
let slabView = new DataView(slab.buffer);
let slabUsed = 0;

/**
 * A struct reader over a copy of the struct's bytes in a slab. Pointer fields
 * are read from the struct itself: Deno makes a pointer object from memory in
 * one call, while one from a copied address takes a BigInt and a call.
 */
class DenoView implements StructView {
  readonly #data: DataView;
  readonly #base: number;
  readonly #struct: Deno.PointerObject;

  constructor(data: DataView, base: number, struct: Deno.PointerObject) {
    this.#data = data;
    this.#base = base;
    this.#struct = struct;
  }

  getInt32(offset: number): number {
    return this.#data.getInt32(this.#base + offset, true);
  }

  getBigInt64(offset: number): bigint {
    return this.#data.getBigInt64(this.#base + offset, true);
  }

  getBigUint64(offset: number): bigint {
    return this.#data.getBigUint64(this.#base + offset, true);
  }

  getPointer(offset: number): Pointer {
    return new Deno.UnsafePointerView(this.#struct).getPointer(offset) as Pointer;
  }
}

/** The `Deno.dlopen` layer. */
export const denoLayer: FfiLayer = {
  runtime: "deno",
  open<T extends SymbolTable>(path: string, symbols: T): OpenedLibrary<T> {
    const library = Deno.dlopen(path, symbols as unknown as Deno.ForeignLibraryInterface);
    return {
      symbols: library.symbols as unknown as OpenedLibrary<T>["symbols"],
      close: () => library.close(),
    };
  },
  callback(spec: CallbackSpec, fn: (...args: never[]) => void): NativeCallback {
    const callback = Deno.UnsafeCallback.threadSafe(
      spec as unknown as Deno.UnsafeCallbackDefinition,
      fn as unknown as Deno.UnsafeCallbackFunction,
    );
    return { pointer: callback.pointer as unknown as Pointer, close: () => callback.close() };
  },
  pointer: (address: bigint): Pointer => Deno.UnsafePointer.create(address) as Pointer,
  address: (pointer: Pointer): bigint =>
    BigInt(Deno.UnsafePointer.value(pointer as Deno.PointerValue)),
  addressOf: (bytes: ArrayBufferView): bigint =>
    BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes as Uint8Array<ArrayBuffer>))),
  view(pointer: NativePointer, size: number): StructView {
    if (slabUsed + size > slab.length) {
      slab = new Uint8Array(Math.max(SLAB_BYTES, size));
      slabView = new DataView(slab.buffer);
      slabUsed = 0;
    }
    const base = slabUsed;
    // 8-byte aligned, so the fields of a struct stay aligned.
    slabUsed += (size + 7) & ~7;
    Deno.UnsafePointerView.copyInto(
      pointer as unknown as Deno.PointerObject,
      slab.subarray(base, base + size),
    );
    return new DenoView(slabView, base, pointer as unknown as Deno.PointerObject);
  },
  cstring: (pointer: Pointer): string | null =>
    pointer === null
      ? null
      : Deno.UnsafePointerView.getCString(pointer as unknown as Deno.PointerObject),
  copy(pointer: Pointer, length: number): Uint8Array | null {
    if (pointer === null) return null;
    const bytes = new Uint8Array(length);
    if (length > 0) {
      Deno.UnsafePointerView.copyInto(pointer as unknown as Deno.PointerObject, bytes);
    }
    return bytes;
  },
  buffer: (pointer: NativePointer, length: number): ArrayBuffer =>
    Deno.UnsafePointerView.getArrayBuffer(pointer as unknown as Deno.PointerObject, length),
};
