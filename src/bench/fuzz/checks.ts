/**
 * What every answer is checked for: OpenAI's error shape on every 4xx/5xx (`{"error": {"message", "type",
 * "param", "code"}}`, the shape of `src/server/errors.ts`; the Messages route may answer Anthropic's
 * `{"type": "error", "error": {"type", "message"}}`), the shape of each route's 2xx (JSON or SSE), and no
 * stack traces, source paths or internal error texts in any body. Text the request itself carried is not
 * a leak (servers echo paths and content).
 */
import type { FuzzCase, FuzzOutcome } from "./types.js";

export type CheckKind = "shape" | "leak" | "rejected-valid";

export interface CheckResult {
  readonly kind: CheckKind;
  readonly message: string;
}

/** The `type`s of OpenAI errors that Talaria sends (`ApiErrorType` in src/server/errors.ts). */
export const OPENAI_ERROR_TYPES: ReadonlySet<string> = new Set([
  "invalid_request_error",
  "authentication_error",
  "not_found_error",
  "rate_limit_error",
  "timeout_error",
  "server_error",
  "unavailable_error",
]);

export const ERROR_KEYS = ["message", "type", "param", "code"] as const;

/**
 * Patterns of text a server must never send (stack traces, source positions, paths, JS error texts).
 * Each must run in linear time on a multi-megabyte body: a pattern that may start inside a run of word
 * characters needs a look-behind anchor (an unanchored `[\w-]+\.ts` is quadratic on 2 MB of letters and
 * once blocked the fuzzer's own event loop for 10 s).
 */
export const LEAK_PATTERNS: readonly { readonly name: string; readonly re: RegExp }[] = [
  { name: "stack frame", re: /\bat (?:async )?(?:[\w$.<>[\]]+ )?\(?(?:file:\/\/|node:|\/|[A-Za-z]:\\)[^\s()]*:\d+:\d+\)?/ },
  { name: "stack frame", re: /\n\s+at [^\n]{1,200}/ },
  { name: "TypeScript/JavaScript source position", re: /(?<![\w-])[\w-]{1,255}\.(?:[cm]?ts|tsx|[cm]?js):\d+/ },
  { name: "source path", re: /\/src\/[\w.-]+\/[\w./-]*/ },
  { name: "node_modules path", re: /node_modules/ },
  { name: "file URL", re: /file:\/\/\// },
  { name: "JS error text", re: /Cannot read propert(?:y|ies) of (?:undefined|null)|is not a function|is not iterable|Maximum call stack size exceeded|\b(?:TypeError|RangeError|ReferenceError|InternalError|AggregateError): / },
];

const utf8 = new TextDecoder("utf-8", { fatal: false });

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function headerValue(h: Readonly<Record<string, string | string[] | undefined>>, name: string): string {
  const v = h[name];
  return Array.isArray(v) ? v.join(", ") : (v ?? "");
}

/** `undefined` when `body` is OpenAI's error object; else what is wrong. `status` checks `type` against it. */
export function openAIErrorViolation(body: unknown, status?: number): string | undefined {
  if (!isObject(body)) return `error body is ${Array.isArray(body) ? "an array" : typeof body}, not an object`;
  if (!("error" in body)) return `error body has no 'error' (keys: ${Object.keys(body).join(", ") || "none"})`;
  const extra = Object.keys(body).filter((k) => k !== "error");
  if (extra.length > 0) return `error body has extra keys: ${extra.join(", ")}`;
  const e = body.error;
  if (!isObject(e)) return "'error' is not an object";
  if (typeof e.message !== "string" || e.message === "") return "'error.message' is not a non-empty string";
  if (typeof e.type !== "string") return "'error.type' is not a string";
  if (!OPENAI_ERROR_TYPES.has(e.type)) return `'error.type' is ${JSON.stringify(e.type)}, not an OpenAI error type`;
  for (const key of ["param", "code"] as const) {
    if (!(key in e)) return `'error.${key}' is missing (send null)`;
    if (e[key] !== null && typeof e[key] !== "string") return `'error.${key}' is ${typeof e[key]}, not a string or null`;
  }
  const extraInner = Object.keys(e).filter((k) => !(ERROR_KEYS as readonly string[]).includes(k));
  if (extraInner.length > 0) return `'error' has extra keys: ${extraInner.join(", ")}`;
  if (status !== undefined) {
    if (status < 500 && e.type === "server_error") return `status ${status} with type server_error`;
    if (status >= 500 && (e.type === "invalid_request_error" || e.type === "not_found_error")) return `status ${status} with type ${e.type}`;
  }
  return undefined;
}

/** Anthropic's error object (`/v1/messages`). */
export function anthropicErrorViolation(body: unknown): string | undefined {
  if (!isObject(body) || body.type !== "error") return "not an Anthropic error (type != 'error')";
  const e = body.error;
  if (!isObject(e) || typeof e.type !== "string" || typeof e.message !== "string" || e.message === "") return "Anthropic 'error' lacks a string type and message";
  return undefined;
}

function errorViolation(route: FuzzCase["route"], body: unknown, status?: number): string | undefined {
  const openai = openAIErrorViolation(body, status);
  if (openai === undefined || route !== "messages") return openai;
  return anthropicErrorViolation(body) === undefined ? undefined : openai;
}

export interface SseEvent {
  readonly event?: string;
  readonly data: string;
}

/** Parse an SSE body (complete or not): `data:` lines joined per event, comments skipped. */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.replace(/\r\n?/g, "\n").split("\n\n")) {
    if (block.trim() === "") continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
    }
    if (data.length > 0) events.push({ ...(event === undefined ? {} : { event }), data: data.join("\n") });
  }
  return events;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The 2xx JSON body of `route`: what is wrong, or undefined. */
function successJsonViolation(c: FuzzCase, v: unknown): string | undefined {
  if (!isObject(v)) return "2xx body is not a JSON object";
  switch (c.route) {
    case "chat": {
      if (v.object !== "chat.completion") return `object is ${JSON.stringify(v.object)}, not "chat.completion"`;
      if (!Array.isArray(v.choices) || v.choices.length === 0) return "no choices";
      for (const choice of v.choices) {
        if (!isObject(choice) || typeof choice.index !== "number" || !isObject(choice.message) || choice.message.role !== "assistant") return "a choice lacks index / assistant message";
        if (typeof choice.finish_reason !== "string") return "a choice lacks finish_reason";
      }
      if (!isObject(v.usage)) return "no usage";
      return undefined;
    }
    case "completions": {
      if (v.object !== "text_completion") return `object is ${JSON.stringify(v.object)}, not "text_completion"`;
      if (!Array.isArray(v.choices) || v.choices.length === 0) return "no choices";
      for (const choice of v.choices) if (!isObject(choice) || typeof choice.text !== "string") return "a choice lacks text";
      return undefined;
    }
    case "responses":
      return v.object === "response" ? undefined : `object is ${JSON.stringify(v.object)}, not "response"`;
    case "messages":
      return v.type === "message" && Array.isArray(v.content) ? undefined : `type is ${JSON.stringify(v.type)}, not "message" with content`;
    case "tokenize":
      return Array.isArray(v.tokens) && typeof v.count === "number" ? undefined : "no tokens / count";
    case "detokenize":
      return typeof v.content === "string" ? undefined : "no content";
    case "apply-template":
      return typeof v.prompt === "string" ? undefined : "no prompt";
    case "models":
      return v.object === "list" && Array.isArray(v.data) ? undefined : "not a model list";
    case "model":
      return v.object === "model" && typeof v.id === "string" ? undefined : "not a model";
    case "health":
      return v.status === "ok" ? undefined : `status is ${JSON.stringify(v.status)}`;
    default:
      return undefined;
  }
}

/** A 2xx SSE body of `route`: what is wrong, or undefined. */
function successSseViolation(c: FuzzCase, text: string): string | undefined {
  const events = parseSse(text);
  if (events.length === 0) return "empty event stream";
  const openAIStyle = c.route === "chat" || c.route === "completions";
  const chunkObject = c.route === "chat" ? "chat.completion.chunk" : "text_completion";
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as SseEvent;
    if (e.data === "[DONE]") {
      if (!openAIStyle) return "[DONE] in a non-OpenAI-chat stream";
      if (i !== events.length - 1) return "events after [DONE]";
      continue;
    }
    const parsed = parseJson(e.data);
    if (!parsed.ok) return `event ${i} is not JSON: ${e.data.slice(0, 80)}`;
    const v = parsed.value;
    if (isObject(v) && "error" in v && (openAIStyle || v.type === undefined)) {
      const bad = errorViolation(c.route, v);
      if (bad !== undefined) return `stream error event: ${bad}`;
      if (i !== events.length - 1) return "events after a stream error";
      continue;
    }
    if (openAIStyle) {
      if (!isObject(v) || v.object !== chunkObject) return `event ${i}: object is ${isObject(v) ? JSON.stringify(v.object) : typeof v}, not ${chunkObject}`;
    } else if (!isObject(v) || typeof v.type !== "string") return `event ${i} has no string 'type'`;
  }
  const last = events[events.length - 1] as SseEvent;
  if (openAIStyle && last.data !== "[DONE]") {
    const parsed = parseJson(last.data);
    if (!(parsed.ok && isObject(parsed.value) && "error" in parsed.value)) return "stream ended without [DONE] or an error event";
  }
  return undefined;
}

/** Every string inside a JSON value (bounded), joined by newlines. */
function jsonStrings(value: unknown, out: string[] = [], budget = { n: 20000 }): string[] {
  if (budget.n-- <= 0) return out;
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) jsonStrings(v, out, budget);
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      jsonStrings(v, out, budget);
    }
  }
  return out;
}

/** The texts to scan in a body: the raw text, and the decoded strings of its JSON (or SSE events' JSON). */
function scanTexts(text: string): string[] {
  const texts = [text];
  const parsed = parseJson(text);
  if (parsed.ok) texts.push(jsonStrings(parsed.value).join("\n"));
  else if (text.startsWith("data:") || text.startsWith("event:") || text.includes("\ndata:")) {
    for (const e of parseSse(text)) {
      const p = parseJson(e.data);
      if (p.ok) texts.push(jsonStrings(p.value).join("\n"));
    }
  }
  return texts;
}

/** Leaks in `responseText` that the request did not carry itself. */
export function findLeaks(responseText: string, requestText: () => string, literals: readonly string[] = []): string[] {
  const found: string[] = [];
  let request: string[] | undefined;
  const echoed = (s: string): boolean => {
    request ??= scanTexts(requestText());
    return request.some((t) => t.includes(s));
  };
  for (const text of scanTexts(responseText)) {
    for (const { name, re } of LEAK_PATTERNS) {
      const m = re.exec(text);
      if (m !== null && !echoed(m[0])) found.push(`${name}: ${JSON.stringify(m[0].slice(0, 120))}`);
    }
    for (const literal of literals) {
      if (literal.length >= 4 && text.includes(literal) && !echoed(literal)) found.push(`server path ${JSON.stringify(literal)}`);
    }
  }
  return [...new Set(found)];
}

export interface CheckOptions {
  /** Literal texts that must never appear (the server's working directory, home). Default none. */
  readonly leakLiterals?: readonly string[];
}

/** The request as text, for echo detection. */
export function requestText(c: FuzzCase): string {
  return `${c.path}\n${c.body === undefined ? "" : utf8.decode(c.body)}`;
}

/**
 * Check one outcome. 5xx, time limits and transport errors are classified by the runner; this returns
 * shape violations, leaks, and valid requests that got a 4xx (informational).
 */
export function checkOutcome(c: FuzzCase, outcome: FuzzOutcome, options: CheckOptions = {}): CheckResult[] {
  if (outcome.kind !== "response") return [];
  const out: CheckResult[] = [];
  const { status } = outcome;
  const text = utf8.decode(outcome.body);
  for (const leak of findLeaks(text, () => requestText(c), options.leakLiterals)) out.push({ kind: "leak", message: leak });
  if (c.method === "HEAD") return out;
  const contentType = headerValue(outcome.headers, "content-type").toLowerCase();
  if (status >= 400) {
    if (c.expect === "ok" && status < 500) out.push({ kind: "rejected-valid", message: `${status}: ${errorMessage(text)}` });
    if (!contentType.includes("application/json")) {
      out.push({ kind: "shape", message: `${status} error with content-type ${JSON.stringify(contentType || "none")}, not JSON: ${JSON.stringify(text.slice(0, 80))}` });
      return out;
    }
    if (outcome.truncated) return out;
    const parsed = parseJson(text);
    if (!parsed.ok) {
      out.push({ kind: "shape", message: `${status} error body is not JSON: ${JSON.stringify(text.slice(0, 80))}` });
      return out;
    }
    const bad = errorViolation(c.route, parsed.value, status);
    if (bad !== undefined) out.push({ kind: "shape", message: `${status}: ${bad}` });
    return out;
  }
  if (status < 200 || status >= 300) {
    out.push({ kind: "shape", message: `unexpected status ${status}` });
    return out;
  }
  if (c.expect === "error") {
    out.push({ kind: "shape", message: `accepted an invalid request with ${status}` });
    return out;
  }
  if (c.route === "unknown" || status === 204 || c.method === "OPTIONS") return out;
  if (c.route === "metrics") {
    if (!text.includes("# HELP") && !text.includes("# TYPE")) out.push({ kind: "shape", message: "/metrics is not Prometheus text" });
    return out;
  }
  const sse = contentType.includes("text/event-stream");
  if (c.stream && !sse) out.push({ kind: "shape", message: `asked for a stream, got ${JSON.stringify(contentType)}` });
  else if (!c.stream && sse) out.push({ kind: "shape", message: "did not ask for a stream, got text/event-stream" });
  if (outcome.truncated) return out;
  if (sse) {
    const bad = successSseViolation(c, text);
    if (bad !== undefined) out.push({ kind: "shape", message: bad });
    return out;
  }
  if (!contentType.includes("application/json")) {
    out.push({ kind: "shape", message: `2xx with content-type ${JSON.stringify(contentType)}` });
    return out;
  }
  const parsed = parseJson(text);
  if (!parsed.ok) out.push({ kind: "shape", message: "2xx body is not JSON" });
  else {
    const bad = successJsonViolation(c, parsed.value);
    if (bad !== undefined) out.push({ kind: "shape", message: bad });
  }
  return out;
}

/** `error.message` of an error body, else its start. */
export function errorMessage(text: string): string {
  const parsed = parseJson(text);
  if (parsed.ok && isObject(parsed.value) && isObject(parsed.value.error) && typeof parsed.value.error.message === "string") return parsed.value.error.message.slice(0, 200);
  return text.slice(0, 120);
}
