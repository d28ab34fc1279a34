/** Pure checks of the generated test models' design: token table, scripted-model maths, Q4_K_M mix. */
import { describe, expect, it } from "vitest";
import {
  BOS_ID,
  compileScript,
  EOS_ID,
  HERMES_TOKENS,
  resolveTestModelOptions,
  specialTokenTable,
  tokenizeWithSpecials,
  TestModelError,
  TestModelOptionsError,
  VOCAB_SIZE,
} from "../../src/testmodels/index.js";
import { llama3RopeFactors, useMoreBits, weightType } from "../../src/testmodels/random-model.js";
import { PREV_TOKEN_PAIR_WEIGHTS, ropeThetas, SCRIPTED_HEAD_DIM, SCRIPTED_ROPE_THETA } from "../../src/testmodels/scripted-model.js";
import { loadLlama3Bpe } from "../../src/testmodels/vocab.js";

/** Decodes byte-level BPE token strings (GPT-2 byte↔unicode map) to UTF-8 text. */
function decodeTokens(ids: readonly number[]): string {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  const toByte = new Map(cs.map((c, i) => [String.fromCodePoint(c), bs[i]!] as const));
  const { tokens } = loadLlama3Bpe();
  const table = new Map(specialTokenTable().map((s) => [s.id, s.text] as const));
  const out: number[] = [];
  for (const id of ids) {
    const special = table.get(id);
    if (special !== undefined) out.push(...Buffer.from(special, "utf8"));
    else for (const ch of tokens[id]!) out.push(toByte.get(ch)!);
  }
  return Buffer.from(out).toString("utf8");
}

describe("token table", () => {
  it("has the Llama 3.1 names, Hermes markers and 256 special slots", () => {
    const table = specialTokenTable();
    expect(table).toHaveLength(256);
    expect(table[0]).toMatchObject({ id: 128000, text: "<|begin_of_text|>" });
    const byId = new Map(table.map((t) => [t.id, t.text] as const));
    expect(byId.get(128001)).toBe("<|end_of_text|>");
    expect(byId.get(128004)).toBe("<|finetune_right_pad_id|>");
    expect(byId.get(128006)).toBe("<|start_header_id|>");
    expect(byId.get(128007)).toBe("<|end_header_id|>");
    expect(byId.get(128008)).toBe("<|eom_id|>");
    expect(byId.get(128009)).toBe("<|eot_id|>");
    expect(byId.get(128010)).toBe("<|python_tag|>");
    expect(byId.get(128011)).toBe("<|reserved_special_token_3|>");
    expect(byId.get(128255)).toBe("<|reserved_special_token_247|>");
    expect(byId.get(128039)).toBe("<|im_end|>");
    expect(EOS_ID).toBe(128039);
    expect(BOS_ID).toBe(128000);
    expect(VOCAB_SIZE).toBe(128256);
    expect(new Set(table.map((t) => t.text)).size).toBe(256);
    for (const t of Object.values(HERMES_TOKENS)) expect(byId.get(t.id)).toBe(t.text);
  });

  it("types tool tags as CONTROL or USER_DEFINED, ChatML always CONTROL", () => {
    for (const variant of ["control", "user"] as const) {
      const types = new Map(specialTokenTable(variant).map((t) => [t.id, t.tokenType] as const));
      for (const t of Object.values(HERMES_TOKENS)) {
        expect(types.get(t.id)).toBe(t.group === "tool" && variant === "user" ? 4 : 3);
      }
      expect(types.get(128000)).toBe(3);
    }
  });
});

describe("scripted model maths", () => {
  it("computes RoPE angles like ggml (base^(-2j/d) in float32)", () => {
    const th = ropeThetas(SCRIPTED_ROPE_THETA, SCRIPTED_HEAD_DIM);
    expect(th).toHaveLength(16);
    for (let j = 0; j < 16; j++) expect(th[j]!).toBeCloseTo(SCRIPTED_ROPE_THETA ** (-(2 * j) / 32), 6);
  });

  it("previous-token head peaks at distance 1 with margin ≥ 0.2 for every distance up to 65,536", () => {
    const th = ropeThetas(SCRIPTED_ROPE_THETA, SCRIPTED_HEAD_DIM);
    const w = PREV_TOKEN_PAIR_WEIGHTS;
    const total = w.reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 3);
    let min = Number.POSITIVE_INFINITY;
    let argmin = -1;
    for (let delta = 0; delta <= 65_536; delta++) {
      if (delta === 1) continue;
      let m = 0;
      for (let j = 0; j < 16; j++) m += w[j]! * (1 - Math.cos((delta - 1) * th[j]!));
      if (m < min) { min = m; argmin = delta; }
    }
    expect(min, `worst distance ${argmin}`).toBeGreaterThan(0.2);
  });

  it("compiles a reply into unique transitions ending in <|im_end|>", async () => {
    const s = await compileScript("Hello from Talaria 👋");
    expect(s.sequences).toHaveLength(1);
    const seq = s.sequences[0]!;
    expect(seq.tokens.slice(0, 3)).toEqual([HERMES_TOKENS.imStart.id, 78191, 198]); // "<|im_start|>", "assistant", "\n"
    expect(seq.tokens[seq.tokens.length - 1]).toBe(EOS_ID);
    expect(decodeTokens(seq.tokens.slice(3, -1))).toBe("Hello from Talaria 👋");
    // Spelled with the tokenizer's own BPE when no context repeats.
    expect(seq.tokens.slice(3, -1)).toEqual(await tokenizeWithSpecials("Hello from Talaria 👋"));
    expect(s.transitions).toHaveLength(seq.tokens.length - 3);
  });

  it("re-spells tokens when a context would need two successors, keeping the bytes", async () => {
    const text = 'ab ab ac ab ad {"x": "b", "y": "d", "z": "f", "w": "g"} 你好你好你好吗 la la la la lb la lc';
    const s = await compileScript(text);
    const toks = s.sequences[0]!.tokens;
    expect(decodeTokens(toks.slice(3, -1))).toBe(text);
    const next = new Map<string, number>();
    for (let i = 3; i < toks.length; i++) {
      const key = `${toks[i - 3]},${toks[i - 2]},${toks[i - 1]}`;
      expect(next.get(key) ?? toks[i]).toBe(toks[i]);
      next.set(key, toks[i]!);
    }
    expect(toks.slice(2, -1)).not.toEqual(await tokenizeWithSpecials(text)); // needed a re-spelling
  });

  it("keeps Hermes tags as single tokens and flags the two replies", async () => {
    const s = await compileScript('<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>', "done ✓");
    expect(s.sequences.map((q) => q.flag)).toEqual([0, 1]);
    const first = s.sequences[0]!.tokens;
    expect(first[3]).toBe(HERMES_TOKENS.toolCallStart.id);
    expect(first[first.length - 2]).toBe(HERMES_TOKENS.toolCallEnd.id);
    expect(s.transitions.every((t) => t.flag === 0 || t.flag === 1)).toBe(true);
  });

  it("refuses replies containing <tool_response>", async () => {
    await expect(compileScript("x <tool_response> y")).rejects.toThrow(TestModelError);
  });
});

describe("options and the 3B mix", () => {
  it("fills defaults per kind and validates dims", () => {
    expect(resolveTestModelOptions({ kind: "random" })).toMatchObject({ hidden: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 256, quant: "q4_0", seed: 1 });
    expect(resolveTestModelOptions({ kind: "3b" })).toMatchObject({ hidden: 3072, layers: 28, heads: 24, kvHeads: 8, ffn: 8192, quant: "q4_k_m" });
    expect(resolveTestModelOptions({ kind: "scripted" }).reply).toBe("Hello from Talaria.");
    expect(resolveTestModelOptions({ kind: "random", hidden: 1024, layers: 8 })).toMatchObject({ heads: 16, kvHeads: 4, ffn: 4096 });
    expect(() => resolveTestModelOptions({ kind: "random", hidden: 65 })).toThrow(TestModelOptionsError);
    expect(() => resolveTestModelOptions({ kind: "random", heads: 4, kvHeads: 3 })).toThrow(TestModelOptionsError);
  });

  it("follows llama.cpp's Q4_K_M choices for a 28-layer model", () => {
    const more = Array.from({ length: 28 }, (_, i) => i).filter((i) => useMoreBits(i, 28));
    expect(more).toEqual([0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27]);
    expect(weightType("q4_k_m", "token_embd", 0, 28, 3072)).toBe("Q6_K");
    expect(weightType("q4_k_m", "attn_v", 0, 28, 3072)).toBe("Q6_K");
    expect(weightType("q4_k_m", "attn_v", 3, 28, 3072)).toBe("Q4_K");
    expect(weightType("q4_k_m", "ffn_down", 5, 28, 8192)).toBe("Q6_K");
    expect(weightType("q4_k_m", "attn_q", 0, 28, 3072)).toBe("Q4_K");
    expect(weightType("q4_k_m", "attn_q", 0, 2, 64)).toBe("Q8_0");
    expect(weightType("q4_0", "attn_q", 0, 2, 48)).toBe("F16");
  });

  it("writes the llama3 rope factors as the converter does (factor 32, low 1, high 4, original 8192)", () => {
    const f = llama3RopeFactors(128, 500_000);
    expect(f).toHaveLength(64);
    expect(f[0]).toBe(1);
    expect(f[63]).toBe(32);
    for (let i = 1; i < 64; i++) expect(f[i]!).toBeGreaterThanOrEqual(f[i - 1]!);
    expect([...f].some((v) => v > 1 && v < 32)).toBe(true);
  });
});
