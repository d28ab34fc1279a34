/**
 * JSON mode (parity with Hermes-Function-Calling `jsonmode.py`): the Hermes JSON-mode system prompt
 * for the schema, the schema's grammar, and validation of the answer before it is returned. Without a
 * schema: any JSON object. Built on the chat service like the agent loop.
 */
import { createHermesChat } from "../chat/hermes-chat.js";
import type { ChatFinishReason, ChatMessage, ResponseFormat } from "../chat/types.js";
import type { Engine, SamplingOptions, Usage } from "../engine/types.js";
import { literalToPlain, parseJsonOrPython, type HermesProfileId } from "../hermes/index.js";
import { JsonValidator, formatIssues, type ValidationIssue } from "../chat/validate.js";

export interface JsonModeOptions {
  readonly engine: Engine;
  /** JSON Schema of the answer. Default: any JSON object (`json_object`). */
  readonly schema?: Readonly<Record<string, unknown>>;
  /** The user's request, appended as a user message. */
  readonly query?: string;
  /** Earlier conversation (before `query`). Default none. */
  readonly messages?: readonly ChatMessage[];
  /** Model profile. Default: detected from the model's metadata. */
  readonly profile?: HermesProfileId;
  /** Constrain decoding with the schema's grammar. Default true. */
  readonly constrained?: boolean;
  /** OpenAI strict semantics for the grammar (no undeclared keys). Default false. */
  readonly strict?: boolean;
  /** Extra attempts after an invalid answer (a user message gives the error, as jsonmode.py does). Default 0. */
  readonly retries?: number;
  /** Most tokens per attempt. Default 1024. */
  readonly maxTokens?: number;
  readonly sampling?: SamplingOptions;
  readonly signal?: AbortSignal;
}

export type JsonModeResult =
  | {
      readonly valid: true;
      readonly value: unknown;
      /** The model's text. */
      readonly text: string;
      readonly attempts: number;
      readonly finishReason: ChatFinishReason;
      readonly usage: Usage;
    }
  | {
      readonly valid: false;
      /** Why the last attempt failed: not JSON, or schema issues. */
      readonly error: string;
      readonly issues?: readonly ValidationIssue[];
      /** Parsed value when the text was JSON but failed the schema. */
      readonly value?: unknown;
      readonly text: string;
      readonly attempts: number;
      readonly finishReason: ChatFinishReason;
      readonly usage: Usage;
    };

const FENCE = /```(?:json)?\s*\n([\s\S]*?)\n?```/;

/** The JSON value in a model answer: the whole text, else a ```json fence; JSON first, then a Python literal (as jsonmode.py). */
export function extractJsonAnswer(text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } {
  const candidates = [text.trim()];
  const fenced = FENCE.exec(text);
  if (fenced?.[1] !== undefined) candidates.push(fenced[1].trim());
  for (const candidate of candidates) {
    if (candidate === "") continue;
    const parsed = parseJsonOrPython(candidate, false);
    if (parsed !== undefined && parsed[0] !== undefined) return { ok: true, value: literalToPlain(parsed[0]) };
  }
  return { ok: false };
}

const validator = new JsonValidator();

/** Ask for JSON and validate it. Throws for invalid options, a schema that cannot be compiled or enforced, or engine errors. */
export async function generateJson(options: JsonModeOptions): Promise<JsonModeResult> {
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be an integer >= 0 (got ${retries})`);
  const schema = options.schema ?? { type: "object" };
  const validate = validator.compile(schema);
  const { service } = createHermesChat(options.engine, {
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    constrained: options.constrained !== false,
    validate: false, // validated below (with jsonmode.py's lenient extraction)
  });
  const responseFormat: ResponseFormat =
    options.schema === undefined
      ? { type: "json_object" }
      : { type: "json_schema", name: "response", schema: options.schema, strict: options.strict ?? false };
  const messages: ChatMessage[] = [...(options.messages ?? [])];
  if (options.query !== undefined) messages.push({ role: "user", content: options.query });
  if (messages.length === 0) throw new RangeError("give a query or messages");

  let usage: Usage = { promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 };
  for (let attempt = 1; ; attempt++) {
    const prepared = await service.prepare({
      messages,
      responseFormat,
      maxTokens: options.maxTokens ?? 1024,
      ...(options.sampling === undefined ? {} : { sampling: options.sampling }),
    });
    const result = await service.complete(prepared, options.signal === undefined ? {} : { signal: options.signal });
    usage = {
      promptTokens: usage.promptTokens + result.usage.promptTokens,
      completionTokens: usage.completionTokens + result.usage.completionTokens,
      cachedPromptTokens: usage.cachedPromptTokens + result.usage.cachedPromptTokens,
    };
    const text = result.content;
    const common = { text, attempts: attempt, finishReason: result.finishReason, usage };
    const parsed = extractJsonAnswer(text);
    let failure: JsonModeResult;
    if (!parsed.ok) {
      failure = { valid: false, error: result.finishReason === "length" ? "the answer was cut by maxTokens before the JSON was complete" : "the answer is not JSON", ...common };
    } else {
      const checked = validate(parsed.value);
      if (checked.valid) return { valid: true, value: parsed.value, ...common };
      failure = { valid: false, error: `the answer does not match the schema: ${formatIssues(checked.issues)}`, issues: checked.issues, value: parsed.value, ...common };
    }
    if (attempt > retries || result.finishReason === "abort" || options.signal?.aborted === true) return failure;
    messages.push({ role: "assistant", content: text });
    messages.push({ role: "user", content: `That answer is invalid (${failure.error}). Answer again with only JSON that adheres to the schema.` });
  }
}
