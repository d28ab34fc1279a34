/**
 * Server-sent events encoding (the writing half; clients and tests parse with `eventsource-parser`).
 *
 * OpenAI's stream format is a sequence of `data: <json>\n\n` events ending with `data: [DONE]\n\n`.
 * Each event is serialised once, from the small chunk object of that step only.
 */

/** The terminating event of an OpenAI stream. */
export const SSE_DONE = "data: [DONE]\n\n";

/**
 * One `data:` event holding `payload` as JSON. `JSON.stringify` never emits a raw newline (newlines in
 * strings are escaped), so one `data:` line is always enough.
 */
export function encodeSseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/**
 * A comment line (`: text`), ignored by clients; used as a keep-alive during long prefill. Line breaks
 * in `text` are replaced so the comment cannot inject fields.
 */
export function encodeSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

/** Headers of an SSE response. `X-Accel-Buffering: no` keeps nginx from buffering the stream. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache",
  Connection: "keep-alive",
  "X-Accel-Buffering": "no",
};
