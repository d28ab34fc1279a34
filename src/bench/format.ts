/** Human-readable summaries of benchmark reports (the JSON file is the record; this is for the terminal). */
import type { EngineBenchReport } from "./engine-bench.js";
import type { ServeBenchReport } from "./serve-bench.js";
import type { Distribution } from "./stats.js";

function f(x: number, digits = 2): string {
  return x.toFixed(digits);
}

function dist(label: string, unit: string, d: Distribution): string[] {
  const lines = [`Mean ${label} (${unit}):`.padEnd(40) + f(d.mean), `Median ${label} (${unit}):`.padEnd(40) + f(d.median)];
  for (const [p, v] of Object.entries(d.percentiles)) if (p !== "50") lines.push(`P${p} ${label} (${unit}):`.padEnd(40) + f(v));
  return lines;
}

/** vLLM's "Serving Benchmark Result" block, one per concurrency level. */
export function formatServeReport(report: ServeBenchReport): string {
  const out: string[] = [];
  for (const l of report.levels) {
    const m = l.metrics;
    out.push(`============ Serving Benchmark Result (concurrency ${l.concurrency}) ============`);
    out.push("Successful requests:".padEnd(40) + m.completed);
    out.push("Failed requests:".padEnd(40) + m.failed);
    out.push("Benchmark duration (s):".padEnd(40) + f(l.durationS));
    out.push("Total input tokens:".padEnd(40) + m.totalInput);
    out.push("Total generated tokens:".padEnd(40) + m.totalOutput);
    out.push("Request throughput (req/s):".padEnd(40) + f(m.requestThroughput));
    if (m.requestGoodput !== undefined) out.push("Request goodput (req/s):".padEnd(40) + f(m.requestGoodput));
    out.push("Output token throughput (tok/s):".padEnd(40) + f(m.outputThroughput));
    out.push("Peak output token throughput (tok/s):".padEnd(40) + f(m.maxOutputTokensPerS));
    out.push("Peak concurrent requests:".padEnd(40) + m.maxConcurrentRequests);
    out.push("Total token throughput (tok/s):".padEnd(40) + f(m.totalTokenThroughput));
    out.push("Load average (1 min) before / after:".padEnd(40) + `${l.loadAverageBefore[0] ?? "?"} / ${l.loadAverageAfter[0] ?? "?"}`);
    out.push("---------------Time to First Token----------------");
    out.push(...dist("TTFT", "ms", m.ttftMs));
    out.push("--------Strict TTFT (first content/tool delta)--------");
    out.push(...dist("strict TTFT", "ms", m.strictTtftMs));
    out.push("-----Time per Output Token (excl. 1st token)------");
    out.push(...dist("TPOT", "ms", m.tpotMs));
    out.push("---------------Inter-token Latency----------------");
    out.push(...dist("ITL", "ms", m.itlMs));
    out.push("----------------End-to-end Latency----------------");
    out.push(...dist("E2EL", "ms", m.e2elMs));
    out.push("");
  }
  return out.join("\n");
}

/** A llama-bench-style markdown table. */
export function formatEngineReport(report: EngineBenchReport): string {
  const backend = Object.entries(report.backend)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(", ");
  const params = report.model.parameterCount >= 1e9 ? `${f(report.model.parameterCount / 1e9)} B` : `${f(report.model.parameterCount / 1e6)} M`;
  const lines = [
    `model: ${report.model.source} (${params} params, ${report.model.fileType ?? "?"}); ${backend}; ${report.model.sequences} sequence(s) × ${report.model.contextSize} tokens`,
    `load average at the end: ${report.environment.loadAverage.join(" / ")} on ${report.environment.cpus} CPUs`,
    "",
    "| test | t/s | decode t/s (excl. 1st) | TTFT ms | req/s | tokens generated |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const t of report.tests) {
    const ms = (x: { mean: number; sd: number } | undefined, d = 2): string => (x === undefined ? "" : `${f(x.mean, d)} ± ${f(x.sd, d)}`);
    lines.push(
      `| ${t.name} | ${ms(t.tokensPerSecond)} | ${ms(t.decodeTokensPerSecond)} | ${ms(t.ttftMs)} | ${ms(t.requestsPerSecond)} | ${t.meanGeneratedTokens === undefined ? "" : f(t.meanGeneratedTokens, 1)} |`,
    );
  }
  const ratios = Object.entries(report.ratios);
  if (ratios.length > 0) lines.push("", ...ratios.map(([k, v]) => `ratio ${k}: ${f(v, 3)}`));
  return lines.join("\n");
}
