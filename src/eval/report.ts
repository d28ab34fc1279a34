/**
 * Task results, suite averages as the cards compute them (SCORING.md §5), the model cards' scores
 * (`card-scores.json`) and their matching to a model. Pure.
 */
import type { MetricSummary } from "./metrics.js";
import { SUITE_TITLES, type MetricName, type SuiteName } from "./types.js";

export interface TaskResult {
  readonly task: string;
  readonly suite: SuiteName;
  readonly version: number;
  /** Documents scored. */
  readonly n: number;
  /** Metrics in the order the cards print them. */
  readonly metrics: Partial<Record<MetricName, MetricSummary>>;
  /** HellaSwag: built from the reconstructed data (PROVENANCE.md). */
  readonly reconstructed?: boolean;
}

export interface SuiteAverage {
  readonly suite: SuiteName;
  /** Percent, as printed in the cards (unrounded here). */
  readonly value: number;
  /** Tasks that entered the average. */
  readonly tasks: number;
  /** Tasks the card's average has (7 / 8 / 18 / 1). */
  readonly expectedTasks: number;
  /** Whether every task of the suite entered the average with its full document set. */
  readonly complete: boolean;
}

const EXPECTED_TASKS: Readonly<Record<SuiteName, number>> = { gpt4all: 7, agieval: 8, bigbench: 18, truthfulqa: 1 };

/** Full document counts (SCORING.md §4); an average over fewer documents is not comparable with the card. */
export const FULL_DOCUMENT_COUNTS: Readonly<Record<string, number>> = {
  arc_easy: 2376,
  arc_challenge: 1172,
  boolq: 3270,
  hellaswag: 10042,
  openbookqa: 500,
  piqa: 1838,
  winogrande: 1267,
  agieval_aqua_rat: 254,
  agieval_logiqa_en: 651,
  agieval_lsat_ar: 230,
  agieval_lsat_lr: 510,
  agieval_lsat_rc: 269,
  agieval_sat_en: 206,
  agieval_sat_en_without_passage: 206,
  agieval_sat_math: 220,
  bigbench_causal_judgement: 190,
  bigbench_date_understanding: 369,
  bigbench_disambiguation_qa: 258,
  bigbench_geometric_shapes: 359,
  bigbench_logical_deduction_five_objects: 500,
  bigbench_logical_deduction_seven_objects: 700,
  bigbench_logical_deduction_three_objects: 300,
  bigbench_movie_recommendation: 500,
  bigbench_navigate: 1000,
  bigbench_reasoning_about_colored_objects: 2000,
  bigbench_ruin_names: 448,
  bigbench_salient_translation_error_detection: 998,
  bigbench_snarks: 181,
  bigbench_sports_understanding: 986,
  bigbench_temporal_sequences: 1000,
  bigbench_tracking_shuffled_objects_five_objects: 1250,
  bigbench_tracking_shuffled_objects_seven_objects: 1750,
  bigbench_tracking_shuffled_objects_three_objects: 300,
  truthfulqa_mc: 817,
};

/** The metric a task contributes to its suite's Average line. */
export function averageMetric(result: TaskResult): MetricName | undefined {
  switch (result.suite) {
    case "gpt4all":
      // acc_norm when the task reports one, else acc.
      return result.metrics.acc_norm !== undefined ? "acc_norm" : result.metrics.acc !== undefined ? "acc" : undefined;
    case "agieval":
      return result.metrics.acc_norm !== undefined ? "acc_norm" : undefined;
    case "bigbench":
      return result.metrics.multiple_choice_grade !== undefined ? "multiple_choice_grade" : undefined;
    case "truthfulqa":
      return result.metrics.mc2 !== undefined ? "mc2" : undefined;
    default:
      return result.suite satisfies never;
  }
}

/** Unweighted means of each suite's per-task metric, in percent (SCORING.md §5). */
export function suiteAverages(results: readonly TaskResult[]): SuiteAverage[] {
  const out: SuiteAverage[] = [];
  for (const suite of Object.keys(EXPECTED_TASKS) as SuiteName[]) {
    const values: number[] = [];
    let full = true;
    for (const r of results) {
      if (r.suite !== suite) continue;
      const metric = averageMetric(r);
      const summary = metric === undefined ? undefined : r.metrics[metric];
      if (summary === undefined) continue;
      values.push(summary.value);
      if (r.n !== FULL_DOCUMENT_COUNTS[r.task]) full = false;
    }
    if (values.length === 0) continue;
    let sum = 0;
    for (const v of values) sum += v;
    out.push({
      suite,
      value: (sum / values.length) * 100,
      tasks: values.length,
      expectedTasks: EXPECTED_TASKS[suite],
      complete: full && values.length === EXPECTED_TASKS[suite],
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Card scores

export interface CardRow {
  readonly suite: string;
  readonly task: string;
  readonly metric: string;
  readonly value: number;
  readonly stderr: number;
}

export interface ModelCard {
  readonly key: string;
  readonly title: string;
  readonly hfModel: string;
  readonly rows: readonly CardRow[];
  /** Printed averages by card suite title (percent); TruthfulQA falls back to the recomputed mc2 × 100. */
  readonly averages: Readonly<Record<string, number>>;
}

/** Reads the parsed `card-scores.json` into cards keyed as in the file. */
export function parseCardScores(json: unknown): ModelCard[] {
  if (typeof json !== "object" || json === null) throw new TypeError("card-scores.json: expected an object");
  const cards: ModelCard[] = [];
  for (const [key, raw] of Object.entries(json as Record<string, unknown>)) {
    if (key.startsWith("_") || typeof raw !== "object" || raw === null) continue;
    const c = raw as { card?: unknown; hf_model?: unknown; rows?: unknown; averages?: unknown; recomputed_averages?: unknown };
    if (!Array.isArray(c.rows)) continue;
    const averages: Record<string, number> = {};
    if (typeof c.recomputed_averages === "object" && c.recomputed_averages !== null) {
      for (const [suite, v] of Object.entries(c.recomputed_averages as Record<string, unknown>)) if (typeof v === "number") averages[suite] = v;
    }
    // Printed averages win over recomputed ones.
    if (Array.isArray(c.averages)) {
      for (const a of c.averages as Array<{ suite?: unknown; value?: unknown }>) {
        if (typeof a.suite === "string" && typeof a.value === "number") averages[a.suite] = a.value;
      }
    }
    cards.push({
      key,
      title: typeof c.card === "string" ? c.card : key,
      hfModel: typeof c.hf_model === "string" ? c.hf_model : "",
      rows: (c.rows as Array<Record<string, unknown>>).flatMap((r) =>
        typeof r.task === "string" && typeof r.metric === "string" && typeof r.value === "number"
          ? [{ suite: String(r.suite), task: r.task, metric: r.metric, value: r.value, stderr: typeof r.stderr === "number" ? r.stderr : Number.NaN }]
          : [],
      ),
      averages,
    });
  }
  return cards;
}

export function cardValue(card: ModelCard, task: string, metric: string): number | undefined {
  return card.rows.find((r) => r.task === task && r.metric === metric)?.value;
}

export function cardAverage(card: ModelCard, suite: SuiteName): number | undefined {
  return card.averages[SUITE_TITLES[suite]];
}

/** What is known about the model, to pick its card. */
export interface CardMatchInput {
  /** A card key (`hermes-3-llama-3.2-3b`) or a Hermes profile id (`hermes-3-llama-3.2-3b`, `hermes-2-pro`, …). */
  readonly profile?: string | undefined;
  /** GGUF `general.size_label`, e.g. `70B`. */
  readonly sizeLabel?: string | undefined;
  /** GGUF names and the file name, any of which may carry the size (`…-70B-…`). */
  readonly names?: readonly string[] | undefined;
}

/**
 * Picks the card whose numbers the model should reproduce. A card key is taken as is. The profile
 * `hermes-3-llama-3.2-3b` maps to its card; `hermes-2-pro` maps to the 70B card only when the size is 70B
 * (the 8B model has another card). Anything else has no card here.
 */
export function matchCard(cards: readonly ModelCard[], input: CardMatchInput): ModelCard | undefined {
  const byKey = (key: string): ModelCard | undefined => cards.find((c) => c.key === key);
  if (input.profile === undefined) return undefined;
  const direct = byKey(input.profile);
  if (direct !== undefined) return direct;
  const text = [input.sizeLabel ?? "", ...(input.names ?? [])].join(" ").toLowerCase();
  if (input.profile === "hermes-2-pro" && /(^|[^0-9.])70b\b/.test(text)) return byKey("hermes-2-pro-llama-3-70b");
  return undefined;
}
