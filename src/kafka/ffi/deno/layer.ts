/**
 * The Deno call layer: `Deno.dlopen`, whose notation the symbol table already
 * uses. `nonblocking` symbols run on Deno's worker threads and return
 * promises; callbacks are `Deno.UnsafeCallback.threadSafe`, which Deno runs on
 * the main thread while a native thread waits for them.
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
  // UnsafePointerView has the StructView methods already; its getPointer's
  // PointerValue is this layer's Pointer.
  view: (pointer: NativePointer): StructView =>
    new Deno.UnsafePointerView(pointer as unknown as Deno.PointerObject) as unknown as StructView,
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
