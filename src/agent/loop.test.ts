import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createHermesMockEngine as createMockEngine } from "../../test/support/hermes-mock.js";
import { defineTool } from "./tools.js";
import { formatToolCall } from "../grammar/index.js";
import { HERMES_DIALECT } from "../hermes/dialect.js";
import { runAgent, runAgentToEnd, AgentOptionsError, type AgentEvent } from "./loop.js";

/** A call as Hermes writes it (the grammar enforces this envelope, so the mock engine keeps it). */
const call = (name: string, args: unknown): string => formatToolCall(HERMES_DIALECT.toolCall, name, JSON.stringify(args));

const add = defineTool({
  name: "add",
  description: "Add two integers",
  parameters: z.object({ a: z.number().int(), b: z.number().int() }),
  execute: ({ a, b }) => ({ sum: a + b }),
});
const fail = defineTool({
  name: "explode",
  description: "Always fails",
  parameters: { type: "object", properties: {} },
  execute: () => {
    throw new Error("boom");
  },
});

/** A mock engine whose reply depends on how many tool responses the prompt holds. */
function engineFor(replies: readonly string[]) {
  return createMockEngine({
    script: (prompt) => {
      const n = prompt.split("<tool_response>").length - 1;
      // one reply per assistant turn: count the turns already answered
      const turns = prompt.split("<|im_start|>assistant").length - 2;
      return replies[Math.min(turns, replies.length - 1)] ?? (n > 0 ? "done" : undefined);
    },
  });
}

/** Event types, consecutive text deltas merged. */
function types(events: readonly AgentEvent[]): string[] {
  return events.map((e) => e.type).filter((t, i, all) => !(t === "text-delta" && all[i - 1] === "text-delta"));
}

describe("runAgent", () => {
  it("runs a tool, feeds the result back in a tool turn and returns the final answer", async () => {
    let seenPrompt = "";
    const engine = createMockEngine({
      script: (prompt) => {
        if (prompt.includes("<tool_response>")) {
          seenPrompt = prompt;
          return "The sum is 5.";
        }
        return `Let me add.\n${call("add", { a: 2, b: 3 })}`;
      },
    });
    const result = await runAgentToEnd({ engine, tools: [add], query: "2+3?", profile: "hermes-2-pro" });
    expect(result.reason).toBe("final-answer");
    expect(result.answer).toBe("The sum is 5.");
    expect(result.steps).toBe(2);
    expect(types(result.events)).toEqual([
      "step-start",
      "text-delta",
      "step-finish",
      "tool-call",
      "tool-result",
      "step-start",
      "text-delta",
      "step-finish",
      "final-answer",
      "finish",
    ]);
    const toolCall = result.events.find((e) => e.type === "tool-call");
    expect(toolCall).toMatchObject({ name: "add", arguments: { a: 2, b: 3 } });
    expect(result.events.find((e) => e.type === "tool-result")).toMatchObject({ result: { sum: 5 }, content: '{"sum":5}' });
    // hermes-2-pro: the result goes back in a `tool` turn with the card's {"name", "content"} payload
    expect(seenPrompt).toContain('<|im_start|>tool\n<tool_response>\n{"name": "add", "content": {"sum":5}}\n</tool_response>\n<|im_end|>');
    expect(result.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
  });

  it("uses the user role for tool responses with the Hermes 3 Llama-3.2 3B profile", async () => {
    let seenPrompt = "";
    const engine = createMockEngine({
      script: (prompt) => {
        if (prompt.includes("<tool_response>")) {
          seenPrompt = prompt;
          return "ok";
        }
        return call("add", { a: 1, b: 1 });
      },
    });
    await runAgentToEnd({ engine, tools: [add], query: "1+1", profile: "hermes-3-llama-3.2-3b" });
    expect(seenPrompt).toContain("<|im_start|>user\n<tool_response>\n");
    expect(seenPrompt).not.toContain("<|im_start|>tool");
  });

  it("with the grammar, arguments the model got wrong cannot be written (the mock enforces it)", async () => {
    const engine = engineFor([call("add", { a: "two", b: 3 }), "5"]);
    const result = await runAgentToEnd({ engine, tools: [add], query: "2+3" });
    expect(result.events.filter((e) => e.type === "tool-error")).toHaveLength(0);
    const tc = result.events.find((e) => e.type === "tool-call");
    expect(tc).toMatchObject({ name: "add", arguments: { a: expect.any(Number), b: expect.any(Number) } });
  });

  it("unconstrained, validation errors go back to the model, which corrects itself", async () => {
    const engine = engineFor([call("add", { a: "two", b: 3 }), call("add", { a: 2, b: 3 }), "5"]);
    const result = await runAgentToEnd({ engine, tools: [add], query: "2+3", constrained: false });
    const errors = result.events.filter((e) => e.type === "tool-error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: "invalid-arguments", name: "add" });
    expect((errors[0] as { issues?: readonly unknown[] }).issues?.length).toBeGreaterThan(0);
    expect(result.messages[2]).toMatchObject({ role: "tool", name: "add" });
    expect((result.messages[2] as { content: string }).content).toContain("/a must be");
    expect(result.events.filter((e) => e.type === "tool-result")).toHaveLength(1);
    expect(result.answer).toBe("5");
  });

  it("reports unknown tools, execution errors and unparseable blocks as tool errors fed back to the model", async () => {
    const engine = engineFor([
      `${call("nope", {})}\n${call("explode", {})}`,
      "<tool_call>\n{not json}\n</tool_call>",
      "sorry",
    ]);
    const result = await runAgentToEnd({ engine, tools: [add, fail], query: "go", constrained: false });
    const errors = result.events.filter((e): e is Extract<AgentEvent, { type: "tool-error" }> => e.type === "tool-error");
    expect(errors.map((e) => e.kind)).toEqual(["unknown-tool", "execution", "parse"]);
    expect(errors[1]?.message).toBe("boom");
    expect(result.messages.filter((m) => m.role === "tool").map((m) => (m as { name?: string }).name)).toEqual(["nope", "explode", "tool_call_parser"]);
    expect(result.answer).toBe("sorry");
  });

  it("stops after maxDepth tool rounds", async () => {
    const engine = createMockEngine({ script: () => call("add", { a: 1, b: 2 }) });
    const result = await runAgentToEnd({ engine, tools: [add], query: "loop", maxDepth: 2 });
    expect(result.reason).toBe("max-depth");
    expect(result.steps).toBe(2);
    expect(result.events.filter((e) => e.type === "tool-result")).toHaveLength(2);
    expect(result.answer).toBeUndefined();
  });

  it("an aborted signal stops the run with reason abort and reaches the running tool", async () => {
    const controller = new AbortController();
    let toolSawAbort = false;
    const slow = defineTool({
      name: "slow",
      parameters: { type: "object", properties: {} },
      execute: (_args, { signal }) =>
        new Promise((resolve) => {
          signal.addEventListener("abort", () => {
            toolSawAbort = true;
            resolve("stopped");
          });
          controller.abort();
        }),
    });
    const engine = createMockEngine({ script: () => call("slow", {}) });
    const result = await runAgentToEnd({ engine, tools: [slow], query: "x", signal: controller.signal });
    expect(toolSawAbort).toBe(true);
    expect(result.reason).toBe("abort");
    const pre = new AbortController();
    pre.abort();
    const early = await runAgentToEnd({ engine, tools: [slow], query: "x", signal: pre.signal });
    expect(early.reason).toBe("abort");
    expect(early.steps).toBe(0);
  });

  it("parallel calls run in order; parallelToolCalls false keeps only the first", async () => {
    const engine = engineFor([`${call("add", { a: 1, b: 1 })}\n${call("add", { a: 2, b: 2 })}`, "done"]);
    const both = await runAgentToEnd({ engine, tools: [add], query: "x" });
    expect(both.events.filter((e) => e.type === "tool-result").map((e) => (e as { result: unknown }).result)).toEqual([{ sum: 2 }, { sum: 4 }]);
    const one = await runAgentToEnd({ engine, tools: [add], query: "x", parallelToolCalls: false });
    expect(one.events.filter((e) => e.type === "tool-result")).toHaveLength(1);
  });

  it("streams events before the run ends and rejects bad options", async () => {
    const engine = createMockEngine({ script: () => "hi" });
    const iterator = runAgent({ engine, tools: [add], query: "x" });
    expect((await iterator.next()).value).toEqual({ type: "step-start", step: 1 });
    await iterator.return(undefined);
    await expect(runAgentToEnd({ engine, tools: [add], query: "x", maxDepth: 0 })).rejects.toBeInstanceOf(AgentOptionsError);
    await expect(runAgentToEnd({ engine, tools: [add], query: "x", toolChoice: { name: "nope" } })).rejects.toBeInstanceOf(AgentOptionsError);
    await expect(runAgentToEnd({ engine, tools: [add, add], query: "x" })).rejects.toThrow(/duplicate/);
  });

  it("toolChoice none leaves the tools out of the prompt", async () => {
    let prompt = "";
    const engine = createMockEngine({
      script: (p) => {
        prompt = p;
        return "plain answer";
      },
    });
    const result = await runAgentToEnd({ engine, tools: [add], query: "x", toolChoice: "none" });
    expect(result.answer).toBe("plain answer");
    expect(prompt).not.toContain("<tools>");
  });
});
