import { describe, expect, it } from "vitest";
import { joinPrompt, plain, special } from "../../prompt/text.js";
import type { GenerateEvent } from "../types.js";
import { createMockEngine, MOCK_IM_END, mockDetokenize, mockTokenize } from "./mock-engine.js";

async function text(events: AsyncIterable<GenerateEvent>): Promise<string> {
  let out = "";
  for await (const e of events) if (e.type === "text-delta") out += e.text;
  return out;
}

describe("mock engine", () => {
  it("answers from rules (first match wins; strings match the prompt's end)", async () => {
    const engine = createMockEngine({
      script: [
        { match: /weather/, reply: "<tool_call>\n{}\n</tool_call>" },
        { match: "assistant\n", reply: "Hi!" },
      ],
      defaultReply: "?",
    });
    expect(await text(engine.generate({ prompt: "<|im_start|>user\nweather?<|im_end|>\n<|im_start|>assistant\n" }))).toBe(
      "<tool_call>\n{}\n</tool_call>",
    );
    expect(await text(engine.generate({ prompt: "<|im_start|>assistant\n" }))).toBe("Hi!");
    expect(await text(engine.generate({ prompt: "nothing" }))).toBe("?");
    expect(engine.replyTokens(mockTokenize("<|im_start|>user\nweather<|im_end|>", true))).toContain(engine.info.specialTokens.markers["<tool_call>"]);
  });

  it("answers from a function of the rendered prompt", async () => {
    const engine = createMockEngine({ script: (prompt) => `echo:${prompt.length}` });
    expect(await text(engine.generate({ prompt: joinPrompt(special("<|im_start|>"), plain("ab")) }))).toBe("echo:14");
  });

  it("tokenizes bytes and special tokens, and renders them back", () => {
    const tokens = mockTokenize("<|im_end|>é<tool_call>", true);
    expect(tokens).toEqual([MOCK_IM_END, 0xc3, 0xa9, 256 + 6]);
    expect(mockDetokenize(tokens, true)).toBe("<|im_end|>é<tool_call>");
    expect(mockDetokenize(tokens, false)).toBe("é");
    expect(mockTokenize("<|im_end|>", false)).toHaveLength(10);
  });

  it("gives a normalised deterministic distribution with the scripted token on top", () => {
    const engine = createMockEngine({ script: [{ match: "go:", reply: "ok" }] });
    const lp = engine.logprobsAfter(mockTokenize("go:", true));
    expect([...lp].reduce((a, v) => a + Math.exp(v), 0)).toBeCloseTo(1, 9);
    let best = 0;
    lp.forEach((v, i) => {
      if (v > (lp[best] as number)) best = i;
    });
    expect(best).toBe("o".charCodeAt(0));
    expect(engine.logprobsAfter(mockTokenize("go:", true))).toEqual(lp);
  });

  it("waits for a sequence when all are busy", async () => {
    const engine = createMockEngine({ script: () => "abcdef", sequences: 1, tokenDelayMs: 1 });
    const a = text(engine.generate({ prompt: "x" }));
    const b = text(engine.generate({ prompt: "y" }));
    await new Promise((r) => setTimeout(r, 2));
    expect(engine.stats()).toMatchObject({ sequencesTotal: 1, sequencesBusy: 1, waiting: 1 });
    expect(await Promise.all([a, b])).toEqual(["abcdef", "abcdef"]);
  });
});
