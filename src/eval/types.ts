/**
 * Types of the pure eval core: task definitions turn data files into documents, a document turns
 * into harness-level requests (context / continuation strings, exactly as the old lm-evaluation-harness
 * builds them), and the document's scoring rule turns the requests' log-likelihoods into metrics.
 */

/** The four benchmark suites of the Hermes model cards. */
export type SuiteName = "gpt4all" | "agieval" | "bigbench" | "truthfulqa";

export const SUITE_NAMES: readonly SuiteName[] = ["gpt4all", "agieval", "bigbench", "truthfulqa"];

/** How each suite is titled in the cards (and in `card-scores.json`). */
export const SUITE_TITLES: Readonly<Record<SuiteName, string>> = {
  gpt4all: "GPT4All",
  agieval: "AGIEval",
  bigbench: "BigBench",
  truthfulqa: "TruthfulQA",
};

export type MetricName = "acc" | "acc_norm" | "mc1" | "mc2" | "multiple_choice_grade" | "exact_str_match";

/**
 * One `loglikelihood(context, continuation)` request as the harness issues it, BEFORE the trailing
 * whitespace of the context moves to the continuation (that happens at tokenisation, see
 * `splitTrailingWhitespace`). These strings are what `golden-requests.json` records.
 */
export interface HarnessRequest {
  readonly context: string;
  readonly continuation: string;
}

/** How a document's log-likelihoods become metrics (SCORING.md §3). */
export type DocScoring =
  /** arc, openbookqa, piqa, hellaswag: acc and acc_norm with one gold index. */
  | {
      readonly kind: "multiple-choice";
      readonly gold: number;
      /** Code-point length of each choice without its leading space (acc_norm divisor). */
      readonly choiceLengths: readonly number[];
    }
  /** AGIEval: acc and acc_norm, gold is a list (membership test). */
  | {
      readonly kind: "agieval";
      readonly gold: readonly number[];
      readonly choiceLengths: readonly number[];
    }
  /** BoolQ: requests " yes", " no"; acc = (ll_yes > ll_no) == (label == 1). */
  | { readonly kind: "boolq"; readonly label: 0 | 1 }
  /** WinoGrande partial scoring: one request per option (different contexts), argmax == gold. */
  | { readonly kind: "winogrande"; readonly gold: number }
  /** TruthfulQA mc: the first `mc1Count` requests are mc1 (gold 0), the rest mc2 with labels. */
  | { readonly kind: "truthfulqa-mc"; readonly mc1Count: number; readonly mc2Labels: readonly number[] }
  /** BigBench multiple_choice_grade with the SHA-256 tie-break; requests in target_scores file order. */
  | { readonly kind: "bigbench"; readonly targetScores: readonly number[] };

/** A greedy generation the harness issues besides the log-likelihood requests (BigBench exact_str_match). */
export interface GenerationRequest {
  /** The full context (its trailing whitespace is NOT moved for generation). */
  readonly context: string;
  /** Token budget (128 for BigBench). */
  readonly maxTokens: number;
  /** Characters kept before the regex (128 for BigBench). */
  readonly maxChars: number;
  /** The document's `target`; the postprocessed output must equal it. */
  readonly target: string;
}

/** One evaluation document. */
export interface EvalDocument {
  /** Harness task name, e.g. `arc_challenge`, `bigbench_navigate`. */
  readonly task: string;
  /** Position in the task's natural document order (BigBench: after de-duplication). */
  readonly docIndex: number;
  readonly requests: readonly HarnessRequest[];
  readonly scoring: DocScoring;
  readonly generation?: GenerationRequest;
}

/** Raw text of a task's data files, keyed by the path relative to the data directory (`.bz2` already decompressed). */
export type DataFiles = ReadonlyMap<string, string>;

export interface TaskDefinition {
  /** Harness task name. */
  readonly name: string;
  readonly suite: SuiteName;
  /** The task VERSION printed in the cards' tables. */
  readonly version: number;
  /** Metrics in the order the cards print them. */
  readonly metrics: readonly MetricName[];
  /** Data files relative to the data directory. */
  readonly files: readonly string[];
  /** Documents in natural order, built from the files' text. Pure. */
  readonly build: (files: DataFiles) => EvalDocument[];
  /** Shown in tables and results: the HellaSwag data is reconstructed (PROVENANCE.md). */
  readonly reconstructed?: boolean;
}

/** Per-document metric values (0/1, or a real number for mc2). */
export type DocMetrics = Partial<Record<MetricName, number>>;

export class EvalDataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EvalDataError";
  }
}
