import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AgentToolError, defineTool, isToolLike, resolveTools, resultToContent } from "./tools.js";
import { ToolsModuleError, toolsFromModule } from "./load-tools.js";

const zodTool = defineTool({
  name: "greet",
  description: "Greets",
  parameters: z.object({ who: z.string().describe("name"), loud: z.boolean().default(false) }),
  execute: ({ who, loud }) => (loud ? `HELLO ${who.toUpperCase()}` : `hello ${who}`),
});
const jsonTool = defineTool({ name: "ping", execute: () => "pong" });

describe("tools", () => {
  it("resolves zod parameters to JSON Schema (input side) and keeps the zod schema for parsing", () => {
    const [greet, ping] = resolveTools([zodTool, jsonTool]);
    expect(greet?.parameters).toMatchObject({ type: "object", properties: { who: { type: "string", description: "name" }, loud: { type: "boolean", default: false } } });
    expect(greet?.parameters).not.toHaveProperty("$schema");
    expect(greet?.zod).toBeDefined();
    expect(ping?.parameters).toEqual({ type: "object", properties: {} });
  });

  it("rejects malformed tools and duplicate names", () => {
    expect(() => defineTool({ name: "bad name", execute: () => 1 })).toThrow(AgentToolError);
    expect(() => resolveTools([jsonTool, jsonTool])).toThrow(/duplicate/);
    expect(() => resolveTools([{ name: "x" } as never])).toThrow(/execute/);
    expect(() => resolveTools([{ name: "x", parameters: [] as never, execute: () => 1 }])).toThrow(/parameters/);
  });

  it("turns results into tool-response content", () => {
    expect(resultToContent("text")).toBe("text");
    expect(resultToContent({ a: 1n })).toBe('{"a":"1"}');
    expect(resultToContent(undefined)).toBe("null");
    expect(resultToContent(3.5)).toBe("3.5");
  });

  it("finds tools in a module: default export, `tools`, or tool-shaped named exports", () => {
    expect(toolsFromModule({ default: [zodTool, jsonTool] })).toHaveLength(2);
    expect(toolsFromModule({ default: jsonTool })).toEqual([jsonTool]);
    expect(toolsFromModule({ tools: [jsonTool] })).toEqual([jsonTool]);
    expect(toolsFromModule({ a: zodTool, b: jsonTool, c: 3 })).toHaveLength(2);
    expect(() => toolsFromModule({ x: 1 })).toThrow(ToolsModuleError);
    expect(() => toolsFromModule({ default: [jsonTool, 2] })).toThrow(/item 1/);
    expect(isToolLike({ name: "a", execute: () => 1 })).toBe(true);
  });
});
