// Every golden request of shared/eval-data/golden-requests.json (document 0 of all 34 tasks) rebuilt
// byte-exact from the data files, with gold, acc_norm lengths, moved whitespace and document counts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadTaskDocuments } from "../../src/eval/data.js";
import { splitTrailingWhitespace } from "../../src/eval/requests.js";
import { ALL_TASKS } from "../../src/eval/tasks/index.js";
import type { EvalDocument } from "../../src/eval/types.js";
import { evalDataDir } from "./eval-shared.js";

interface Golden {
  task: string;
  doc_index: number;
  n_docs: number;
  context?: string;
  contexts?: string[];
  trailing_whitespace_moved: string | string[];
  continuations: string[];
  gold: unknown;
  metrics: string[];
  acc_norm_lengths?: number[];
  mc1_count?: number;
  generation_request?: { context: string; max_length: number };
  rendered_choice_order?: string[];
}

const golden = JSON.parse(readFileSync(path.join(evalDataDir, "golden-requests.json"), "utf8")) as { tasks: Golden[] };

describe("golden requests", () => {
  it("covers all 34 tasks of the registry", () => {
    expect(golden.tasks.map((t) => t.task).sort()).toEqual(ALL_TASKS.map((t) => t.name).sort());
    expect(ALL_TASKS).toHaveLength(34);
  });

  const docsCache = new Map<string, Promise<EvalDocument[]>>();
  for (const g of golden.tasks) {
    it(`${g.task} document ${g.doc_index}`, async () => {
      const task = ALL_TASKS.find((t) => t.name === g.task);
      expect(task, g.task).toBeDefined();
      if (task === undefined) return;
      let docs = docsCache.get(task.name);
      if (docs === undefined) {
        docs = loadTaskDocuments(evalDataDir, task);
        docsCache.set(task.name, docs);
      }
      const all = await docs;
      expect(all).toHaveLength(g.n_docs);
      const doc = all[g.doc_index];
      if (doc === undefined) throw new Error("missing document");
      expect(doc.task).toBe(g.task);
      expect(doc.docIndex).toBe(g.doc_index);

      // Contexts and continuations, byte-exact.
      const contexts = g.contexts ?? doc.requests.map(() => g.context);
      expect(doc.requests.map((r) => r.context)).toEqual(contexts);
      expect(doc.requests.map((r) => r.continuation)).toEqual(g.continuations);

      // The whitespace that moves at tokenisation.
      const moved = doc.requests.map((r) => splitTrailingWhitespace(r).moved);
      const expectedMoved = Array.isArray(g.trailing_whitespace_moved) ? g.trailing_whitespace_moved : doc.requests.map(() => g.trailing_whitespace_moved);
      expect(moved).toEqual(expectedMoved);
      for (const r of doc.requests) {
        const s = splitTrailingWhitespace(r);
        expect(s.context + s.continuation).toBe(r.context + r.continuation);
      }

      // Gold and scoring data.
      const sc = doc.scoring;
      switch (sc.kind) {
        case "multiple-choice":
          expect(sc.gold).toBe(g.gold);
          expect(sc.choiceLengths).toEqual(g.acc_norm_lengths);
          break;
        case "agieval":
          expect(sc.gold).toEqual(g.gold);
          expect(sc.choiceLengths).toEqual(g.acc_norm_lengths);
          break;
        case "boolq":
          expect({ label: sc.label }).toEqual(g.gold);
          break;
        case "winogrande":
          expect(sc.gold).toBe(g.gold);
          break;
        case "truthfulqa-mc": {
          const gold = g.gold as { mc1_labels: number[]; mc2_labels: number[] };
          expect(sc.mc1Count).toBe(g.mc1_count);
          expect(sc.mc1Count).toBe(gold.mc1_labels.length);
          expect(sc.mc2Labels).toEqual(gold.mc2_labels);
          break;
        }
        case "bigbench":
          expect({ target_scores: sc.targetScores }).toEqual(g.gold);
          break;
        default:
          sc satisfies never;
      }
      expect(task.metrics).toEqual(g.metrics);

      if (g.generation_request !== undefined) {
        expect(doc.generation?.context).toBe(g.generation_request.context);
        expect(doc.generation?.maxTokens).toBe(g.generation_request.max_length);
      } else {
        expect(doc.generation).toBeUndefined();
      }
    });
  }
});
