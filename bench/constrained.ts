/**
 * Benchmark (not a test): the cost of grammar-constrained decoding, and what jump-forward decoding
 * wins back. Three modes on the same prompts and seeds:
 *   free         no grammar (maxTokens tokens, EOG allowed)
 *   constrained  the grammar, every token sampled (jumpForward: false)
 *   jump-forward the grammar, forced text appended without sampling (jumpForward: true, the default)
 * Two workloads: a forced Hermes tool call (`tool_choice: required`, 3 tools) and a JSON-mode answer
 * (an 8-key schema, flexible whitespace), on the random tiny model and a mid-size random model.
 * Random weights mean "free" text is garbage; what matters is time per token and per sampled step.
 *
 * Build and run (Node 20 has no TypeScript loader):
 *   npx tsc -p tsconfig.json --noEmit false --outDir out/build && node out/build/bench/constrained.js
 * Environment: BENCH_THREADS (default 1), BENCH_GPU (auto|off, default auto), BENCH_MODELS (tiny,mid),
 *   BENCH_SEEDS (runs per mode, default 5), BENCH_MAX_TOKENS (default 160), BENCH_JSON=1 (JSON output).
 */
import os from "node:os";
import { jsonSchemaConstraint, toolCallsConstraint } from "../src/grammar/index.js";
import { HERMES_DIALECT } from "../src/hermes/index.js";
import { createLlamaCppEngine, type LlamaCppEngine } from "../src/engine/llama-cpp/index.js";
import type { GrammarConstraint } from "../src/engine/types.js";
import { renderPrompt } from "../src/hermes/index.js";
import { ensureTestModel } from "../src/testmodels/index.js";

const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const GPU = process.env.BENCH_GPU === "off" ? false : "auto";
const MODELS = (process.env.BENCH_MODELS ?? "tiny,mid").split(",");
const SEEDS = Number(process.env.BENCH_SEEDS ?? 5);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 160);

const MODEL_SPECS = {
  tiny: { kind: "random" as const },
  mid: { kind: "random" as const, hidden: 1024, layers: 8, heads: 16, kvHeads: 4, ffn: 2816 },
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
  mode: string;
  runs: number;
  tokens: number;
  forced: number;
  ms: number;
  msPerToken: number;
  tokensPerSecond: number;
  msPerSampledStep: number;
  completed: number;
}

async function measure(
  engine: LlamaCppEngine,
  model: string,
  workload: string,
  prompt: ReturnType<typeof renderPrompt>,
  mode: "free" | "constrained" | "jump-forward",
  grammar: GrammarConstraint,
): Promise<Row> {
  let tokens = 0;
  let forced = 0;
  let ms = 0;
  let completed = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const before = engine.forcedTokenCount;
    const started = performance.now();
    let reason = "";
    for await (const event of engine.generate({
      prompt,
      maxTokens: MAX_TOKENS,
      sampling: { temperature: 1, seed },
      ...(mode === "free" ? {} : { grammar, jumpForward: mode === "jump-forward" }),
    })) {
      if (event.type === "finish") {
        tokens += event.usage.completionTokens;
        reason = event.reason;
      }
    }
    ms += performance.now() - started;
    forced += engine.forcedTokenCount - before;
    if (reason === "stop") completed++;
  }
  const sampled = tokens - forced;
  return {
    model,
    workload,
    mode,
    runs: SEEDS,
    tokens,
    forced,
    ms,
    msPerToken: ms / tokens,
    tokensPerSecond: (tokens / ms) * 1000,
    msPerSampledStep: ms / Math.max(1, sampled),
    completed,
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const header = `threads ${THREADS}, gpu ${String(GPU)}, ${SEEDS} runs per mode, maxTokens ${MAX_TOKENS}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`;
  if (process.env.BENCH_JSON !== "1") console.log(header);
  for (const name of MODELS) {
    const spec = MODEL_SPECS[name as keyof typeof MODEL_SPECS];
    if (spec === undefined) throw new Error(`unknown model ${name}`);
    const engine = await createLlamaCppEngine({ model: await ensureTestModel(spec), threads: THREADS, gpu: GPU, contextSize: 2048 });
    try {
      const bos = engine.info.specialTokens.bos?.text ?? "";
      const workloads = [
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
      // warm-up: first decode, grammar compile, recognizer caches
      for (const w of workloads) for await (const _ of engine.generate({ prompt: w.prompt, maxTokens: 8, grammar: w.grammar })) void _;
      for (const w of workloads) {
        for (const mode of ["free", "constrained", "jump-forward"] as const) {
          const row = await measure(engine, name, w.workload, w.prompt, mode, w.grammar);
          rows.push(row);
          if (process.env.BENCH_JSON !== "1") {
            console.log(
              `${name.padEnd(5)} ${w.workload.padEnd(21)} ${mode.padEnd(12)} ${String(row.tokens).padStart(5)} tok (${String(row.forced).padStart(4)} forced) ` +
                `${row.ms.toFixed(0).padStart(7)} ms  ${row.msPerToken.toFixed(2).padStart(7)} ms/tok  ${row.tokensPerSecond.toFixed(1).padStart(7)} tok/s  ` +
                `${row.msPerSampledStep.toFixed(2).padStart(7)} ms/sampled step  ${row.completed}/${row.runs} complete`,
            );
          }
        }
      }
    } finally {
      await engine.dispose();
    }
  }
  if (process.env.BENCH_JSON === "1") console.log(JSON.stringify({ header, rows }, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
