/**
 * The `random` and `3b` kinds: llama-architecture models with seeded random weights. `random` encodes random
 * floats (F32/F16/Q8_0/Q4_0 exactly as ggml would); K-quant tensors (`q4_k_m`, the `3b` default) are random
 * K-quant bits with small scales, generated block-wise and streamed, so the 1.9 GB `3b` file is never in memory.
 */
import type { GgmlTypeName, GgufFileSpec, GgufTensorSpec } from "../gguf/index.js";
import { GGML_BLOCK, randomKQuantBlocks } from "../gguf/index.js";
import { LlamaFileType, llamaMetadata, matrixTensor, vectorTensor, type LlamaDims } from "./llama-gguf.js";
import type { ResolvedTestModelOptions, TestModelQuant } from "./options.js";
import { fillUniform, seededUint32 } from "./prng.js";
import { VOCAB_SIZE } from "./tokens.js";

type Role = "token_embd" | "attn_q" | "attn_k" | "attn_v" | "attn_output" | "ffn_gate" | "ffn_up" | "ffn_down";

/** llama.cpp `use_more_bits`: the layers where Q4_K_M spends Q6_K on attn_v and ffn_down. */
export function useMoreBits(layer: number, layers: number): boolean {
  const eighth = Math.floor(layers / 8);
  return layer < eighth || layer >= Math.floor((7 * layers) / 8) || (layer - eighth) % 3 === 2;
}

/** The ggml type of a weight matrix with rows of `inDim` values under `quant` (llama.cpp's mix for Q4_K_M). */
export function weightType(quant: TestModelQuant, role: Role, layer: number, layers: number, inDim: number): GgmlTypeName {
  const fits = (t: GgmlTypeName): boolean => inDim % GGML_BLOCK[t].elements === 0;
  switch (quant) {
    case "f32": return "F32";
    case "f16": return "F16";
    case "q8_0": return fits("Q8_0") ? "Q8_0" : "F16";
    case "q4_0": return fits("Q4_0") ? "Q4_0" : "F16";
    case "q4_k_m": {
      if (!fits("Q4_K")) return fits("Q8_0") ? "Q8_0" : "F16";
      // Tied embeddings double as the output matrix, which llama.cpp keeps at Q6_K.
      if (role === "token_embd") return "Q6_K";
      if ((role === "attn_v" || role === "ffn_down") && useMoreBits(layer, layers)) return "Q6_K";
      return "Q4_K";
    }
    default: return quant satisfies never;
  }
}

export function fileTypeOf(quant: TestModelQuant): number {
  switch (quant) {
    case "f32": return LlamaFileType.ALL_F32;
    case "f16": return LlamaFileType.MOSTLY_F16;
    case "q8_0": return LlamaFileType.MOSTLY_Q8_0;
    case "q4_0": return LlamaFileType.MOSTLY_Q4_0;
    case "q4_k_m": return LlamaFileType.MOSTLY_Q4_K_M;
    default: return quant satisfies never;
  }
}

/** Llama 3.1/3.2 rope scaling (factor 32, low 1, high 4, original 8192) as the converter writes `rope_freqs`. */
export function llama3RopeFactors(headDim: number, base: number, factor = 32, lowFreqFactor = 1, highFreqFactor = 4, originalContext = 8192): Float32Array {
  const lowWavelen = originalContext / lowFreqFactor;
  const highWavelen = originalContext / highFreqFactor;
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) {
    const freq = 1 / base ** ((2 * i) / headDim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = factor;
    else {
      const smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / factor + smooth);
    }
  }
  return out;
}

function weightTensor(
  name: string,
  role: Role,
  layer: number,
  inDim: number,
  outDim: number,
  o: ResolvedTestModelOptions,
  amplitude: number,
): GgufTensorSpec {
  const type = weightType(o.quant, role, layer, o.layers, inDim);
  const material = `${o.seed}:${name}`;
  if (type === "Q4_K" || type === "Q5_K" || type === "Q6_K") {
    // Random K-quant weights have an RMS of about a quarter of their maximum (uniform floats: 0.58).
    const kAmplitude = 2 * amplitude;
    const blocksPerRow = inDim / 256;
    return {
      name,
      dims: [inDim, outDim],
      type,
      data: function* () {
        const next = seededUint32(material);
        const rowsPerChunk = Math.max(1, Math.floor(8192 / blocksPerRow));
        for (let r = 0; r < outDim; r += rowsPerChunk) {
          const n = Math.min(rowsPerChunk, outDim - r);
          yield randomKQuantBlocks(type, n * blocksPerRow, kAmplitude, next);
        }
      },
    };
  }
  let next: (() => number) | undefined;
  return matrixTensor(name, inDim, outDim, type, (first, _rows, out) => {
    if (first === 0 || next === undefined) next = seededUint32(material);
    fillUniform(out, amplitude, next);
  });
}

/** The GGUF description of a `random` or `3b` model. */
export function buildRandomModelSpec(o: ResolvedTestModelOptions, toolUseTemplate: string): GgufFileSpec {
  const { hidden, heads, kvHeads, ffn } = o;
  if (hidden === undefined || heads === undefined || kvHeads === undefined || ffn === undefined) throw new Error("dims not resolved");
  const dims: LlamaDims = { hidden, layers: o.layers, heads, kvHeads, ffn, contextLength: o.contextLength, ropeTheta: 500_000 };
  const headDim = hidden / heads;
  const llama3Scaling = o.kind === "3b";
  const tensors: GgufTensorSpec[] = [];
  if (llama3Scaling) tensors.push(vectorTensor("rope_freqs.weight", llama3RopeFactors(headDim, dims.ropeTheta)));
  tensors.push(weightTensor("token_embd.weight", "token_embd", 0, hidden, VOCAB_SIZE, o, o.kind === "3b" ? 0.1 : 0.5));
  // Large enough that the blocks, not the token's own (tied) embedding, dominate the output: otherwise the
  // model just repeats its last token.
  const amp = (inDim: number): number => 2 * Math.sqrt(3 / inDim);
  const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
  for (let l = 0; l < o.layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(vectorTensor(`${p}attn_norm.weight`, ones(hidden)));
    tensors.push(weightTensor(`${p}attn_q.weight`, "attn_q", l, hidden, heads * headDim, o, amp(hidden)));
    tensors.push(weightTensor(`${p}attn_k.weight`, "attn_k", l, hidden, kvHeads * headDim, o, amp(hidden)));
    tensors.push(weightTensor(`${p}attn_v.weight`, "attn_v", l, hidden, kvHeads * headDim, o, amp(hidden)));
    tensors.push(weightTensor(`${p}attn_output.weight`, "attn_output", l, heads * headDim, hidden, o, amp(hidden)));
    tensors.push(vectorTensor(`${p}ffn_norm.weight`, ones(hidden)));
    tensors.push(weightTensor(`${p}ffn_gate.weight`, "ffn_gate", l, hidden, ffn, o, amp(hidden)));
    tensors.push(weightTensor(`${p}ffn_up.weight`, "ffn_up", l, hidden, ffn, o, amp(hidden)));
    tensors.push(weightTensor(`${p}ffn_down.weight`, "ffn_down", l, ffn, hidden, o, amp(ffn)));
  }
  tensors.push(vectorTensor("output_norm.weight", ones(hidden)));
  return { metadata: llamaMetadata(o, dims, fileTypeOf(o.quant), toolUseTemplate), tensors };
}
