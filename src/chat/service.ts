/**
 * The chat service: a chat request → Hermes prompt → `engine.generate` → tool-call parser → a stream of
 * {@link ChatEvent}s. Framework-free: the HTTP server, the CLI and the agent loop share it.
 *
 * Use it in two steps: {@link ChatService.prepare} validates the request, renders and tokenizes the
 * prompt once and checks it fits (so errors surface before anything is streamed); then
 * {@link ChatService.stream} (or {@link ChatService.complete}) runs the generation.
 */
import type { SamplingOptions } from "../engine/types.js";
import type { Engine, EngineWarningCode, FinishReason, GenerateEvent, GenerateRequest, GrammarConstraint, TokenId, Usage } from "../engine/types.js";
import { EngineError } from "../engine/types.js";
import type { PromptText } from "../prompt/text.js";
import { noConstraints, type ConstraintBuilder, type GrammarConstraintsOptions } from "./constraints.js";
import { ChatError } from "./errors.js";
import type { ChatFormat, ToolCallParserEvent, ToolCallStreamParser } from "./format.js";
import { randomId } from "./ids.js";
import { JsonValidator, formatIssues, InvalidSchemaError, UnsupportedPatternError, pointerToParam, type ValidationResult } from "./validate.js";
import type {
  ChatEvent,
  ChatFinishReason,
  ChatToolCallError,
  ChatValidationError,
  ChatRequest,
  ChatResult,
  ChatToolCall,
  ResponseFormat,
  ToolChoice,
  ToolDefinition,
} from "./types.js";
import type { GeneratedToken } from "../engine/types.js";

export interface ChatServiceOptions {
  readonly engine: Engine;
  readonly format: ChatFormat;
  /**
   * Constrained decoding for tool choice and JSON modes, with the format's own grammars
   * ({@link ChatFormat.constraints}): `true` or options = on. Default false (the prompt alone; use
   * `createHermesChat`, which turns it on).
   */
  readonly constrained?: boolean | GrammarConstraintsOptions;
  /** Tool-call ids. Default `call_` + 24 random alphanumerics. */
  readonly createToolCallId?: () => string;
  /**
   * Validate completed tool calls against their `parameters` and JSON-mode answers against
   * `response_format` with ajv, emitting `validation-error` events. Default true.
   */
  readonly validate?: boolean;
  /**
   * A call of a tool the request did not declare: `"error"` — no call; its raw text stays in the
   * content and a `tool-call-error` of kind `unknown_tool` reports it (what API clients get: they only
   * ever see calls of their own tools); `"call"` — a call like any other, followed by a
   * `validation-error` (the agent loop, which answers it with a tool error the model can read).
   * Default `"error"`. See docs/decisions/0096-tool-call-integrity.md.
   */
  readonly undeclaredToolCalls?: "error" | "call";
}

/** A validated, rendered and tokenized chat request, ready to generate (possibly several times, for `n`). */
export interface PreparedChat {
  readonly request: ChatRequest;
  readonly prompt: PromptText;
  readonly promptTokens: readonly TokenId[];
  /** Tools rendered into the prompt. */
  readonly tools: readonly ToolDefinition[];
  readonly toolChoice: ToolChoice;
  /** Whether generated text is parsed for `<tool_call>` blocks. */
  readonly parseToolCalls: boolean;
  readonly grammar?: GrammarConstraint;
}

export interface ChatRunOptions {
  /** Aborts the generation (the engine frees its sequence). */
  readonly signal?: AbortSignal;
}

export class ChatService {
  readonly engine: Engine;
  readonly format: ChatFormat;
  readonly #constraints: ConstraintBuilder;
  readonly #createToolCallId: () => string;
  readonly #validate: boolean;
  readonly #undeclaredToolCalls: "error" | "call";

  constructor(options: ChatServiceOptions) {
    this.engine = options.engine;
    this.format = options.format;
    const constrained = options.constrained ?? false;
    this.#constraints = constrained === false ? noConstraints : this.format.constraints(constrained === true ? {} : constrained);
    this.#createToolCallId = options.createToolCallId ?? (() => randomId("call_"));
    this.#validate = options.validate ?? true;
    this.#undeclaredToolCalls = options.undeclaredToolCalls ?? "error";
  }

  /** Render the prompt of a request without tokenizing it (for `/apply-template`). */
  render(request: ChatRequest): PromptText {
    const { tools, responseFormat } = this.#resolve(request);
    return this.format.render({ messages: request.messages, tools, responseFormat });
  }

  /**
   * Validate, render and tokenize. Throws {@link ChatError} for an invalid request or a prompt that
   * does not fit in the context.
   */
  async prepare(request: ChatRequest): Promise<PreparedChat> {
    const { tools, toolChoice, responseFormat } = this.#resolve(request);
    const prompt = this.format.render({ messages: request.messages, tools, responseFormat });
    const grammar = this.#constraints({
      tools,
      toolChoice,
      responseFormat,
      parallelToolCalls: request.parallelToolCalls ?? true,
    });
    if (this.#validate) refuseUncheckablePatterns(tools, responseFormat);
    const promptTokens = await this.engine.tokenize(prompt);
    const contextSize = this.engine.info.contextSize;
    if (promptTokens.length >= contextSize) {
      throw new ChatError(
        `This model's maximum context length is ${contextSize} tokens. However, your messages resulted in ` +
          `${promptTokens.length} tokens. Please reduce the length of the messages.`,
        "context_length_exceeded",
        "messages",
      );
    }
    return {
      request,
      prompt,
      promptTokens,
      tools,
      toolChoice,
      parseToolCalls: tools.length > 0,
      ...(grammar === undefined ? {} : { grammar }),
    };
  }

  /**
   * Stream one generation of a prepared request. Completed tool calls and JSON-mode answers are
   * validated (ajv) unless the service was created with `validate: false`; failures are
   * `validation-error` events.
   */
  async *stream(prepared: PreparedChat, options: ChatRunOptions = {}): AsyncGenerator<ChatEvent, void, undefined> {
    if (!this.#validate) {
      yield* this.#generate(prepared, options);
      return;
    }
    const responseFormat = prepared.request.responseFormat ?? { type: "text" as const };
    const tools = new Map(prepared.tools.map((t) => [t.name, t]));
    let content = "";
    let calls = 0;
    for await (const event of this.#generate(prepared, options)) {
      if (event.type === "finish" && responseFormat.type !== "text" && calls === 0 && event.reason !== "abort") {
        const failure = validateResponse(content, responseFormat);
        if (failure !== undefined) yield { type: "validation-error", ...failure };
      }
      yield event;
      if (event.type === "text-delta") content += event.text;
      else if (event.type === "tool-call-end") {
        calls++;
        const failure = validateToolCall(event, tools.get(event.name));
        if (failure !== undefined) yield { type: "validation-error", ...failure };
      }
    }
  }

  async *#generate(prepared: PreparedChat, options: ChatRunOptions): AsyncGenerator<ChatEvent, void, undefined> {
    const { request } = prepared;
    const cutAfterFirstCall = request.parallelToolCalls === false;
    const wantLogprobs = request.logprobs === true || (request.topLogprobs ?? 0) > 0;

    // Our own controller, so `parallel_tool_calls: false` can stop the engine after the first call.
    const controller = new AbortController();
    const outerSignal = options.signal;
    const onOuterAbort = (): void => controller.abort(outerSignal?.reason);
    if (outerSignal?.aborted === true) controller.abort(outerSignal.reason);
    else outerSignal?.addEventListener("abort", onOuterAbort, { once: true });

    // tool_choice "none" (asked for, or no tools declared): the model cannot open a call, so no call
    // markup can reach the content. The open tag is banned when it is one token (as in Hermes models).
    const sampling = prepared.toolChoice.type === "none" ? this.#banToolCallOpen(request.sampling) : request.sampling;
    const engineRequest: GenerateRequest = {
      prompt: prepared.promptTokens,
      signal: controller.signal,
      ...(sampling === undefined ? {} : { sampling }),
      ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
      ...(request.stop === undefined || request.stop.length === 0 ? {} : { stop: request.stop }),
      ...(wantLogprobs ? { logprobs: true } : {}),
      ...((request.topLogprobs ?? 0) > 0 ? { topLogprobs: request.topLogprobs } : {}),
      ...(prepared.grammar === undefined ? {} : { grammar: prepared.grammar }),
    };

    const calls = new ToolCallTracker(this.#createToolCallId);
    const parser: ToolCallStreamParser | undefined = prepared.parseToolCalls
      ? this.format.createToolCallParser(
          prepared.tools.map((t) => t.name),
          { undeclared: this.#undeclaredToolCalls },
        )
      : undefined;
    let started = false;
    let completionTokens = 0;
    let cut = false;
    let finish: { reason: FinishReason; usage: Usage; stopText?: string } | undefined;
    const warnings: Array<Extract<GenerateEvent, { type: "warning" }>> = [];

    try {
      try {
        for await (const event of this.engine.generate(engineRequest)) {
          if (event.type === "warning" && !started) {
            // Reported right after generation-start (which marks the first token).
            warnings.push(event);
            continue;
          }
          if (!started) {
            started = true;
            yield { type: "generation-start" };
            for (const w of warnings.splice(0)) yield { type: "warning", code: w.code, message: w.message };
          }
          if (event.type === "warning") {
            yield { type: "warning", code: event.code, message: event.message };
            continue;
          }
          if (event.type === "finish") {
            finish = { reason: event.reason, usage: event.usage, ...(event.stopText === undefined ? {} : { stopText: event.stopText }) };
            break;
          }
          completionTokens += event.tokens.length;
          if (cut) continue; // draining after our own abort
          if (wantLogprobs && event.tokens.length > 0) yield { type: "logprobs", tokens: event.tokens };
          if (parser === undefined) {
            if (event.text !== "") yield { type: "text-delta", text: event.text };
            continue;
          }
          for (const out of calls.map(parser.push(event.text))) {
            yield out;
            if (cutAfterFirstCall && out.type === "tool-call-end") {
              cut = true;
              controller.abort(new Error("parallel_tool_calls is false: first tool call complete"));
              break;
            }
          }
        }
      } catch (error) {
        // An abort (ours or the caller's) may surface as an error, depending on the engine.
        if (!controller.signal.aborted) throw error;
        if (!(error instanceof EngineError) && !isAbortError(error)) throw error;
      }

      if (parser !== undefined && !cut) {
        for (const out of calls.map(parser.end({ truncated: finish?.reason === "length" }))) {
          if (cut) break;
          yield out;
          if (cutAfterFirstCall && out.type === "tool-call-end") cut = true;
        }
      }
      if (!started && !controller.signal.aborted) yield { type: "generation-start" };
      for (const w of warnings.splice(0)) yield { type: "warning", code: w.code, message: w.message };

      const engineReason: FinishReason = finish?.reason ?? "abort";
      const usage: Usage = finish?.usage ?? {
        promptTokens: prepared.promptTokens.length,
        completionTokens,
        cachedPromptTokens: 0,
      };
      const stopText = engineReason === "stop-string" ? finish?.stopText : undefined;
      yield { type: "finish", reason: chatFinishReason(engineReason, calls.completed > 0, cut), engineReason, usage, ...(stopText === undefined ? {} : { stopText }) };
    } finally {
      outerSignal?.removeEventListener("abort", onOuterAbort);
      if (!controller.signal.aborted && finish === undefined) controller.abort(new Error("chat stream closed early"));
    }
  }

  /** Run one generation to the end and accumulate it. */
  async complete(prepared: PreparedChat, options: ChatRunOptions = {}): Promise<ChatResult> {
    return collectChat(this.stream(prepared, options));
  }

  /** `sampling` with the format's call-open marker token banned (unchanged when the tag is not one token). */
  #banToolCallOpen(sampling: SamplingOptions | undefined): SamplingOptions | undefined {
    const id = this.engine.info.specialTokens.markers[this.format.toolCallSyntax.open];
    if (id === undefined) return sampling;
    return { ...sampling, logitBias: { ...sampling?.logitBias, [id]: -100 } };
  }

  #resolve(request: ChatRequest): { tools: readonly ToolDefinition[]; toolChoice: ToolChoice; responseFormat: ResponseFormat } {
    if (request.messages.length === 0) {
      throw new ChatError("'messages' must contain at least one message.", "invalid_request", "messages");
    }
    const declared = request.tools ?? [];
    const names = new Set<string>();
    declared.forEach((tool, i) => {
      if (names.has(tool.name)) {
        throw new ChatError(`Duplicate tool name '${tool.name}'.`, "invalid_request", `tools[${i}].function.name`);
      }
      names.add(tool.name);
    });
    const toolChoice: ToolChoice = request.toolChoice ?? { type: declared.length > 0 ? "auto" : "none" };
    switch (toolChoice.type) {
      case "auto":
      case "none":
        break;
      case "required":
        if (declared.length === 0) {
          throw new ChatError("tool_choice 'required' needs at least one tool in 'tools'.", "invalid_request", "tool_choice");
        }
        break;
      case "function":
        if (!names.has(toolChoice.name)) {
          throw new ChatError(
            `tool_choice names the function '${toolChoice.name}', which is not in 'tools'.`,
            "invalid_request",
            "tool_choice",
          );
        }
        break;
      default:
        toolChoice satisfies never;
    }
    const tools = toolChoice.type === "none" ? [] : declared;
    return { tools, toolChoice, responseFormat: request.responseFormat ?? { type: "text" } };
  }
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function chatFinishReason(engineReason: FinishReason, hasToolCalls: boolean, cut: boolean): ChatFinishReason {
  if (cut) return "tool_calls";
  switch (engineReason) {
    case "stop":
    case "stop-string":
      return hasToolCalls ? "tool_calls" : "stop";
    case "length":
      return "length";
    case "abort":
      return "abort";
    default:
      engineReason satisfies never;
      return "stop";
  }
}

/**
 * Maps parser events to chat events: assigns OpenAI indexes (0, 1, … over successful calls) and ids, and
 * guarantees that each call's argument fragments concatenate to its final arguments.
 */
class ToolCallTracker {
  completed = 0;
  readonly #open = new Map<number, { index: number; id: string; name: string; sent: string }>();
  #next = 0;

  constructor(private readonly createId: () => string) {}

  *map(events: readonly ToolCallParserEvent[]): Generator<ChatEvent, void, undefined> {
    for (const event of events) {
      switch (event.type) {
        case "text-delta":
          if (event.text !== "") yield { type: "text-delta", text: event.text };
          break;
        case "tool-call-start":
          yield this.#start(event.index, event.name);
          break;
        case "tool-call-delta": {
          const call = this.#open.get(event.index);
          if (call === undefined || event.argumentsFragment === "") break;
          call.sent += event.argumentsFragment;
          yield { type: "tool-call-delta", index: call.index, argumentsDelta: event.argumentsFragment };
          break;
        }
        case "tool-call-end": {
          let call = this.#open.get(event.index);
          if (call === undefined) {
            yield this.#start(event.index, event.name);
            call = this.#open.get(event.index);
          }
          if (call === undefined) break;
          if (event.arguments.startsWith(call.sent) && event.arguments.length > call.sent.length) {
            const rest = event.arguments.slice(call.sent.length);
            call.sent = event.arguments;
            yield { type: "tool-call-delta", index: call.index, argumentsDelta: rest };
          }
          this.#open.delete(event.index);
          this.completed++;
          yield { type: "tool-call-end", index: call.index, id: call.id, name: call.name, arguments: event.arguments };
          break;
        }
        case "error": {
          const { kind, raw, message, closed, name } = event.error;
          yield { type: "tool-call-error", kind, raw, message, closed, ...(name === undefined ? {} : { name }) };
          break;
        }
        default:
          event satisfies never;
      }
    }
  }

  /** Ids come from the service (its `createToolCallId`), not the parser, so they are the same across formats. */
  #start(parserIndex: number, name: string): ChatEvent {
    const call = { index: this.#next++, id: this.createId(), name, sent: "" };
    this.#open.set(parserIndex, call);
    return { type: "tool-call-start", index: call.index, id: call.id, name };
  }
}

/** Accumulate a chat event stream into a {@link ChatResult}. */
export async function collectChat(events: AsyncIterable<ChatEvent>): Promise<ChatResult> {
  let content = "";
  const calls: ChatToolCall[] = [];
  const logprobs: GeneratedToken[] = [];
  let sawLogprobs = false;
  const toolCallErrors: ChatToolCallError[] = [];
  const validationErrors: ChatValidationError[] = [];
  const warnings: Array<{ code: EngineWarningCode; message: string }> = [];
  for await (const event of events) {
    switch (event.type) {
      case "generation-start":
      case "tool-call-start":
      case "tool-call-delta":
        break;
      case "text-delta":
        content += event.text;
        break;
      case "tool-call-end":
        calls.push({ id: event.id, name: event.name, arguments: event.arguments });
        break;
      case "logprobs":
        sawLogprobs = true;
        logprobs.push(...event.tokens);
        break;
      case "tool-call-error": {
        const { type: _type, ...error } = event;
        toolCallErrors.push(error);
        break;
      }
      case "warning":
        warnings.push({ code: event.code, message: event.message });
        break;
      case "validation-error": {
        const { type: _type, ...failure } = event;
        validationErrors.push(failure);
        break;
      }
      case "finish":
        return {
          content: calls.length > 0 ? content.trim() : content,
          toolCalls: calls,
          finishReason: event.reason,
          usage: event.usage,
          ...(sawLogprobs ? { logprobs } : {}),
          ...(toolCallErrors[0] === undefined
            ? {}
            : { toolCallError: { kind: toolCallErrors[0].kind, raw: toolCallErrors[0].raw }, toolCallErrors }),
          ...(validationErrors.length === 0 ? {} : { validationErrors }),
          ...(warnings.length === 0 ? {} : { warnings }),
        };
      default:
        event satisfies never;
    }
  }
  throw new Error("chat stream ended without a finish event");
}

const validator = new JsonValidator();

function check(schema: unknown, value: unknown): ValidationResult | { readonly schemaError: string } {
  try {
    return validator.validate(schema, value);
  } catch (error) {
    if (error instanceof InvalidSchemaError) return { schemaError: error.message };
    throw error;
  }
}

/**
 * Refuse a request whose schemas have a pattern the validator cannot run in linear time (lookaround,
 * backreferences): it could be neither enforced by a grammar nor checked safely (docs/decisions/0053).
 * Other schema errors are reported after generation, as `validation-error`s.
 */
function refuseUncheckablePatterns(tools: readonly ToolDefinition[], responseFormat: ResponseFormat): void {
  const schemas: Array<readonly [unknown, string]> = tools.map((t, i) => [t.parameters, `tools[${i}].function.parameters`] as const);
  if (responseFormat.type === "json_schema") schemas.push([responseFormat.schema, "response_format.json_schema.schema"]);
  for (const [schema, param] of schemas) {
    if (schema === undefined) continue;
    try {
      validator.compile(schema);
    } catch (error) {
      if (error instanceof UnsupportedPatternError) {
        throw new ChatError(`Unsupported 'pattern': ${error.message}`, "unsupported", pointerToParam(param, error.schemaPath), { cause: error });
      }
      if (!(error instanceof InvalidSchemaError)) throw error;
    }
  }
}

/** A completed call against its tool's `parameters` (a tool without parameters takes any object). */
function validateToolCall(
  call: { readonly index: number; readonly id: string; readonly name: string; readonly arguments: string },
  tool: ToolDefinition | undefined,
): ChatValidationError | undefined {
  const where = { target: "tool-call" as const, index: call.index, id: call.id, name: call.name };
  if (tool === undefined) return { ...where, message: `unknown tool ${JSON.stringify(call.name)}`, issues: [] };
  if (tool.parameters === undefined) return undefined;
  let args: unknown;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    return { ...where, message: "the arguments are not JSON", issues: [] };
  }
  const result = check(tool.parameters, args);
  if ("schemaError" in result) return { ...where, message: `the parameters schema cannot be checked: ${result.schemaError}`, issues: [] };
  if (result.valid) return undefined;
  return { ...where, message: `invalid arguments: ${formatIssues(result.issues)}`, issues: result.issues };
}

/** A JSON-mode answer: JSON (strict), an object for `json_object`, valid against the schema for `json_schema`. */
function validateResponse(content: string, format: Exclude<ResponseFormat, { type: "text" }>): ChatValidationError | undefined {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    return { target: "response", message: "the answer is not JSON", issues: [] };
  }
  const schema = format.type === "json_schema" ? format.schema : { type: "object" };
  const result = check(schema, value);
  if ("schemaError" in result) return { target: "response", message: `the response schema cannot be checked: ${result.schemaError}`, issues: [] };
  if (result.valid) return undefined;
  return { target: "response", message: `the answer does not match the schema: ${formatIssues(result.issues)}`, issues: result.issues };
}
