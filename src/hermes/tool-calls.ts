/**
 * The Hermes tool-call parser: `<tool_call>{json}</tool_call>` blocks in generated text, for
 * streaming (push/end) and complete outputs alike. Policy: ../shared/fixtures/tool-call-parsing/README.md
 * (P1–P8) and docs/decisions/0032-tool-call-parser.md.
 *
 * Arguments are emitted at the end of their block, in one `tool-call-delta` whose fragment is the
 * complete arguments JSON string: a block can still turn out malformed until it closes, and a
 * malformed block must come back as content, so nothing about a call is emitted before it parsed.
 */
import { literalToPlain, parseJsonOrPython, parseLiteral, type LiteralValue, LiteralSyntaxError } from "./literal.js";
import { pyJsonDumps } from "./python-json.js";
import type { ToolCallSyntax } from "../grammar/constraint.js";
import { HERMES_DIALECT } from "./dialect.js";

/**
 * Why a block produced no call. `unknown_tool` only with `undeclared: "error"`: the block parsed but
 * names a tool that was not declared.
 */
export type ToolCallErrorKind = "invalid_json" | "empty_payload" | "not_an_object" | "missing_name" | "arguments_not_object" | "unknown_tool";

export interface ToolCallParseError {
  readonly kind: ToolCallErrorKind;
  /** The block's raw text, from `<tool_call>` through its closing tag or the end of the block (it stays in content). */
  readonly raw: string;
  readonly message: string;
  /**
   * Whether the block ended with its closing tag. False for a block cut off by the end of the
   * generation (e.g. `max_tokens`) or by the next open tag: an incomplete call.
   */
  readonly closed: boolean;
  /** `unknown_tool`: the undeclared name the model called. */
  readonly name?: string;
}

export interface ParsedToolCall {
  readonly id: string;
  readonly name: string;
  /** The arguments object as a JSON string (OpenAI `function.arguments`), keys in the model's order. */
  readonly arguments: string;
  /** True when tool names were declared and this one is not among them (P7). */
  readonly unknownTool: boolean;
}

export type ToolCallParserEvent =
  | { readonly type: "text-delta"; readonly text: string }
  | {
      readonly type: "tool-call-start";
      readonly index: number;
      readonly id: string;
      readonly name: string;
      readonly unknownTool: boolean;
    }
  | { readonly type: "tool-call-delta"; readonly index: number; readonly argumentsFragment: string }
  | ({ readonly type: "tool-call-end"; readonly index: number } & ParsedToolCall)
  | { readonly type: "error"; readonly error: ToolCallParseError };

export interface ToolCallParseResult {
  /** Text outside the parsed blocks (trimmed when at least one call parsed; P6). */
  readonly content: string;
  readonly toolCalls: readonly ParsedToolCall[];
  /** One per failed block, in order; the first is the fixture's `error`. */
  readonly errors: readonly ToolCallParseError[];
}

export interface ToolCallParserOptions {
  /** Declared tool names; null/undefined = unknown (no call is ever flagged unknown). Default undefined. */
  readonly tools?: readonly string[] | null;
  /** Makes call ids. Default: `call_` + 24 random alphanumerics. */
  readonly generateId?: () => string;
  /** The tool-call syntax to parse. Default Hermes's (`HERMES_DIALECT.toolCall`). */
  readonly syntax?: ToolCallSyntax;
  /**
   * A block calling a name that is not among `tools` (when they are known): `"flag"` returns the call
   * with `unknownTool: true` (P7, the fixtures' policy); `"error"` fails the block with kind
   * `unknown_tool`, so it produces no call and its raw text stays in content (P5) — the chat service's
   * contract (docs/decisions/0096-tool-call-integrity.md). Default `"flag"`.
   */
  readonly undeclared?: "flag" | "error";
}

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `call_` + 24 random alphanumerics (OpenAI-like). */
export function randomToolCallId(): string {
  const bytes = new Uint8Array(24);
  globalThis.crypto.getRandomValues(bytes);
  let id = "call_";
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

/** Length of the longest suffix of `text` that is a proper prefix of `tag`. */
function heldPrefixLength(text: string, tag: string): number {
  for (let n = Math.min(text.length, tag.length - 1); n > 0; n--) {
    if (tag.startsWith(text.slice(text.length - n))) return n;
  }
  return 0;
}

type BlockOutcome =
  | { readonly ok: true; readonly calls: ReadonlyArray<{ name: string; arguments: string }> }
  | { readonly ok: false; readonly kind: ToolCallErrorKind; readonly message: string };

function isMap(value: LiteralValue | undefined): value is Map<string, LiteralValue> {
  return value instanceof Map;
}

/** Validate one parsed payload value as a call object (P4). */
function callFromValue(value: LiteralValue, envelope: ToolCallSyntax["envelope"]): { name: string; arguments: string } | Extract<BlockOutcome, { ok: false }> {
  if (!isMap(value)) return { ok: false, kind: "not_an_object", message: "the payload is not a JSON object" };
  const name = value.get(envelope.nameKey);
  if (typeof name !== "string" || name === "") {
    return { ok: false, kind: "missing_name", message: "the call has no non-empty string name" };
  }
  let args: LiteralValue | undefined;
  for (const key of [envelope.argumentsKey, ...envelope.argumentsAliases]) {
    args = value.get(key);
    if (args !== undefined && args !== null) break;
  }
  if (args === undefined || args === null) args = new Map();
  if (typeof args === "string") {
    try {
      args = parseLiteral(args, "json");
    } catch (error) {
      if (!(error instanceof LiteralSyntaxError)) throw error;
    }
  }
  if (!isMap(args)) {
    return { ok: false, kind: "arguments_not_object", message: "arguments must be an object (or a JSON string of one)" };
  }
  return { name, arguments: pyJsonDumps(args) };
}

function parseBlockPayload(payload: string, envelope: ToolCallSyntax["envelope"]): BlockOutcome {
  if (payload === "") return { ok: false, kind: "empty_payload", message: "the tool call is empty" };
  const values = parseJsonOrPython(payload, true);
  if (values === undefined) {
    return { ok: false, kind: "invalid_json", message: "the payload is neither JSON nor a Python literal" };
  }
  const calls: Array<{ name: string; arguments: string }> = [];
  for (const value of values) {
    const call = callFromValue(value, envelope);
    if ("ok" in call) return call;
    calls.push(call);
  }
  return { ok: true, calls };
}

/**
 * Incremental parser: `push(delta)` returns the events that became final, `end()` flushes held-back
 * text and an unclosed final block. For any chunking of a text the events add up to the same result.
 */
export class ToolCallStreamParser {
  private mode: "text" | "block" = "text";
  private buffer = "";
  private searchFrom = 0;
  private callCount = 0;
  private ended = false;
  private readonly declared: ReadonlySet<string> | undefined;
  private readonly undeclared: "flag" | "error";
  private readonly generateId: () => string;
  private readonly syntax: ToolCallSyntax;
  private readonly collected: ToolCallParserEvent[] = [];

  constructor(options: ToolCallParserOptions = {}) {
    this.syntax = options.syntax ?? HERMES_DIALECT.toolCall;
    this.declared = options.tools === undefined || options.tools === null ? undefined : new Set(options.tools);
    this.undeclared = options.undeclared ?? "flag";
    this.generateId = options.generateId ?? randomToolCallId;
  }

  push(delta: string): ToolCallParserEvent[] {
    if (this.ended) throw new Error("ToolCallStreamParser: push() after end()");
    this.buffer += delta;
    return this.drain(false);
  }

  /**
   * Flush held-back text and an unclosed final block. `truncated`: the output was cut by the token limit,
   * so an unclosed final block whose tool name is complete becomes a call with the arguments written so
   * far (as OpenAI returns a call cut by `max_tokens`, with `finish_reason: "length"`), never raw markup
   * in the content. Default false.
   */
  end(options: { readonly truncated?: boolean } = {}): ToolCallParserEvent[] {
    if (this.ended) return [];
    this.truncated = options.truncated === true;
    const events = this.drain(true);
    this.ended = true;
    return events;
  }

  /** The result so far (complete after `end()`). */
  result(): ToolCallParseResult {
    return collectToolCallEvents(this.collected);
  }

  private drain(final: boolean): ToolCallParserEvent[] {
    const openTag = this.syntax.open;
    const closeTag = this.syntax.close;
    const events: ToolCallParserEvent[] = [];
    const text = (t: string): void => {
      if (t !== "") events.push({ type: "text-delta", text: t });
    };
    for (;;) {
      if (this.mode === "text") {
        const open = this.buffer.indexOf(openTag);
        if (open >= 0) {
          text(this.buffer.slice(0, open));
          this.buffer = this.buffer.slice(open);
          this.mode = "block";
          this.searchFrom = openTag.length;
          continue;
        }
        const hold = final ? 0 : heldPrefixLength(this.buffer, openTag);
        text(this.buffer.slice(0, this.buffer.length - hold));
        this.buffer = this.buffer.slice(this.buffer.length - hold);
        break;
      }
      const close = this.buffer.indexOf(closeTag, this.searchFrom);
      const next = this.buffer.indexOf(openTag, this.searchFrom);
      if (close >= 0 && (next < 0 || close < next)) {
        const end = close + closeTag.length;
        this.finishBlock(this.buffer.slice(0, end), true, events);
        this.buffer = this.buffer.slice(end);
        this.mode = "text";
        continue;
      }
      if (next >= 0) {
        this.finishBlock(this.buffer.slice(0, next), false, events);
        this.buffer = this.buffer.slice(next);
        this.mode = "text";
        continue;
      }
      if (final) {
        this.finishBlock(this.buffer, false, events);
        this.buffer = "";
        this.mode = "text";
        continue;
      }
      this.searchFrom = Math.max(openTag.length, this.buffer.length - closeTag.length + 1);
      break;
    }
    this.collected.push(...events);
    return events;
  }

  private truncated = false;

  /** A cut call's name and arguments so far: `{"name": "x", "arguments": <partial>`, or undefined. */
  private partialCall(payload: string): { readonly name: string; readonly arguments: string } | undefined {
    const e = this.syntax.envelope;
    const esc = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const keys = [e.argumentsKey, ...e.argumentsAliases].map(esc).join("|");
    const m = new RegExp(`^\\{\\s*"${esc(e.nameKey)}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"\\s*(?:,\\s*(?:"(?:${keys})"\\s*:\\s*([\\s\\S]*))?)?$`).exec(payload);
    if (m === null) return undefined;
    let name: string;
    try {
      name = JSON.parse(`"${m[1] as string}"`) as string;
    } catch {
      return undefined;
    }
    if (name === "" || (this.declared !== undefined && !this.declared.has(name) && this.undeclared === "error")) return undefined;
    return { name, arguments: m[2] ?? "" };
  }

  private finishBlock(raw: string, closed: boolean, events: ToolCallParserEvent[]): void {
    const payload = raw.slice(this.syntax.open.length, closed ? raw.length - this.syntax.close.length : raw.length).trim();
    if (!closed && this.truncated && this.ended === false) {
      const partial = this.partialCall(payload);
      if (partial !== undefined && parseBlockPayload(payload, this.syntax.envelope).ok === false) {
        const index = this.callCount++;
        const id = this.generateId();
        const unknownTool = this.declared !== undefined && !this.declared.has(partial.name);
        events.push({ type: "tool-call-start", index, id, name: partial.name, unknownTool });
        events.push({ type: "tool-call-delta", index, argumentsFragment: partial.arguments });
        events.push({ type: "tool-call-end", index, id, name: partial.name, arguments: partial.arguments, unknownTool });
        return;
      }
    }
    const outcome = parseBlockPayload(payload, this.syntax.envelope);
    const fail = (error: Omit<ToolCallParseError, "raw" | "closed">): void => {
      const message = closed ? error.message : `${error.message} (the block ends without ${this.syntax.close}: the call is incomplete)`;
      events.push({ type: "text-delta", text: raw });
      events.push({ type: "error", error: { ...error, message, raw, closed } });
    };
    if (!outcome.ok) {
      fail({ kind: outcome.kind, message: outcome.message });
      return;
    }
    const declared = this.declared;
    const unknown = declared === undefined ? undefined : outcome.calls.find((call) => !declared.has(call.name));
    if (unknown !== undefined && this.undeclared === "error") {
      fail({ kind: "unknown_tool", message: `the model called ${JSON.stringify(unknown.name)}, which is not a declared tool`, name: unknown.name });
      return;
    }
    for (const call of outcome.calls) {
      const index = this.callCount++;
      const id = this.generateId();
      const unknownTool = this.declared !== undefined && !this.declared.has(call.name);
      events.push({ type: "tool-call-start", index, id, name: call.name, unknownTool });
      events.push({ type: "tool-call-delta", index, argumentsFragment: call.arguments });
      events.push({ type: "tool-call-end", index, id, name: call.name, arguments: call.arguments, unknownTool });
    }
  }
}

/** Add events up to a result: content = the text deltas (trimmed when a call parsed), calls from their start/delta events. */
export function collectToolCallEvents(events: Iterable<ToolCallParserEvent>): ToolCallParseResult {
  let content = "";
  const calls = new Map<number, { id: string; name: string; arguments: string; unknownTool: boolean }>();
  const errors: ToolCallParseError[] = [];
  for (const event of events) {
    switch (event.type) {
      case "text-delta":
        content += event.text;
        break;
      case "tool-call-start":
        calls.set(event.index, { id: event.id, name: event.name, arguments: "", unknownTool: event.unknownTool });
        break;
      case "tool-call-delta": {
        const call = calls.get(event.index);
        if (call !== undefined) call.arguments += event.argumentsFragment;
        break;
      }
      case "tool-call-end":
        break;
      case "error":
        errors.push(event.error);
        break;
      default:
        event satisfies never;
    }
  }
  const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
  return { content: toolCalls.length > 0 ? content.trim() : content, toolCalls, errors };
}

/** Parse a complete output (the same parser, fed in one piece). */
export function parseToolCalls(text: string, options: ToolCallParserOptions = {}): ToolCallParseResult {
  const parser = new ToolCallStreamParser(options);
  parser.push(text);
  parser.end();
  return parser.result();
}

/** The arguments of a parsed call as a plain object. */
export function toolCallArguments(call: ParsedToolCall): Record<string, unknown> {
  return literalToPlain(parseLiteral(call.arguments, "json")) as Record<string, unknown>;
}

export interface OpenAIAssistantMessage {
  readonly role: "assistant";
  /** null when the turn is only tool calls (as OpenAI returns it). */
  readonly content: string | null;
  readonly tool_calls?: ReadonlyArray<{
    readonly id: string;
    readonly type: "function";
    readonly function: { readonly name: string; readonly arguments: string };
  }>;
  /** Talaria extension: failed blocks (their raw text is in `content`) and unknown tool names. */
  readonly errors?: ReadonlyArray<{ readonly kind: ToolCallErrorKind; readonly raw?: string; readonly message: string; readonly name?: string }>;
}

/** Map a parse result to an OpenAI chat-completion assistant message. */
export function toOpenAIAssistantMessage(result: ToolCallParseResult): OpenAIAssistantMessage {
  const errors: Array<NonNullable<OpenAIAssistantMessage["errors"]>[number]> = result.errors.map((e) => ({
    kind: e.kind,
    raw: e.raw,
    message: e.message,
    ...(e.name === undefined ? {} : { name: e.name }),
  }));
  for (const call of result.toolCalls) {
    if (call.unknownTool) errors.push({ kind: "unknown_tool", name: call.name, message: `the model called an undeclared tool ${JSON.stringify(call.name)}` });
  }
  return {
    role: "assistant",
    content: result.toolCalls.length > 0 && result.content === "" ? null : result.content,
    ...(result.toolCalls.length > 0
      ? {
          tool_calls: result.toolCalls.map((call) => ({
            id: call.id,
            type: "function" as const,
            function: { name: call.name, arguments: call.arguments },
          })),
        }
      : {}),
    ...(errors.length > 0 ? { errors } : {}),
  };
}
