/**
 * An MCP `CallToolResult` as the text of a Hermes `<tool_response>`: the model reads text, so
 * - `text` blocks are kept as they are (joined by blank lines);
 * - `resource` blocks with text are kept with their URI; binary blocks (`image`, `audio`, blob
 *   resources) are described (`[image image/png, 1.2 kB base64 not shown]`), never pasted as base64;
 * - `resource_link` blocks become `[resource name: uri]`;
 * - `structuredContent` is used (as JSON) when no text block carries the answer — servers that return
 *   both send the same data twice (the spec's backwards-compatible form), so the text wins.
 * `isError: true` results are tool errors: {@link McpToolResultError} carries the same text.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export class McpToolResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "McpToolResultError";
  }
}

function size(base64: string): string {
  const bytes = Math.floor((base64.length * 3) / 4);
  return bytes < 1000 ? `${bytes} B` : `${(bytes / 1000).toFixed(1)} kB`;
}

/** The result's content blocks as text (see the module comment). */
export function mcpResultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const block of result.content ?? []) {
    switch (block.type) {
      case "text":
        parts.push(block.text);
        break;
      case "image":
      case "audio":
        parts.push(`[${block.type} ${block.mimeType}, ${size(block.data)} base64 not shown]`);
        break;
      case "resource": {
        const r = block.resource;
        if ("text" in r && typeof r.text === "string") parts.push(`[resource ${r.uri}]\n${r.text}`);
        else parts.push(`[resource ${r.uri}${r.mimeType === undefined ? "" : ` ${r.mimeType}`}, ${size(String((r as { blob?: unknown }).blob ?? ""))} base64 not shown]`);
        break;
      }
      case "resource_link":
        parts.push(`[resource ${block.name}: ${block.uri}]`);
        break;
      default:
        parts.push(JSON.stringify(block));
    }
  }
  const text = parts.join("\n\n");
  if (text.trim() === "" && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  return text;
}

/** The `<tool_response>` content of a result; throws {@link McpToolResultError} for `isError` results. */
export function mcpResultContent(result: CallToolResult, toolName: string): string {
  const text = mcpResultText(result);
  if (result.isError === true) throw new McpToolResultError(text.trim() === "" ? `${toolName} failed (the MCP server gave no reason)` : text);
  return text;
}
