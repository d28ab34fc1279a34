/**
 * The llama.cpp `llama-server` dialect (tools/server/README.md of the llama.cpp release that
 * node-llama-cpp 3.22.1 bundles, commit de3ff81):
 *
 * - `/props` (slot context, slots, chat template, BOS/EOS text, model path), `/v1/models` (`meta`:
 *   vocabulary size, training context, parameters);
 * - `/tokenize` with `content` as a mixed array (each string tokenized on its own, ids passed
 *   through) and `parse_special`; `/detokenize`;
 * - `/completion` with a token-id prompt, streamed (`stream`, `return_tokens`), `n_predict`,
 *   `cache_prompt`, every sampler value sent explicitly with HF's defaults and order (`samplers`),
 *   `n_probs` (full-vocabulary softmax before sampling), `logit_bias`, `grammar`, and for lazy
 *   grammars `grammar_lazy` + `grammar_triggers` (a pattern trigger, so the trigger matches whether
 *   the model spells it as one special token or as plain text) with the grammar rewritten to
 *   include the trigger (llama.cpp's convention; see `prefixGrammarWithTriggers`);
 *   `preserved_tokens` makes the server render the marker tokens as text in `content`;
 * - `/health`, `/metrics` (`llamacpp:requests_processing`, `llamacpp:requests_deferred`).
 */
import { prefixGrammarWithTriggers } from "../../grammar/index.js";
import { LruMap } from "../../util/lru.js";
import { escapeRegExp } from "../plain-text-guard.js";
import type { EngineCapabilities, TokenId, TokenLogprob } from "../types.js";
import { BackendError, type BackendHttp } from "./http.js";
import { prometheusSum, type BackendDescription, type BackendDialect, type BackendLoad, type DialectEvent, type DialectGenerateRequest, type TokenizePiece } from "./dialect.js";

/** What llama-server can do behind the engine port. */
export const LLAMA_SERVER_CAPABILITIES: EngineCapabilities = {
  grammar: true,
  lazyGrammar: true,
  jumpForward: false,
  logprobs: true,
  logprobsWithGrammar: true,
  // llama-server returns no prompt log-probabilities.
  loglikelihood: false,
  tokenIdPrompts: true,
  sampling: true,
};

interface PropsAnswer {
  default_generation_settings?: { n_ctx?: number };
  total_slots?: number;
  model_path?: string;
  model_alias?: string;
  chat_template?: string;
  bos_token?: string;
  eos_token?: string;
  build_info?: string;
}

interface ModelsAnswer {
  data?: { id?: string; meta?: { n_vocab?: number; n_ctx_train?: number; n_params?: number } }[];
}

interface StreamChunk {
  content?: string;
  tokens?: number[];
  stop?: boolean;
  stop_type?: string;
  tokens_evaluated?: number;
  tokens_cached?: number;
  tokens_predicted?: number;
  truncated?: boolean;
  timings?: { cache_n?: number; prompt_n?: number };
  completion_probabilities?: { id: number; token: string; logprob: number; top_logprobs?: { id: number; token: string; logprob: number }[] }[];
  error?: { message?: string; code?: number; type?: string };
}

/** Lazy grammars rewritten into llama.cpp's convention, by GBNF text and triggers. */
const prefixed = new LruMap<string, string>({ max: 64 });

function lazyGrammar(gbnf: string, triggers: readonly string[]): string {
  const key = `${triggers.join("\u0000")}\u0001${gbnf}`;
  let out = prefixed.get(key);
  if (out === undefined) {
    out = prefixGrammarWithTriggers(gbnf, triggers);
    prefixed.set(key, out);
  }
  return out;
}


/** The `/completion` body for a request (exported for the dialect's unit test). */
export function llamaServerCompletionBody(request: DialectGenerateRequest): Record<string, unknown> {
  const s = request.sampling;
  const body: Record<string, unknown> = {
    prompt: request.prompt,
    n_predict: request.maxTokens,
    stream: true,
    return_tokens: true,
    cache_prompt: true,
    // HF semantics (docs/decisions/0013): temperature → top-k → top-p → min-p, penalties first (the
    // penalties sampler always runs before the chain in llama.cpp). Every value explicit, never the
    // server's defaults (top_k 40, top_p 0.95, min_p 0.05, temperature 0.8).
    // Greedy: top-k 1 alone (an O(n) selection). A chain over the whole vocabulary would sort all
    // 128k candidates every token (2.5 ms against 1 ms per token on the tiny model; docs/performance.md).
    samplers: s.greedy ? ["top_k"] : ["temperature", "top_k", "top_p", "min_p"],
    temperature: s.greedy ? 0 : s.temperature,
    top_k: s.greedy ? 1 : s.topK,
    top_p: s.topP,
    min_p: s.minP,
    typical_p: 1,
    repeat_penalty: s.repetitionPenalty,
    repeat_last_n: request.prompt.length + request.maxTokens, // HF: over the whole prompt and output
    frequency_penalty: s.frequencyPenalty,
    presence_penalty: s.presencePenalty,
    dry_multiplier: 0,
    xtc_probability: 0,
    mirostat: 0,
    n_probs: request.topLogprobs > 0 ? request.topLogprobs : request.logprobs ? 1 : 0,
    post_sampling_probs: false,
    preserved_tokens: request.markerTexts,
  };
  if (s.seed !== undefined) body["seed"] = s.seed;
  // As the embedded engine: the value is added to the logit (-100 is -100, which in practice bans).
  if (s.logitBias.size > 0) body["logit_bias"] = [...s.logitBias].map(([token, value]) => [token, value]);
  const g = request.grammar;
  if (g !== undefined) {
    const triggers = (g.lazyTriggers ?? []).filter((t) => t !== "");
    if (triggers.length > 0) {
      body["grammar"] = lazyGrammar(g.gbnf, triggers);
      body["grammar_lazy"] = true;
      // type 2 = COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN: matched on the generated text, the grammar fed from the match.
      body["grammar_triggers"] = triggers.map((t) => ({ type: 2, value: escapeRegExp(t) }));
    } else {
      body["grammar"] = g.gbnf;
    }
  }
  return body;
}

function logprobsOf(chunk: StreamChunk, index: number, topLogprobs: number): { logprob?: number; top?: TokenLogprob[] } {
  const p = chunk.completion_probabilities?.[index];
  if (p === undefined) return {};
  return {
    logprob: p.logprob,
    ...(topLogprobs > 0 ? { top: (p.top_logprobs ?? []).slice(0, topLogprobs).map((t) => ({ token: t.id, text: t.token, logprob: t.logprob })) } : {}),
  };
}

export const llamaServerDialect: BackendDialect = {
  kind: "llama-server",
  capabilities: LLAMA_SERVER_CAPABILITIES,

  async describe(http, signal): Promise<BackendDescription> {
    const props = await http.getJson<PropsAnswer>("/props", signal);
    const models = await http.getJson<ModelsAnswer>("/v1/models", signal).catch(() => ({}) as ModelsAnswer);
    const first = models.data?.[0];
    const contextSize = props.default_generation_settings?.n_ctx;
    if (typeof contextSize !== "number" || contextSize < 2) throw new BackendError(`${http.origin}/props has no default_generation_settings.n_ctx: is this llama-server?`, "protocol");
    const modelPath = props.model_path;
    const fileName = modelPath?.split(/[\\/]/).pop();
    return {
      kind: "llama-server",
      modelId: props.model_alias ?? first?.id ?? fileName ?? "llama-server",
      ...(modelPath === undefined ? {} : { modelPath }),
      contextSize,
      ...(first?.meta?.n_ctx_train === undefined ? {} : { trainContextLength: first.meta.n_ctx_train }),
      ...(props.total_slots === undefined ? {} : { slots: props.total_slots }),
      ...(first?.meta?.n_vocab === undefined ? {} : { vocabularySize: first.meta.n_vocab }),
      ...(first?.meta?.n_params === undefined ? {} : { parameterCount: first.meta.n_params }),
      ...(props.chat_template === undefined ? {} : { chatTemplate: props.chat_template }),
      ...(props.bos_token === undefined || props.bos_token === "" ? {} : { bosText: props.bos_token }),
      ...(props.eos_token === undefined || props.eos_token === "" ? {} : { eosText: props.eos_token }),
      ...(props.build_info === undefined ? {} : { version: props.build_info }),
    };
  },

  async tokenize(http, pieces: readonly TokenizePiece[], signal): Promise<TokenId[]> {
    // One request per run of pieces with the same `special`: `content` as an array tokenizes each
    // string on its own (a guarded split can never merge back into a marker).
    const out: TokenId[] = [];
    let i = 0;
    while (i < pieces.length) {
      const special = (pieces[i] as TokenizePiece).special;
      const run: string[] = [];
      while (i < pieces.length && (pieces[i] as TokenizePiece).special === special) run.push((pieces[i++] as TokenizePiece).text);
      const answer = await http.postJson<{ tokens?: unknown }>("/tokenize", { content: run.length === 1 ? run[0] : run, add_special: false, parse_special: special }, signal);
      if (!Array.isArray(answer.tokens)) throw new BackendError(`${http.origin}/tokenize answered without tokens`, "protocol");
      for (const t of answer.tokens) out.push(t as number);
    }
    return out;
  },

  async detokenize(http, tokens, signal): Promise<string> {
    const answer = await http.postJson<{ content?: unknown }>("/detokenize", { tokens }, signal);
    if (typeof answer.content !== "string") throw new BackendError(`${http.origin}/detokenize answered without content`, "protocol");
    return answer.content;
  },

  async *generate(http, request, signal): AsyncIterable<DialectEvent> {
    let decoded = 0;
    let missing = 0;
    for await (const event of http.stream("/completion", llamaServerCompletionBody(request), signal)) {
      let chunk: StreamChunk;
      try {
        chunk = JSON.parse(event.data) as StreamChunk;
      } catch (error) {
        throw new BackendError(`${http.origin}/completion streamed an event that is not JSON`, "protocol", undefined, undefined, { cause: error });
      }
      if (chunk.error !== undefined) throw new BackendError(`${http.origin}/completion failed mid-stream: ${chunk.error.message ?? "unknown error"}`, "broken", chunk.error.code, chunk.error.message);
      let ids = chunk.tokens ?? [];
      // llama-server sends no chunk for a token that ends inside a UTF-8 character: the next chunk
      // carries the whole character's text but only its own token id. `tokens_predicted` shows the gap;
      // the missing ids are re-derived by tokenizing that text (kept only when it ends in the id sent).
      const predicted = chunk.tokens_predicted;
      if (predicted !== undefined && chunk.stop !== true && ids.length > 0) {
        const gap = predicted - decoded - ids.length;
        if (gap > 0 && (chunk.content ?? "") !== "") {
          const again = await llamaServerDialect.tokenize(http, [{ text: chunk.content as string, special: false }], signal).catch(() => [] as TokenId[]);
          if (again.length === gap + ids.length && again[again.length - 1] === ids[ids.length - 1]) ids = again;
          else missing += gap;
        }
        decoded = predicted;
      }
      if (ids.length > 0 || (chunk.content ?? "") !== "") {
        const first = ids.length - (chunk.tokens?.length ?? 0);
        yield { type: "tokens", tokens: ids.map((id, k) => ({ id, ...(k >= first ? logprobsOf(chunk, k - first, request.topLogprobs) : {}) })), text: chunk.content ?? "" };
      }
      if (chunk.stop === true) {
        yield {
          type: "end",
          reason: chunk.stop_type === "limit" ? "length" : "stop",
          ...(chunk.tokens_evaluated === undefined ? {} : { promptTokens: chunk.tokens_evaluated }),
          ...(chunk.timings?.cache_n === undefined ? {} : { cachedPromptTokens: chunk.timings.cache_n }),
          ...(missing > 0 ? { uncountedTokens: missing } : {}),
        };
        return;
      }
    }
    throw new BackendError(`${http.origin}/completion ended its stream without a final event`, "broken");
  },

  async load(http, signal): Promise<BackendLoad | undefined> {
    const r = await http.get("/metrics", signal).catch(() => undefined);
    if (r === undefined || r.status !== 200) return undefined;
    const running = prometheusSum(r.text, "llamacpp:requests_processing");
    const waiting = prometheusSum(r.text, "llamacpp:requests_deferred");
    return running === undefined ? undefined : { running, waiting: waiting ?? 0 };
  },

  async healthy(http, signal): Promise<boolean> {
    const r = await http.get("/health", signal).catch(() => undefined);
    return r?.status === 200;
  },
};
