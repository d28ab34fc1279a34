#!/usr/bin/env python3
"""Write Talaria's `3b` test model (Llama-3.2-3B shape, Q4_K_M mix, random weights) with llama.cpp's gguf-py.

The GPU machine has Python 3 + numpy but no Node.js, so the 1.9 GB model is generated there instead of
being carried (bench/gpu/README.md). The metadata -- vocabulary, merges, token types, chat templates,
names, file type -- is not re-derived here: `bench/gpu/testmodel-meta.mjs` dumps exactly what
`talaria make-test-model --kind 3b` writes (Talaria's own llamaMetadata()), and this script writes those
key/values in that order, with the shape keys set from the options. The tensor list mirrors
src/testmodels/random-model.ts: names, ggml dims, llama.cpp's Q4_K_M type mix (Q6_K for token_embd and for
attn_v / ffn_down on the `use_more_bits` layers, Q4_K elsewhere; Q8_0 / F16 where rows do not fit the
block), F32 norms and the llama3 `rope_freqs`. The K-quant blocks are random bits with the same small,
valid scales as Talaria's generator (bytes differ: numpy's PRNG, not xoshiro128**), so the header -- every
byte before the tensor data -- is identical to make-test-model's for the same options, and the speed of
every kernel is the same.

Usage:
  python3 gen_gguf.py --meta testmodel-meta.json --out talaria-3b.gguf [--gguf-py DIR]
                      [--hidden N --layers N --heads N --kv-heads N --ffn N --context-length N] [--seed N]
  --gguf-py DIR   the folder that holds gguf-py's `gguf` package (default: $GGUF_PY, else
                  ../llama.cpp/gguf-py next to this script, else an installed `gguf`)
  --check-3b      also check the tensor list against the one testmodel-meta.json recorded for the 3b shape
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from typing import Any

import numpy as np

VOCAB_SIZE = 128256
SHAPE_KEYS = {
    "llama.context_length": "contextLength",
    "llama.embedding_length": "hidden",
    "llama.block_count": "layers",
    "llama.feed_forward_length": "ffn",
    "llama.attention.head_count": "heads",
    "llama.attention.head_count_kv": "kvHeads",
}
BLOCK = {"F32": (1, 4), "F16": (1, 2), "Q8_0": (32, 34), "Q4_K": (256, 144), "Q6_K": (256, 210)}


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meta", required=True, help="testmodel-meta.json written by bench/gpu/testmodel-meta.mjs")
    ap.add_argument("--out", required=True, help="output GGUF path")
    ap.add_argument("--gguf-py", default=None, help="folder holding gguf-py's `gguf` package")
    for name in ("hidden", "layers", "heads", "kv-heads", "ffn", "context-length", "seed"):
        ap.add_argument(f"--{name}", type=int, default=None)
    ap.add_argument("--check-3b", action="store_true", help="check the tensor list against the recorded 3b one")
    ap.add_argument("--quiet", action="store_true")
    return ap.parse_args(argv)


def import_gguf(explicit: str | None):
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [explicit, os.environ.get("GGUF_PY"), os.path.join(here, "..", "llama.cpp", "gguf-py")]
    for c in candidates:
        if c and os.path.isdir(os.path.join(c, "gguf")):
            sys.path.insert(0, os.path.abspath(c))
            break
    import gguf  # noqa: PLC0415  (gguf-py: pure Python + numpy)

    return gguf


# --- the tensor list of src/testmodels/random-model.ts ---------------------------------------------


def use_more_bits(layer: int, layers: int) -> bool:
    eighth = layers // 8
    return layer < eighth or layer >= (7 * layers) // 8 or (layer - eighth) % 3 == 2


def weight_type(role: str, layer: int, layers: int, in_dim: int) -> str:
    """llama.cpp's Q4_K_M mix, as weightType() in random-model.ts (quant q4_k_m)."""
    if in_dim % 256 != 0:
        return "Q8_0" if in_dim % 32 == 0 else "F16"
    if role == "token_embd":
        return "Q6_K"
    if role in ("attn_v", "ffn_down") and use_more_bits(layer, layers):
        return "Q6_K"
    return "Q4_K"


def llama3_rope_factors(head_dim: int, base: float, factor: float = 32, low: float = 1, high: float = 4, original: float = 8192) -> np.ndarray:
    low_wavelen = original / low
    high_wavelen = original / high
    out = np.zeros(head_dim // 2, dtype=np.float32)
    for i in range(head_dim // 2):
        freq = 1 / base ** ((2 * i) / head_dim)
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            out[i] = 1
        elif wavelen > low_wavelen:
            out[i] = factor
        else:
            smooth = (original / wavelen - low) / (high - low)
            out[i] = 1 / ((1 - smooth) / factor + smooth)
    return out


def tensor_list(shape: dict[str, int]) -> list[dict[str, Any]]:
    """[{name, dims (ggml order), type, role, layer, amplitude | values}] in file order."""
    hidden, layers, heads, kv, ffn = shape["hidden"], shape["layers"], shape["heads"], shape["kvHeads"], shape["ffn"]
    head_dim = hidden // heads
    amp = lambda in_dim: 2 * math.sqrt(3 / in_dim)  # noqa: E731
    out: list[dict[str, Any]] = [
        {"name": "rope_freqs.weight", "dims": [head_dim // 2], "type": "F32", "values": llama3_rope_factors(head_dim, 500000.0)},
        {"name": "token_embd.weight", "dims": [hidden, VOCAB_SIZE], "type": weight_type("token_embd", 0, layers, hidden), "amplitude": 0.1},
    ]
    ones = lambda n: np.ones(n, dtype=np.float32)  # noqa: E731
    for lyr in range(layers):
        p = f"blk.{lyr}."
        mat = lambda role, i, o, a: {"name": f"{p}{role}.weight", "dims": [i, o], "type": weight_type(role, lyr, layers, i), "amplitude": a}  # noqa: E731
        out += [
            {"name": f"{p}attn_norm.weight", "dims": [hidden], "type": "F32", "values": ones(hidden)},
            mat("attn_q", hidden, heads * head_dim, amp(hidden)),
            mat("attn_k", hidden, kv * head_dim, amp(hidden)),
            mat("attn_v", hidden, kv * head_dim, amp(hidden)),
            mat("attn_output", heads * head_dim, hidden, amp(hidden)),
            {"name": f"{p}ffn_norm.weight", "dims": [hidden], "type": "F32", "values": ones(hidden)},
            mat("ffn_gate", hidden, ffn, amp(hidden)),
            mat("ffn_up", hidden, ffn, amp(hidden)),
            mat("ffn_down", ffn, hidden, amp(ffn)),
        ]
    out.append({"name": "output_norm.weight", "dims": [hidden], "type": "F32", "values": ones(hidden)})
    return out


def nbytes(t: dict[str, Any]) -> int:
    elements, size = BLOCK[t["type"]]
    rows = 1
    for d in t["dims"][1:]:
        rows *= d
    return t["dims"][0] // elements * size * rows


# --- tensor data ------------------------------------------------------------------------------------


def f16_bits(x: float) -> np.uint16:
    # Talaria's f32ToF16Bits rounds the double to float32 first, then to half (nearest even)
    return np.array([np.float32(x)], dtype=np.float32).astype(np.float16).view(np.uint16)[0]


def rng_for(seed: int, name: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def q4_k_blocks(blocks: int, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """randomKQuantBlocks("Q4_K"): random qs, 6-bit scales = mins in 1..63, d = A/(63*15), dmin = d*15/2."""
    out = np.frombuffer(rng.bytes(blocks * 144), dtype=np.uint8).reshape(blocks, 144).copy()
    d = amplitude / (63 * 15)
    out[:, 0:2] = np.frombuffer(f16_bits(d).tobytes(), dtype=np.uint8)
    out[:, 2:4] = np.frombuffer(f16_bits(d * 15 / 2).tobytes(), dtype=np.uint8)
    sc = (1 + out[:, 4:12] % 63).astype(np.uint8)
    hi = ((sc[:, 4:8] >> 4) << 6).astype(np.uint8)
    out[:, 4:8] = sc[:, 0:4] | hi
    out[:, 8:12] = sc[:, 0:4] | hi
    out[:, 12:16] = (sc[:, 4:8] & 0xF) | ((sc[:, 4:8] & 0xF) << 4)
    return out


def q6_k_blocks(blocks: int, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """randomKQuantBlocks("Q6_K"): random ql/qh, int8 scales +-(1..32), d = A/(32*32)."""
    out = np.frombuffer(rng.bytes(blocks * 210), dtype=np.uint8).reshape(blocks, 210).copy()
    r = out[:, 192:208]
    mag = (1 + (r & 31)).astype(np.int16)
    out[:, 192:208] = np.where((r & 0x80) != 0, 256 - mag, mag).astype(np.uint8)
    out[:, 208:210] = np.frombuffer(f16_bits(amplitude / (32 * 32)).tobytes(), dtype=np.uint8)
    return out


def q8_0_from_floats(values: np.ndarray) -> np.ndarray:
    """encodeQ8_0: d = amax/127 (fp16), q = round-half-away(x/d)."""
    v = values.astype(np.float32).reshape(-1, 32)
    amax = np.abs(v).max(axis=1)
    d = amax / 127
    inv = np.where(d != 0, 1 / np.where(d != 0, d, 1), 0).astype(np.float32)
    x = (v * inv[:, None]).astype(np.float32)
    q = (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.int8)
    out = np.zeros((v.shape[0], 34), dtype=np.uint8)
    out[:, 0:2] = d.astype(np.float32).astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out


def tensor_data(t: dict[str, Any], seed: int) -> np.ndarray:
    if "values" in t:
        return np.ascontiguousarray(t["values"], dtype=np.float32).view(np.uint8)
    in_dim, out_dim = t["dims"]
    typ = t["type"]
    rng = rng_for(seed, t["name"])
    if typ in ("Q4_K", "Q6_K"):
        blocks = in_dim // 256 * out_dim
        # random K-quant weights have an RMS of about a quarter of their maximum: twice the amplitude
        fn = q4_k_blocks if typ == "Q4_K" else q6_k_blocks
        return fn(blocks, 2 * t["amplitude"], rng).reshape(-1)
    floats = rng.uniform(-t["amplitude"], t["amplitude"], size=in_dim * out_dim).astype(np.float32)
    if typ == "Q8_0":
        return q8_0_from_floats(floats).reshape(-1)
    if typ == "F16":
        return floats.astype(np.float16).view(np.uint8)
    return floats.view(np.uint8)


# --- metadata ---------------------------------------------------------------------------------------


def resolve_shape(meta: dict[str, Any], args: argparse.Namespace) -> dict[str, int]:
    shape = dict(meta["shape"])  # the 3b defaults recorded by testmodel-meta.mjs
    for opt, key in (("hidden", "hidden"), ("layers", "layers"), ("heads", "heads"), ("kv_heads", "kvHeads"), ("ffn", "ffn"), ("context_length", "contextLength"), ("seed", "seed")):
        v = getattr(args, opt)
        if v is not None:
            if v <= 0 and key != "seed":
                raise SystemExit(f"gen_gguf.py: --{opt.replace('_', '-')} must be positive")
            shape[key] = v
    if shape["hidden"] % shape["heads"] or shape["heads"] % shape["kvHeads"] or (shape["hidden"] // shape["heads"]) % 2:
        raise SystemExit(f"gen_gguf.py: bad shape {shape} (hidden % heads, heads % kv-heads, even head dim)")
    return shape


def write(args: argparse.Namespace) -> dict[str, Any]:
    with open(args.meta, encoding="utf-8") as f:
        meta = json.load(f)
    gguf = import_gguf(args.gguf_py)
    shape = resolve_shape(meta, args)
    tensors = tensor_list(shape)
    if args.check_3b:
        recorded = [(t["name"], t["dims"], t["type"]) for t in meta["tensors3b"]]
        mine = [(t["name"], t["dims"], t["type"]) for t in tensors]
        if recorded != mine:
            diff = next((i for i, (a, b) in enumerate(zip(recorded, mine)) if a != b), min(len(recorded), len(mine)))
            raise SystemExit(f"gen_gguf.py: the tensor list differs from make-test-model's at #{diff}: {recorded[diff:diff+1]} vs {mine[diff:diff+1]}")

    vt = gguf.GGUFValueType
    types = {"uint8": vt.UINT8, "int8": vt.INT8, "uint16": vt.UINT16, "int16": vt.INT16, "uint32": vt.UINT32, "int32": vt.INT32,
             "float32": vt.FLOAT32, "bool": vt.BOOL, "string": vt.STRING, "uint64": vt.UINT64, "int64": vt.INT64, "float64": vt.FLOAT64}
    qt = gguf.GGMLQuantizationType
    ggml_types = {"F32": qt.F32, "F16": qt.F16, "Q8_0": qt.Q8_0, "Q4_K": qt.Q4_K, "Q6_K": qt.Q6_K}

    tmp = args.out + ".tmp"
    w = gguf.GGUFWriter(tmp, "llama")  # writes general.architecture first, as Talaria does
    for kv in meta["metadata"]:
        key, v = kv["key"], kv["value"]
        if key == "general.architecture":
            continue
        if key in SHAPE_KEYS:
            w.add_key_value(key, int(shape[SHAPE_KEYS[key]]), vt.UINT32)
        elif key == "llama.rope.dimension_count":
            w.add_key_value(key, shape["hidden"] // shape["heads"], vt.UINT32)
        elif v["type"] == "array":
            w.add_key_value(key, list(v["values"]), vt.ARRAY, sub_type=types[v["itemType"]])
        else:
            w.add_key_value(key, v["value"], types[v["type"]])
    alignment = next((kv["value"]["value"] for kv in meta["metadata"] if kv["key"] == "general.alignment"), 32)
    w.data_alignment = alignment
    for t in tensors:
        # numpy order (outermost first); gguf-py writes the dims reversed, i.e. in ggml order
        w.add_tensor_info(t["name"], list(reversed(t["dims"])), np.dtype(np.float32), nbytes(t), raw_dtype=ggml_types[t["type"]])
    t0 = time.perf_counter()
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    total = 0
    for i, t in enumerate(tensors):
        data = tensor_data(t, shape["seed"])
        assert data.nbytes == nbytes(t), (t["name"], data.nbytes, nbytes(t))
        w.write_tensor_data(data)
        total += data.nbytes
        if not args.quiet and (i % 50 == 0 or i == len(tensors) - 1):
            print(f"gen_gguf.py: {i + 1}/{len(tensors)} tensors, {total / 1e9:.2f} GB", file=sys.stderr, flush=True)
    w.close()
    os.replace(tmp, args.out)
    return {"out": args.out, "shape": shape, "tensors": len(tensors), "tensorBytes": total,
            "fileBytes": os.path.getsize(args.out), "seconds": round(time.perf_counter() - t0, 2)}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    print(json.dumps(write(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
