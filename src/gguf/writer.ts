/**
 * A streaming GGUF v3 writer: metadata, tensor infos, then aligned tensor data, written straight to disk.
 * Only the header (metadata + tensor infos) is held in memory; tensor data is pulled from each tensor's
 * `data()` iterator and flushed in chunks, so multi-gigabyte files need little memory.
 *
 * See docs/decisions/0100-own-gguf-writer.md for why this is hand-written.
 */
import { open, rename, rm } from "node:fs/promises";
import {
  GgmlType,
  GgufValueType,
  GgufWriteError,
  ggmlTensorBytes,
  type GgufArrayValue,
  type GgufFileSpec,
  type GgufValue,
} from "./types.js";

const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian uint32
const GGUF_VERSION = 3;
/** Alignment used when the metadata has no `general.alignment`. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Growable little-endian byte buffer for the header. */
class ByteBuilder {
  private buf = Buffer.allocUnsafe(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void { this.reserve(1); this.buf.writeUInt8(v, this.length); this.length += 1; }
  i8(v: number): void { this.reserve(1); this.buf.writeInt8(v, this.length); this.length += 1; }
  u16(v: number): void { this.reserve(2); this.buf.writeUInt16LE(v, this.length); this.length += 2; }
  i16(v: number): void { this.reserve(2); this.buf.writeInt16LE(v, this.length); this.length += 2; }
  u32(v: number): void { this.reserve(4); this.buf.writeUInt32LE(v, this.length); this.length += 4; }
  i32(v: number): void { this.reserve(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
  f32(v: number): void { this.reserve(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
  f64(v: number): void { this.reserve(8); this.buf.writeDoubleLE(v, this.length); this.length += 8; }
  u64(v: bigint | number): void { this.reserve(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  i64(v: bigint): void { this.reserve(8); this.buf.writeBigInt64LE(v, this.length); this.length += 8; }
  str(s: string): void {
    const n = Buffer.byteLength(s, "utf8");
    this.u64(n);
    this.reserve(n);
    this.buf.write(s, this.length, "utf8");
    this.length += n;
  }
  zeros(n: number): void { this.reserve(n); this.buf.fill(0, this.length, this.length + n); this.length += n; }
  bytes(): Buffer { return this.buf.subarray(0, this.length); }
}

type NumericTypeName = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64";

function writeNumber(b: ByteBuilder, type: NumericTypeName, v: number): void {
  switch (type) {
    case "uint8": return b.u8(v);
    case "int8": return b.i8(v);
    case "uint16": return b.u16(v);
    case "int16": return b.i16(v);
    case "uint32": return b.u32(v);
    case "int32": return b.i32(v);
    case "float32": return b.f32(v);
    case "float64": return b.f64(v);
    default: return type satisfies never;
  }
}

function writeArrayBody(b: ByteBuilder, v: GgufArrayValue): void {
  b.u32(GgufValueType[v.itemType]);
  b.u64(v.values.length);
  switch (v.itemType) {
    case "uint64": for (const x of v.values) b.u64(x); return;
    case "int64": for (const x of v.values) b.i64(x); return;
    case "bool": for (const x of v.values) b.u8(x ? 1 : 0); return;
    case "string": for (const x of v.values) b.str(x); return;
    case "array": for (const x of v.values) writeArrayBody(b, x); return;
    default: {
      const t = v.itemType;
      for (let i = 0; i < v.values.length; i++) writeNumber(b, t, v.values[i] as number);
      return;
    }
  }
}

function writeValue(b: ByteBuilder, v: GgufValue): void {
  b.u32(GgufValueType[v.type]);
  switch (v.type) {
    case "array": return writeArrayBody(b, v);
    case "string": return b.str(v.value);
    case "bool": return b.u8(v.value ? 1 : 0);
    case "uint64": return b.u64(v.value);
    case "int64": return b.i64(v.value);
    default: return writeNumber(b, v.type, v.value);
  }
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function alignmentOf(spec: GgufFileSpec): number {
  const kv = spec.metadata.find((m) => m.key === "general.alignment");
  if (kv === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (kv.value.type !== "uint32" || kv.value.value <= 0 || kv.value.value % 8 !== 0) {
    throw new GgufWriteError("general.alignment must be a uint32 multiple of 8");
  }
  return kv.value.value;
}

/** Serialises the header (magic .. tensor infos), unpadded, and returns each tensor's data offset and size. */
export function encodeGgufHeader(spec: GgufFileSpec): { header: Buffer; offsets: number[]; sizes: number[]; alignment: number } {
  const alignment = alignmentOf(spec);
  const keys = new Set<string>();
  for (const { key } of spec.metadata) {
    if (keys.has(key)) throw new GgufWriteError(`duplicate metadata key ${key}`);
    keys.add(key);
  }
  const names = new Set<string>();
  const b = new ByteBuilder();
  b.u32(GGUF_MAGIC);
  b.u32(GGUF_VERSION);
  b.u64(spec.tensors.length);
  b.u64(spec.metadata.length);
  for (const { key, value } of spec.metadata) {
    b.str(key);
    writeValue(b, value);
  }
  const offsets: number[] = [];
  const sizes: number[] = [];
  let offset = 0;
  for (const t of spec.tensors) {
    if (names.has(t.name)) throw new GgufWriteError(`duplicate tensor name ${t.name}`);
    names.add(t.name);
    if (t.dims.length === 0 || t.dims.length > 4 || t.dims.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new GgufWriteError(`tensor ${t.name}: bad dims ${JSON.stringify(t.dims)}`);
    }
    const size = ggmlTensorBytes(t.type, t.dims);
    b.str(t.name);
    b.u32(t.dims.length);
    for (const d of t.dims) b.u64(d);
    b.u32(GgmlType[t.type]);
    b.u64(offset);
    offsets.push(offset);
    sizes.push(size);
    offset = alignUp(offset + size, alignment);
  }
  return { header: b.bytes(), offsets, sizes, alignment };
}

export interface WriteGgufOptions {
  /** Aborts the write; the partial file is removed. Default: none. */
  readonly signal?: AbortSignal;
  /** Bytes buffered before each disk write. Default 4 MiB. */
  readonly chunkBytes?: number;
  /** Called after each disk write with bytes written so far and the final file size. Default: none. */
  readonly onProgress?: (written: number, total: number) => void;
}

/**
 * Writes `spec` as a GGUF v3 file at `outPath`. The file is first written to `outPath + ".<pid>.<rand>.partial"`
 * and renamed into place when complete, so readers never see a half-written file.
 */
export async function writeGguf(outPath: string, spec: GgufFileSpec, options: WriteGgufOptions = {}): Promise<void> {
  const { header, offsets, sizes, alignment } = encodeGgufHeader(spec);
  const dataStart = alignUp(header.length, alignment);
  const total = sizes.length === 0 ? dataStart : dataStart + offsets[offsets.length - 1]! + sizes[sizes.length - 1]!;
  const chunkBytes = options.chunkBytes ?? 4 << 20;
  const tmp = `${outPath}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
  const fh = await open(tmp, "w");
  let ok = false;
  try {
    const pending = Buffer.allocUnsafe(chunkBytes);
    let fill = 0;
    let position = 0;
    const flush = async (): Promise<void> => {
      let done = 0;
      while (done < fill) {
        const { bytesWritten } = await fh.write(pending, done, fill - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
      fill = 0;
      options.onProgress?.(position, total);
    };
    const put = async (data: Uint8Array): Promise<void> => {
      let at = 0;
      while (at < data.length) {
        const n = Math.min(data.length - at, chunkBytes - fill);
        pending.set(data.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === chunkBytes) {
          options.signal?.throwIfAborted();
          await flush();
        }
      }
    };
    const pad = async (n: number): Promise<void> => {
      if (n > 0) await put(new Uint8Array(n));
    };

    await put(header);
    await pad(alignUp(header.length, alignment) - header.length);
    for (let i = 0; i < spec.tensors.length; i++) {
      const t = spec.tensors[i]!;
      const size = sizes[i]!;
      let written = 0;
      for await (const chunk of t.data()) {
        written += chunk.length;
        if (written > size) throw new GgufWriteError(`tensor ${t.name}: data exceeds ${size} bytes`);
        await put(chunk);
      }
      if (written !== size) throw new GgufWriteError(`tensor ${t.name}: got ${written} bytes of data, expected ${size}`);
      if (i < spec.tensors.length - 1) await pad(alignUp(size, alignment) - size);
    }
    await flush();
    await fh.close();
    await rename(tmp, outPath);
    ok = true;
  } finally {
    if (!ok) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
    }
  }
}
