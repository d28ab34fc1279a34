/**
 * The agent loop (parity with Hermes-Function-Calling `functioncall.py`, plus constrained decoding,
 * validation and an event stream): generate → parse → validate → execute → feed the results back as
 * `<tool_response>{"name": …, "content": …}</tool_response>` in the profile's tool role → repeat,
 * until the model answers without calling a tool or `maxDepth` tool rounds ran.
 *
 * Built on the chat service (`src/chat/`): it renders Hermes prompts per profile and style, parses
 * tool calls, constrains them with grammars (lazy for `auto`) and runs the engine; this module adds
 * argument validation before execution, tool execution, events and the loop. See docs/agent.md and docs/decisions/0140-agent-loop-on-chat-service.md.
 */
import { createHermesChat, type TemplateChoice } from "../chat/hermes-chat.js";

import type { ChatEvent, ChatFinishReason, ChatMessage, ChatToolCall, ToolChoice, ToolDefinition } from "../chat/types.js";
import type { ChatService } from "../chat/service.js";
import type { Engine, EngineWarningCode, SamplingOptions, Usage } from "../engine/types.js";
import type { HermesProfileId, PromptStyle } from "../hermes/index.js";
import { resolveTools, resultToContent, type AgentTool, type ResolvedTool } from "./tools.js";
import { JsonValidator, formatIssues, type ValidationIssue, type ValidationResult } from "../chat/validate.js";

/** `auto` (default), `required` (must call some tool), `none` (no tools offered) or a tool name (must call it). */
export type AgentToolChoice = "auto" | "required" | "none" | { readonly name: string };

export interface AgentOptions {
  readonly engine: Engine;
  readonly tools: readonly AgentTool<never>[];
  /** The user's request, appended as a user message. */
  readonly query?: string;
  /** Earlier conversation (before `query`). Default none. */
  readonly messages?: readonly ChatMessage[];
  /** A system message put first (Hermes puts the tools prompt before it). Default none. */
  readonly system?: string;
  /** Model profile (the tool-response role). Default: detected from the model's metadata. */
  readonly profile?: HermesProfileId;
  /** Function-calling prompt style. Default `card`. */
  readonly style?: PromptStyle;
  /** The tool_use template of the `template` style. Default `model` (the GGUF's own, else the official one). */
  readonly template?: TemplateChoice;
  /** Most tool rounds (model turns whose calls are executed) before stopping. Default 5. */
  readonly maxDepth?: number;
  /** Tool choice of the FIRST model turn; later turns are `auto` so the model can answer. Default `auto`. */
  readonly toolChoice?: AgentToolChoice;
  /** Several calls per turn. Default true; false stops each turn after its first call. */
  readonly parallelToolCalls?: boolean;
  /** Grammar-constrained tool calls (lazy for `auto`). Default true. */
  readonly constrained?: boolean;
  /** Most tokens per model turn. Default 1024. */
  readonly maxTokens?: number;
  /** Sampling. Default: the engine's defaults. */
  readonly sampling?: SamplingOptions;
  /** Stops generation and tool execution (the run finishes with reason `abort`). */
  readonly signal?: AbortSignal;
  /** Tool-call ids. Default `call_` + 24 random alphanumerics. */
  readonly createToolCallId?: () => string;
  /**
   * The chat service to run the model turns on, instead of one built from `engine` and the options
   * above (a server shares its own). It must be created with `validate: false` and
   * `undeclaredToolCalls: "call"` (the loop validates and answers unknown tools itself). Default: built here.
   */
  readonly service?: ChatService;
  /** Wraps each model turn's chat events as they pass (a server's metrics). Default: none. */
  readonly observeTurn?: (events: AsyncIterable<ChatEvent>) => AsyncIterable<ChatEvent>;
  /**
   * Asked before each valid call runs: `approve` runs it, `deny` answers the model with a tool error,
   * `defer` ends the run (reason `approval-required`) with the calls not yet run left in `pending`
   * (a Responses API `mcp_approval_request`). Default: every call runs.
   */
  readonly approve?: (call: ToolApprovalRequest, signal: AbortSignal) => Promise<"approve" | "deny" | "defer">;
}

/** A call waiting for approval. */
export interface ToolApprovalRequest {
  readonly step: number;
  readonly id: string;
  readonly name: string;
  /** The arguments as the model wrote them (JSON text). */
  readonly argumentsText: string;
}

/** Why a tool call did not produce a result. */
export type ToolErrorKind =
  /** A `<tool_call>` block that is not a valid call (bad JSON, no name…); only without a grammar or when cut by maxTokens. */
  | "parse"
  /** `approve` denied the call. */
  | "denied"
  /** The result does not fit the context (the model is told its size). */
  | "result-too-large"
  /** The name is not a declared tool. */
  | "unknown-tool"
  /** The arguments fail the tool's schema (ajv) or its zod schema. */
  | "invalid-arguments"
  /** The tool threw. */
  | "execution";

export type AgentFinishReason =
  /** The model answered without calling a tool. */
  | "final-answer"
  /** The answer was cut by `maxTokens`. */
  | "length"
  /** `maxDepth` tool rounds ran and the model was not asked again. */
  | "max-depth"
  /** The signal fired. */
  | "abort"
  /** `approve` deferred a call: the run stops before it (see the finish event's `pending`). */
  | "approval-required";

export type AgentEvent =
  | { readonly type: "step-start"; readonly step: number }
  /** The engine ignored or degraded part of a model turn's request. */
  | { readonly type: "warning"; readonly step: number; readonly code: EngineWarningCode; readonly message: string }
  | { readonly type: "text-delta"; readonly step: number; readonly text: string }
  | {
      readonly type: "tool-call";
      readonly step: number;
      readonly id: string;
      readonly name: string;
      /** The parsed arguments (before validation). */
      readonly arguments: unknown;
      /** The arguments as the model wrote them (JSON text). */
      readonly argumentsText: string;
    }
  | {
      readonly type: "tool-result";
      readonly step: number;
      readonly id: string;
      readonly name: string;
      readonly result: unknown;
      /** What went back to the model. */
      readonly content: string;
      readonly durationMs: number;
    }
  | {
      readonly type: "tool-error";
      readonly step: number;
      /** Absent for a block that did not parse as a call. */
      readonly id?: string;
      readonly name: string;
      readonly kind: ToolErrorKind;
      readonly message: string;
      /** Schema violations (`invalid-arguments`). */
      readonly issues?: readonly ValidationIssue[];
      /** What went back to the model. */
      readonly content: string;
    }
  | {
      readonly type: "step-finish";
      readonly step: number;
      readonly finishReason: ChatFinishReason;
      readonly toolCalls: number;
      readonly usage: Usage;
    }
  | { readonly type: "final-answer"; readonly step: number; readonly text: string }
  | {
      readonly type: "finish";
      readonly reason: AgentFinishReason;
      /** Model turns run. */
      readonly steps: number;
      /** The final answer (reasons `final-answer` and `length`). */
      readonly answer?: string;
      /** Token usage summed over the turns. */
      readonly usage: Usage;
      /** The whole conversation, tool turns included (to continue it). */
      readonly messages: readonly ChatMessage[];
      /** Reason `approval-required`: the calls of the last turn not yet run (the deferred one first). */
      readonly pending?: readonly ToolApprovalRequest[];
    }
  /** `approve` was asked about a call (before it runs or is denied). */
  | { readonly type: "tool-approval-request"; readonly step: number; readonly id: string; readonly name: string; readonly argumentsText: string }

export class AgentOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentOptionsError";
  }
}

/** The name used for the tool response that answers an unparseable `<tool_call>` block. */
export const PARSE_ERROR_TOOL_NAME = "tool_call_parser";

const shared = new JsonValidator();

function toChatToolChoice(choice: AgentToolChoice): ToolChoice {
  if (typeof choice === "object") return { type: "function", name: choice.name };
  return { type: choice };
}

function addUsage(a: Usage, b: Usage): Usage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    cachedPromptTokens: a.cachedPromptTokens + b.cachedPromptTokens,
  };
}

function errorContent(message: string, details?: readonly string[]): string {
  return JSON.stringify(details === undefined ? { error: message } : { error: message, details });
}

/**
 * Run the agent; every step is an event. The last event is always `finish` (unless an error is
 * thrown: invalid options, a prompt that does not fit the context, an engine failure).
 */
export async function* runAgent(options: AgentOptions): AsyncGenerator<AgentEvent, void, undefined> {
  const maxDepth = options.maxDepth ?? 5;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw new AgentOptionsError(`maxDepth must be an integer >= 1 (got ${maxDepth})`);
  const tools = resolveTools(options.tools);
  const byName = new Map(tools.map((t) => [t.name, t]));
  const firstChoice = options.toolChoice ?? "auto";
  if (typeof firstChoice === "object" && !byName.has(firstChoice.name)) {
    throw new AgentOptionsError(`toolChoice names ${JSON.stringify(firstChoice.name)}, which is not a tool`);
  }
  if (firstChoice === "required" && tools.length === 0) throw new AgentOptionsError("toolChoice required needs at least one tool");
  const validators = new Map(tools.map((t) => [t.name, shared.compile(t.parameters)]));

  const engine = options.engine;
  const service =
    options.service ??
    createHermesChat(engine, {
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    ...(options.style === undefined ? {} : { style: options.style }),
    ...(options.template === undefined ? {} : { template: options.template }),
    constrained: options.constrained !== false,
    ...(options.createToolCallId === undefined ? {} : { createToolCallId: options.createToolCallId }),
    validate: false, // validated below, where failures become tool errors fed back to the model
    undeclaredToolCalls: "call", // answered below with an unknown-tool error the model can read
  }).service;
  const declared: ToolDefinition[] = tools.map((t) => ({
    name: t.name,
    ...(t.description === undefined ? {} : { description: t.description }),
    parameters: t.parameters,
    ...(t.argumentsConstraint === undefined ? {} : { argumentsConstraint: t.argumentsConstraint }),
  }));

  const messages: ChatMessage[] = [];
  if (options.system !== undefined) messages.push({ role: "system", content: options.system });
  messages.push(...(options.messages ?? []));
  if (options.query !== undefined) messages.push({ role: "user", content: options.query });
  if (messages.length === 0) throw new AgentOptionsError("give a query or messages");

  const signal = options.signal ?? new AbortController().signal;
  let usage: Usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 };
  let rounds = 0;
  const finish = (reason: AgentFinishReason, steps: number, answer?: string, pending?: readonly ToolApprovalRequest[]): AgentEvent => ({
    type: "finish",
    reason,
    steps,
    ...(answer === undefined ? {} : { answer }),
    usage,
    messages: [...messages],
    ...(pending === undefined ? {} : { pending }),
  });
  const maxTokens = options.maxTokens ?? 1024;

  for (let step = 1; ; step++) {
    if (signal.aborted) {
      yield finish("abort", step - 1);
      return;
    }
    yield { type: "step-start", step };
    const choice = step === 1 ? firstChoice : "auto";
    const prepared = await service.prepare({
      messages,
      tools: declared,
      toolChoice: toChatToolChoice(choice),
      parallelToolCalls: options.parallelToolCalls ?? true,
      maxTokens,
      ...(options.sampling === undefined ? {} : { sampling: options.sampling }),
    });

    let content = "";
    const calls: ChatToolCall[] = [];
    const parseErrors: { kind: string; raw: string }[] = [];
    let finishReason: ChatFinishReason = "stop";
    let turnTokens = 0;
    const turn = service.stream(prepared, { signal });
    for await (const event of options.observeTurn === undefined ? turn : options.observeTurn(turn)) {
      switch (event.type) {
        case "text-delta":
          content += event.text;
          yield { type: "text-delta", step, text: event.text };
          break;
        case "tool-call-end":
          calls.push({ id: event.id, name: event.name, arguments: event.arguments });
          break;
        case "tool-call-error":
          parseErrors.push({ kind: event.kind, raw: event.raw });
          break;
        case "warning":
          yield { type: "warning", step, code: event.code, message: event.message };
          break;
        case "finish":
          finishReason = event.reason;
          usage = addUsage(usage, event.usage);
          turnTokens = event.usage.promptTokens + event.usage.completionTokens;
          break;
        case "generation-start":
        case "tool-call-start":
        case "tool-call-delta":
        case "logprobs":
        case "validation-error": // the loop validates (ajv, then zod) before it executes
          break;
        default:
          event satisfies never;
      }
    }
    const text = calls.length > 0 ? content.trim() : content;
    messages.push({ role: "assistant", content: text === "" && calls.length > 0 ? null : text, ...(calls.length > 0 ? { toolCalls: calls } : {}) });
    yield { type: "step-finish", step, finishReason, toolCalls: calls.length, usage };

    if (finishReason === "abort" || signal.aborted) {
      yield finish("abort", step);
      return;
    }
    if (calls.length === 0 && parseErrors.length === 0) {
      yield { type: "final-answer", step, text };
      yield finish(finishReason === "length" ? "length" : "final-answer", step, text);
      return;
    }

    // Tokens left for this round's results: the context less this turn (prompt and reply), the tool
    // messages' markup and a start of the next reply (which may still be cut by the context: `length`).
    let room = engine.info.contextSize - turnTokens - RESULT_RESERVE_TOKENS - Math.min(maxTokens, NEXT_REPLY_RESERVE_TOKENS);
    for (const [i, call] of calls.entries()) {
      yield { type: "tool-call", step, id: call.id, name: call.name, arguments: parseArguments(call.arguments), argumentsText: call.arguments };
      let decision: "approve" | "deny" | "defer" = "approve";
      if (options.approve !== undefined && byName.has(call.name)) {
        yield { type: "tool-approval-request", step, id: call.id, name: call.name, argumentsText: call.arguments };
        decision = await options.approve({ step, id: call.id, name: call.name, argumentsText: call.arguments }, signal).catch(() => "deny" as const);
        if (signal.aborted) {
          yield finish("abort", step);
          return;
        }
        if (decision === "defer") {
          const pending = calls.slice(i).map((c) => ({ step, id: c.id, name: c.name, argumentsText: c.arguments }));
          yield finish("approval-required", step, undefined, pending);
          return;
        }
      }
      const events =
        decision === "deny"
          ? denied(call, step)
          : await executeCall(call, byName.get(call.name), validators.get(call.name), step, signal, engine, Math.max(0, room));
      room -= events.tokens ?? events.content.length;
      for (const event of events.events) yield event;
      messages.push({ role: "tool", content: events.content, toolCallId: call.id, name: call.name });
      if (signal.aborted) {
        yield finish("abort", step);
        return;
      }
    }
    if (calls.length === 0) {
      // Only malformed blocks: tell the model, as functioncall.py does, so it can call again.
      const details = parseErrors.map((e) => `${e.kind}: ${e.raw}`);
      const message = "the tool call could not be parsed; call the function again with a valid JSON object {\"name\": …, \"arguments\": {…}}";
      const content = errorContent(message, details);
      yield { type: "tool-error", step, name: PARSE_ERROR_TOOL_NAME, kind: "parse", message: `${message} (${details.join("; ")})`, content };
      messages.push({ role: "tool", content, name: PARSE_ERROR_TOOL_NAME });
    }
    rounds++;
    if (rounds >= maxDepth) {
      yield finish("max-depth", step);
      return;
    }
  }
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function denied(call: ChatToolCall, step: number): { events: AgentEvent[]; content: string; tokens?: number } {
  const message = `the call of ${call.name} was not approved by the user`;
  const content = errorContent(message);
  return { events: [{ type: "tool-error", step, id: call.id, name: call.name, kind: "denied", message, content }], content };
}

/**
 * Whether `content` fits in `room` tokens: judged by its length first (a token is at most
 * {@link MAX_CHARS_PER_TOKEN} characters in practice), tokenized only when that cannot tell.
 */
async function measure(engine: Engine, content: string, room: number): Promise<{ over?: number; tokens?: number }> {
  if (content.length <= room) return {}; // at least one character per token
  if (content.length > room * MAX_CHARS_PER_TOKEN) return { over: Math.ceil(content.length / MAX_CHARS_PER_TOKEN) };
  const n = (await engine.tokenize(content)).length;
  return n > room ? { over: n } : { tokens: n };
}

/** Tokens kept free beside tool results for the tool-response markup. */
const RESULT_RESERVE_TOKENS = 32;
/** Tokens kept free for the next reply (at most `maxTokens`). */
const NEXT_REPLY_RESERVE_TOKENS = 128;

/** Characters per token above which a text surely cannot fit (real tokenizers average 3-5). */
const MAX_CHARS_PER_TOKEN = 16;

/** Validate and run one call (its `tool-call` event is already out); the events to emit and the tool response content. */
async function executeCall(
  call: ChatToolCall,
  tool: ResolvedTool | undefined,
  validate: ((value: unknown) => ValidationResult) | undefined,
  step: number,
  signal: AbortSignal,
  engine: Engine,
  room: number,
): Promise<{ events: AgentEvent[]; content: string; tokens?: number }> {
  const args = parseArguments(call.arguments);
  const events: AgentEvent[] = [];
  const fail = (kind: ToolErrorKind, message: string, details?: readonly string[], issues?: readonly ValidationIssue[]) => {
    const content = errorContent(message, details);
    events.push({ type: "tool-error", step, id: call.id, name: call.name, kind, message, content, ...(issues === undefined ? {} : { issues }) });
    return { events, content };
  };
  if (tool === undefined || validate === undefined) return fail("unknown-tool", `unknown tool ${JSON.stringify(call.name)}`);
  const checked = validate(args);
  if (!checked.valid) {
    return fail("invalid-arguments", `invalid arguments: ${formatIssues(checked.issues)}`, checked.issues.map((i) => i.message), checked.issues);
  }
  let value = args;
  if (tool.zod !== undefined) {
    const parsed = tool.zod.safeParse(args);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => `/${i.path.map(String).join("/")} ${i.message}`);
      return fail("invalid-arguments", `invalid arguments: ${details.join("; ")}`, details);
    }
    value = parsed.data;
  }
  const started = performance.now();
  try {
    const result: unknown = await tool.execute(value, { signal, callId: call.id, step });
    const content = resultToContent(result);
    const { over, tokens } = await measure(engine, content, room);
    if (over !== undefined) {
      const estimated = content.length > room * MAX_CHARS_PER_TOKEN ? "at least " : "";
      return fail("result-too-large", `the result of ${call.name} is ${estimated}${over} tokens (${content.length} characters); only ${room} fit in the context: ask for less`);
    }
    events.push({ type: "tool-result", step, id: call.id, name: call.name, result, content, durationMs: performance.now() - started });
    return { events, content, ...(tokens === undefined ? {} : { tokens }) };
  } catch (error) {
    return fail("execution", error instanceof Error ? error.message : String(error));
  }
}

/** The outcome of {@link runAgentToEnd}. */
export interface AgentRunResult {
  readonly reason: AgentFinishReason;
  readonly answer?: string;
  readonly steps: number;
  readonly usage: Usage;
  readonly messages: readonly ChatMessage[];
  /** Every event, in order (the trace). */
  readonly events: readonly AgentEvent[];
}

/** Run the agent to the end and collect its events. `onEvent` sees each event as it happens. */
export async function runAgentToEnd(options: AgentOptions, onEvent?: (event: AgentEvent) => void): Promise<AgentRunResult> {
  const events: AgentEvent[] = [];
  for await (const event of runAgent(options)) {
    events.push(event);
    onEvent?.(event);
    if (event.type === "finish") {
      return {
        reason: event.reason,
        ...(event.answer === undefined ? {} : { answer: event.answer }),
        steps: event.steps,
        usage: event.usage,
        messages: event.messages,
        events,
      };
    }
  }
  throw new Error("the agent ended without a finish event");
}
