import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { barChart, escapeXml, formatTick, lineChart, niceTicks } from "./svg.js";

function wellFormed(svg: string): void {
  const result = XMLValidator.validate(svg);
  if (result !== true) throw new Error(`not well-formed XML: ${JSON.stringify(result.err)}`);
}

function count(text: string, pattern: RegExp): number {
  return (text.match(pattern) ?? []).length;
}

describe("lineChart", () => {
  const svg = lineChart({
    title: `Throughput <vs> "concurrency" & more`,
    xLabel: "concurrency",
    yLabel: "tokens/s",
    series: [
      { name: "output tok/s", points: [{ x: 1, y: 10 }, { x: 2, y: 19 }, { x: 4, y: 35 }, { x: 8, y: 50 }] },
      { name: "total <tok/s>", points: [{ x: 8, y: 80 }, { x: 1, y: 20 }] },
    ],
  });

  it("is well-formed XML with an svg root and an escaped title", () => {
    wellFormed(svg);
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain("<title>Throughput &lt;vs&gt; &quot;concurrency&quot; &amp; more</title>");
  });

  it("has both axes, tick labels at the data x values and a log₂ x axis for powers of two", () => {
    expect(svg).toContain('<g class="x-axis">');
    expect(svg).toContain('<g class="y-axis">');
    for (const x of ["1", "2", "4", "8"]) expect(svg).toMatch(new RegExp(`text-anchor="middle">${x}</text>`));
    expect(svg).toContain("concurrency (log₂ scale)");
    expect(svg).toContain(">tokens/s</text>");
  });

  it("draws one polyline per series with a marker per point, and a legend entry each", () => {
    expect(count(svg, /<g class="series"/g)).toBe(2);
    expect(count(svg, /<polyline /g)).toBe(2);
    expect(count(svg, /<circle /g)).toBe(6);
    expect(svg).toContain('data-name="total &lt;tok/s&gt;"');
    expect(svg).toContain(">output tok/s</text>");
  });

  it("puts larger values higher (smaller y) and the y axis starts at 0", () => {
    const ys = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
    // first series in x order: 10, 19, 35, 50 → strictly decreasing pixel y
    expect(ys.slice(0, 4)).toEqual([...ys.slice(0, 4)].sort((a, b) => b - a));
    expect(svg).toMatch(/text-anchor="end">0<\/text>/);
  });

  it("copes with a single point and with no data", () => {
    wellFormed(lineChart({ title: "one", xLabel: "x", yLabel: "y", series: [{ name: "s", points: [{ x: 3, y: 0 }] }] }));
    wellFormed(lineChart({ title: "none", xLabel: "x", yLabel: "y", series: [] }));
  });
});

describe("barChart", () => {
  const svg = barChart({
    title: "Engine tokens/s",
    yLabel: "tokens/s",
    categories: ["pp512", "tg128", "tg128+json"],
    series: [{ name: "tok/s", values: [900, 120, null], errors: [30, 0, null] }],
  });

  it("is well-formed with one bar per non-null value and error bars where sd > 0", () => {
    wellFormed(svg);
    expect(count(svg, /<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#0072B2">/g)).toBe(2);
    expect(count(svg, /class="error-bar"/g)).toBe(1);
    expect(svg).toContain(">tg128+json</text>");
  });
});

describe("helpers", () => {
  it("escapes the five XML special characters", () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  });

  it("picks nice ticks covering the range", () => {
    expect(niceTicks(0, 50)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(niceTicks(0, 0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 0)).toEqual([0, 1]);
    const t = niceTicks(3, 1234);
    expect(t[0]).toBeLessThanOrEqual(3);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(1234);
  });

  it("formats tick labels compactly", () => {
    expect(formatTick(5)).toBe("5");
    expect(formatTick(0.125)).toBe("0.125");
    expect(formatTick(25000)).toBe("25k");
    expect(formatTick(2_500_000)).toBe("2.5M");
  });
});
