// Every document of every task (not only document 0) checked against fingerprints computed by an
// independent Python reference of the harness' request building (real Python json / csv / bz2 / str,
// numpy RandomState): SHA-256 over, per document, each request as context \0 continuation \1, then
// \2 gold-data \3. This catches JavaScript-vs-Python differences (key order, capitalize, strip, sort).
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadTaskDocuments } from "../../src/eval/data.js";
import { ALL_TASKS } from "../../src/eval/tasks/index.js";
import type { EvalDocument } from "../../src/eval/types.js";
import { evalDataDir } from "./eval-shared.js";

const PYTHON_REFERENCE: Record<string, string> = {
  arc_challenge: "7a9dd065840bf9e082f18e356860aeb981ae93410e768cd204bd4bd6f86a0b48",
  arc_easy: "b826c8d894c678ad65d7c67b95d065c41ea7850e29f4977356444a91dd97e20e",
  openbookqa: "4693bc320716befbbce424117b73c91fa765865b37124097f5923833b72a077c",
  boolq: "b934654f063f64c99795f533a739f3c15fd3a6643491d51046e12d6d373c22f2",
  piqa: "8dcce16bf97d0036c4b9cc93b5c2d672199599e60570494f025987c95eda7fea",
  winogrande: "1cb47edd68bf0b2703bc1320774b8bb29e66c9f0bce3d1462c36d6f518edd973",
  hellaswag: "04ab35b9f77f28dc000103acde9dde96222131f414dfc7a0a9d9e6e728ceb1fc",
  agieval_aqua_rat: "90e8e1f58437a81abd71971e95cc61efaacf6d2e7730abb1ddc307ada816a5e8",
  agieval_logiqa_en: "3da87cf791b9e1d86670522eda5788100ecdd6faa18432f168a702a9381edd9d",
  agieval_lsat_ar: "10013906d8df1cf0f1815678fbb9c82af081147dcf5d67359f1fac0b14758777",
  agieval_lsat_lr: "e054e71a55b2d3e6aabb9ffd560ffd38485e6bbd14135aaa82a241e15bde91c9",
  agieval_lsat_rc: "7038bad638657458380af9e9141ff3e6ce8bb40c37a2192c8686f750a2facfd8",
  agieval_sat_en: "2ff279ad5f89209d548123867d60bda6318427ed7c8dec11056f654c92e21ee5",
  agieval_sat_en_without_passage: "db0cef463650deb72bc8c471b6715d232dcf2f0baaab4bf6f7c38cad6e2b9859",
  agieval_sat_math: "c0104c68197952a54f227da80f6bf68ad491a6f26bcc7dbfd9db33c2c7568ca5",
  bigbench_causal_judgement: "4f46f48a8f72f0cb34baf5bc91b9c4687b3f362aecd18f706d05df27d71956a2",
  bigbench_date_understanding: "085a1557341848fedf7b3b0e4b5a250801f92a80a3e09c0f503a8942e527109c",
  bigbench_disambiguation_qa: "d1d3f87fe3fcdeb5232727bf833f887cc0d51f557e2ec3fc5c0a993feec6c9e4",
  bigbench_geometric_shapes: "8bc8593f291bcd58e4254ec355025a08d1ec762fde1fa7272125d25a97cff77c",
  bigbench_logical_deduction_five_objects: "aa0f1ec9ed6ead7c5aba9bb762c6bdf55376c9bab9f53f2a5597869fa2603ac8",
  bigbench_logical_deduction_seven_objects: "b5e6659a69be1158b4da03b354693ebafa32fe7f937d83b365f0650a6b146461",
  bigbench_logical_deduction_three_objects: "282d8c4760574566456fd81a05a64531cac48c7981af8fd8ed9bebda07823121",
  bigbench_movie_recommendation: "bd2b9640764c2d0b33568fa57513a6f7c639b2a92d71b1db97e1a3b92a0c50af",
  bigbench_navigate: "17cab3c91d8f3ee3efaf5fd70b9217953c40c6e1521e377bbc998fff10211098",
  bigbench_reasoning_about_colored_objects: "b3ac459b7720a6c90ce6137eedd15f946a1038bd190f2cb99c7bc12b250e8cfc",
  bigbench_ruin_names: "bc86290da071670d20d41dc5b8fbaf984d35d1a2c95b2dad08c315bd2e40f2c4",
  bigbench_salient_translation_error_detection: "cfc8f6b5284e1dfd3a608bf06d62eae0663724cd521ccf545e6ac505b5976fa7",
  bigbench_snarks: "0992fe8ecb1c8b838bafc6365363c1d52d73958bbf9553bbff4c5f5fe7343202",
  bigbench_sports_understanding: "55b974aa14182e2f2a0d7cba84cd51dfa920aa81a5f6738e846daddb4fa0f11b",
  bigbench_temporal_sequences: "97615e41ac3416d25bb63ba5eb3ea6365b03741cd8ff0076fb7c4351c51cb271",
  bigbench_tracking_shuffled_objects_five_objects: "3ce9dea9011d8888fa304b960d31f0290a9f18553bd3d829c4cb18ddabfe2584",
  bigbench_tracking_shuffled_objects_seven_objects: "f186cab5f7dc69df0c9a6a67a75c8f1127ed472aedb24f6e368147ed9c4ad620",
  bigbench_tracking_shuffled_objects_three_objects: "282d8c4760574566456fd81a05a64531cac48c7981af8fd8ed9bebda07823121",
  truthfulqa_mc: "a67eb4289f3f7c77dc294d18f1ea7f5eeb5943cfe58e43664b8ab15e8e7b027f",
};

function fingerprint(docs: readonly EvalDocument[]): string {
  const h = createHash("sha256");
  for (const d of docs) {
    for (const r of d.requests) h.update(`${r.context}\u0000${r.continuation}\u0001`, "utf8");
    const s = d.scoring;
    let gold: string;
    switch (s.kind) {
      case "multiple-choice":
        gold = `${s.gold}|${s.choiceLengths.join(",")}`;
        break;
      case "agieval":
        gold = `${s.gold[0]}|${s.choiceLengths.join(",")}`;
        break;
      case "boolq":
        gold = String(s.label);
        break;
      case "winogrande":
        gold = String(s.gold);
        break;
      case "bigbench":
        gold = s.targetScores.map((v) => String(Math.trunc(v))).join(",");
        break;
      case "truthfulqa-mc":
        gold = `${s.mc1Count}|${s.mc2Labels.join(",")}`;
        break;
      default:
        gold = s satisfies never;
    }
    h.update(`\u0002${gold}\u0003`, "utf8");
  }
  return h.digest("hex");
}

describe("all documents match the Python reference", () => {
  for (const task of ALL_TASKS) {
    it(task.name, async () => {
      const docs = await loadTaskDocuments(evalDataDir, task);
      expect(fingerprint(docs)).toBe(PYTHON_REFERENCE[task.name]);
    });
  }
});
