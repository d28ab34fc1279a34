/**
 * The example tools (examples/tools.ts): the calculator's parser, unit conversion, the lookup table,
 * and loading the file the way `talaria run --tools examples/tools.ts` does (TypeScript transpiled).
 */
import { formatToolCall } from "../../src/grammar/index.js";
import { HERMES_DIALECT } from "../../src/hermes/dialect.js";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadToolsModule, resolveTools, runAgentToEnd, ToolsModuleError } from "../../src/agent/index.js";
import { createHermesMockEngine as createMockEngine } from "../support/hermes-mock.js";
import { convertUnits, evaluateExpression, ExpressionError } from "../../examples/tools.js";

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../examples");

describe("calculator expression parser", () => {
  it.each([
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["2 ^ 3 ^ 2", 512],
    ["2 ** 10", 1024],
    ["-2 ^ 2", -4],
    ["10 % 4", 2],
    ["17 / 100 * 2340", 397.8],
    ["sqrt(16) + abs(-3)", 7],
    ["max(1, 5, 3) - min(4, 2)", 3],
    ["round(pi, 2)", 3.14],
    ["log(1000)", 3],
    ["log(8, 2)", 3],
    ["1_000 + .5 + 2e3", 3000.5],
    ["  - ( - 4 ) ", 4],
  ])("%s = %s", (expression, expected) => {
    expect(evaluateExpression(expression)).toBeCloseTo(expected, 10);
  });

  it.each([
    ["1 +", /unexpected end/],
    ["1 / 0", /division by zero/],
    ["2 * (3", /expected \)/],
    ["foo(1)", /unknown function foo/],
    ["process", /unknown name process/],
    ["1; 2", /unexpected ";"/],
    ["sqrt(1, 2)", /sqrt takes 1 arguments/],
    ["sqrt(-1)", /not a finite number/],
    ["constructor", /unknown name/],
    ["(".repeat(100) + "1" + ")".repeat(100), /nested too deeply/],
  ])("rejects %s", (expression, message) => {
    expect(() => evaluateExpression(expression)).toThrow(ExpressionError);
    expect(() => evaluateExpression(expression)).toThrow(message);
  });
});

describe("unit conversion", () => {
  it("converts within a dimension and refuses across dimensions", () => {
    expect(convertUnits(1, "mi", "km")).toBeCloseTo(1.609344, 10);
    expect(convertUnits(100, "C", "F")).toBeCloseTo(212, 10);
    expect(convertUnits(0, "K", "C")).toBeCloseTo(-273.15, 10);
    expect(convertUnits(2, "lb", "g")).toBeCloseTo(907.18474, 6);
    expect(() => convertUnits(1, "kg", "m")).toThrow(/different|cannot convert/);
    expect(() => convertUnits(1, "C", "m")).toThrow(/different dimensions/);
    expect(() => convertUnits(-500, "C", "K")).toThrow(/absolute zero/);
    expect(() => convertUnits(1, "toString", "m")).toThrow(/unknown unit toString/);
  });
});

describe("loading examples/tools.ts like talaria run", () => {
  it("transpiles and imports the TypeScript file, leaving no temporary file behind", async () => {
    const before = await readdir(EXAMPLES);
    const tools = await loadToolsModule(path.join(EXAMPLES, "tools.ts"));
    expect(await readdir(EXAMPLES)).toEqual(before);
    expect(tools.map((t) => t.name)).toEqual(["calculator", "get_current_time", "convert_units", "lookup_country"]);
    const resolved = resolveTools(tools);
    expect(resolved.find((t) => t.name === "calculator")?.parameters).toMatchObject({ required: ["expression"] });
  });

  it("the loaded tools run inside the agent loop", async () => {
    const tools = await loadToolsModule(path.join(EXAMPLES, "tools.ts"));
    const call = (name: string, args: unknown) => formatToolCall(HERMES_DIALECT.toolCall, name, JSON.stringify(args));
    const engine = createMockEngine({
      script: (p) =>
        p.includes("<tool_response>")
          ? "done"
          : [
              call("calculator", { expression: "2 * (3 + 4)" }),
              call("convert_units", { value: 5, from: "km", to: "m" }),
              call("lookup_country", { country: "Japan" }),
              call("get_current_time", { timezone: "Mars/Base" }),
            ].join("\n"),
    });
    const result = await runAgentToEnd({ engine, tools, query: "go" });
    const results = result.events.filter((e) => e.type === "tool-result").map((e) => (e as { result: unknown }).result);
    expect(results).toEqual([
      { expression: "2 * (3 + 4)", result: 14 },
      { value: 5, from: "km", to: "m", result: 5000 },
      { country: "Japan", found: true, capital: "Tokyo", currency: "JPY", continent: "Asia" },
    ]);
    expect(result.events.find((e) => e.type === "tool-error")).toMatchObject({ name: "get_current_time", kind: "execution", message: 'unknown time zone "Mars/Base"' });
  });

  it("reports missing files, unsupported extensions and modules without tools", async () => {
    await expect(loadToolsModule(path.join(EXAMPLES, "missing.ts"))).rejects.toThrow(ToolsModuleError);
    await expect(loadToolsModule(path.join(EXAMPLES, "tools.json"))).rejects.toThrow(/expected \.js/);
  });
});
