/**
 * The `scripted` kind: a one-block llama model whose weights are computed, not trained, so that it replies
 * `reply` byte-exact after `<|im_start|>assistant\n` (and `afterToolReply` once a `<tool_response>` token is
 * anywhere in the context), then `<|im_end|>`. Design: docs/decisions/0101-scripted-model-design.md.
 *
 * Residual stream channels (hidden D = 32 · heads):
 *   C0     constant 1 in every token's embedding (keeps RMSNorm stable, feeds queries/keys/thresholds)
 *   OTHER  1 for every token the script does not use
 *   FLAG   written by the marker head: ≈1 once `<tool_response>` was seen, else exactly 0
 *   CUR(i) one-hot code of the current token (the N script tokens)
 *   PREV1(i), PREV2(i) copies of the codes of the tokens 1 and 2 positions back, written by the
 *          previous-token heads
 * Block 0 attention: for d = 1, 2, ceil(N/32) heads attend to position i-d (query and key read C0; the key is
 * pre-rotated by d RoPE steps so the score peaks at distance d) and copy CUR → PREVd; one more head reads the
 * key from CUR(<tool_response>) on the lowest-frequency RoPE pair (position-free) and writes FLAG.
 * Block 0 FFN: one SwiGLU unit per (token-2, token-1, current[, flag]) → next transition writes a large value on
 * CUR(next), plus an always-on unit that writes a small value on CUR(<|im_end|>) (so unknown contexts end).
 * The output norm keeps only the CUR channels; tied embeddings turn CUR(next) into a logit ≈ 80 for
 * `next` and 0 for every token outside the script.
 */
import type { GgufFileSpec, GgufKeyValue, GgufTensorSpec } from "../gguf/index.js";
import { encodeF32 } from "../gguf/index.js";
import { llamaMetadata, LlamaFileType, matrixTensor, vectorTensor, type LlamaDims } from "./llama-gguf.js";
import type { ResolvedTestModelOptions } from "./options.js";
import { BPE_VOCAB_SIZE, EOS_ID, HERMES_TOKENS, VOCAB_SIZE } from "./tokens.js";
import { loadLlama3Bpe, TestModelError, tokenizeWithSpecials } from "./vocab.js";

/** Token ids of the generation prompt `<|im_start|>` `assistant` `\n` (Llama 3 BPE + the test table). */
const IM_START_ID = HERMES_TOKENS.imStart.id;
const ASSISTANT_ID = 78_191;
const NEWLINE_ID = 198;
const MARKER_ID = HERMES_TOKENS.toolResponseStart.id;

/** RoPE base of the scripted model; the previous-token weights below are tuned for it. */
export const SCRIPTED_ROPE_THETA = 500_000;
/** Head dimension of the scripted model (16 RoPE pairs). */
export const SCRIPTED_HEAD_DIM = 32;
/**
 * Weights of the 16 RoPE pairs in the previous-token score Σ w_j cos((Δ−1)θ_j) (θ_j = 500000^(−j/16)),
 * chosen by a linear program maximising min over Δ ∈ [0, 65536] \ {1} of Σ w_j (1 − cos((Δ−1)θ_j));
 * that minimum is ≈ 0.206 (checked by test/standalone/gguf-testmodel-design.test.ts).
 */
export const PREV_TOKEN_PAIR_WEIGHTS: readonly number[] = [
  0.4297, 0.0751, 0.0672, 0.0454, 0.0527, 0.0605, 0.0683, 0.0227, 0.0521, 0.0259, 0.0219, 0.0402, 0.0383, 0, 0, 0,
];
/** Context order: the next token is a function of the current token and the PREV_DISTANCES tokens before it. */
const PREV_DISTANCES = [1, 2] as const;
/** Previous-token attention score at distance d (before softmax); others are ≥ 0.206 × this lower. */
const PREV_SCORE = 100;
/** Marker-head score at a `<tool_response>` position (0 elsewhere). */
const MARKER_SCORE = 40;
/** SwiGLU gate gain: a matching unit sees +GATE_GAIN/2, a non-matching one ≤ −GATE_GAIN/2. */
const GATE_GAIN = 40;
/** Value a firing unit writes on CUR(next) (times the squared RMSNorm ratio, 1..2.5). */
const NEXT_VALUE = 30;
/** Value the always-on unit writes on CUR(<|im_end|>). */
const FALLBACK_VALUE = 3;
/** Target logit of the scripted next token. */
const NEXT_LOGIT = 80;

export interface ScriptTransition {
  /** The tokens 2 and 1 positions before the current one. */
  readonly prev2: number;
  readonly prev: number;
  readonly cur: number;
  /** `any`: regardless of the marker flag; 0: only before `<tool_response>`; 1: only after. */
  readonly flag: "any" | 0 | 1;
  readonly next: number;
}

export interface CompiledScript {
  /** Token sequences: `<|im_start|>`, `assistant`, `\n`, the reply tokens, `<|im_end|>`; one per reply. */
  readonly sequences: readonly { readonly flag: "any" | 0 | 1; readonly tokens: readonly number[] }[];
  readonly transitions: readonly ScriptTransition[];
  /** The tokens with a code (CUR/PREV channel), index = code. */
  readonly codeTokens: readonly number[];
}

let vocabIndex: Map<string, number> | undefined;

/** Splits a BPE token into two vocabulary tokens, as close to its middle as possible. */
function splitToken(id: number): [number, number] | undefined {
  if (id >= BPE_VOCAB_SIZE) return undefined;
  const bpe = loadLlama3Bpe();
  vocabIndex ??= new Map(bpe.tokens.map((t, i) => [t, i] as const));
  const text = bpe.tokens[id]!;
  const chars = [...text];
  if (chars.length < 2) return undefined;
  const mid = chars.length / 2;
  const cuts = chars.slice(1).map((_, i) => i + 1).sort((a, b) => Math.abs(a - mid) - Math.abs(b - mid));
  for (const cut of cuts) {
    const a = vocabIndex.get(chars.slice(0, cut).join(""));
    const b = vocabIndex.get(chars.slice(cut).join(""));
    if (a !== undefined && b !== undefined) return [a, b];
  }
  return undefined;
}

/** Index of the first reply token in a sequence (after `<|im_start|>assistant\n`). */
const REPLY_START = 3;

function contextKey(toks: readonly number[], i: number): string {
  return `${toks[i - 3]},${toks[i - 2]},${toks[i - 1]}`;
}

/** Makes every (token-2, token-1, current) context of `tokens` have one successor, re-spelling tokens where needed. */
function makeDeterministic(initial: readonly number[]): number[] {
  const toks = [...initial];
  for (let iter = 0; iter < 100_000; iter++) {
    const seen = new Map<string, number>();
    let conflict = -1;
    for (let i = REPLY_START; i < toks.length; i++) {
      const key = contextKey(toks, i);
      const next = seen.get(key);
      if (next === undefined) seen.set(key, toks[i]!);
      else if (next !== toks[i]) {
        conflict = i - 1;
        break;
      }
    }
    if (conflict < 0) return toks;
    let fixed = false;
    for (const at of [conflict, conflict - 1, conflict - 2]) {
      if (at < REPLY_START || at >= toks.length - 1) continue; // the generation prompt and <|im_end|> stay as they are
      const parts = splitToken(toks[at]!);
      if (parts !== undefined) {
        toks.splice(at, 1, ...parts);
        fixed = true;
        break;
      }
    }
    if (!fixed) {
      throw new TestModelError(
        `the scripted model cannot spell this reply: the context (${toks.slice(conflict - 2, conflict + 1).join(", ")}) needs two successors`,
      );
    }
  }
  throw new TestModelError("the scripted model cannot spell this reply (too many re-spellings)");
}

/** Tokenizes the replies and derives the transition table of the scripted model. */
export async function compileScript(reply: string, afterToolReply?: string): Promise<CompiledScript> {
  const replies: { flag: "any" | 0 | 1; text: string }[] =
    afterToolReply === undefined ? [{ flag: "any", text: reply }] : [{ flag: 0, text: reply }, { flag: 1, text: afterToolReply }];
  const sequences: { flag: "any" | 0 | 1; tokens: number[] }[] = [];
  const transitions: ScriptTransition[] = [];
  for (const r of replies) {
    const body = await tokenizeWithSpecials(r.text);
    if (body.includes(MARKER_ID)) {
      throw new TestModelError(`a scripted reply may not contain ${HERMES_TOKENS.toolResponseStart.text} (it switches the model to afterToolReply)`);
    }
    const tokens = makeDeterministic([IM_START_ID, ASSISTANT_ID, NEWLINE_ID, ...body, EOS_ID]);
    sequences.push({ flag: r.flag, tokens });
    const seen = new Set<string>();
    for (let i = REPLY_START; i < tokens.length; i++) {
      const key = contextKey(tokens, i);
      if (seen.has(key)) continue;
      seen.add(key);
      transitions.push({ prev2: tokens[i - 3]!, prev: tokens[i - 2]!, cur: tokens[i - 1]!, flag: r.flag, next: tokens[i]! });
    }
  }
  const codeTokens: number[] = [];
  const add = (t: number): void => {
    if (!codeTokens.includes(t)) codeTokens.push(t);
  };
  add(MARKER_ID);
  add(EOS_ID);
  for (const s of sequences) for (const t of s.tokens) add(t);
  return { sequences, transitions, codeTokens };
}

/** RoPE angle step θ_j of pair j, computed in float32 as ggml does (theta_scale^j by repeated multiplication). */
export function ropeThetas(base: number, headDim: number): number[] {
  const scale = Math.fround(Math.pow(Math.fround(base), Math.fround(-2 / headDim)));
  const out: number[] = [];
  let theta = 1;
  for (let j = 0; j < headDim / 2; j++) {
    out.push(theta);
    theta = Math.fround(theta * scale);
  }
  return out;
}

function denseTensor(name: string, inDim: number, outDim: number, w: Float32Array): GgufTensorSpec {
  return { name, dims: [inDim, outDim], type: "F32", data: function* () { yield encodeF32(w); } };
}

/** The GGUF description of a `scripted` model. */
export async function buildScriptedModelSpec(o: ResolvedTestModelOptions, toolUseTemplate: string): Promise<GgufFileSpec> {
  const script = await compileScript(o.reply, o.afterToolReply);
  const n = script.codeTokens.length;
  const hd = SCRIPTED_HEAD_DIM;
  const headsPerDistance = Math.ceil(n / hd);
  const prevHeads = headsPerDistance * PREV_DISTANCES.length;
  const minHeads = Math.max(4, prevHeads + 1, Math.ceil(((1 + PREV_DISTANCES.length) * n + 3) / hd));
  let heads = minHeads;
  if (o.hidden !== undefined) {
    if (o.hidden % hd !== 0 || o.hidden / hd < minHeads) {
      throw new TestModelError(`scripted: hidden must be a multiple of ${hd} and at least ${minHeads * hd} for this script`);
    }
    heads = o.hidden / hd;
  }
  const D = heads * hd;
  const units = script.transitions.length + 1;
  const minFfn = Math.max(32, Math.ceil(units / 32) * 32);
  if (o.ffn !== undefined && o.ffn < units) throw new TestModelError(`scripted: ffn must be at least ${units} for this script`);
  const F = o.ffn ?? minFfn;

  const code = new Map(script.codeTokens.map((t, i) => [t, i] as const));
  const C0 = 0, OTHER = 1, FLAG = 2;
  const CUR = (i: number): number => 3 + i;
  const PREV = (distance: number, i: number): number => 3 + distance * n + i;
  const codeOf = (t: number): number => {
    const c = code.get(t);
    if (c === undefined) throw new Error(`token ${t} has no code`);
    return c;
  };

  // --- attention (weights [out][in] row-major, ggml dims [in, out]) ---
  const eps = 1e-5;
  const r0 = Math.sqrt(2 / D + eps); // RMS of every embedding row (two channels at 1)
  const wq = new Float32Array(D * D);
  const wk = new Float32Array(D * D);
  const wv = new Float32Array(D * D);
  const wo = new Float32Array(D * D);
  const thetas = ropeThetas(SCRIPTED_ROPE_THETA, hd);
  const kqScale = 1 / Math.sqrt(hd);
  PREV_DISTANCES.forEach((distance, di) => {
    for (let hh = 0; hh < headsPerDistance; hh++) {
      const h = di * headsPerDistance + hh;
      for (let j = 0; j < hd / 2; j++) {
        const w = PREV_TOKEN_PAIR_WEIGHTS[j]!;
        if (w === 0) continue;
        const amp = Math.sqrt((PREV_SCORE * w) / kqScale);
        const row = h * hd + 2 * j;
        wq[row * D + C0] = amp * r0;
        // Key pre-rotated by `distance` RoPE steps: score ∝ cos((Δ − distance)·θ_j), maximal at Δ = distance.
        wk[row * D + C0] = amp * Math.cos(distance * thetas[j]!) * r0;
        wk[(row + 1) * D + C0] = amp * Math.sin(distance * thetas[j]!) * r0;
      }
      for (let m = 0; m < hd; m++) {
        const i = hh * hd + m;
        if (i >= n) break;
        wv[(h * hd + m) * D + CUR(i)] = r0;
        wo[PREV(distance, i) * D + (h * hd + m)] = 1;
      }
    }
  });
  {
    const h = prevHeads;
    const row = h * hd + hd - 2; // first dim of the lowest-frequency pair: rotation is negligible
    const amp = Math.sqrt(MARKER_SCORE / kqScale);
    wq[row * D + C0] = amp * r0;
    wk[row * D + CUR(codeOf(MARKER_ID))] = amp * r0;
    wv[h * hd * D + CUR(codeOf(MARKER_ID))] = r0;
    wo[FLAG * D + h * hd] = 1;
  }

  // --- feed-forward: one SwiGLU unit per transition + an always-on <|im_end|> unit ---
  const rbar = Math.sqrt((3 + PREV_DISTANCES.length) / D);
  const gate = new Float32Array(F * D);
  const up = new Float32Array(F * D);
  const down = new Float32Array(D * F);
  const g = GATE_GAIN * rbar;
  script.transitions.forEach((t, u) => {
    // Matching cur, prev, prev2 (and flag) gives +0.5·g; any mismatch gives ≤ −0.5·g.
    gate[u * D + CUR(codeOf(t.cur))] = g;
    gate[u * D + PREV(1, codeOf(t.prev))] = g;
    gate[u * D + PREV(2, codeOf(t.prev2))] = g;
    if (t.flag === "any") gate[u * D + C0] = -2.5 * g;
    else if (t.flag === 1) {
      gate[u * D + FLAG] = g;
      gate[u * D + C0] = -3.5 * g;
    } else {
      gate[u * D + FLAG] = -g;
      gate[u * D + C0] = -2.5 * g;
    }
    up[u * D + C0] = rbar;
    down[CUR(codeOf(t.next)) * F + u] = NEXT_VALUE / (0.5 * GATE_GAIN);
  });
  {
    const u = script.transitions.length;
    gate[u * D + C0] = 0.5 * g;
    up[u * D + C0] = rbar;
    down[CUR(codeOf(EOS_ID)) * F + u] = FALLBACK_VALUE / (0.5 * GATE_GAIN);
  }

  const outputNorm = new Float32Array(D);
  for (let i = 0; i < n; i++) outputNorm[CUR(i)] = NEXT_LOGIT / Math.sqrt(D);

  const dims: LlamaDims = {
    hidden: D,
    layers: o.layers,
    heads,
    kvHeads: heads,
    ffn: F,
    contextLength: o.contextLength,
    ropeTheta: SCRIPTED_ROPE_THETA,
  };
  const ones = new Float32Array(D).fill(1);
  const zerosDD = new Float32Array(D * D);
  const zerosFD = new Float32Array(F * D);
  const tensors: GgufTensorSpec[] = [
    matrixTensor("token_embd.weight", D, VOCAB_SIZE, "Q8_0", (first, rows, out) => {
      for (let r = 0; r < rows; r++) {
        const c = code.get(first + r);
        out[r * D + C0] = 1;
        out[r * D + (c === undefined ? OTHER : CUR(c))] = 1;
      }
    }),
  ];
  for (let l = 0; l < o.layers; l++) {
    const p = `blk.${l}.`;
    const first = l === 0;
    tensors.push(
      vectorTensor(`${p}attn_norm.weight`, ones),
      denseTensor(`${p}attn_q.weight`, D, D, first ? wq : zerosDD),
      denseTensor(`${p}attn_k.weight`, D, D, first ? wk : zerosDD),
      denseTensor(`${p}attn_v.weight`, D, D, first ? wv : zerosDD),
      denseTensor(`${p}attn_output.weight`, D, D, first ? wo : zerosDD),
      vectorTensor(`${p}ffn_norm.weight`, ones),
      denseTensor(`${p}ffn_gate.weight`, D, F, first ? gate : zerosFD),
      denseTensor(`${p}ffn_up.weight`, D, F, first ? up : zerosFD),
      denseTensor(`${p}ffn_down.weight`, F, D, first ? down : zerosFD),
    );
  }
  tensors.push(vectorTensor("output_norm.weight", outputNorm));
  const extra: GgufKeyValue[] = [{ key: "talaria.test_model.reply", value: { type: "string", value: o.reply } }];
  if (o.afterToolReply !== undefined) {
    extra.push({ key: "talaria.test_model.after_tool_reply", value: { type: "string", value: o.afterToolReply } });
  }
  return { metadata: llamaMetadata(o, dims, LlamaFileType.MOSTLY_Q8_0, toolUseTemplate, extra), tensors };
}
