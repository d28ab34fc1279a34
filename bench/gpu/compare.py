#!/usr/bin/env python3
"""Side-by-side table of `talaria bench engine` (engine.json) and hf_peer.py reports (one or more JSON files).

Usage: python3 compare.py work/results/<run>/engine.json [hf_peer_bf16.json hf_peer_4bit.json ...]
Rows: prefill tok/s (pp), TTFT ms, single-stream decode tok/s (tg), aggregate decode tok/s per stream count.
"""
from __future__ import annotations

import json
import sys
from typing import Any


def load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def rows_talaria(r: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in r["tests"]:
        v = t["tokensPerSecond"]
        if t["kind"] == "pp":
            out["prefill tok/s"] = f"{v['mean']:.1f} ± {v['sd']:.1f} ({t['name']})"
            if "ttftMs" in t:
                out["TTFT ms"] = f"{t['ttftMs']['mean']:.1f} ± {t['ttftMs']['sd']:.1f} ({t['promptTokens']} tokens)"
        elif t["kind"] == "tg":
            out["decode tok/s, 1 stream"] = f"{v['mean']:.1f} ± {v['sd']:.1f} ({t['name']})"
        elif t["kind"] == "streams":
            out[f"decode tok/s, {t['streams']} streams"] = f"{v['mean']:.1f} ± {v['sd']:.1f}"
    return out


def rows_hf(r: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in r["tests"]:
        if t["kind"] == "pp":
            v = t["tokensPerSecond"]
            out["prefill tok/s"] = f"{v['mean']:.1f} ± {v['sd']:.1f} ({t['name']})"
        elif t["kind"] == "ttft":
            v = t["ttftMs"]
            out["TTFT ms"] = f"{v['mean']:.1f} ± {v['sd']:.1f}"
        elif t["kind"] == "tg":
            v = t["tokensPerSecond"]
            out["decode tok/s, 1 stream"] = f"{v['mean']:.1f} ± {v['sd']:.1f} ({t['name']})"
        elif t["kind"] == "streams":
            v = t["tokensPerSecond"]
            out[f"decode tok/s, {t['streams']} streams"] = f"{v['mean']:.1f} ± {v['sd']:.1f}"
    return out


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    columns: list[tuple[str, dict[str, str]]] = []
    talaria = load(argv[0])
    backend = talaria.get("backend", {})
    columns.append((f"Talaria ({backend.get('gpu', '?')}, {talaria['model'].get('fileType', '?')})", rows_talaria(talaria)))
    for path in argv[1:]:
        r = load(path)
        columns.append((f"HF generate ({r['model']['dtype']})", rows_hf(r)))
    keys: list[str] = []
    for _, rows in columns:
        for k in rows:
            if k not in keys:
                keys.append(k)
    print("| metric | " + " | ".join(name for name, _ in columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for k in keys:
        print(f"| {k} | " + " | ".join(rows.get(k, "") for _, rows in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
