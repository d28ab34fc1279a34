/** Writing benchmark reports: one JSON file and SVG charts beside it, in a per-run directory. */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { EngineBenchReport } from "./engine-bench.js";
import type { ServeBenchReport } from "./serve-bench.js";
import { barChart, lineChart, type LineSeries } from "./svg.js";

/** `bench/results/2025-01-31T12-00-00-000Z` under `cwd`. */
export function defaultOutputDir(cwd: string = process.cwd(), now: Date = new Date()): string {
  return path.join(cwd, "bench", "results", now.toISOString().replace(/[:.]/g, "-"));
}

/** The charts of a serving run: file name → SVG text. */
export function serveCharts(report: ServeBenchReport): Record<string, string> {
  const levels = report.levels;
  const pts = (f: (l: (typeof levels)[number]) => number | undefined): { x: number; y: number }[] =>
    levels.flatMap((l) => {
      const y = f(l);
      return y === undefined ? [] : [{ x: l.concurrency, y }];
    });
  const p = (d: { percentiles: Readonly<Record<string, number>> }, key: string): number | undefined => d.percentiles[key];
  const top = String(Math.max(...report.config.percentiles));
  const subtitle = `${report.config.model}, in ${report.config.inputLen} / out ${report.config.outputLen} tokens`;
  const throughput: LineSeries[] = [
    { name: "output tok/s", points: pts((l) => l.metrics.outputThroughput) },
    { name: "total tok/s", points: pts((l) => l.metrics.totalTokenThroughput) },
  ];
  const requests: LineSeries[] = [{ name: "requests/s", points: pts((l) => l.metrics.requestThroughput) }];
  if (levels.some((l) => l.metrics.requestGoodput !== undefined)) requests.push({ name: "goodput req/s", points: pts((l) => l.metrics.requestGoodput) });
  const latency = (title: string, series: LineSeries[]): string => lineChart({ title: `${title} — ${subtitle}`, xLabel: "concurrency", yLabel: "ms", series });
  return {
    "throughput.svg": lineChart({ title: `Throughput vs concurrency — ${subtitle}`, xLabel: "concurrency", yLabel: "tokens/s", series: throughput }),
    "requests.svg": lineChart({ title: `Requests/s vs concurrency — ${subtitle}`, xLabel: "concurrency", yLabel: "requests/s", series: requests }),
    "ttft.svg": latency("TTFT", [
      { name: "TTFT mean", points: pts((l) => l.metrics.ttftMs.mean) },
      { name: "TTFT median", points: pts((l) => l.metrics.ttftMs.median) },
      { name: `TTFT p${top}`, points: pts((l) => p(l.metrics.ttftMs, top)) },
      { name: "strict TTFT median", points: pts((l) => (l.metrics.strictTtftMs.count > 0 ? l.metrics.strictTtftMs.median : undefined)) },
    ]),
    "tpot-itl.svg": latency("TPOT and ITL", [
      { name: "TPOT median", points: pts((l) => l.metrics.tpotMs.median) },
      { name: `TPOT p${top}`, points: pts((l) => p(l.metrics.tpotMs, top)) },
      { name: "ITL median", points: pts((l) => l.metrics.itlMs.median) },
      { name: `ITL p${top}`, points: pts((l) => p(l.metrics.itlMs, top)) },
    ]),
    "e2el.svg": latency("End-to-end latency", [
      { name: "E2EL median", points: pts((l) => l.metrics.e2elMs.median) },
      { name: `E2EL p${top}`, points: pts((l) => p(l.metrics.e2elMs, top)) },
    ]),
  };
}

/** The charts of an engine run. `server` adds the server-vs-engine comparison when given. */
export function engineCharts(report: EngineBenchReport, server?: ServeBenchReport): Record<string, string> {
  const model = path.basename(report.model.source);
  const single = report.tests.filter((t) => t.kind !== "streams");
  const charts: Record<string, string> = {
    "engine-tests.svg": barChart({
      title: `Engine tokens/s (mean ± sd of ${report.config.repetitions}) — ${model}`,
      yLabel: "tokens/s",
      categories: single.map((t) => t.name),
      series: [{ name: "tokens/s", values: single.map((t) => t.tokensPerSecond.mean), errors: single.map((t) => t.tokensPerSecond.sd) }],
    }),
  };
  const streams = report.tests.filter((t) => t.kind === "streams");
  if (streams.length > 0) {
    const series: LineSeries[] = [
      { name: "engine aggregate tok/s", points: streams.map((t) => ({ x: t.streams, y: t.tokensPerSecond.mean })) },
      { name: "engine per-stream tok/s", points: streams.map((t) => ({ x: t.streams, y: t.tokensPerSecond.mean / t.streams })) },
    ];
    if (server !== undefined) {
      series.push({ name: "server output tok/s", points: server.levels.map((l) => ({ x: l.concurrency, y: l.metrics.outputThroughput })) });
    }
    charts["streams.svg"] = lineChart({ title: `Decode throughput vs concurrent streams — ${model}`, xLabel: "streams", yLabel: "tokens/s", series });
  }
  return charts;
}

/** Writes `<name>.json` and the charts into `dir` (created); returns the paths written. */
export async function writeReport(dir: string, name: string, report: unknown, charts: Record<string, string>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const json = path.join(dir, `${name}.json`);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  written.push(json);
  for (const [file, svg] of Object.entries(charts)) {
    const p = path.join(dir, file);
    await writeFile(p, svg);
    written.push(p);
  }
  return written;
}
