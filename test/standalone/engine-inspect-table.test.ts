import { describe, expect, it } from "vitest";
import { inspectRows, renderTable } from "../../src/cli/commands/inspect.js";
import { createHermesMockEngine as createMockEngine } from "../support/hermes-mock.js";

describe("inspect table", () => {
  it("renders every ModelInfo field as aligned rows, with extra rows appended", () => {
    const info = createMockEngine({ script: [], chatTemplates: { default: "x", tool_use: "yz" } }).info;
    const rows = inspectRows(info, [["profile", "hermes-3"]], (id) => (id === info.specialTokens.eos?.id ? "<|im_end|>" : undefined));
    const table = renderTable(rows);
    expect(table).toMatch(/^architecture {7}mock$/m);
    expect(table).toMatch(/^chat templates {5}default \(1 chars\), tool_use \(2 chars\)$/m);
    expect(table).toMatch(/^end of generation  257, "<\|im_end\|>" \(259\)$/m);
    expect(rows.at(-1)).toEqual(["profile", "hermes-3"]);
    expect(table.endsWith("\n")).toBe(true);
  });
});
