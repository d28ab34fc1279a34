import { describe, expect, it } from "vitest";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { SSE_DONE, encodeSseComment, encodeSseData, openAIStream, sseResponse } from "./sse.js";

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

describe("openAIStream", () => {
  type Ev = { readonly kind: "text"; readonly text: string } | { readonly kind: "aborted" };
  const encoder = { encode: (choice: number, e: Ev) => (e.kind === "text" && e.text !== "" ? `${choice}:${e.text};` : ""), end: () => "usage;" };
  async function* events(list: Array<readonly [number, Ev]>): AsyncGenerator<readonly [number, Ev]> {
    yield* list;
  }
  async function drain(pieces: AsyncIterable<string>): Promise<string[]> {
    const out: string[] = [];
    for await (const p of pieces) out.push(p);
    return out;
  }

  it("sends each event's chunk (skipping empty ones), then end() and [DONE], and releases once", async () => {
    let released = 0;
    const pieces = openAIStream({
      events: events([[0, { kind: "text", text: "a" }], [1, { kind: "text", text: "" }], [1, { kind: "text", text: "b" }]]),
      encoder,
      isAborted: (e) => e.kind === "aborted",
      abortEvent: () => undefined,
      release: () => released++,
    });
    expect(await drain(pieces)).toEqual(["0:a;", "1:b;", "usage;", SSE_DONE]);
    expect(released).toBe(1);
  });

  it("an aborted choice ends the stream: no end(), no [DONE]; the deadline's error event comes last", async () => {
    for (const last of [undefined, "error;"]) {
      let released = 0;
      const pieces = openAIStream({
        events: events([[0, { kind: "text", text: "a" }], [0, { kind: "aborted" }], [0, { kind: "text", text: "never" }]]),
        encoder,
        isAborted: (e) => e.kind === "aborted",
        abortEvent: () => last,
        release: () => released++,
      });
      expect(await drain(pieces)).toEqual(last === undefined ? ["0:a;"] : ["0:a;", last]);
      expect(released).toBe(1);
    }
  });
});

describe("sseResponse", () => {
  const tracker = () => {
    const calls: string[] = [];
    const controller = new AbortController();
    return {
      calls,
      controller,
      options: {
        signal: controller.signal,
        abort: () => {
          calls.push("abort");
          controller.abort(); // as in the routes: stopping the request fires its signal
        },
        release: () => calls.push("release"),
        encodeError: (error: unknown) => {
          calls.push(`error ${(error as Error).message}`);
          return encodeSseData({ error: { message: (error as Error).message } });
        },
      },
    };
  };

  it("waits for the first non-empty piece before answering, then streams the rest with SSE headers", async () => {
    const t = tracker();
    let started = false;
    async function* pieces(): AsyncGenerator<string, void, undefined> {
      started = true;
      yield "";
      yield "data: 1\n\n";
      yield "";
      yield "data: 2\n\n";
    }
    const response = await sseResponse(pieces(), t.options);
    expect(started).toBe(true);
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers.entries())).toMatchObject({ "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    expect(await response.text()).toBe("data: 1\n\ndata: 2\n\n");
  });

  it("a failure before the first piece is thrown (→ an HTTP error) after stopping and releasing", async () => {
    const t = tracker();
    async function* pieces(): AsyncGenerator<string, void, undefined> {
      yield "";
      throw new Error("context overflow");
    }
    await expect(sseResponse(pieces(), t.options)).rejects.toThrow("context overflow");
    expect(t.calls).toEqual(["abort", "release"]);
  });

  it("a failure after the first piece becomes an error event; none once the request's signal fired", async () => {
    for (const aborted of [false, true]) {
      const t = tracker();
      async function* pieces(): AsyncGenerator<string, void, undefined> {
        yield "data: 1\n\n";
        if (aborted) t.controller.abort();
        throw new Error("engine failed");
      }
      const response = await sseResponse(pieces(), t.options);
      const text = await response.text();
      if (aborted) {
        expect(text).toBe("data: 1\n\n");
        expect(t.calls).toEqual(["abort", "release"]);
      } else {
        expect(parseAll(text).events.map((e) => JSON.parse(e.data) as unknown)).toEqual([1, { error: { message: "engine failed" } }]);
        expect(t.calls).toEqual(["error engine failed", "abort", "release"]);
      }
    }
  });

  it("a client disconnect (cancel) stops generation, closes the pieces, then releases", async () => {
    const t = tracker();
    let closed = false;
    async function* pieces(): AsyncGenerator<string, void, undefined> {
      try {
        for (let i = 0; ; i++) yield `data: ${i}\n\n`;
      } finally {
        closed = true;
        t.calls.push("closed");
      }
    }
    const response = await sseResponse(pieces(), t.options);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    expect(closed).toBe(true);
    expect(t.calls).toEqual(["abort", "closed", "release"]);
  });
});
