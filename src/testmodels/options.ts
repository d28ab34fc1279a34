/** Options of the generated test models, their defaults, and normalisation for the cache key. */
import type { ToolTokenType } from "./tokens.js";

export type TestModelKind = "random" | "scripted" | "3b";

/**
 * Tensor encoding of the weight matrices (norms are always F32).
 * - `f32`, `f16`: plain floats.
 * - `q8_0`, `q4_0`: seeded random floats, quantised exactly as ggml does; matrices whose rows are not a
 *   multiple of 32 stay F32.
 * - `q4_k_m`: llama.cpp's Q4_K_M tensor-type mix (Q4_K, with Q6_K for token_embd / attn_v / ffn_down on the
 *   layers llama.cpp picks) filled with random K-quant bits and small scales; matrices whose rows are not a
 *   multiple of 256 fall back to Q8_0.
 */
export type TestModelQuant = "f32" | "f16" | "q8_0" | "q4_0" | "q4_k_m";

export interface TestModelOptions {
  /**
   * - `random`: tiny llama model with seeded random weights (≈12 MB at the defaults).
   * - `scripted`: deterministic weights that reply `reply` after `<|im_start|>assistant\n` (see docs/test-models.md).
   * - `3b`: Llama-3.2-3B shape, Q4_K_M mix of random bits (≈1.9 GB; benchmarks only).
   */
  readonly kind: TestModelKind;
  /** scripted: the reply text, Hermes tags such as `<tool_call>` become single tokens. Default `"Hello from Talaria."`. */
  readonly reply?: string;
  /** scripted: reply used instead once a `<tool_response>` token is in the context. Default: none (`reply` always). */
  readonly afterToolReply?: string;
  /** Token type of the six tool tags (`<tools>` ... `</tool_response>`). ChatML markers are always CONTROL. Default `"control"`. */
  readonly toolTokenType?: ToolTokenType;
  /** random / 3b: PRNG seed for the weights. Default 1. */
  readonly seed?: number;
  /** Embedding width. Default: random 64, 3b 3072, scripted computed from the script (≥ 128, multiple of 32). */
  readonly hidden?: number;
  /** Transformer blocks. Default: random 2, 3b 28, scripted 1. */
  readonly layers?: number;
  /**
   * Attention heads. Default: random 4 (or hidden/64 when `hidden` ≥ 256 is given and a multiple of 64),
   * 3b 24, scripted hidden/32 (head dim 32).
   */
  readonly heads?: number;
  /** KV heads (GQA). Default: random 2 (heads/4 when heads are derived from `hidden`), 3b 8, scripted = heads. */
  readonly kvHeads?: number;
  /** Feed-forward width. Default: random 256 (4 × hidden when `hidden` is given), 3b 8192, scripted computed. */
  readonly ffn?: number;
  /** Training context length (`llama.context_length`). Default: random 8192, scripted 32768, 3b 131072. */
  readonly contextLength?: number;
  /** Weight encoding. Default: random `q4_0`, 3b `q4_k_m`. scripted ignores it (Q8_0 embeddings, F32 rest). */
  readonly quant?: TestModelQuant;
  /** `general.name`. Default `"Hermes 3 Llama 3.2 3B"`. */
  readonly name?: string;
  /** `general.basename`. Default `"Hermes-3-Llama-3.2"`. */
  readonly basename?: string;
  /** `general.finetune`. Default: not written. */
  readonly finetune?: string;
  /** `general.size_label`. Default `"3B"`. */
  readonly sizeLabel?: string;
}

/** Every option filled in; `hidden`/`ffn` of the scripted kind stay undefined until the script is compiled. */
export interface ResolvedTestModelOptions {
  readonly kind: TestModelKind;
  readonly reply: string;
  readonly afterToolReply: string | undefined;
  readonly toolTokenType: ToolTokenType;
  readonly seed: number;
  readonly hidden: number | undefined;
  readonly layers: number;
  readonly heads: number | undefined;
  readonly kvHeads: number | undefined;
  readonly ffn: number | undefined;
  readonly contextLength: number;
  readonly quant: TestModelQuant;
  readonly name: string;
  readonly basename: string;
  readonly finetune: string | undefined;
  readonly sizeLabel: string;
}

export const DEFAULT_REPLY = "Hello from Talaria.";

const KIND_DEFAULTS = {
  random: { hidden: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 256, contextLength: 8192, quant: "q4_0" },
  "3b": { hidden: 3072, layers: 28, heads: 24, kvHeads: 8, ffn: 8192, contextLength: 131072, quant: "q4_k_m" },
  scripted: { hidden: undefined, layers: 1, heads: undefined, kvHeads: undefined, ffn: undefined, contextLength: 32768, quant: "f32" },
} as const;

export class TestModelOptionsError extends Error {
  override readonly name = "TestModelOptionsError";
}

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v <= 0)) throw new TestModelOptionsError(`${name} must be a positive integer, got ${v}`);
}

export function resolveTestModelOptions(o: TestModelOptions): ResolvedTestModelOptions {
  const d = KIND_DEFAULTS[o.kind];
  if (d === undefined) throw new TestModelOptionsError(`unknown test model kind ${String(o.kind)}`);
  for (const k of ["hidden", "layers", "heads", "kvHeads", "ffn", "contextLength"] as const) positiveInt(k, o[k]);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw new TestModelOptionsError(`seed must be an integer`);
  if (o.toolTokenType !== undefined && o.toolTokenType !== "control" && o.toolTokenType !== "user") {
    throw new TestModelOptionsError(`toolTokenType must be "control" or "user"`);
  }
  let heads: number | undefined = o.heads ?? d.heads;
  let kvHeads: number | undefined = o.kvHeads ?? o.heads ?? d.kvHeads;
  if (o.kind === "random" && o.heads === undefined && o.hidden !== undefined && o.hidden >= 256 && o.hidden % 64 === 0) {
    heads = o.hidden / 64;
    kvHeads = o.kvHeads ?? (heads % 4 === 0 ? heads / 4 : heads);
  }
  const r: ResolvedTestModelOptions = {
    kind: o.kind,
    reply: o.kind === "scripted" ? (o.reply ?? DEFAULT_REPLY) : "",
    afterToolReply: o.kind === "scripted" ? o.afterToolReply : undefined,
    toolTokenType: o.toolTokenType ?? "control",
    seed: o.kind === "scripted" ? 0 : (o.seed ?? 1),
    hidden: o.hidden ?? d.hidden,
    layers: o.layers ?? d.layers,
    heads,
    kvHeads,
    ffn: o.ffn ?? (o.kind === "random" && o.hidden !== undefined ? 4 * o.hidden : d.ffn),
    contextLength: o.contextLength ?? d.contextLength,
    quant: o.kind === "scripted" ? "f32" : (o.quant ?? d.quant),
    name: o.name ?? "Hermes 3 Llama 3.2 3B",
    basename: o.basename ?? "Hermes-3-Llama-3.2",
    finetune: o.finetune,
    sizeLabel: o.sizeLabel ?? "3B",
  };
  if (r.kind !== "scripted") {
    const { hidden, heads, kvHeads } = r;
    if (hidden === undefined || heads === undefined || kvHeads === undefined) throw new TestModelOptionsError("missing dims");
    if (hidden % heads !== 0) throw new TestModelOptionsError(`hidden ${hidden} is not a multiple of heads ${heads}`);
    if (heads % kvHeads !== 0) throw new TestModelOptionsError(`heads ${heads} is not a multiple of kvHeads ${kvHeads}`);
    if ((hidden / heads) % 2 !== 0) throw new TestModelOptionsError(`head dim ${hidden / heads} must be even`);
  }
  return r;
}
