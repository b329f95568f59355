/**
 * The call layer: the one part of the librdkafka binding that differs per
 * runtime. Everything else (the symbol table in `symbols.ts`, the struct
 * layouts in `_memory.ts`, the consumer, producer and admin logic) is written
 * once against this interface.
 *
 * Layers:
 * - `deno/layer.ts`: `Deno.dlopen`; `nonblocking` symbols run on Deno's worker
 *   threads.
 * - `koffi/layer.ts`: the `koffi` package on Node; `nonblocking` symbols run
 *   through `func.async` on koffi's worker threads.
 * - `bun/layer.ts`: `bun:ffi`, which has no worker-thread calls: `nonblocking`
 *   symbols that serve the consumer queue become zero-timeout calls plus waits
 *   woken by librdkafka's queue events; the others run in a Bun `Worker`.
 *
 * Pointers are opaque to the shared code: it only compares them with `null`,
 * passes them back into bound functions and asks the layer to read through
 * them. Addresses stored in C memory or out-parameters (`BigUint64Array`
 * slots) become pointers through {@link FfiLayer.pointer}.
 *
 * @module
 */

/** 2^32: the weight of the upper half of a 64-bit field read as two 32-bit halves. */
export const TWO_32 = 2 ** 32;

/** An unsigned little-endian 64-bit field at `at` that fits in 53 bits (an address), as a number. */
export function uint53At(data: DataView, at: number): number {
  return data.getUint32(at, true) + data.getUint32(at + 4, true) * TWO_32;
}

/** A signed little-endian 64-bit field at `at` that fits in 53 bits (an offset), as a number. */
export function int53At(data: DataView, at: number): number {
  return data.getUint32(at, true) + data.getInt32(at + 4, true) * TWO_32;
}

declare const nativePointer: unique symbol;

/** A non-NULL C pointer, in the layer's own representation. */
export interface NativePointer {
  readonly [nativePointer]: true;
}

/** A C pointer; `null` is NULL. */
export type Pointer = NativePointer | null;

/** Argument and result kinds of the symbol table (Deno's FFI names, which the others map). */
export type NativeType =
  | "void"
  | "i32"
  | "i64"
  | "usize"
  | "isize"
  | "pointer"
  | "buffer"
  | "function";

/** One C function: its parameters, result, and whether it may wait (then it runs on a worker thread). */
export interface SymbolSpec {
  /** The C name when the key differs (one function bound twice). */
  readonly name?: string;
  readonly parameters: readonly NativeType[];
  readonly result: NativeType;
  /** Runs on a worker thread and returns a promise. */
  readonly nonblocking?: boolean;
  /** Missing in older librdkafka builds: then bound as `null`. */
  readonly optional?: boolean;
}

/** A table of C functions by key. */
export type SymbolTable = Readonly<Record<string, SymbolSpec>>;

/** A C callback's signature. */
export interface CallbackSpec {
  readonly parameters: readonly NativeType[];
  readonly result: "void";
}

type ArgOf<T extends NativeType> = T extends "i32" ? number
  : T extends "i64" | "usize" | "isize" ? number | bigint
  : T extends "buffer" ? Pointer | ArrayBufferView
  : Pointer;

type ResultOf<T extends NativeType> = T extends "void" ? void
  : T extends "i32" ? number
  : T extends "i64" | "usize" | "isize" ? number | bigint
  : Pointer;

type ArgsOf<P extends readonly NativeType[]> = { -readonly [K in keyof P]: ArgOf<P[K]> };

type Bound<S extends SymbolSpec> = (
  ...args: ArgsOf<S["parameters"]>
) => S["nonblocking"] extends true ? Promise<ResultOf<S["result"]>> : ResultOf<S["result"]>;

/** The functions of a table, bound; optional ones may be `null`. */
export type BoundSymbols<T extends SymbolTable> = {
  readonly [K in keyof T]: T[K]["optional"] extends true ? Bound<T[K]> | null : Bound<T[K]>;
};

/** Reads fields of a C struct at byte offsets (little-endian, LP64). */
export interface StructView {
  getInt32(offset: number): number;
  getBigInt64(offset: number): bigint;
  getBigUint64(offset: number): bigint;
  getPointer(offset: number): Pointer;
  /**
   * A pointer field as a number: its address, 0 for NULL. Addresses fit in 53
   * bits on LP64 systems, so no BigInt is made and no pointer object.
   */
  getAddress(offset: number): number;
  /** A 64-bit signed field known to fit in 53 bits (an offset), as a number. */
  getSafeInteger(offset: number): number;
}

/** A C function pointer made from a JS function; call `close()` once no C code can call it. */
export interface NativeCallback {
  readonly pointer: Pointer;
  close(): void;
}

/** An opened library. */
export interface OpenedLibrary<T extends SymbolTable> {
  readonly symbols: BoundSymbols<T>;
  close(): void;
}

/** What each runtime provides. */
export interface FfiLayer {
  /** `deno`, `node` or `bun`: the name of the runtime this layer binds on. */
  readonly runtime: string;
  /** Opens the library and binds `symbols`; throws when it cannot, with the loader's reason. */
  open<T extends SymbolTable>(path: string, symbols: T): OpenedLibrary<T>;
  /**
   * A callback C may call from any thread: the JS function runs on the main
   * thread while the calling thread waits.
   */
  callback(spec: CallbackSpec, fn: (...args: never[]) => void): NativeCallback;
  /** The pointer at `address` (`null` for 0). */
  pointer(address: bigint): Pointer;
  /** The address of a pointer (0 for NULL). */
  address(pointer: Pointer): bigint;
  /** The address of JS memory; valid only until control returns to the event loop. */
  addressOf(bytes: ArrayBufferView): bigint;
  /** A reader over the `size` bytes of a struct at `pointer`. */
  view(pointer: NativePointer, size: number): StructView;
  /**
   * Like {@link view}, but one reader the layer reuses: valid only until the
   * next `scratchView` call. For per-message reads, with no allocation.
   */
  scratchView(pointer: NativePointer, size: number): StructView;
  /** Reads a NUL-terminated UTF-8 string; `null` for NULL. */
  cstring(pointer: Pointer): string | null;
  /** Copies `length` bytes into JS memory; `null` for NULL. */
  copy(pointer: Pointer, length: number): Uint8Array | null;
  /** The `length` bytes at `pointer` as a writable buffer over C memory (no copy). */
  buffer(pointer: NativePointer, length: number): ArrayBuffer;
}
