// Our tables against the seed card's own tables (seed 000, whose layout only collapsed runs of spaces):
// fed the card's values, formatSuiteTable reproduces every table line, and the suite averages
// computed from those values match the printed Average lines.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FULL_DOCUMENT_COUNTS, parseCardScores, suiteAverages, type TaskResult } from "../../src/eval/report.js";
import { formatSuiteTable } from "../../src/eval/table.js";
import { ALL_TASKS } from "../../src/eval/tasks/index.js";
import type { MetricName, SuiteName } from "../../src/eval/types.js";
import { evalDataDir, sharedDir } from "./eval-shared.js";

const cards = parseCardScores(JSON.parse(readFileSync(path.join(evalDataDir, "card-scores.json"), "utf8")));
const card3b = cards.find((c) => c.key === "hermes-3-llama-3.2-3b");
const seed = readFileSync(path.join(sharedDir, "seeds/000_e74ea840d444d026.txt"), "utf8").split("\n");

function resultsFromCard(): TaskResult[] {
  if (card3b === undefined) throw new Error("no 3B card");
  return ALL_TASKS.flatMap((t) => {
    const rows = card3b.rows.filter((r) => r.task === t.name);
    if (rows.length === 0) return [];
    const metrics: TaskResult["metrics"] = {};
    for (const r of rows) metrics[r.metric as MetricName] = { value: r.value, stderr: r.stderr, n: FULL_DOCUMENT_COUNTS[t.name] ?? 0 };
    return [{ task: t.name, suite: t.suite, version: t.version, n: FULL_DOCUMENT_COUNTS[t.name] ?? 0, metrics }];
  });
}

/** The seed's table lines for a suite title (the header line through the last row). */
function seedTable(title: string): string[] {
  const start = seed.indexOf(title);
  const lines: string[] = [];
  for (let i = start + 1; i < seed.length && (seed[i] as string).startsWith("|"); i++) lines.push(seed[i] as string);
  return lines;
}

describe("tables in the cards' format", () => {
  const results = resultsFromCard();
  const averages = suiteAverages(results);
  for (const [suite, title, printed] of [
    ["gpt4all", "GPT4All", 72.59],
    ["agieval", "AGIEval", 44.05],
    ["bigbench", "BigBench", 44.13],
  ] as Array<[SuiteName, string, number]>) {
    it(`${title} reproduces seed 000's table and Average`, () => {
      const ours = formatSuiteTable(suite, results, undefined).split("\n").slice(1);
      const expected = seedTable(title);
      expect(expected.length).toBeGreaterThan(5);
      expect(ours.map((l) => l.replace(/ {2,}/g, " "))).toEqual(expected);
      const avg = averages.find((a) => a.suite === suite);
      expect(avg?.complete).toBe(true);
      expect(Number(avg?.value.toFixed(2))).toBe(printed);
    });
  }

  it("adds the card value and our difference when a card is given", () => {
    const shifted = results.map((r) => (r.task === "boolq" ? { ...r, metrics: { acc: { value: 0.8612, stderr: 0.006, n: 3270 } } } : r));
    const table = formatSuiteTable("gpt4all", shifted, suiteAverages(shifted).find((a) => a.suite === "gpt4all"), { card: card3b });
    expect(table).toContain("|boolq        |      1|acc     |0.8612|±  |0.0060|0.8599|+0.0013|");
    expect(table).toMatch(/Average: 72\.\d\d \(card 72\.59, diff \+0\.0\d\)$/);
  });
});
