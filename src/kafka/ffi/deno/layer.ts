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
 * one `DataView` each, and so do small payload copies. A consumed message's
 * struct goes into one scratch buffer instead (`scratchView`), read before
 * the next.
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
import { int53At, uint53At } from "../_layer.ts";

const SLAB_BYTES = 64 * 1024;

let slab = new Uint8Array(0);
let slabView = new DataView(slab.buffer);
let slabUsed = 0;

/**
 * A struct reader over a copy of the struct's bytes. Pointer fields are read
 * from the struct itself: Deno makes a pointer object from memory in one
 * call, while one from a copied address takes a BigInt and a call.
 */
class DenoView implements StructView {
  #data: DataView;
  #base: number;
  #struct: Deno.PointerObject;

  constructor(data: DataView, base: number, struct: Deno.PointerObject) {
    this.#data = data;
    this.#base = base;
    this.#struct = struct;
  }

  /** Points the reader at another struct copied to the same place (the scratch reader). */
  retarget(struct: Deno.PointerObject): void {
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

  getAddress(offset: number): number {
    return uint53At(this.#data, this.#base + offset);
  }

  getSafeInteger(offset: number): number {
    return int53At(this.#data, this.#base + offset);
  }
}

/** Copies up to this many bytes go into the slab, longer ones into memory of their own. */
const SMALL_COPY_BYTES = 1024;

/** The next `size` bytes of the slab (8-byte aligned, so struct fields stay aligned). */
function slabPart(size: number): Uint8Array<ArrayBuffer> {
  if (slabUsed + size > slab.length) {
    slab = new Uint8Array(Math.max(SLAB_BYTES, size));
    slabView = new DataView(slab.buffer);
    slabUsed = 0;
  }
  const base = slabUsed;
  slabUsed += (size + 7) & ~7;
  return slab.subarray(base, base + size);
}

/** The scratch reader: one buffer, one view, copied into by each `scratchView`. */
const SCRATCH_BYTES = 256;
const scratch = new Uint8Array(SCRATCH_BYTES);
const scratchView = new DenoView(new DataView(scratch.buffer), 0, Deno.UnsafePointer.of(scratch)!);
/** Per struct size, the scratch's first bytes (a subarray made once). */
const scratchParts = new Map<number, Uint8Array<ArrayBuffer>>();

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
    const part = slabPart(size);
    Deno.UnsafePointerView.copyInto(pointer as unknown as Deno.PointerObject, part);
    return new DenoView(slabView, part.byteOffset, pointer as unknown as Deno.PointerObject);
  },
  scratchView(pointer: NativePointer, size: number): StructView {
    let part = scratchParts.get(size);
    if (part === undefined) {
      if (size > SCRATCH_BYTES) return denoLayer.view(pointer, size);
      scratchParts.set(size, part = scratch.subarray(0, size));
    }
    Deno.UnsafePointerView.copyInto(pointer as unknown as Deno.PointerObject, part);
    scratchView.retarget(pointer as unknown as Deno.PointerObject);
    return scratchView;
  },
  cstring: (pointer: Pointer): string | null =>
    pointer === null
      ? null
      : Deno.UnsafePointerView.getCString(pointer as unknown as Deno.PointerObject),
  copy(pointer: Pointer, length: number): Uint8Array | null {
    if (pointer === null) return null;
    // A small copy goes into the slab: a fresh Uint8Array above V8's on-heap
    // limit (64 bytes) gets a backing store of its own, which costs about a
    // microsecond to make and free. A kept copy keeps its slab alive, as
    // Node's pooled Buffers do.
    const bytes = length > SMALL_COPY_BYTES ? new Uint8Array(length) : slabPart(length);
    if (length > 0) {
      Deno.UnsafePointerView.copyInto(pointer as unknown as Deno.PointerObject, bytes);
    }
    return bytes;
  },
  buffer: (pointer: NativePointer, length: number): ArrayBuffer =>
    Deno.UnsafePointerView.getArrayBuffer(pointer as unknown as Deno.PointerObject, length),
};
