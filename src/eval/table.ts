/**
 * The benchmark tables in the model cards' format (the old harness' `make_table`, a pytablewriter
 * Markdown table: centred headers, `%.4f` values, `±` column), with two more columns: the card's
 * value and our difference from it. Pure.
 */
import { cardAverage, cardValue, type ModelCard, type SuiteAverage, type TaskResult } from "./report.js";
import { SUITE_TITLES, type MetricName, type SuiteName } from "./types.js";

type Align = "left" | "right";

interface Column {
  readonly header: string;
  readonly align: Align;
}

/** pytablewriter widths: at least 3, at least the header and every cell. */
function renderMarkdownTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(3, [...c.header].length, ...rows.map((r) => [...(r[i] ?? "")].length)));
  const pad = (text: string, width: number, align: Align | "center"): string => {
    const room = width - [...text].length;
    if (align === "left") return text + " ".repeat(room);
    if (align === "right") return " ".repeat(room) + text;
    const left = Math.floor(room / 2);
    return " ".repeat(left) + text + " ".repeat(room - left);
  };
  const line = (cells: readonly string[]): string => `|${cells.join("|")}|`;
  const out = [
    line(columns.map((c, i) => pad(c.header, widths[i] as number, "center"))),
    line(columns.map((c, i) => (c.align === "right" ? `${"-".repeat((widths[i] as number) - 1)}:` : "-".repeat(widths[i] as number)))),
    ...rows.map((r) => line(columns.map((c, i) => pad(r[i] ?? "", widths[i] as number, c.align)))),
  ];
  return out.join("\n");
}

const f4 = (v: number): string => v.toFixed(4);
const signed = (v: number, digits: number): string => `${v >= 0 ? "+" : "-"}${Math.abs(v).toFixed(digits)}`;

/** Display name of a task: HellaSwag is labelled as reconstructed (PROVENANCE.md). */
export function taskLabel(result: TaskResult): string {
  return result.reconstructed === true ? `${result.task} (reconstructed)` : result.task;
}

export interface SuiteTableOptions {
  /** The card to compare with; without one the Card and Diff columns are left out. */
  readonly card?: ModelCard | undefined;
}

/** One suite's table: the cards' six columns, then `Card` and `Diff` (ours − card) when a card is given. */
export function formatSuiteTable(suite: SuiteName, results: readonly TaskResult[], average: SuiteAverage | undefined, options: SuiteTableOptions = {}): string {
  const card = options.card;
  const columns: Column[] = [
    { header: "Task", align: "left" },
    { header: "Version", align: "right" },
    { header: "Metric", align: "left" },
    { header: "Value", align: "right" },
    { header: "", align: "left" },
    { header: "Stderr", align: "right" },
  ];
  if (card !== undefined) columns.push({ header: "Card", align: "right" }, { header: "Diff", align: "right" });
  const rows: string[][] = [];
  const sorted = results.filter((r) => r.suite === suite).sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
  for (const r of sorted) {
    let first = true;
    for (const [metric, summary] of Object.entries(r.metrics) as Array<[MetricName, NonNullable<TaskResult["metrics"][MetricName]>]>) {
      const row = [first ? taskLabel(r) : "", first ? String(r.version) : "", metric, f4(summary.value), "±", summary.stderr === null ? "" : f4(summary.stderr)];
      if (card !== undefined) {
        const expected = cardValue(card, r.task, metric);
        row.push(expected === undefined ? "" : f4(expected), expected === undefined ? "" : signed(summary.value - expected, 4));
      }
      rows.push(row);
      first = false;
    }
  }
  const lines = [SUITE_TITLES[suite], renderMarkdownTable(columns, rows)];
  if (average !== undefined) {
    let text = `Average: ${average.value.toFixed(2)}`;
    const expected = card === undefined ? undefined : cardAverage(card, suite);
    if (expected !== undefined) text += ` (card ${expected.toFixed(2)}, diff ${signed(average.value - expected, 2)})`;
    if (!average.complete) text += ` [partial: ${average.tasks}/${average.expectedTasks} tasks or fewer documents; not comparable with the card]`;
    lines.push(text);
  }
  return lines.join("\n");
}

/** Every suite present in the results, in the cards' order, separated by blank lines. */
export function formatReport(results: readonly TaskResult[], averages: readonly SuiteAverage[], options: SuiteTableOptions = {}): string {
  const suites: SuiteName[] = ["gpt4all", "agieval", "bigbench", "truthfulqa"];
  return suites
    .filter((s) => results.some((r) => r.suite === s))
    .map((s) =>
      formatSuiteTable(
        s,
        results,
        averages.find((a) => a.suite === s),
        options,
      ),
    )
    .join("\n\n");
}

