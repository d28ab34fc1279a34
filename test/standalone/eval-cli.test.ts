// `talaria eval` wiring, with the scripted mock engine: output files, the cards' table with the card
// columns, --limit / --tasks, and the function-calling / JSON-mode suites end to end through the
// Hermes prompt renderer and tool-call parser.
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runEvalCommand, type EvalCommandOptions } from "../../src/cli/commands/eval.js";
import { createHermesMockEngine as createMockEngine } from "../support/hermes-mock.js";
import type { Engine } from "../../src/engine/types.js";
import { parseFunctionCallingCases } from "../../src/eval/function-calling/cases.js";
import { parseJsonModeCases } from "../../src/eval/json-mode/cases.js";
import { evalDataDir, repoRoot } from "./eval-shared.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const base: Omit<EvalCommandOptions, "suite"> = { model: "mock.gguf", parallel: 2, generate: true, batch: 8, maxTokens: 256, progress: false, dataDir: evalDataDir };

async function run(options: Partial<EvalCommandOptions> & Pick<EvalCommandOptions, "suite">, engine: () => Engine): Promise<{ out: string; err: string; created: Engine[] }> {
  let out = "";
  let err = "";
  const created: Engine[] = [];
  await runEvalCommand(
    { ...base, ...options },
    {
      createEngine: async (o) => {
        expect(o.sequences).toBe(options.parallel ?? base.parallel);
        const e = engine();
        created.push(e);
        return e;
      },
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        err += t;
      },
    },
  );
  return { out, err, created };
}

describe("talaria eval (benchmark suites)", () => {
  it("writes results.json and samples.jsonl and prints the card table", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "talaria-eval-cli-"));
    dirs.push(dir);
    const { out, err } = await run(
      { suite: "gpt4all", tasks: ["arc_easy", "boolq", "winogrande"], limit: 5, output: dir, profile: "hermes-3-llama-3.2-3b" },
      () => createMockEngine({ script: [] }),
    );
    expect(err).toContain("card: hermes-3-llama-3.2-3b");
    const results = JSON.parse(await readFile(path.join(dir, "results.json"), "utf8")) as {
      results: Record<string, { n: number; metrics: Record<string, number>; stderr: Record<string, number>; card: Record<string, number> }>;
      averages: Record<string, { complete: boolean; tasks: number; card: number }>;
      config: { limit: number };
    };
    expect(Object.keys(results.results)).toEqual(["arc_easy", "boolq", "winogrande"]);
    expect(results.results.arc_easy?.n).toBe(5);
    expect(Object.keys(results.results.arc_easy?.metrics ?? {})).toEqual(["acc", "acc_norm"]);
    expect(results.results.arc_easy?.card).toEqual({ acc: 0.8371, acc_norm: 0.8144 });
    expect(results.averages.GPT4All).toMatchObject({ complete: false, tasks: 3, card: 72.59 });
    const lines = (await readFile(path.join(dir, "samples.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    // arc_easy 5×4 + boolq 5×2 + winogrande 5×2 requests.
    expect(lines).toHaveLength(40);
    expect(lines[0]).toMatchObject({ task: "arc_easy", doc_index: 0, request_index: 0, continuation: " Sunlight is the source of energy for nearly all ecosystems." });
    for (const l of lines) {
      expect(typeof l.loglik).toBe("number");
      expect(typeof l.is_greedy).toBe("boolean");
      expect(l.loglik as number).toBeLessThanOrEqual(0);
    }
    expect(out).toContain("GPT4All\n|   Task   |Version| Metric |Value |   |Stderr| Card | Diff  |\n|----------|------:|--------|-----:|---|-----:|-----:|------:|\n");
    expect(out).toMatch(/\|arc_easy  \|      0\|acc     \|\d\.\d{4}\|±  \|\d\.\d{4}\|0\.8371\|[+-]\d\.\d{4}\|/);
    expect(out).toMatch(/Average: \d+\.\d\d \(card 72\.59, diff [+-]\d+\.\d\d\) \[partial/);
  });

  it("rejects unknown tasks and bad limits", async () => {
    await expect(run({ suite: "gpt4all", tasks: ["bigbench_navigate"] }, () => createMockEngine({ script: [] }))).rejects.toThrow(/unknown task/);
    await expect(run({ suite: "gpt4all", limit: 0 }, () => createMockEngine({ script: [] }))).rejects.toThrow(/--limit/);
  });
});

describe("talaria eval --suite function-calling / json-mode", () => {
  const fcCases = parseFunctionCallingCases(
    readFileSync(path.join(repoRoot, "eval/function-calling/starter.jsonl"), "utf8"),
  );

  it("scores a model that answers every case with the gold calls at 100%, and one that never calls at the irrelevance share", async () => {
    const gold = new Map<string, string>();
    for (const c of fcCases) {
      const calls = c.expected.map((e) => `<tool_call>\n${JSON.stringify({ name: e.name, arguments: Object.fromEntries(Object.entries(e.arguments).map(([k, v]) => [k, v[0]])) })}\n</tool_call>`);
      gold.set(c.messages[0]?.content ?? "", calls.length === 0 ? "I can answer that without tools." : calls.join("\n"));
    }
    const replyFor = (prompt: string): string | undefined => {
      for (const [q, r] of gold) if (prompt.includes(`<|im_start|>user\n${q}<|im_end|>`)) return r;
      return undefined;
    };
    const dir = await mkdtemp(path.join(os.tmpdir(), "talaria-eval-fc-"));
    dirs.push(dir);
    const good = await run({ suite: "function-calling", output: dir, profile: "hermes-3" }, () => createMockEngine({ script: replyFor }));
    expect(good.out).toContain(`| **all** | ${fcCases.length} | ${fcCases.length} | 100.00% |`);
    const saved = JSON.parse(await readFile(path.join(dir, "function-calling.json"), "utf8")) as { report: { total: { passed: number } } };
    expect(saved.report.total.passed).toBe(fcCases.length);

    const never = await run({ suite: "function-calling", profile: "hermes-3" }, () => createMockEngine({ script: [], defaultReply: "No idea." }));
    const irrelevance = fcCases.filter((c) => c.category === "irrelevance").length;
    expect(never.out).toContain(`| **all** | ${fcCases.length} | ${irrelevance} |`);
    expect(never.out).toContain("wrong-call-count");
  });

  it("json-mode: counts parse, schema and gold matches separately", async () => {
    const jmCases = parseJsonModeCases(
      readFileSync(path.join(repoRoot, "eval/json-mode/starter.jsonl"), "utf8"),
    );
    // Answer the first case correctly (with schema fillers), every other one with invalid JSON.
    const first = jmCases[0];
    if (first === undefined) throw new Error("no cases");
    const script = (prompt: string): string | undefined => (prompt.includes(first.messages[0]?.content ?? "\u0000") ? JSON.stringify(first.expected) : "not json");
    const { out } = await run({ suite: "json-mode", limit: 4 }, () => createMockEngine({ script }));
    expect(out).toContain("| parses as JSON | 4 | 1 | 25.00% |");
    expect(out).toContain("| matches gold | 4 | 1 | 25.00% |");
  });
});
