/**
 * The GPT4All suite: arc_challenge, arc_easy, boolq, hellaswag, openbookqa, piqa, winogrande, built
 * from the files in `eval-data/gpt4all/` exactly as the old harness builds its requests (SCORING.md §2).
 * Pure.
 */
import { parseCsv } from "../csv.js";
import { pyCapitalize, pyLen, pyStrip } from "../python-str.js";
import { EvalDataError, type EvalDocument, type TaskDefinition } from "../types.js";
import { asInteger, asRecord, asString, asStringArray, fileText, parseJsonLines } from "./common.js";

/** llm-foundry `{query, choices, gold}` rows → acc / acc_norm documents. */
function buildQueryChoices(task: string, path: string, text: string, toContext: (query: string) => string): EvalDocument[] {
  return parseJsonLines(text, path).map((raw, docIndex) => {
    const where = `${path} row ${docIndex}`;
    const row = asRecord(raw, where);
    const query = asString(row.query, `${where}.query`);
    const choices = asStringArray(row.choices, `${where}.choices`);
    const gold = asInteger(row.gold, `${where}.gold`);
    const context = toContext(query);
    return {
      task,
      docIndex,
      requests: choices.map((c) => ({ context, continuation: ` ${c}` })),
      scoring: { kind: "multiple-choice", gold, choiceLengths: choices.map(pyLen) },
    };
  });
}

const ARC_CHALLENGE = "gpt4all/arc_challenge.jsonl";
const ARC_EASY = "gpt4all/arc_easy.jsonl";
const BOOLQ = "gpt4all/boolq_validation.csv";
const HELLASWAG = "gpt4all/hellaswag_val_full.txt.bz2";
const OPENBOOKQA = "gpt4all/openbook_qa.jsonl";
const PIQA = "gpt4all/piqa_valid.jsonl";
const PIQA_LABELS = "gpt4all/piqa_valid-labels.lst";
const WINOGRANDE = "gpt4all/winogrande.jsonl";

/** BoolQ: `passage + "\nQuestion: " + question + "?\nAnswer:"`, continuations " yes" / " no". */
export function buildBoolq(text: string): EvalDocument[] {
  const records = parseCsv(text);
  const header = records[0];
  if (header === undefined) throw new EvalDataError(`${BOOLQ}: empty file`);
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new EvalDataError(`${BOOLQ}: no column ${name}`);
    return i;
  };
  const qi = col("question");
  const pi = col("passage");
  const li = col("label");
  return records.slice(1).map((rec, docIndex) => {
    const question = rec[qi];
    const passage = rec[pi];
    const label = rec[li];
    if (question === undefined || passage === undefined || (label !== "0" && label !== "1")) {
      throw new EvalDataError(`${BOOLQ}: bad record ${docIndex}`);
    }
    const context = `${passage}\nQuestion: ${question}?\nAnswer:`;
    return {
      task: "boolq",
      docIndex,
      requests: [
        { context, continuation: " yes" },
        { context, continuation: " no" },
      ],
      scoring: { kind: "boolq", label: label === "1" ? 1 : 0 },
    };
  });
}

/** PIQA: `"Question: " + goal + "\nAnswer:"`, continuations " sol1" / " sol2", labels from the .lst file. */
export function buildPiqa(rowsText: string, labelsText: string): EvalDocument[] {
  const rows = parseJsonLines(rowsText, PIQA);
  const labels = labelsText.split("\n").filter((l) => l.trim() !== "");
  if (labels.length !== rows.length) throw new EvalDataError(`${PIQA_LABELS}: ${labels.length} labels for ${rows.length} rows`);
  return rows.map((raw, docIndex) => {
    const where = `${PIQA} row ${docIndex}`;
    const row = asRecord(raw, where);
    const goal = asString(row.goal, `${where}.goal`);
    const choices = [asString(row.sol1, `${where}.sol1`), asString(row.sol2, `${where}.sol2`)];
    const gold = Number(pyStrip(labels[docIndex] as string));
    if (gold !== 0 && gold !== 1) throw new EvalDataError(`${PIQA_LABELS}: bad label on line ${docIndex + 1}`);
    const context = `Question: ${goal}\nAnswer:`;
    return {
      task: "piqa",
      docIndex,
      requests: choices.map((c) => ({ context, continuation: ` ${c}` })),
      scoring: { kind: "multiple-choice", gold, choiceLengths: choices.map(pyLen) },
    };
  });
}

/** WinoGrande (partial scoring): one context per option, the same continuation `" " + rest.strip()`. */
export function buildWinogrande(text: string): EvalDocument[] {
  return parseJsonLines(text, WINOGRANDE).map((raw, docIndex) => {
    const where = `${WINOGRANDE} row ${docIndex}`;
    const row = asRecord(raw, where);
    const contexts = asStringArray(row.context_options, `${where}.context_options`);
    const continuation = ` ${pyStrip(asString(row.continuation, `${where}.continuation`))}`;
    const gold = asInteger(row.gold, `${where}.gold`);
    if (contexts.length !== 2) throw new EvalDataError(`${where}: expected two context options`);
    return {
      task: "winogrande",
      docIndex,
      requests: contexts.map((context) => ({ context, continuation })),
      scoring: { kind: "winogrande", gold },
    };
  });
}

/** lm-eval's bracket removal, `re.sub(r"\[.*?\]", "", s)`, followed by one `"  "` → `" "` pass if anything went. */
function removeBracketTags(s: string): string {
  const r = s.replace(/\[.*?\]/g, "");
  return r === s ? s : r.replaceAll("  ", " ");
}

/**
 * Rebuilds lm-eval's HellaSwag query from a klosax query line (PROVENANCE.md, "HellaSwag: RECONSTRUCTED"):
 * split at the first ": ", restore `ctx_b.capitalize()` on non-WikiHow items (ctx_b = the text after
 * the last ". ", "! " or "? "), then apply the remaining bracket removal.
 */
export function reconstructHellaswagQuery(line: string): string {
  const colon = line.indexOf(": ");
  if (colon < 0) throw new EvalDataError(`hellaswag: query line without ": ": ${JSON.stringify(line.slice(0, 80))}`);
  const label = line.slice(0, colon);
  let ctx = line.slice(colon + 2);
  const wikihow = ctx.startsWith("How to") && /[.!?"']$/.test(ctx);
  if (!wikihow) {
    const cut = Math.max(ctx.lastIndexOf(". "), ctx.lastIndexOf("! "), ctx.lastIndexOf("? "));
    const start = cut < 0 ? 0 : cut + 2;
    ctx = ctx.slice(0, start) + pyCapitalize(ctx.slice(start));
  }
  return removeBracketTags(`${label}: ${ctx}`);
}

/** HellaSwag from the klosax text export (6 lines per item: query, gold, four endings). */
export function buildHellaswag(text: string): EvalDocument[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length % 6 !== 0) throw new EvalDataError(`${HELLASWAG}: ${lines.length} lines is not a multiple of 6`);
  const docs: EvalDocument[] = [];
  for (let docIndex = 0; docIndex < lines.length / 6; docIndex++) {
    const at = docIndex * 6;
    const context = reconstructHellaswagQuery(lines[at] as string);
    const goldText = lines[at + 1] as string;
    const gold = Number(goldText);
    if (!/^[0-3]$/.test(goldText)) throw new EvalDataError(`${HELLASWAG}: bad gold ${JSON.stringify(goldText)} of item ${docIndex}`);
    const endings = lines.slice(at + 2, at + 6).map(removeBracketTags);
    docs.push({
      task: "hellaswag",
      docIndex,
      requests: endings.map((e) => ({ context, continuation: ` ${e}` })),
      scoring: { kind: "multiple-choice", gold, choiceLengths: endings.map(pyLen) },
    });
  }
  return docs;
}

export const GPT4ALL_TASKS: readonly TaskDefinition[] = [
  {
    name: "arc_challenge",
    suite: "gpt4all",
    version: 0,
    metrics: ["acc", "acc_norm"],
    files: [ARC_CHALLENGE],
    build: (files) => buildQueryChoices("arc_challenge", ARC_CHALLENGE, fileText(files, ARC_CHALLENGE), (q) => `${q}\nAnswer:`),
  },
  {
    name: "arc_easy",
    suite: "gpt4all",
    version: 0,
    metrics: ["acc", "acc_norm"],
    files: [ARC_EASY],
    build: (files) => buildQueryChoices("arc_easy", ARC_EASY, fileText(files, ARC_EASY), (q) => `${q}\nAnswer:`),
  },
  {
    name: "boolq",
    suite: "gpt4all",
    version: 1,
    metrics: ["acc"],
    files: [BOOLQ],
    build: (files) => buildBoolq(fileText(files, BOOLQ)),
  },
  {
    name: "hellaswag",
    suite: "gpt4all",
    version: 0,
    metrics: ["acc", "acc_norm"],
    files: [HELLASWAG],
    build: (files) => buildHellaswag(fileText(files, HELLASWAG)),
    reconstructed: true,
  },
  {
    name: "openbookqa",
    suite: "gpt4all",
    version: 0,
    metrics: ["acc", "acc_norm"],
    files: [OPENBOOKQA],
    build: (files) => buildQueryChoices("openbookqa", OPENBOOKQA, fileText(files, OPENBOOKQA), (q) => q),
  },
  {
    name: "piqa",
    suite: "gpt4all",
    version: 0,
    metrics: ["acc", "acc_norm"],
    files: [PIQA, PIQA_LABELS],
    build: (files) => buildPiqa(fileText(files, PIQA), fileText(files, PIQA_LABELS)),
  },
  {
    name: "winogrande",
    suite: "gpt4all",
    version: 0,
    metrics: ["acc"],
    files: [WINOGRANDE],
    build: (files) => buildWinogrande(fileText(files, WINOGRANDE)),
  },
];
