import { describe, expect, it } from "vitest";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { SSE_DONE, encodeSseComment, encodeSseData } from "./sse.js";

function parseAll(text: string): { events: EventSourceMessage[]; comments: string[] } {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c) });
  parser.feed(text);
  return { events, comments };
}

describe("sse encoding", () => {
  it("round-trips payloads with newlines, unicode and special characters through eventsource-parser", () => {
    const payloads = [
      { a: "line1\nline2\r\nline3", b: "data: fake\n\n" },
      { emoji: "héllo 🌍", ctrl: "\u0000\u001f" },
      [1, 2, 3],
    ];
    const text = payloads.map(encodeSseData).join("") + SSE_DONE;
    const { events } = parseAll(text);
    expect(events.map((e) => e.data)).toEqual([...payloads.map((p) => JSON.stringify(p)), "[DONE]"]);
    expect(events.slice(0, 3).map((e) => JSON.parse(e.data) as unknown)).toEqual(payloads);
  });

  it("writes each event as a single data line ending in a blank line", () => {
    const text = encodeSseData({ x: "a\nb" });
    expect(text.startsWith("data: ")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(true);
    expect(text.slice(0, -2)).not.toContain("\n");
  });

  it("comments are ignored as events and cannot inject fields", () => {
    const { events, comments } = parseAll(encodeSseComment("ping\ndata: injected") + SSE_DONE);
    expect(events.map((e) => e.data)).toEqual(["[DONE]"]);
    expect(comments.map((c) => c.trim())).toEqual(["ping data: injected"]);
  });
});
