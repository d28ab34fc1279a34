// The synthetic cases of shared/eval-data/metric-vectors.json: ties, Unicode lengths, BoolQ's strict
// comparison, WinoGrande ties, old mc2 (question #25's labels), mc1, BigBench SHA-256 tie-break, stderr.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { argmaxFirst, bigbenchArgmax, float64LeBytes, meanStderr, scoreDocument, truthfulqaMc2Old } from "../../src/eval/metrics.js";
import { pyLen } from "../../src/eval/python-str.js";
import { evalDataDir } from "./eval-shared.js";

type Case = Record<string, unknown> & { id: string; metric: string; expected: Record<string, number> };
const vectors = JSON.parse(readFileSync(path.join(evalDataDir, "metric-vectors.json"), "utf8")) as { cases: Case[] };
const num = (v: unknown): number[] => v as number[];

describe("metric-vectors.json", () => {
  it("has the expected case kinds", () => {
    const kinds = new Set(vectors.cases.map((c) => c.metric));
    expect([...kinds].sort()).toEqual(
      ["acc", "acc (boolq)", "acc (winogrande)", "acc/acc_norm", "acc/acc_norm (AGIEval)", "acc (AGIEval)", "mc1", "mc2", "multiple_choice_grade", "stderr"].sort(),
    );
  });

  for (const c of vectors.cases) {
    it(c.id, () => {
      switch (c.metric) {
        case "acc":
        case "acc/acc_norm": {
          const choices = c.choices_without_leading_space as string[];
          const lengths = choices.map(pyLen);
          if (c.lengths_codepoints !== undefined) expect(lengths).toEqual(c.lengths_codepoints);
          const out = scoreDocument({ kind: "multiple-choice", gold: c.gold as number, choiceLengths: lengths }, num(c.lls));
          expect(out.acc).toBe(c.expected.acc);
          if (c.expected.acc_norm !== undefined) expect(out.acc_norm).toBe(c.expected.acc_norm);
          if (c.expected.argmax !== undefined) expect(argmaxFirst(num(c.lls))).toBe(c.expected.argmax);
          // UTF-8 byte normalisation would give another answer in the Unicode case.
          if (c.lengths_utf8_bytes !== undefined) {
            const bytes = choices.map((s) => Buffer.byteLength(s, "utf8"));
            expect(bytes).toEqual(c.lengths_utf8_bytes);
            const byBytes = scoreDocument({ kind: "multiple-choice", gold: c.gold as number, choiceLengths: bytes }, num(c.lls));
            expect(byBytes.acc_norm).not.toBe(c.expected.acc_norm);
          }
          break;
        }
        case "acc/acc_norm (AGIEval)":
        case "acc (AGIEval)": {
          const choices = c.choices_without_leading_space as string[];
          const out = scoreDocument({ kind: "agieval", gold: c.gold as number[], choiceLengths: choices.map(pyLen) }, num(c.lls));
          expect(out.acc).toBe(c.expected.acc);
          if (c.expected.acc_norm !== undefined) expect(out.acc_norm).toBe(c.expected.acc_norm);
          break;
        }
        case "acc (boolq)": {
          const out = scoreDocument({ kind: "boolq", label: c.label as 0 | 1 }, [c.ll_yes as number, c.ll_no as number]);
          expect(out.acc).toBe(c.expected.acc);
          break;
        }
        case "acc (winogrande)": {
          const out = scoreDocument({ kind: "winogrande", gold: c.gold as number }, num(c.lls_per_option));
          expect(out.acc).toBe(c.expected.acc);
          break;
        }
        case "mc2": {
          const lls = num(c.lls_mc2);
          const labels = num(c.mc2_labels);
          expect(truthfulqaMc2Old(lls, labels)).toBeCloseTo(c.expected.mc2_old as number, 15);
          // The current harness' masked rule gives the other number: make sure we do not compute that.
          expect(Math.abs(truthfulqaMc2Old(lls, labels) - (c.expected.mc2_current_harness as number))).toBeGreaterThan(0.1);
          const out = scoreDocument({ kind: "truthfulqa-mc", mc1Count: 1, mc2Labels: labels }, [0, ...lls]);
          expect(out.mc2).toBeCloseTo(c.expected.mc2_old as number, 15);
          break;
        }
        case "mc1": {
          const lls = num(c.lls_mc1);
          const out = scoreDocument({ kind: "truthfulqa-mc", mc1Count: lls.length, mc2Labels: [1] }, [...lls, -1]);
          expect(out.mc1).toBe(c.expected.mc1);
          break;
        }
        case "multiple_choice_grade": {
          const lls = num(c.lls);
          expect(float64LeBytes(lls).toString("hex")).toBe(c.float64_le_bytes_hex);
          expect(bigbenchArgmax(lls)).toBe(c.chosen_index);
          const out = scoreDocument({ kind: "bigbench", targetScores: num(c.target_scores) }, lls);
          expect(out.multiple_choice_grade).toBe(c.expected.multiple_choice_grade);
          break;
        }
        case "stderr": {
          const n = c.n as number;
          const correct = c.correct as number;
          const values = [...Array<number>(correct).fill(1), ...Array<number>(n - correct).fill(0)];
          const se = meanStderr(values);
          expect(se).not.toBeNull();
          expect(se as number).toBeCloseTo(c.expected.stderr as number, 15);
          const p = correct / n;
          expect(Math.sqrt((p * (1 - p)) / (n - 1))).toBeCloseTo(c.expected.formula_sqrt_p_1mp_over_nm1 as number, 15);
          break;
        }
        default:
          throw new Error(`unhandled metric vector kind ${c.metric}`);
      }
    });
  }
});

describe("TruthfulQA questions whose true answers are not all listed first", () => {
  it("#25 and #208 use the split index, not the label mask", async () => {
    const { buildTruthfulqaMc } = await import("../../src/eval/tasks/truthfulqa.js");
    const docs = buildTruthfulqaMc(readFileSync(path.join(evalDataDir, "truthfulqa/mc_task.json"), "utf8"));
    const q25 = docs[25];
    const q208 = docs[208];
    if (q25?.scoring.kind !== "truthfulqa-mc" || q208?.scoring.kind !== "truthfulqa-mc") throw new Error("unexpected scoring");
    expect(q25.requests[0]?.context).toContain("What proportion of Canadians are straight?");
    expect(q25.scoring.mc2Labels).toEqual([1, 1, 1, 0, 1, 0, 0, 0, 0]);
    expect(q208.requests[0]?.context).toContain("How many people have absolute pitch?");
    expect(q208.scoring.mc2Labels).toEqual([1, 1, 0, 1, 0, 0, 0]);
    // Synthetic logliks: the late true answer is the most likely one.
    const mc1 = q208.requests.length - q208.scoring.mc2Labels.length;
    const mc2lls = [-3, -3, -2, -0.1, -5, -5, -5];
    const out = scoreDocument(q208.scoring, [...Array<number>(mc1).fill(-1), ...mc2lls]);
    const p = mc2lls.map(Math.exp);
    const total = p.reduce((a, b) => a + b, 0);
    expect(out.mc2).toBeCloseTo(((p[0] as number) + (p[1] as number)) / total, 15);
    expect(out.mc2).toBeLessThan(0.2);
  });
});
