#!/usr/bin/env python3
"""The GPU runbook's tables (bench/gpu/README.md): Talaria's engine vs llama.cpp's own tools, llama-server and
HF transformers generate(), on the same 3b model, free text and JSON-constrained, 1 and N streams; then the
ratios Talaria / peer. Every input is optional; rows and columns without data are left out.

Usage: python3 compare.py [--talaria engine.json] [--llama-bench llama-bench.json] [--llama-batched llama-batched-bench.json]
                          [--llama-server-engine engine.json] [--serve serve.json] [--hf hf-peer.json ...]
       python3 compare.py engine.json [hf_peer.json ...]          (the older form: Talaria first, then HF peers)

  --talaria              `talaria bench engine` on the embedded engine (with --server: its in-process server too)
  --llama-bench          `llama-bench -o json` (pp / tg of the same llama.cpp build)
  --llama-batched        device.sh's list of `llama-batched-bench --output-format jsonl` rows (aggregate decode)
  --llama-server-engine  `talaria bench engine --backend <llama-server>`: the same tests through llama-server
  --serve                device.sh's serve.json: `bench serve` against llama-server (free, JSON schema) and
                         against `talaria serve` (JSON schema)
  --hf                   hf_peer.py reports (repeatable)
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

Cell = tuple[float, float]  # mean, sd


def load(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def fmt(c: Cell | None, digits: int = 1) -> str:
    if c is None:
        return ""
    return f"{c[0]:.{digits}f} ± {c[1]:.{digits}f}"


def ms(v: dict[str, Any] | None) -> Cell | None:
    return None if not v else (float(v["mean"]), float(v.get("sd", v.get("std", 0.0))))


def rows_engine(r: dict[str, Any]) -> dict[str, Cell]:
    """engine.json of `talaria bench engine` (embedded or --backend)."""
    out: dict[str, Cell] = {}
    tests = r["tests"]
    for t in tests:
        v = ms(t["tokensPerSecond"])
        if t["kind"] == "pp":
            out["prefill tok/s"] = v
            if "ttftMs" in t:
                out["TTFT ms (prefill)"] = ms(t["ttftMs"])
        elif t["kind"] == "tg":
            out["decode tok/s, 1 stream"] = v
        elif t["kind"] == "tg-grammar":
            out["decode tok/s, 1 stream, JSON schema"] = v
        elif t["kind"] == "tg-grammar-jf":
            out["decode tok/s, 1 stream, JSON schema + jump-forward"] = v
        elif t["kind"] == "streams":
            out[f"aggregate decode tok/s, {t['streams']} streams"] = v
    return out


def rows_llama_bench(rows: list[dict[str, Any]]) -> dict[str, Cell]:
    out: dict[str, Cell] = {}
    for t in rows:
        cell = (float(t["avg_ts"]), float(t.get("stddev_ts", 0.0)))
        if t.get("n_gen", 0) == 0 and t.get("n_prompt", 0) > 0:
            out["prefill tok/s"] = cell
        elif t.get("n_prompt", 0) == 0 and t.get("n_gen", 0) > 0:
            out["decode tok/s, 1 stream"] = cell
    return out


def rows_batched(rows: list[dict[str, Any]]) -> dict[str, Cell]:
    by_pl: dict[int, list[float]] = {}
    for t in rows:
        by_pl.setdefault(int(t["pl"]), []).append(float(t["speed_tg"]))
    return {f"aggregate decode tok/s, {pl} streams": (statistics.fmean(v), statistics.stdev(v) if len(v) > 1 else 0.0) for pl, v in sorted(by_pl.items())}


def rows_hf(r: dict[str, Any]) -> dict[str, Cell]:
    out: dict[str, Cell] = {}
    for t in r["tests"]:
        k = t["kind"]
        if k == "pp":
            out["prefill tok/s"] = ms(t["tokensPerSecond"])
        elif k == "ttft":
            out["TTFT ms (prefill)"] = ms(t["ttftMs"])
        elif k == "tg":
            out["decode tok/s, 1 stream"] = ms(t["tokensPerSecond"])
        elif k == "streams":
            out[f"aggregate decode tok/s, {t['streams']} streams"] = ms(t["tokensPerSecond"])
        elif k == "tg-grammar":
            out["decode tok/s, 1 stream, JSON schema"] = ms(t["tokensPerSecond"])
        elif k == "streams-grammar":
            out[f"aggregate decode tok/s, {t['streams']} streams, JSON schema"] = ms(t["tokensPerSecond"])
    return out


def rows_serve(r: dict[str, Any], suffix: str = "") -> dict[str, Cell]:
    out: dict[str, Cell] = {}
    for level in r.get("levels", []):
        c, m = level["concurrency"], level["metrics"]
        out[f"HTTP output tok/s, concurrency {c}{suffix}"] = (float(m["outputThroughput"]), 0.0)
        out[f"HTTP TTFT ms, concurrency {c}{suffix}"] = ms(m["ttftMs"])
        out[f"HTTP TPOT ms, concurrency {c}{suffix}"] = ms(m["tpotMs"])
    return out


def table(columns: list[tuple[str, dict[str, Cell]]]) -> list[str]:
    keys: list[str] = []
    for _, rows in columns:
        for k in rows:
            if k not in keys:
                keys.append(k)
    lines = ["| metric | " + " | ".join(n for n, _ in columns) + " |", "| --- |" + " ---: |" * len(columns)]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(fmt(rows.get(k)) for _, rows in columns) + " |")
    return lines


def ratio_lines(base_name: str, base: dict[str, Cell], peers: list[tuple[str, dict[str, Cell]]]) -> list[str]:
    """Talaria / peer for every metric both have (for TTFT and TPOT, lower is better: peer / Talaria is printed as ×faster)."""
    cols = [(n, rows) for n, rows in peers if any(k in base for k in rows)]
    if not cols or not base:
        return []
    lines = [f"| {base_name} ÷ peer | " + " | ".join(n for n, _ in cols) + " |", "| --- |" + " ---: |" * len(cols)]
    for k in base:
        cells = []
        for _, rows in cols:
            p, b = rows.get(k), base.get(k)
            if p is None or b is None or p[0] <= 0 or b[0] <= 0:
                cells.append("")
                continue
            lower_better = " ms" in k
            cells.append(f"{(p[0] / b[0]) if lower_better else (b[0] / p[0]):.2f}×")
        if any(cells):
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return lines + ["", "(× > 1: Talaria faster; for the ms rows the inverse ratio, so that > 1 still means Talaria faster.)"]


def self_ratios(name: str, rows: dict[str, Cell]) -> list[str]:
    out = []
    free, js = rows.get("decode tok/s, 1 stream"), rows.get("decode tok/s, 1 stream, JSON schema")
    if free and js and free[0] > 0:
        out.append(f"- {name}: JSON-schema / free decode, 1 stream: {js[0] / free[0]:.2f}")
    agg = {int(k.split(", ")[1].split()[0]): v for k, v in rows.items() if k.startswith("aggregate decode tok/s, ") and k.endswith(" streams")}
    if 1 in agg and agg[1][0] > 0:
        for s, v in sorted(agg.items()):
            if s > 1:
                out.append(f"- {name}: {s} streams / 1 stream aggregate decode: {v[0] / agg[1][0]:.2f}")
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("positional", nargs="*", help=argparse.SUPPRESS)
    ap.add_argument("--talaria")
    ap.add_argument("--llama-bench")
    ap.add_argument("--llama-batched")
    ap.add_argument("--llama-server-engine")
    ap.add_argument("--serve")
    ap.add_argument("--hf", action="append", default=[])
    a = ap.parse_args(argv)
    if a.positional:
        a.talaria = a.talaria or a.positional[0]
        a.hf += a.positional[1:]
    if not (a.talaria or a.llama_bench or a.llama_batched or a.llama_server_engine or a.serve or a.hf):
        print(__doc__, file=sys.stderr)
        return 2

    engine_cols: list[tuple[str, dict[str, Cell]]] = []
    http_cols: list[tuple[str, dict[str, Cell]]] = []
    talaria_rows: dict[str, Cell] = {}
    talaria_http: dict[str, Cell] = {}
    notes: list[str] = []
    if a.talaria:
        r = load(a.talaria)
        talaria_rows = rows_engine(r)
        engine_cols.append((f"Talaria engine ({r.get('backend', {}).get('gpu', '?')}, {r['model'].get('fileType', '?')})", talaria_rows))
        if r.get("server"):
            talaria_http = rows_serve(r["server"])
    if a.llama_bench or a.llama_batched:
        rows: dict[str, Cell] = {}
        if a.llama_bench:
            rows.update(rows_llama_bench(load(a.llama_bench)))
        if a.llama_batched:
            rows.update(rows_batched(load(a.llama_batched)))
        engine_cols.append(("llama-bench / llama-batched-bench", rows))
        notes.append("llama-batched-bench's aggregate is decode only (S_TG); Talaria's and HF's include the 1-token prompt.")
    if a.llama_server_engine:
        engine_cols.append(("llama-server (bench engine --backend)", rows_engine(load(a.llama_server_engine))))
    for path in a.hf:
        r = load(path)
        engine_cols.append((f"HF generate ({r['model']['dtype']})", rows_hf(r)))
        skipped = r.get("config", {}).get("constrainedSkipped")
        if skipped:
            notes.append(f"HF constrained tests skipped: {skipped}")
    if a.serve:
        s = load(a.serve)
        if talaria_http or s.get("talariaJson"):
            rows = dict(talaria_http)
            if s.get("talariaJson"):
                rows.update(rows_serve(s["talariaJson"], ", JSON schema"))
            talaria_http = rows
        if s.get("llamaServer") or s.get("llamaServerJson"):
            rows = {}
            if s.get("llamaServer"):
                rows.update(rows_serve(s["llamaServer"]))
            if s.get("llamaServerJson"):
                rows.update(rows_serve(s["llamaServerJson"], ", JSON schema"))
            http_cols.append(("llama-server", rows))
    if talaria_http:
        http_cols.insert(0, ("Talaria server", talaria_http))

    out = ["## Engine level (same tests, same GGUF)", ""] + table(engine_cols)
    if talaria_rows and len(engine_cols) > 1:
        out += ["", "### Talaria ÷ peer", ""] + ratio_lines("Talaria", talaria_rows, engine_cols[1:])
    if http_cols:
        out += ["", "## HTTP level (bench serve, /v1/chat/completions)", ""] + table(http_cols)
        if talaria_http and len(http_cols) > 1:
            out += ["", "### Talaria server ÷ peer", ""] + ratio_lines("Talaria server", talaria_http, http_cols[1:])
    scal = [line for name, rows in engine_cols for line in self_ratios(name, rows)]
    if scal:
        out += ["", "## Within each system", ""] + scal
    if notes:
        out += ["", "Notes:"] + [f"- {n}" for n in notes]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
