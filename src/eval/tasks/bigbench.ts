/**
 * The 18 BigBench JSON tasks of the old harness (`BigBenchJsonTask`), read with the order-preserving
 * JSON parser: documents are the examples de-duplicated by `json.dumps` (first occurrence kept), the
 * continuations are the `target_scores` keys in FILE order, and appended choices are `sorted(keys)`
 * permuted by `RandomState(42).permutation(n)` (SCORING.md §2, §3.7; PROVENANCE.md pitfalls). Pure.
 */
import { numpyPermutation } from "../numpy-random.js";
import { getField, parseOrderedJson, pythonDumpsKey, type JsonNode } from "../ordered-json.js";
import { EvalDataError, type EvalDocument, type MetricName, type TaskDefinition } from "../types.js";
import { compareCodePoints, fileText } from "./common.js";

const BIGBENCH_SEED = 42;
/** The harness' `self.max_length` for generation (tokens) and output truncation (characters). */
const BIGBENCH_MAX_LENGTH = 128;

function optionalString(task: JsonNode, key: string, fallback: string, where: string): string {
  const node = getField(task, key);
  if (node === undefined) return fallback;
  if (node.type !== "string") throw new EvalDataError(`${where}: ${key} must be a string`);
  return node.value;
}

/** The harness' `_get_unique_examples`: drop examples whose `json.dumps` was seen before. */
export function uniqueExamples(examples: readonly JsonNode[]): JsonNode[] {
  const seen = new Set<string>();
  const out: JsonNode[] = [];
  for (const ex of examples) {
    const key = pythonDumpsKey(ex);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(ex);
  }
  return out;
}

/** Builds the documents of one BigBench JSON file (text as stored). */
export function buildBigbench(task: string, path: string, text: string): EvalDocument[] {
  const root = parseOrderedJson(text);
  const examplesNode = getField(root, "examples");
  if (examplesNode?.type !== "array") throw new EvalDataError(`${path}: no examples array`);
  const metricsNode = getField(root, "metrics");
  const metrics = metricsNode?.type === "array" ? metricsNode.items.flatMap((m) => (m.type === "string" ? [m.value] : [])) : [];
  const hasGenerative = metrics.includes("exact_str_match");
  if (!metrics.includes("multiple_choice_grade")) throw new EvalDataError(`${path}: not a multiple_choice_grade task`);

  const taskPrefix = optionalString(root, "task_prefix", "", path);
  const inputPrefix = optionalString(root, "example_input_prefix", "\nQ: ", path);
  const outputPrefix = optionalString(root, "example_output_prefix", "\nA: ", path);
  const choicePrefix = optionalString(root, "choice_prefix", "\n  choice: ", path);
  const appendNode = getField(root, "append_choices_to_input");
  const appendChoices = appendNode === undefined ? true : appendNode.type === "boolean" ? appendNode.value : true;

  return uniqueExamples(examplesNode.items).map((ex, docIndex) => {
    const where = `${path} example ${docIndex} (after de-duplication)`;
    const input = getField(ex, "input");
    if (input?.type !== "string") throw new EvalDataError(`${where}: input must be a string`);
    const scoresNode = getField(ex, "target_scores");
    if (scoresNode?.type !== "object" || scoresNode.entries.length === 0) throw new EvalDataError(`${where}: target_scores must be a non-empty object`);
    const keys = scoresNode.entries.map(([k]) => k);
    const targetScores = scoresNode.entries.map(([k, v]) => {
      if (v.type !== "number") throw new EvalDataError(`${where}: target_scores[${JSON.stringify(k)}] must be a number`);
      return v.value;
    });

    let body = `${inputPrefix}${input.value}`;
    if (appendChoices) {
      const sorted = [...keys].sort(compareCodePoints);
      const perm = numpyPermutation(sorted.length, BIGBENCH_SEED);
      const rendered = perm.map((i) => sorted[i] as string);
      body = `${body}${choicePrefix}${rendered.join(choicePrefix)}`;
    }
    const context = `${taskPrefix}${body}${outputPrefix}`;

    const doc: EvalDocument = {
      task,
      docIndex,
      requests: keys.map((k) => ({ context, continuation: k })),
      scoring: { kind: "bigbench", targetScores },
    };
    if (!hasGenerative) return doc;
    const target = getField(ex, "target");
    return {
      ...doc,
      generation: {
        context,
        maxTokens: BIGBENCH_MAX_LENGTH,
        maxChars: BIGBENCH_MAX_LENGTH,
        // A list target can never equal the postprocessed string; keep it unmatchable.
        target: target?.type === "string" ? target.value : "\u0000<no string target>",
      },
    };
  });
}

const BIGBENCH_NAMES = [
  "causal_judgement",
  "date_understanding",
  "disambiguation_qa",
  "geometric_shapes",
  "logical_deduction_five_objects",
  "logical_deduction_seven_objects",
  "logical_deduction_three_objects",
  "movie_recommendation",
  "navigate",
  "reasoning_about_colored_objects",
  "ruin_names",
  "salient_translation_error_detection",
  "snarks",
  "sports_understanding",
  "temporal_sequences",
  "tracking_shuffled_objects_five_objects",
  "tracking_shuffled_objects_seven_objects",
  "tracking_shuffled_objects_three_objects",
] as const;

export const BIGBENCH_TASKS: readonly TaskDefinition[] = BIGBENCH_NAMES.map((stem) => {
  const path = `bigbench/${stem}.json`;
  const name = `bigbench_${stem}`;
  const metrics: MetricName[] = stem === "geometric_shapes" ? ["multiple_choice_grade", "exact_str_match"] : ["multiple_choice_grade"];
  return {
    name,
    suite: "bigbench",
    version: 0,
    metrics,
    files: [path],
    build: (files) => buildBigbench(name, path, fileText(files, path)),
  };
});
