/**
 * Function-calling and JSON-mode evals: render each case with the Hermes prompt formats (src/hermes),
 * generate greedily through the {@link Engine} port, parse `<tool_call>` blocks with the Hermes parser
 * and score with the pure checkers. No constrained decoding yet (the grammar layer comes later), so
 * these numbers measure the model's unconstrained formatting as well.
 */
import type { Engine } from "../engine/types.js";
import { renderPrompt, type PromptStyle } from "../hermes/prompt.js";
import type { HermesProfileId } from "../hermes/profiles.js";
import { parseToolCalls, toolCallArguments } from "../hermes/tool-calls.js";
import type { ToolInput } from "../hermes/tools.js";
import type { PromptText } from "../prompt/text.js";
import type { FunctionCallingCase, FunctionCallingCategory } from "./function-calling/cases.js";
import { FUNCTION_CALLING_CATEGORIES } from "./function-calling/cases.js";
import { checkFunctionCalls, type CallErrorKind, type FunctionCallCheck, type ModelCall } from "./function-calling/checker.js";
import type { JsonModeCase } from "./json-mode/cases.js";
import { checkJsonMode, type JsonModeCheck } from "./json-mode/checker.js";
import { mapConcurrent } from "./pool.js";
import { SchemaValidator } from "./schema-validator.js";

export interface GenerationEvalOptions {
  readonly signal?: AbortSignal;
  /** Profile for the prompt (tool-response role). Default `hermes-3`. */
  readonly profile?: HermesProfileId;
  /** Function-calling prompt style: `card` (the model cards' system prompt) or `template` (the tool_use template). Default `card`. */
  readonly style?: PromptStyle;
  /** The tool_use template text of the `template` style (from the composition root's setup). Default: the official Hermes template. */
  readonly template?: string;
  /** Token budget per answer. Default 512. */
  readonly maxTokens?: number;
  /** Concurrent generations. Default: the engine's sequence count. */
  readonly concurrency?: number;
  /** Called after each case. Default none. */
  readonly onCase?: (done: number, total: number) => void;
}

async function generateGreedy(engine: Engine, prompt: PromptText, maxTokens: number, signal: AbortSignal | undefined): Promise<string> {
  let text = "";
  for await (const event of engine.generate({ prompt, maxTokens, sampling: { doSample: false, temperature: 0 }, ...(signal !== undefined ? { signal } : {}) })) {
    if (event.type === "text-delta") text += event.text;
  }
  return text;
}

const bosText = (engine: Engine): string => engine.info.specialTokens.bos?.text ?? "";

export interface CategoryRate {
  readonly n: number;
  readonly passed: number;
  readonly rate: number;
}

export interface FunctionCallingCaseResult extends FunctionCallCheck {
  readonly output: string;
  readonly calls: readonly ModelCall[];
}

export interface FunctionCallingReport {
  readonly total: CategoryRate;
  readonly byCategory: Partial<Record<FunctionCallingCategory, CategoryRate>>;
  /** How often each error kind occurred over all cases. */
  readonly errorKinds: Partial<Record<CallErrorKind, number>>;
  readonly cases: readonly FunctionCallingCaseResult[];
}

const rate = (n: number, passed: number): CategoryRate => ({ n, passed, rate: n === 0 ? 0 : passed / n });

/** Scores already generated outputs (pure apart from ajv): parse the tool calls, then check them. */
export function scoreFunctionCallingOutput(testCase: FunctionCallingCase, output: string, validator: SchemaValidator): FunctionCallingCaseResult {
  const parsed = parseToolCalls(output, { tools: testCase.tools.map((t) => t.function.name) });
  const calls: ModelCall[] = parsed.toolCalls.map((call) => ({ name: call.name, arguments: toolCallArguments(call) }));
  return { ...checkFunctionCalls(testCase, calls, validator, parsed.errors.length), output, calls };
}

export function summarizeFunctionCalling(results: readonly FunctionCallingCaseResult[]): FunctionCallingReport {
  const byCategory: Partial<Record<FunctionCallingCategory, CategoryRate>> = {};
  for (const cat of FUNCTION_CALLING_CATEGORIES) {
    const of = results.filter((r) => r.category === cat);
    if (of.length > 0) byCategory[cat] = rate(of.length, of.filter((r) => r.pass).length);
  }
  const errorKinds: Partial<Record<CallErrorKind, number>> = {};
  for (const r of results) for (const e of r.errors) errorKinds[e.kind] = (errorKinds[e.kind] ?? 0) + 1;
  return { total: rate(results.length, results.filter((r) => r.pass).length), byCategory, errorKinds, cases: results };
}

export async function runFunctionCallingEval(engine: Engine, cases: readonly FunctionCallingCase[], options: GenerationEvalOptions = {}): Promise<FunctionCallingReport> {
  const validator = new SchemaValidator();
  let done = 0;
  const results = await mapConcurrent(cases, options.concurrency ?? Math.max(1, engine.stats().sequencesTotal), async (testCase) => {
    options.signal?.throwIfAborted();
    const prompt = renderPrompt({
      messages: testCase.messages,
      // zod's optional fields are `T | undefined`; the values are plain OpenAI tool objects.
      tools: testCase.tools as readonly ToolInput[],
      style: options.style ?? "card",
      profile: options.profile ?? "hermes-3",
      ...(options.template === undefined ? {} : { template: options.template }),
      bosToken: bosText(engine),
    });
    const output = await generateGreedy(engine, prompt, options.maxTokens ?? 512, options.signal);
    options.onCase?.(++done, cases.length);
    return scoreFunctionCallingOutput(testCase, output, validator);
  });
  return summarizeFunctionCalling(results);
}

export interface JsonModeCaseResult extends JsonModeCheck {
  readonly output: string;
}

export interface JsonModeReport {
  readonly total: number;
  /** Outputs that parsed as JSON. */
  readonly parsed: CategoryRate;
  /** Outputs that parsed and validated against the schema. */
  readonly schemaValid: CategoryRate;
  /** parsed, schema-valid and every gold leaf matched. */
  readonly passed: CategoryRate;
  /** Gold leaves matched over all cases. */
  readonly fieldAccuracy: number;
  readonly cases: readonly JsonModeCaseResult[];
}

export function summarizeJsonMode(results: readonly JsonModeCaseResult[]): JsonModeReport {
  const n = results.length;
  const fieldsTotal = results.reduce((a, r) => a + r.fieldsTotal, 0);
  const fieldsMatched = results.reduce((a, r) => a + r.fieldsMatched, 0);
  return {
    total: n,
    parsed: rate(n, results.filter((r) => r.parsed).length),
    schemaValid: rate(n, results.filter((r) => r.schemaValid).length),
    passed: rate(n, results.filter((r) => r.pass).length),
    fieldAccuracy: fieldsTotal === 0 ? 0 : fieldsMatched / fieldsTotal,
    cases: results,
  };
}

export async function runJsonModeEval(engine: Engine, cases: readonly JsonModeCase[], options: GenerationEvalOptions = {}): Promise<JsonModeReport> {
  const validator = new SchemaValidator();
  let done = 0;
  const results = await mapConcurrent(cases, options.concurrency ?? Math.max(1, engine.stats().sequencesTotal), async (testCase) => {
    options.signal?.throwIfAborted();
    const prompt = renderPrompt({
      messages: testCase.messages,
      jsonSchema: testCase.schema,
      profile: options.profile ?? "hermes-3",
      bosToken: bosText(engine),
    });
    const output = await generateGreedy(engine, prompt, options.maxTokens ?? 512, options.signal);
    options.onCase?.(++done, cases.length);
    return { ...checkJsonMode(testCase, output, validator), output };
  });
  return summarizeJsonMode(results);
}
