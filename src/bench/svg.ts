/**
 * Small self-contained SVG charts for benchmark reports: a line chart (throughput or latency against
 * concurrency / streams) and a grouped bar chart with optional error bars (tokens/s per test, mean ± sd).
 * Pure string building, no dependencies; see docs/decisions/0160-own-svg-charts.md.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface LineSeries {
  readonly name: string;
  readonly points: readonly Point[];
}

export interface ChartFrame {
  readonly title: string;
  /** Width in px. Default 760. */
  readonly width?: number;
  /** Height in px. Default 420. */
  readonly height?: number;
}

export interface LineChartOptions extends ChartFrame {
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** Base-2 logarithmic x axis (1, 2, 4, 8…). Default: true when every x is a positive power of two and there are ≥ 3 distinct x. */
  readonly xLog2?: boolean;
}

export interface BarSeries {
  readonly name: string;
  /** One value per category; null = no bar. */
  readonly values: readonly (number | null)[];
  /** Error bar half-heights (e.g. sd), per category. Default none. */
  readonly errors?: readonly (number | null)[];
}

export interface BarChartOptions extends ChartFrame {
  readonly yLabel: string;
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
}

/** Colour-blind-safe palette (Okabe–Ito). */
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"] as const;

const MARGIN = { top: 48, right: 210, bottom: 56, left: 72 } as const;

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c] as string);
}

/** Round numbers for the coordinates (2 decimals keeps files small). */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** "Nice" tick values (1, 2, 2.5, 5 × 10^k steps) covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    if (max === 0) return [0, 1];
    const pad = Math.abs(max) * 0.5;
    return niceTicks(min - pad, max + pad, count);
  }
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if ((ticks[ticks.length - 1] as number) < max) ticks.push(Number(((ticks[ticks.length - 1] as number) + step).toPrecision(12)));
  return ticks;
}

/** Tick label: integers as is, otherwise up to 3 significant decimals; k/M suffixes for large values. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(3)));
}

function frame(options: ChartFrame, body: string[], descr: string): string {
  const width = options.width ?? 760;
  const height = options.height ?? 420;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<desc>${escapeXml(descr)}</desc>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="chart-title" x="${n(width / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}

function yAxis(ticks: readonly number[], y: (v: number) => number, left: number, right: number, label: string, height: number): string[] {
  const out = [`<g class="y-axis">`];
  for (const t of ticks) {
    out.push(`<line x1="${n(left)}" y1="${n(y(t))}" x2="${n(right)}" y2="${n(y(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${n(left - 6)}" y="${n(y(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`);
  }
  out.push(`<line x1="${n(left)}" y1="${n(y(ticks[0] as number))}" x2="${n(left)}" y2="${n(y(ticks[ticks.length - 1] as number))}" stroke="#333333"/>`);
  const cy = height / 2;
  out.push(`<text class="axis-label" x="18" y="${n(cy)}" text-anchor="middle" transform="rotate(-90 18 ${n(cy)})">${escapeXml(label)}</text>`);
  out.push(`</g>`);
  return out;
}

function legend(names: readonly string[], x: number, y: number): string[] {
  const out = [`<g class="legend">`];
  names.forEach((name, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const yy = y + i * 18;
    out.push(`<rect x="${n(x)}" y="${n(yy - 9)}" width="12" height="12" fill="${color}"/>`);
    out.push(`<text x="${n(x + 18)}" y="${n(yy + 1)}">${escapeXml(name)}</text>`);
  });
  out.push(`</g>`);
  return out;
}

function isPowerOfTwo(x: number): boolean {
  return x > 0 && Number.isInteger(Math.log2(x));
}

/** A line chart with markers; every series is drawn in x order. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 420;
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = height - MARGIN.bottom;
  const points = options.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xsDistinct = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
  const log2 = options.xLog2 ?? (xsDistinct.length >= 3 && xsDistinct.every(isPowerOfTwo));
  const fx = (x: number): number => (log2 ? Math.log2(x) : x);
  const xMin = xsDistinct.length > 0 ? fx(xsDistinct[0] as number) : 0;
  const xMax = xsDistinct.length > 0 ? fx(xsDistinct[xsDistinct.length - 1] as number) : 1;
  const xSpan = xMax - xMin || 1;
  const xPad = xMax === xMin ? 0.5 : 0;
  const x = (v: number): number => left + ((fx(v) - xMin + xPad) / (xSpan + 2 * xPad)) * (right - left);
  const yTicks = niceTicks(Math.min(0, ...points.map((p) => p.y)), Math.max(0, ...points.map((p) => p.y)));
  const y0 = yTicks[0] as number;
  const y1 = yTicks[yTicks.length - 1] as number;
  const y = (v: number): number => bottom - ((v - y0) / (y1 - y0 || 1)) * (bottom - top);
  const body: string[] = [];
  body.push(...yAxis(yTicks, y, left, right, options.yLabel, height));
  body.push(`<g class="x-axis">`);
  body.push(`<line x1="${n(left)}" y1="${n(bottom)}" x2="${n(right)}" y2="${n(bottom)}" stroke="#333333"/>`);
  const xTicks = log2 || xsDistinct.length <= 12 ? xsDistinct : niceTicks(xsDistinct[0] as number, xsDistinct[xsDistinct.length - 1] as number);
  for (const t of xTicks) {
    body.push(`<line x1="${n(x(t))}" y1="${n(bottom)}" x2="${n(x(t))}" y2="${n(bottom + 5)}" stroke="#333333"/>`);
    body.push(`<text x="${n(x(t))}" y="${n(bottom + 18)}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`);
  }
  body.push(`<text class="axis-label" x="${n((left + right) / 2)}" y="${n(height - 14)}" text-anchor="middle">${escapeXml(options.xLabel + (log2 ? " (log₂ scale)" : ""))}</text>`);
  body.push(`</g>`);
  options.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    body.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    if (pts.length > 1) body.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${n(x(p.x))},${n(y(p.y))}`).join(" ")}"/>`);
    for (const p of pts) body.push(`<circle cx="${n(x(p.x))}" cy="${n(y(p.y))}" r="3.5" fill="${color}"><title>${escapeXml(`${s.name}: ${formatTick(p.x)} → ${Number(p.y.toPrecision(4))}`)}</title></circle>`);
    body.push(`</g>`);
  });
  body.push(...legend(options.series.map((s) => s.name), right + 16, top + 8));
  const descr = options.series.map((s) => `${s.name}: ${s.points.map((p) => `(${p.x}, ${Number(p.y.toPrecision(6))})`).join(" ")}`).join("; ");
  return frame(options, body, descr);
}

/** A grouped bar chart: one group per category, one bar per series, optional error bars. */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 420;
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = height - MARGIN.bottom;
  const tops: number[] = [0];
  for (const s of options.series) {
    s.values.forEach((v, i) => {
      if (v !== null && Number.isFinite(v)) tops.push(v + (s.errors?.[i] ?? 0));
    });
  }
  const yTicks = niceTicks(0, Math.max(...tops));
  const y1 = yTicks[yTicks.length - 1] as number;
  const y = (v: number): number => bottom - (v / (y1 || 1)) * (bottom - top);
  const groups = Math.max(1, options.categories.length);
  const groupWidth = (right - left) / groups;
  const barWidth = (groupWidth * 0.8) / Math.max(1, options.series.length);
  const body: string[] = [];
  body.push(...yAxis(yTicks, y, left, right, options.yLabel, height));
  body.push(`<g class="x-axis">`);
  body.push(`<line x1="${n(left)}" y1="${n(bottom)}" x2="${n(right)}" y2="${n(bottom)}" stroke="#333333"/>`);
  options.categories.forEach((c, i) => {
    body.push(`<text x="${n(left + groupWidth * (i + 0.5))}" y="${n(bottom + 18)}" text-anchor="middle">${escapeXml(c)}</text>`);
  });
  body.push(`</g>`);
  options.series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length] as string;
    body.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    s.values.forEach((v, ci) => {
      if (v === null || !Number.isFinite(v) || ci >= groups) return;
      const bx = left + groupWidth * ci + groupWidth * 0.1 + barWidth * si;
      body.push(
        `<rect x="${n(bx)}" y="${n(y(v))}" width="${n(barWidth)}" height="${n(bottom - y(v))}" fill="${color}"><title>${escapeXml(`${s.name}, ${options.categories[ci] ?? ""}: ${Number(v.toPrecision(4))}`)}</title></rect>`,
      );
      const e = s.errors?.[ci];
      if (e !== undefined && e !== null && e > 0) {
        const cx = bx + barWidth / 2;
        body.push(`<line class="error-bar" x1="${n(cx)}" y1="${n(y(v + e))}" x2="${n(cx)}" y2="${n(y(Math.max(0, v - e)))}" stroke="#222222"/>`);
      }
    });
    body.push(`</g>`);
  });
  body.push(...legend(options.series.map((s) => s.name), right + 16, top + 8));
  const descr = options.series.map((s) => `${s.name}: ${s.values.map((v, i) => `${options.categories[i] ?? i}=${v === null ? "n/a" : Number(v.toPrecision(6))}`).join(" ")}`).join("; ");
  return frame(options, body, descr);
}
