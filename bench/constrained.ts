/**
 * Benchmark (not a test): the cost of grammar-constrained decoding, and what jump-forward decoding
 * wins back, and what allowed-token preselection (docs/decisions/0185) saves. Four modes on the same
 * prompts and seeds, interleaved (seed by seed, every mode in turn, one process):
 *   free         no grammar (maxTokens tokens, EOG allowed)
 *   mask         the grammar, every token sampled, preselection off: every rejected sample is
 *                llama.cpp's whole-vocabulary mask (what Talaria did before 0185)
 *   constrained  the grammar, every token sampled (jumpForward: false), preselection on (the default)
 *   jump-forward the grammar, forced text appended without sampling (the default), preselection on
 * Two workloads: a forced Hermes tool call (`tool_choice: required`, 3 tools) and a JSON-mode answer
 * (an 8-key schema, flexible whitespace), on the random tiny model, a mid-size random model, and
 * scripted models that emit a valid answer (the output a trained model would produce anyway).
 * Random weights mean "free" text is garbage and nearly every constrained step rejects the sample
 * (the worst case); what matters is time per token and per sampled step. The summary gives
 * constrained ÷ free and jump-forward ÷ free as throughput ratios (tokens per second).
 *
 * Build and run (Node 20 has no TypeScript loader):
 *   npx tsc -p tsconfig.json --noEmit false --outDir out/build && node out/build/bench/constrained.js
 * Environment: BENCH_THREADS (default 1), BENCH_GPU (auto|off, default auto), BENCH_MODELS (tiny,mid,scripted),
 *   BENCH_SEEDS (runs per mode, default 5), BENCH_MAX_TOKENS (default 160), BENCH_JSON=1 (JSON output).
 */
import os from "node:os";
import { jsonSchemaConstraint, toolCallsConstraint } from "../src/grammar/index.js";
import { HERMES_DIALECT } from "../src/hermes/index.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../src/engine/llama-cpp/index.js";
import type { GrammarConstraint } from "../src/engine/types.js";
import { formatToolCall } from "../src/grammar/index.js";
import type { TestModelOptions } from "../src/testmodels/index.js";
import { renderPrompt } from "../src/hermes/index.js";
import { ensureTestModel } from "../src/testmodels/index.js";

const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const GPU = process.env.BENCH_GPU === "off" ? false : "auto";
const MODELS = (process.env.BENCH_MODELS ?? "tiny,mid,scripted").split(",");
const SEEDS = Number(process.env.BENCH_SEEDS ?? 5);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 160);

const RANDOM_MODELS: Readonly<Record<string, TestModelOptions>> = {
  tiny: { kind: "random" },
  mid: { kind: "random", hidden: 1024, layers: 8, heads: 16, kvHeads: 4, ffn: 2816 },
};

const TOOLS = [
  {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string", maxLength: 12 }, unit: { enum: ["celsius", "fahrenheit"] } },
      required: ["city", "unit"],
      additionalProperties: false,
    },
  },
  {
    name: "set_alarm",
    description: "Set an alarm",
    parameters: {
      type: "object",
      properties: { hour: { type: "integer", minimum: 0, maximum: 23 }, minute: { type: "integer", minimum: 0, maximum: 59 }, label: { type: "string", maxLength: 12 } },
      required: ["hour", "minute", "label"],
      additionalProperties: false,
    },
  },
  {
    name: "search_flights",
    description: "Search flights",
    parameters: {
      type: "object",
      properties: {
        origin: { type: "string", pattern: "^[A-Z]{3}$" },
        destination: { type: "string", pattern: "^[A-Z]{3}$" },
        date: { type: "string", format: "date" },
        passengers: { type: "integer", minimum: 1, maximum: 9 },
      },
      required: ["origin", "destination", "date", "passengers"],
      additionalProperties: false,
    },
  },
];

const PERSON_SCHEMA = {
  type: "object",
  properties: {
    first_name: { type: "string", maxLength: 10 },
    last_name: { type: "string", maxLength: 10 },
    age: { type: "integer", minimum: 0, maximum: 120 },
    email: { type: "string", format: "email" },
    country: { enum: ["France", "Japan", "Kenya", "Peru"] },
    is_member: { type: "boolean" },
    member_since: { type: "string", format: "date" },
    interests: { type: "array", items: { enum: ["music", "sport", "books"] }, maxItems: 3 },
  },
  required: ["first_name", "last_name", "age", "email", "country", "is_member", "member_since", "interests"],
  additionalProperties: false,
};

interface Row {
  model: string;
  workload: string;
  mode: Mode;
  runs: number;
  tokens: number;
  forced: number;
  preselected: number;
  ms: number;
  msPerToken: number;
  tokensPerSecond: number;
  msPerSampledStep: number;
  completed: number;
}

const MODES = ["free", "mask", "constrained", "jump-forward"] as const;
type Mode = (typeof MODES)[number];

interface Workload {
  readonly workload: string;
  readonly prompt: ReturnType<typeof renderPrompt>;
  readonly grammar: GrammarConstraint;
}

/** A valid answer for each workload (what the scripted models say). */
const VALID_TOOL_CALL = formatToolCall(HERMES_DIALECT.toolCall, "search_flights", '{"origin": "CDG", "destination": "HND", "date": "2026-12-24", "passengers": 2}');
const VALID_PERSON =
  '{"first_name": "Amara", "last_name": "Okafor", "age": 34, "email": "amara@example.com", "country": "Kenya", "is_member": true, "member_since": "2019-05-01", "interests": ["music", "books"]}';

function workloads(bos: string): Workload[] {
  return [
    {
      workload: "tool call (required)",
      prompt: renderPrompt({ messages: [{ role: "user", content: "Book me a flight from Paris to Tokyo." }], tools: TOOLS, style: "template", bosToken: bos }),
      grammar: toolCallsConstraint(HERMES_DIALECT.toolCall, TOOLS),
    },
    {
      workload: "JSON mode (8 keys)",
      prompt: renderPrompt({ messages: [{ role: "user", content: "Invent a club member." }], jsonSchema: PERSON_SCHEMA, bosToken: bos }),
      grammar: jsonSchemaConstraint(PERSON_SCHEMA),
    },
  ];
}

/** One run: tokens, forced tokens, preselected steps, ms, whether the grammar completed. */
async function runOnce(engines: { readonly on: LlamaCppEngine; readonly off: LlamaCppEngine }, w: Workload, mode: Mode, seed: number) {
  const engine = mode === "mask" ? engines.off : engines.on;
  const forcedBefore = engine.forcedTokenCount;
  const preBefore = engine.preselectedStepCount;
  const started = performance.now();
  let tokens = 0;
  let reason = "";
  for await (const event of engine.generate({
    prompt: w.prompt,
    maxTokens: MAX_TOKENS,
    sampling: { temperature: 1, seed },
    ...(mode === "free" ? {} : { grammar: w.grammar, jumpForward: mode === "jump-forward" }),
  })) {
    if (event.type === "finish") {
      tokens = event.usage.completionTokens;
      reason = event.reason;
    }
  }
  return {
    ms: performance.now() - started,
    tokens,
    forced: engine.forcedTokenCount - forcedBefore,
    preselected: engine.preselectedStepCount - preBefore,
    completed: reason === "stop" ? 1 : 0,
  };
}

async function benchModel(name: string, spec: TestModelOptions, only: string | undefined, rows: Row[]): Promise<void> {
  const path = await ensureTestModel(spec);
  const on = await createLlamaCppEngine({ model: path, threads: THREADS, gpu: GPU, contextSize: 2048 });
  const off = await createLlamaCppEngine({ model: path, threads: THREADS, gpu: GPU, contextSize: 2048, preselect: false });
  try {
    const bos = on.info.specialTokens.bos?.text ?? "";
    const list = workloads(bos).filter((w) => only === undefined || w.workload === only);
    // warm-up: first decode, grammar compile, recognizer caches, the vocabulary trie
    await on.preselectionReady();
    for (const w of list) for (const e of [on, off]) for await (const _ of e.generate({ prompt: w.prompt, maxTokens: 8, grammar: w.grammar })) void _;
    for (const w of list) {
      const acc = new Map<Mode, { ms: number; tokens: number; forced: number; preselected: number; completed: number }>();
      for (let seed = 1; seed <= SEEDS; seed++) {
        for (const mode of MODES) {
          const r = await runOnce({ on, off }, w, mode, seed);
          const a = acc.get(mode) ?? { ms: 0, tokens: 0, forced: 0, preselected: 0, completed: 0 };
          acc.set(mode, { ms: a.ms + r.ms, tokens: a.tokens + r.tokens, forced: a.forced + r.forced, preselected: a.preselected + r.preselected, completed: a.completed + r.completed });
        }
      }
      for (const mode of MODES) {
        const a = acc.get(mode) as { ms: number; tokens: number; forced: number; preselected: number; completed: number };
        const row: Row = {
          model: name,
          workload: w.workload,
          mode,
          runs: SEEDS,
          tokens: a.tokens,
          forced: a.forced,
          preselected: a.preselected,
          ms: a.ms,
          msPerToken: a.ms / a.tokens,
          tokensPerSecond: (a.tokens / a.ms) * 1000,
          msPerSampledStep: a.ms / Math.max(1, a.tokens - a.forced),
          completed: a.completed,
        };
        rows.push(row);
        if (process.env.BENCH_JSON !== "1") {
          console.log(
            `${name.padEnd(15)} ${w.workload.padEnd(21)} ${mode.padEnd(12)} ${String(row.tokens).padStart(5)} tok (${String(row.forced).padStart(4)} forced, ${String(row.preselected).padStart(4)} preselected) ` +
              `${row.msPerToken.toFixed(2).padStart(7)} ms/tok  ${row.tokensPerSecond.toFixed(1).padStart(7)} tok/s  ` +
              `${row.msPerSampledStep.toFixed(2).padStart(7)} ms/sampled step  ${row.completed}/${row.runs} complete`,
          );
        }
      }
    }
  } finally {
    await on.dispose();
    await off.dispose();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const load = (): string => os.loadavg().map((l) => l.toFixed(2)).join(" ");
  const header = `threads ${THREADS}, gpu ${String(GPU)}, ${SEEDS} runs per mode (interleaved), maxTokens ${MAX_TOKENS}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load ${load()}`;
  if (process.env.BENCH_JSON !== "1") console.log(header);
  for (const name of MODELS) {
    if (name === "scripted") {
      await benchModel("scripted (tool)", { kind: "scripted", reply: VALID_TOOL_CALL }, "tool call (required)", rows);
      await benchModel("scripted (json)", { kind: "scripted", reply: VALID_PERSON }, "JSON mode (8 keys)", rows);
      continue;
    }
    const spec = RANDOM_MODELS[name];
    if (spec === undefined) throw new Error(`unknown model ${name}`);
    await benchModel(name, spec, undefined, rows);
  }
  const summary: { model: string; workload: string; maskOverFree: number; constrainedOverFree: number; jumpForwardOverFree: number }[] = [];
  for (const r of rows.filter((x) => x.mode === "free")) {
    const of = (mode: Mode): number => (rows.find((x) => x.model === r.model && x.workload === r.workload && x.mode === mode)?.tokensPerSecond ?? NaN) / r.tokensPerSecond;
    summary.push({ model: r.model, workload: r.workload, maskOverFree: of("mask"), constrainedOverFree: of("constrained"), jumpForwardOverFree: of("jump-forward") });
  }
  if (process.env.BENCH_JSON === "1") {
    console.log(JSON.stringify({ header, loadAfter: load(), rows, summary }, null, 2));
    return;
  }
  console.log(`\nthroughput ÷ free (tokens per second; load at the end ${load()})`);
  console.log(`${"model".padEnd(15)} ${"workload".padEnd(21)} ${"mask".padStart(6)} ${"constrained".padStart(12)} ${"jump-forward".padStart(13)}`);
  for (const s of summary) {
    console.log(`${s.model.padEnd(15)} ${s.workload.padEnd(21)} ${s.maskOverFree.toFixed(2).padStart(6)} ${s.constrainedOverFree.toFixed(2).padStart(12)} ${s.jumpForwardOverFree.toFixed(2).padStart(13)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
