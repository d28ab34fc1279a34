/**
 * AGIEval, the 8 English multiple-choice sets, with AGIEval's own zero-shot prompt (`convert_zero_shot`)
 * as the old harness' HF datasets carry it (SCORING.md §2, §3.3). Pure.
 */
import { pyLen } from "../python-str.js";
import { EvalDataError, type EvalDocument, type TaskDefinition } from "../types.js";
import { asRecord, asString, asStringArray, fileText, parseJsonLines } from "./common.js";

const LETTERS = "ABCDEFGHIJ";

/** Builds the documents of one AGIEval JSON Lines file. */
export function buildAgieval(task: string, path: string, text: string): EvalDocument[] {
  return parseJsonLines(text, path).map((raw, docIndex) => {
    const where = `${path} row ${docIndex}`;
    const row = asRecord(raw, where);
    const passage = row.passage === null || row.passage === undefined ? "" : asString(row.passage, `${where}.passage`);
    const question = asString(row.question, `${where}.question`);
    const options = asStringArray(row.options, `${where}.options`);
    const label = asString(row.label, `${where}.label`);
    const goldIndex = LETTERS.indexOf(label);
    if (label.length !== 1 || goldIndex < 0) throw new EvalDataError(`${where}: bad label ${JSON.stringify(label)}`);
    if (options.length === 0 || options.length > LETTERS.length) throw new EvalDataError(`${where}: bad option count`);
    const last = LETTERS[options.length - 1] as string;
    const context = `${passage}Q: ${question} Answer Choices: ${options.join(" ")}\nA: Among A through ${last}, the answer is`;
    return {
      task,
      docIndex,
      requests: options.map((o) => ({ context, continuation: ` ${o}` })),
      // A label past the last option (sat-en row 56) can never be chosen; kept, as the cards did.
      scoring: { kind: "agieval", gold: [goldIndex], choiceLengths: options.map(pyLen) },
    };
  });
}

const AGIEVAL_FILES: ReadonlyArray<readonly [string, string]> = [
  ["agieval_aqua_rat", "agieval/aqua-rat.jsonl"],
  ["agieval_logiqa_en", "agieval/logiqa-en.jsonl"],
  ["agieval_lsat_ar", "agieval/lsat-ar.jsonl"],
  ["agieval_lsat_lr", "agieval/lsat-lr.jsonl"],
  ["agieval_lsat_rc", "agieval/lsat-rc.jsonl"],
  ["agieval_sat_en", "agieval/sat-en.jsonl"],
  ["agieval_sat_en_without_passage", "agieval/sat-en-without-passage.jsonl"],
  ["agieval_sat_math", "agieval/sat-math.jsonl"],
];

export const AGIEVAL_TASKS: readonly TaskDefinition[] = AGIEVAL_FILES.map(([name, path]) => ({
  name,
  suite: "agieval",
  version: 0,
  metrics: ["acc", "acc_norm"],
  files: [path],
  build: (files) => buildAgieval(name, path, fileText(files, path)),
}));
