import { describe, expect, it } from "vitest";
import { mcpResultContent, mcpResultText, McpToolResultError } from "./result.js";

describe("MCP results as tool-response text", () => {
  it("keeps text, describes binary blocks, uses structuredContent only without text", () => {
    expect(
      mcpResultText({
        content: [
          { type: "text", text: "one" },
          { type: "image", data: "AAAA", mimeType: "image/png" },
          { type: "resource", resource: { uri: "file:///a.txt", text: "inside" } },
          { type: "resource", resource: { uri: "file:///b.bin", blob: "AAAAAAAA", mimeType: "application/octet-stream" } },
          { type: "resource_link", uri: "file:///c", name: "c" },
        ],
      }),
    ).toBe("one\n\n[image image/png, 3 B base64 not shown]\n\n[resource file:///a.txt]\ninside\n\n[resource file:///b.bin application/octet-stream, 6 B base64 not shown]\n\n[resource c: file:///c]");
    expect(mcpResultText({ content: [], structuredContent: { temperature: 21 } })).toBe('{"temperature":21}');
    expect(mcpResultText({ content: [{ type: "text", text: "21 C" }], structuredContent: { temperature: 21 } })).toBe("21 C");
  });

  it("isError results throw with the server's text (or a fallback)", () => {
    expect(() => mcpResultContent({ content: [{ type: "text", text: "no such file" }], isError: true }, "read")).toThrow(new McpToolResultError("no such file"));
    expect(() => mcpResultContent({ content: [], isError: true }, "read")).toThrow("read failed (the MCP server gave no reason)");
    expect(mcpResultContent({ content: [{ type: "text", text: "ok" }] }, "read")).toBe("ok");
  });
});
