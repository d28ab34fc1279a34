import { describe, expect, it } from "vitest";
import {
  collectToolCallEvents,
  parseToolCalls,
  toOpenAIAssistantMessage,
  toolCallArguments,
  ToolCallStreamParser,
  type ToolCallParseResult,
  type ToolCallParserEvent,
} from "./tool-calls.js";
import { readSharedJson } from "../../test/support/shared.js";

interface ParsingCase {
  id: string;
  tools: string[] | null;
  mode: "complete" | "streaming";
  chunks?: string[];
  input: string;
  expected: {
    content: string;
    tool_calls: Array<{ name: string; arguments: Record<string, unknown>; unknown_tool?: true }>;
    error?: { kind: string; raw: string };
  };
}

const { cases } = readSharedJson<{ cases: ParsingCase[] }>("fixtures/tool-call-parsing/cases.json");

function counterIds(): () => string {
  let n = 0;
  return () => `call_${n++}`;
}

/** The fixture's shape of a result. */
function asFixture(result: ToolCallParseResult): ParsingCase["expected"] {
  return {
    content: result.content,
    tool_calls: result.toolCalls.map((call) => ({
      name: call.name,
      arguments: toolCallArguments(call),
      ...(call.unknownTool ? { unknown_tool: true as const } : {}),
    })),
    ...(result.errors[0] !== undefined ? { error: { kind: result.errors[0].kind, raw: result.errors[0].raw } } : {}),
  };
}

function runChunks(chunks: readonly string[], tools: string[] | null) {
  const parser = new ToolCallStreamParser({ tools, generateId: counterIds() });
  const events: ToolCallParserEvent[] = [];
  for (const chunk of chunks) events.push(...parser.push(chunk));
  events.push(...parser.end());
  return { events, result: parser.result() };
}

/** P8 invariants 2 and 3 for one run. */
function checkStreamingInvariants(input: string, events: ToolCallParserEvent[], result: ToolCallParseResult): void {
  const streamed = events.flatMap((e) => (e.type === "text-delta" ? [e.text] : [])).join("");
  expect(result.toolCalls.length > 0 ? streamed.trim() : streamed).toBe(result.content);
  // No text of a parsed block leaks: the streamed content plus the parsed blocks' text is the input,
  // so every "<tool_call>" left in the content belongs to a failed block.
  const failedRaw = result.errors.map((e) => e.raw);
  let rest = streamed;
  for (const raw of failedRaw) rest = rest.replace(raw, "");
  expect(rest).not.toContain("<tool_call>");
  // Argument fragments of each call concatenate to a JSON object string.
  for (const call of result.toolCalls) {
    expect(typeof JSON.parse(call.arguments)).toBe("object");
  }
}

describe("tool-call parsing fixtures (complete)", () => {
  for (const c of cases) {
    it(`${c.id}`, () => {
      const result = parseToolCalls(c.input, { tools: c.tools, generateId: counterIds() });
      expect(asFixture(result)).toEqual(c.expected);
    });
  }
});

describe("tool-call parsing fixtures (streaming, P8)", () => {
  for (const c of cases.filter((x) => x.chunks !== undefined)) {
    it(`${c.id}: the given chunks`, () => {
      expect((c.chunks ?? []).join("")).toBe(c.input);
      const { events, result } = runChunks(c.chunks ?? [], c.tools);
      expect(asFixture(result)).toEqual(c.expected);
      checkStreamingInvariants(c.input, events, result);
    });
  }
  it("holds back a proper prefix of <tool_call> and releases look-alikes", () => {
    const parser = new ToolCallStreamParser();
    expect(parser.push("The answer is 3 <")).toEqual([{ type: "text-delta", text: "The answer is 3 " }]);
    expect(parser.push(" 5, and <tool")).toEqual([{ type: "text-delta", text: "< 5, and " }]);
    expect(parser.push("s> ok")).toEqual([{ type: "text-delta", text: "<tools> ok" }]);
  });
  it("every fixture, split at every position, adds up to the complete parse", () => {
    for (const c of cases) {
      const whole = runChunks([c.input], c.tools);
      for (let i = 0; i <= c.input.length; i++) {
        const { events, result } = runChunks([c.input.slice(0, i), c.input.slice(i)], c.tools);
        expect(result, `${c.id} split at ${i}`).toEqual(whole.result);
        expect(asFixture(result)).toEqual(c.expected);
        checkStreamingInvariants(c.input, events, result);
      }
    }
  });
  it("random multi-splits (seeded) add up to the complete parse", () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (const c of cases) {
      const whole = runChunks([c.input], c.tools).result;
      for (let trial = 0; trial < 40; trial++) {
        const cuts = new Set<number>();
        const k = 1 + rand(8);
        for (let j = 0; j < k; j++) cuts.add(rand(c.input.length + 1));
        const sorted = [...cuts].sort((a, b) => a - b);
        const chunks: string[] = [];
        let prev = 0;
        for (const cut of sorted) {
          chunks.push(c.input.slice(prev, cut));
          prev = cut;
        }
        chunks.push(c.input.slice(prev));
        const { events, result } = runChunks(chunks, c.tools);
        expect(result, `${c.id} chunks ${JSON.stringify(chunks)}`).toEqual(whole);
        checkStreamingInvariants(c.input, events, result);
      }
    }
  });
  it("character-by-character streaming equals the complete parse", () => {
    for (const c of cases) {
      const whole = runChunks([c.input], c.tools).result;
      expect(runChunks(Array.from(c.input), c.tools).result).toEqual(whole);
    }
  });
});

describe("parser policy details", () => {
  it("emits start, one arguments fragment and end per call, in order, with injected ids", () => {
    const parser = new ToolCallStreamParser({ tools: ["a"], generateId: counterIds() });
    const events = [...parser.push('x<tool_call>{"name": "a", "arguments": {"k": [1, 2.5]}}</tool_call>'), ...parser.end()];
    expect(events).toEqual([
      { type: "text-delta", text: "x" },
      { type: "tool-call-start", index: 0, id: "call_0", name: "a", unknownTool: false },
      { type: "tool-call-delta", index: 0, argumentsFragment: '{"k": [1, 2.5]}' },
      { type: "tool-call-end", index: 0, id: "call_0", name: "a", arguments: '{"k": [1, 2.5]}', unknownTool: false },
    ]);
  });
  it("keeps the model's key order in the arguments string, integer-like keys included", () => {
    const result = parseToolCalls('<tool_call>{"name": "f", "arguments": {"b": 1, "2": 2, "a": {"z": 1, "1": 0}}}</tool_call>');
    expect(result.toolCalls[0]?.arguments).toBe('{"b": 1, "2": 2, "a": {"z": 1, "1": 0}}');
  });
  it("accepts several objects in one tag and Ollama's parameters key", () => {
    const result = parseToolCalls('<tool_call>\n{"name": "a", "parameters": {"x": 1}}\n{"name": "b"}\n</tool_call>');
    expect(result.toolCalls.map((c) => [c.name, c.arguments])).toEqual([
      ["a", '{"x": 1}'],
      ["b", "{}"],
    ]);
  });
  it("accepts an unclosed block followed by another block", () => {
    const result = parseToolCalls('<tool_call>{"name": "a", "arguments": {}}\n<tool_call>{"name": "b", "arguments": {}}</tool_call>');
    expect(result.toolCalls.map((c) => c.name)).toEqual(["a", "b"]);
    expect(result.content).toBe("");
  });
  it("reports empty payloads and non-object payloads, keeping the raw text", () => {
    const empty = parseToolCalls("hi <tool_call> </tool_call>");
    expect(empty.errors[0]?.kind).toBe("empty_payload");
    expect(empty.content).toBe("hi <tool_call> </tool_call>");
    expect(parseToolCalls("<tool_call>[1]</tool_call>").errors[0]?.kind).toBe("not_an_object");
  });
  it("Python literals: tuples, escapes, negative numbers, adjacent strings", () => {
    const result = parseToolCalls("<tool_call>{'name': 'f', 'arguments': {'t': (1, -2.0), 's': 'it\\'s' ' ok', 'n': None}}</tool_call>");
    expect(toolCallArguments(result.toolCalls[0]!)).toEqual({ t: [1, -2], s: "it's ok", n: null });
    expect(result.toolCalls[0]?.arguments).toBe('{"t": [1, -2.0], "s": "it\'s ok", "n": null}');
  });
  it("a lone closing tag and lookalike tags stay content", () => {
    const text = "a </tool_call> b <tool_response> <tools>";
    expect(parseToolCalls(text)).toEqual({ content: text, toolCalls: [], errors: [] });
  });
  it("maps to an OpenAI assistant message", () => {
    const result = parseToolCalls('<tool_call>{"name": "nope", "arguments": {}}</tool_call>', { tools: ["yes"], generateId: () => "call_x" });
    expect(toOpenAIAssistantMessage(result)).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_x", type: "function", function: { name: "nope", arguments: "{}" } }],
      errors: [{ kind: "unknown_tool", name: "nope", message: 'the model called an undeclared tool "nope"' }],
    });
    expect(toOpenAIAssistantMessage(parseToolCalls("plain"))).toEqual({ role: "assistant", content: "plain" });
  });
  it("undeclared: error — a call of an undeclared name is a failed block (unknown_tool), its raw text in content", () => {
    const raw = '<tool_call>\n{"name": "delete_everything", "arguments": {}}\n</tool_call>';
    const text = `ok ${raw} <tool_call>{"name": "a", "arguments": {}}</tool_call>`;
    const result = parseToolCalls(text, { tools: ["a"], undeclared: "error", generateId: counterIds() });
    expect(result.toolCalls.map((c) => c.name)).toEqual(["a"]);
    expect(result.content).toBe(`ok ${raw}`);
    expect(result.errors).toEqual([{ kind: "unknown_tool", name: "delete_everything", raw, closed: true, message: 'the model called "delete_everything", which is not a declared tool' }]);
    // the default (P7) and unknown tool lists are unchanged
    expect(parseToolCalls(text, { tools: ["a"] }).toolCalls.map((c) => [c.name, c.unknownTool])).toEqual([["delete_everything", true], ["a", false]]);
    expect(parseToolCalls(text, { undeclared: "error" }).errors).toEqual([]);
    // streaming, split anywhere: the same result
    for (let i = 0; i <= text.length; i += 7) {
      const parser = new ToolCallStreamParser({ tools: ["a"], undeclared: "error", generateId: counterIds() });
      parser.push(text.slice(0, i));
      parser.push(text.slice(i));
      parser.end();
      expect(parser.result()).toEqual(result);
    }
  });
  it("a block cut off before its closing tag reports closed: false and says the call is incomplete", () => {
    const cut = '<tool_call>\n{"name": "f", "arguments": {"city": ":!!!!';
    const [error] = parseToolCalls(`x ${cut}`).errors;
    expect(error).toMatchObject({ kind: "invalid_json", raw: cut, closed: false });
    expect(error?.message).toContain("the call is incomplete");
    expect(parseToolCalls("<tool_call>{oops}</tool_call>").errors[0]).toMatchObject({ kind: "invalid_json", closed: true, message: "the payload is neither JSON nor a Python literal" });
  });
  it("default ids look like call_<random>", () => {
    const a = parseToolCalls('<tool_call>{"name": "f"}</tool_call>').toolCalls[0]?.id;
    const b = parseToolCalls('<tool_call>{"name": "f"}</tool_call>').toolCalls[0]?.id;
    expect(a).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(a).not.toBe(b);
  });
  it("collectToolCallEvents sums events from separate pushes", () => {
    const parser = new ToolCallStreamParser({ generateId: counterIds() });
    const events = [...parser.push("<tool_c"), ...parser.push('all>{"name":"f","arguments":{}}'), ...parser.end()];
    expect(collectToolCallEvents(events)).toEqual(parser.result());
    expect(parser.result().toolCalls).toHaveLength(1);
  });
});

describe("a call cut by the token limit", () => {
  const cut = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Par';
  it("with end({truncated}) becomes a call with the arguments written so far, no markup in the content", () => {
    const parser = new ToolCallStreamParser({ tools: ["get_weather"], generateId: counterIds() });
    const events = [...parser.push(`Checking.\n${cut}`), ...parser.end({ truncated: true })];
    const result = collectToolCallEvents(events);
    expect(result.toolCalls).toEqual([{ id: "call_0", name: "get_weather", arguments: '{"city": "Par', unknownTool: false }]);
    expect(result.content).toBe("Checking.");
    expect(result.errors).toEqual([]);
  });
  it("without truncation (or with an incomplete name) stays raw text plus an error", () => {
    const plainEnd = new ToolCallStreamParser({ tools: ["get_weather"], generateId: counterIds() });
    const a = collectToolCallEvents([...plainEnd.push(cut), ...plainEnd.end()]);
    expect(a.toolCalls).toEqual([]);
    expect(a.content).toBe(cut);
    expect(a.errors[0]?.closed).toBe(false);
    const nameCut = new ToolCallStreamParser({ tools: ["get_weather"], generateId: counterIds() });
    const b = collectToolCallEvents([...nameCut.push('<tool_call>\n{"name": "get_wea'), ...nameCut.end({ truncated: true })]);
    expect(b.toolCalls).toEqual([]);
    expect(b.errors).toHaveLength(1);
  });
});
