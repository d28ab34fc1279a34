import { describe, expect, it } from "vitest";
import { GenerationOutput } from "./generation-output.js";
import { decodeUtf8Bytes } from "./incremental-detokenizer.js";
import type { GenerateEvent } from "./types.js";

const bytes = (s: string): number[] => [...new TextEncoder().encode(s)];
const usage = { promptTokens: 1, completionTokens: 0, cachedPromptTokens: 0 };

function run(text: string, stop: string[] = []): { events: GenerateEvent[]; stopped?: string } {
  const out = new GenerationOutput({ stop, decode: (t) => decodeUtf8Bytes(t), previous: [] });
  const events: GenerateEvent[] = [];
  let stopped: string | undefined;
  for (const b of bytes(text)) {
    const r = out.push({ id: b, logprob: -1 });
    events.push(...r.events);
    if (r.stopString !== undefined) {
      stopped = r.stopString;
      break;
    }
  }
  events.push(...out.finish(stopped !== undefined ? "stop-string" : "stop", usage, stopped === undefined ? "<eos>" : undefined));
  return stopped === undefined ? { events } : { events, stopped };
}

const textOf = (events: GenerateEvent[]): string => events.map((e) => (e.type === "text-delta" ? e.text : "")).join("");
const tokensOf = (events: GenerateEvent[]): number[] => events.flatMap((e) => (e.type === "text-delta" ? e.tokens.map((t) => t.id) : []));

describe("GenerationOutput", () => {
  it("streams text with every token accounted for exactly once", () => {
    const { events } = run("hi 👋!");
    expect(textOf(events)).toBe("hi 👋!");
    expect(tokensOf(events)).toEqual(bytes("hi 👋!"));
    expect(events.at(-1)).toEqual({ type: "finish", reason: "stop", stopText: "<eos>", usage });
    for (const e of events) if (e.type === "text-delta") expect(e.text).not.toContain("\uFFFD");
  });

  it("cuts at a stop string, keeps the tokens, and reports stop-string", () => {
    const { events, stopped } = run("abc STOP def", ["STOP"]);
    expect(stopped).toBe("STOP");
    expect(textOf(events)).toBe("abc ");
    expect(events.at(-1)).toMatchObject({ type: "finish", reason: "stop-string", stopText: "STOP" });
    expect(tokensOf(events)).toEqual(bytes("abc STOP"));
  });

  it("releases a held stop prefix at the end", () => {
    const { events } = run("abc ST", ["STOP"]);
    expect(textOf(events)).toBe("abc ST");
    expect(events.at(-1)).toMatchObject({ reason: "stop" });
  });

  it("carries logprobs on the tokens", () => {
    const { events } = run("a");
    const delta = events[0];
    expect(delta?.type === "text-delta" ? delta.tokens[0] : undefined).toEqual({ id: 97, text: "a", logprob: -1 });
  });
});
