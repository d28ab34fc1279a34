import { describe, expect, it } from "vitest";
import { matchCard, parseCardScores, suiteAverages, type TaskResult } from "./report.js";

const cards = parseCardScores({
  _about: "x",
  "hermes-3-llama-3.2-3b": { card: "3B", hf_model: "a", rows: [{ suite: "GPT4All", task: "boolq", metric: "acc", value: 0.86, stderr: 0.006 }], averages: [{ suite: "GPT4All", value: 72.59 }] },
  "hermes-2-pro-llama-3-70b": { card: "70B", hf_model: "b", rows: [], averages: [], recomputed_averages: { TruthfulQA: 65.33 } },
});

describe("card matching", () => {
  it("maps profiles (and card keys) to cards", () => {
    expect(matchCard(cards, { profile: "hermes-3-llama-3.2-3b" })?.key).toBe("hermes-3-llama-3.2-3b");
    expect(matchCard(cards, { profile: "hermes-2-pro-llama-3-70b" })?.key).toBe("hermes-2-pro-llama-3-70b");
    expect(matchCard(cards, { profile: "hermes-2-pro", sizeLabel: "70B" })?.key).toBe("hermes-2-pro-llama-3-70b");
    expect(matchCard(cards, { profile: "hermes-2-pro", names: ["Hermes-2-Pro-Llama-3-70B-Q4_K_M.gguf"] })?.key).toBe("hermes-2-pro-llama-3-70b");
    expect(matchCard(cards, { profile: "hermes-2-pro", sizeLabel: "8B" })).toBeUndefined();
    expect(matchCard(cards, { profile: "hermes-3" })).toBeUndefined();
    expect(matchCard(cards, {})).toBeUndefined();
  });
  it("printed averages win; TruthfulQA falls back to the recomputed mc2", () => {
    expect(cards[0]?.averages).toEqual({ GPT4All: 72.59 });
    expect(cards[1]?.averages).toEqual({ TruthfulQA: 65.33 });
  });
});

describe("suite averages", () => {
  const r = (task: string, suite: TaskResult["suite"], n: number, metrics: Record<string, number>): TaskResult => ({
    task,
    suite,
    version: 0,
    n,
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, { value: v, stderr: null, n }])),
  });
  it("GPT4All uses acc_norm where reported, else acc; partial runs are flagged", () => {
    const avg = suiteAverages([r("arc_easy", "gpt4all", 2376, { acc: 0.5, acc_norm: 0.7 }), r("boolq", "gpt4all", 3270, { acc: 0.9 })]);
    expect(avg).toEqual([{ suite: "gpt4all", value: 80, tasks: 2, expectedTasks: 7, complete: false }]);
  });
  it("TruthfulQA is mc2; a limited run is not complete", () => {
    const avg = suiteAverages([r("truthfulqa_mc", "truthfulqa", 817, { mc1: 0.4, mc2: 0.6 })]);
    expect(avg[0]).toMatchObject({ suite: "truthfulqa", tasks: 1, complete: true });
    expect(avg[0]?.value).toBeCloseTo(60, 12);
    expect(suiteAverages([r("truthfulqa_mc", "truthfulqa", 10, { mc2: 0.6 })])[0]?.complete).toBe(false);
  });
});
