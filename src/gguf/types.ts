/**
 * GGUF v3 file-format constants and the typed description of a file to write.
 *
 * Reference: ggml-org/ggml `docs/gguf.md` (GGUF v3). All numbers are little-endian.
 */

/** GGUF metadata value types, as numbered in the file format. */
export const GgufValueType = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;
export type GgufScalarTypeName = Exclude<keyof typeof GgufValueType, "array">;

/** ggml tensor types this writer can produce, numbered as in `ggml.h`. */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q8_0: 8,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
} as const;
export type GgmlTypeName = keyof typeof GgmlType;

/** Elements per block and bytes per block of each ggml type (`ggml.c` type traits). */
export const GGML_BLOCK: Readonly<Record<GgmlTypeName, { readonly elements: number; readonly bytes: number }>> = {
  F32: { elements: 1, bytes: 4 },
  F16: { elements: 1, bytes: 2 },
  Q4_0: { elements: 32, bytes: 18 },
  Q8_0: { elements: 32, bytes: 34 },
  Q4_K: { elements: 256, bytes: 144 },
  Q5_K: { elements: 256, bytes: 176 },
  Q6_K: { elements: 256, bytes: 210 },
};

/** A number-valued scalar. 64-bit integers are `bigint` so no precision is lost. */
export type GgufNumberValue =
  | { readonly type: "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64"; readonly value: number }
  | { readonly type: "uint64" | "int64"; readonly value: bigint };

export type GgufScalarValue =
  | GgufNumberValue
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string };

/** An array of one scalar type, or of arrays (nested arrays are legal GGUF). */
export type GgufArrayValue =
  | { readonly type: "array"; readonly itemType: "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64"; readonly values: ArrayLike<number> }
  | { readonly type: "array"; readonly itemType: "uint64" | "int64"; readonly values: readonly bigint[] }
  | { readonly type: "array"; readonly itemType: "bool"; readonly values: readonly boolean[] }
  | { readonly type: "array"; readonly itemType: "string"; readonly values: readonly string[] }
  | { readonly type: "array"; readonly itemType: "array"; readonly values: readonly GgufArrayValue[] };

export type GgufValue = GgufScalarValue | GgufArrayValue;

/** One metadata key/value pair. Order is kept as given. */
export interface GgufKeyValue {
  readonly key: string;
  readonly value: GgufValue;
}

/**
 * One tensor to write. `dims` are in ggml order: `dims[0]` is the innermost (contiguous) dimension,
 * so a PyTorch `[out, in]` matrix is `dims: [in, out]`.
 */
export interface GgufTensorSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: GgmlTypeName;
  /**
   * Produces the tensor's bytes, in order, in chunks of any size. The writer checks that the total equals
   * {@link ggmlTensorBytes}. Called once, when the writer reaches this tensor, so data can be generated lazily.
   */
  readonly data: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

export interface GgufFileSpec {
  readonly metadata: readonly GgufKeyValue[];
  readonly tensors: readonly GgufTensorSpec[];
}

export class GgufWriteError extends Error {
  override readonly name = "GgufWriteError";
}

/** Number of bytes a tensor of this type and shape occupies. Throws if `dims[0]` is not block-aligned. */
export function ggmlTensorBytes(type: GgmlTypeName, dims: readonly number[]): number {
  const block = GGML_BLOCK[type];
  const inner = dims[0] ?? 1;
  if (inner % block.elements !== 0) {
    throw new GgufWriteError(`tensor row of ${inner} elements is not a multiple of the ${type} block size ${block.elements}`);
  }
  let rows = 1;
  for (let i = 1; i < dims.length; i++) rows *= dims[i] ?? 1;
  return (inner / block.elements) * block.bytes * rows;
}
