/**
 * The vLLM dialect, written from vLLM's documented OpenAI-compatible server (v0.11–v0.12:
 * `docs/serving/openai_compatible_server.md`, `docs/features/structured_outputs.md`,
 * `vllm/entrypoints/openai/protocol.py`); checked against the contract fixture
 * `test/fixtures/vllm/contract.json` here (vLLM cannot run without a GPU) and against a real
 * `vllm serve` by the `bench/gpu/` runbook.
 *
 * - `/v1/models` (`max_model_len`), `/version`;
 * - `/tokenize` (`prompt`, `add_special_tokens: false`; a Hugging Face tokenizer always matches
 *   added tokens, so plain text reaches it already cut at every marker text by the engine) and
 *   `/detokenize`;
 * - `/v1/completions` with a token-id prompt, streamed with usage, `skip_special_tokens: false` and
 *   `spaces_between_special_tokens: false` (markers come back as their text),
 *   `return_token_ids` and `return_tokens_as_token_ids` (ids from either, whichever the version
 *   has), `logprobs`, HF sampling fields (`top_k` 0 → -1 = off), `stop_token_ids`;
 * - constraints as `structured_outputs`: `grammar` (GBNF, read by xgrammar) for eager grammars and
 *   a `structural_tag` for lazy tool calls (`<tool_call>` trigger, one structure per tool);
 * - `prompt_logprobs` → `loglikelihood` (so `talaria eval` runs on a vLLM deployment);
 * - `/health`, `/metrics` (`vllm:num_requests_running`, `vllm:num_requests_waiting`).
 */
import type { GrammarConstraint, ToolCallSyntax } from "../../grammar/constraint.js";
import { portableGbnf } from "../../grammar/index.js";
import { LruMap } from "../../util/lru.js";
import { EngineError, type EngineCapabilities, type TokenId, type TokenLogprob } from "../types.js";
import { BackendError, type BackendHttp } from "./http.js";
import { prometheusSum, type BackendDescription, type BackendDialect, type DialectEvent, type DialectGenerateRequest, type DialectToken, type PromptScores } from "./dialect.js";

/** What vLLM can do behind the engine port. */
export const VLLM_CAPABILITIES: EngineCapabilities = {
  grammar: true,
  // Lazy tool calls only (a structural tag); other lazy grammars are refused by name.
  lazyGrammar: true,
  jumpForward: false,
  logprobs: true,
  logprobsWithGrammar: true,
  loglikelihood: true,
  tokenIdPrompts: true,
  sampling: true,
};

interface ModelsAnswer {
  data?: { id?: string; root?: string; max_model_len?: number; owned_by?: string }[];
}

interface CompletionChoice {
  index?: number;
  text?: string;
  token_ids?: number[] | null;
  logprobs?: { tokens?: string[]; token_logprobs?: (number | null)[]; top_logprobs?: (Record<string, number> | null)[] } | null;
  finish_reason?: string | null;
  prompt_logprobs?: (Record<string, { logprob: number; rank?: number | null; decoded_token?: string }> | null)[] | null;
}

interface CompletionChunk {
  choices?: CompletionChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } | null } | null;
  error?: { message?: string };
}

/** `"token_id:123"` → 123 (vLLM's `return_tokens_as_token_ids` spelling). */
function idOf(token: string): number | undefined {
  const m = /^token_id:(\d+)$/.exec(token);
  return m === null ? undefined : Number(m[1]);
}

/** The structural tag of lazy tool calls: free text until `syntax.open`, then one declared tool's call. */
export function toolCallStructuralTag(syntax: ToolCallSyntax, tools: readonly { readonly name: string; readonly parameters?: unknown }[]): string {
  const e = syntax.envelope;
  return JSON.stringify({
    type: "structural_tag",
    structures: tools.map((t) => ({
      begin: `${syntax.open}${syntax.afterOpen}{"${e.nameKey}"${e.keySeparator}${JSON.stringify(t.name)}${e.itemSeparator}"${e.argumentsKey}"${e.keySeparator}`,
      schema: t.parameters ?? { type: "object", properties: {}, additionalProperties: false },
      end: `}${syntax.beforeClose}${syntax.close}`,
    })),
    triggers: [syntax.open],
  });
}

/** GBNF as xgrammar reads it (`.` → `[^]`), cached by text. */
const portable = new LruMap<string, string>({ max: 64 });
function xgrammarText(gbnf: string): string {
  let out = portable.get(gbnf);
  if (out === undefined) {
    out = portableGbnf(gbnf);
    portable.set(gbnf, out);
  }
  return out;
}

/** The `structured_outputs` of a constraint; a lazy grammar other than tool calls is refused. */
export function vllmStructuredOutputs(grammar: GrammarConstraint): Record<string, unknown> {
  const lazy = (grammar.lazyTriggers ?? []).length > 0;
  if (!lazy) return { grammar: xgrammarText(grammar.gbnf) };
  const intent = grammar.intent;
  if (intent.type === "tool-calls" && intent.lazy) return { structural_tag: toolCallStructuralTag(intent.syntax, intent.tools) };
  throw new EngineError("the vllm engine supports lazy grammars for tool calls only (a structural tag), not a lazy raw grammar", "unsupported");
}

/** The `/v1/completions` body (exported for the contract test). */
export function vllmCompletionBody(model: string, request: DialectGenerateRequest): Record<string, unknown> {
  const s = request.sampling;
  const body: Record<string, unknown> = {
    model,
    prompt: request.prompt,
    max_tokens: request.maxTokens,
    stream: true,
    stream_options: { include_usage: true },
    temperature: s.greedy ? 0 : s.temperature,
    top_p: s.topP,
    top_k: s.topK === 0 ? -1 : s.topK,
    min_p: s.minP,
    repetition_penalty: s.repetitionPenalty,
    frequency_penalty: s.frequencyPenalty,
    presence_penalty: s.presencePenalty,
    skip_special_tokens: false,
    spaces_between_special_tokens: false,
    return_token_ids: true,
    return_tokens_as_token_ids: true,
    // The sampled token's logprob always (it carries the token id on versions without return_token_ids).
    logprobs: request.topLogprobs,
    stop_token_ids: [...new Set([...request.endOfGeneration, ...request.stopTokens])],
    // vLLM's default, sent explicitly: a stop token's text is left out of `text` (`generate` relies on it).
    include_stop_str_in_output: false,
  };
  if (s.seed !== undefined) body["seed"] = s.seed;
  if (s.logitBias.size > 0) body["logit_bias"] = Object.fromEntries([...s.logitBias].map(([t, v]) => [String(t), v]));
  if (request.grammar !== undefined) body["structured_outputs"] = vllmStructuredOutputs(request.grammar);
  return body;
}

function tokensOf(choice: CompletionChoice, topLogprobs: number): DialectToken[] {
  const lp = choice.logprobs ?? undefined;
  const fromLogprobs = (lp?.tokens ?? []).map(idOf);
  const ids: (number | undefined)[] = choice.token_ids !== undefined && choice.token_ids !== null ? choice.token_ids : fromLogprobs;
  return ids.map((id, i) => {
    if (id === undefined) throw new BackendError("vLLM streamed a token without its id (is return_tokens_as_token_ids honoured?)", "protocol");
    const logprob = lp?.token_logprobs?.[i];
    const top = lp?.top_logprobs?.[i];
    const topList: TokenLogprob[] | undefined =
      topLogprobs > 0 && top !== null && top !== undefined
        ? Object.entries(top)
            .map(([k, v]) => ({ token: idOf(k) ?? -1, text: k, logprob: v }))
            .filter((t) => t.token >= 0)
            .sort((a, b) => b.logprob - a.logprob)
            .slice(0, topLogprobs)
        : undefined;
    return { id, ...(typeof logprob === "number" ? { logprob } : {}), ...(topList === undefined ? {} : { top: topList }) };
  });
}

/** A vLLM dialect for one served model (`undefined`: the first model `/v1/models` lists). */
export function createVllmDialect(modelName?: string): BackendDialect {
  let model = modelName;
  const name = (): string => {
    if (model === undefined) throw new BackendError("vLLM model name unknown: describe() first", "protocol");
    return model;
  };
  // With return_tokens_as_token_ids, top-logprob alternatives come as "token_id:N": their texts are
  // looked up once per id (/detokenize) and kept.
  const pieces = new LruMap<number, string>({ max: 16_384 });
  const withPieceTexts = async (http: BackendHttp, tokens: DialectToken[], signal?: AbortSignal): Promise<DialectToken[]> => {
    const missing = [...new Set(tokens.flatMap((t) => (t.top ?? []).map((a) => a.token)).filter((id) => pieces.get(id) === undefined))];
    const texts = await Promise.all(missing.map((id) => dialect.detokenize(http, [id], signal).catch(() => undefined)));
    missing.forEach((id, i) => {
      const text = texts[i];
      if (text !== undefined) pieces.set(id, text);
    });
    return tokens.map((t) => (t.top === undefined ? t : { ...t, top: t.top.map((a) => ({ ...a, text: pieces.get(a.token) ?? a.text })) }));
  };
  // vLLM before 0.11 ignores `structured_outputs` silently: grammars are then refused, never run unconstrained.
  let structured = true;
  const dialect: BackendDialect = {
    kind: "vllm",
    get capabilities(): EngineCapabilities {
      return structured ? VLLM_CAPABILITIES : { ...VLLM_CAPABILITIES, grammar: false, lazyGrammar: false, logprobsWithGrammar: false };
    },

    async describe(http, signal): Promise<BackendDescription> {
      const models = await http.getJson<ModelsAnswer>("/v1/models", signal);
      const list = models.data ?? [];
      const chosen = model === undefined ? list[0] : list.find((m) => m.id === model);
      if (chosen?.id === undefined) {
        throw new BackendError(
          model === undefined ? `${http.origin}/v1/models lists no model` : `${http.origin} does not serve ${JSON.stringify(model)} (it serves ${list.map((m) => m.id).join(", ") || "nothing"})`,
          "protocol",
        );
      }
      model = chosen.id;
      if (typeof chosen.max_model_len !== "number") throw new BackendError(`${http.origin}/v1/models gives no max_model_len for ${chosen.id}: is this vLLM?`, "protocol");
      const version = await http.getJson<{ version?: string }>("/version", signal).catch(() => ({}) as { version?: string });
      const v = /^(\d+)\.(\d+)/.exec(version.version ?? "");
      if (v !== null && (Number(v[1]) === 0 && Number(v[2]) < 11)) structured = false;
      // vLLM does not say its BOS text: the id /tokenize adds with add_special_tokens, detokenized.
      const withBos = await http.postJson<{ tokens?: number[] }>("/tokenize", { model: chosen.id, prompt: "x", add_special_tokens: true }, signal).catch(() => undefined);
      const without = await http.postJson<{ tokens?: number[] }>("/tokenize", { model: chosen.id, prompt: "x", add_special_tokens: false }, signal).catch(() => undefined);
      let bosText: string | undefined;
      const a = withBos?.tokens ?? [];
      const b = without?.tokens ?? [];
      if (a.length === b.length + 1 && a[0] !== b[0]) bosText = await dialect.detokenize(http, [a[0] as number], signal).catch(() => undefined);
      return {
        kind: "vllm",
        modelId: chosen.id,
        ...(chosen.root === undefined ? {} : { modelPath: chosen.root }),
        contextSize: chosen.max_model_len,
        ...(bosText === undefined || bosText === "" ? {} : { bosText }),
        ...(version.version === undefined ? {} : { version: `vllm ${version.version}` }),
      };
    },

    async tokenize(http, pieces, signal): Promise<TokenId[]> {
      const results = await Promise.all(
        pieces.map((p) => http.postJson<{ tokens?: unknown }>("/tokenize", { model: name(), prompt: p.text, add_special_tokens: false }, signal)),
      );
      const out: TokenId[] = [];
      for (const r of results) {
        if (!Array.isArray(r.tokens)) throw new BackendError("vLLM /tokenize answered without tokens", "protocol");
        for (const t of r.tokens) out.push(t as number);
      }
      return out;
    },

    async detokenize(http, tokens, signal): Promise<string> {
      const r = await http.postJson<{ prompt?: unknown }>("/detokenize", { model: name(), tokens }, signal);
      if (typeof r.prompt !== "string") throw new BackendError("vLLM /detokenize answered without prompt", "protocol");
      return r.prompt;
    },

    async *generate(http, request, signal): AsyncIterable<DialectEvent> {
      let finish: string | null | undefined;
      const stops = new Set([...request.endOfGeneration, ...request.stopTokens]);
      for await (const event of http.stream("/v1/completions", vllmCompletionBody(name(), request), signal)) {
        let chunk: CompletionChunk;
        try {
          chunk = JSON.parse(event.data) as CompletionChunk;
        } catch (error) {
          throw new BackendError("vLLM streamed an event that is not JSON", "protocol", undefined, undefined, { cause: error });
        }
        if (chunk.error !== undefined) throw new BackendError(`vLLM failed mid-stream: ${chunk.error.message ?? "unknown error"}`, "broken", undefined, chunk.error.message);
        const choice = chunk.choices?.[0];
        if (choice !== undefined) {
          const tokens = request.topLogprobs > 0 ? await withPieceTexts(http, tokensOf(choice, request.topLogprobs), signal) : tokensOf(choice, request.topLogprobs);
          const text = choice.text ?? "";
          // A chunk may end in the stop token (`--stream-interval`); its text is that of the tokens before
          // it (include_stop_str_in_output: false), so the stop token goes alone: the engine drops its text.
          const at = tokens.findIndex((t) => stops.has(t.id));
          if (at > 0) {
            yield { type: "tokens", tokens: tokens.slice(0, at), text };
            yield { type: "tokens", tokens: tokens.slice(at), text: "" };
          } else if (tokens.length > 0 || text !== "") {
            yield { type: "tokens", tokens, text };
          }
          if (choice.finish_reason !== null && choice.finish_reason !== undefined) finish = choice.finish_reason;
        }
        if (chunk.usage !== undefined && chunk.usage !== null) {
          const cached = chunk.usage.prompt_tokens_details?.cached_tokens;
          yield {
            type: "end",
            reason: finish === "length" ? "length" : "stop",
            ...(chunk.usage.prompt_tokens === undefined ? {} : { promptTokens: chunk.usage.prompt_tokens }),
            ...(typeof cached === "number" ? { cachedPromptTokens: cached } : {}),
          };
          return;
        }
      }
      if (finish !== undefined && finish !== null) {
        yield { type: "end", reason: finish === "length" ? "length" : "stop" };
        return;
      }
      throw new BackendError("vLLM ended its stream without a finish reason", "broken");
    },

    async scorePrompt(http, tokens, from, signal): Promise<PromptScores> {
      const r = await http.postJson<CompletionChunk>("/v1/completions", { model: name(), prompt: tokens, max_tokens: 1, temperature: 0, prompt_logprobs: 1, return_tokens_as_token_ids: true }, signal);
      const positions = r.choices?.[0]?.prompt_logprobs;
      if (!Array.isArray(positions) || positions.length !== tokens.length) throw new BackendError("vLLM answered prompt_logprobs with the wrong length", "protocol");
      const logprobs: number[] = [];
      const greedy: boolean[] = [];
      for (let i = from; i < tokens.length; i++) {
        const entry = positions[i]?.[String(tokens[i])];
        if (entry === undefined) throw new BackendError(`vLLM gave no prompt logprob for token ${tokens[i]} at position ${i}`, "protocol");
        logprobs.push(entry.logprob);
        greedy.push(entry.rank === 1);
      }
      return { logprobs, greedy };
    },

    async load(http, signal) {
      const r = await http.get("/metrics", signal).catch(() => undefined);
      if (r === undefined || r.status !== 200) return undefined;
      const running = prometheusSum(r.text, "vllm:num_requests_running");
      const waiting = prometheusSum(r.text, "vllm:num_requests_waiting");
      return running === undefined ? undefined : { running, waiting: waiting ?? 0 };
    },

    async healthy(http, signal) {
      const r = await http.get("/health", signal).catch(() => undefined);
      return r?.status === 200;
    },
  };
  return dialect;
}
