export * from "./types.js";
export { writeGguf, encodeGgufHeader, GGUF_DEFAULT_ALIGNMENT, type WriteGgufOptions } from "./writer.js";
export {
  encodeF32,
  encodeF16,
  encodeQ8_0,
  encodeQ4_0,
  decodeBlocks,
  f32ToF16Bits,
  f16BitsToF32,
  roundToF16,
  randomKQuantBlocks,
  type KQuantTypeName,
  type Uint32Source,
} from "./quants.js";
