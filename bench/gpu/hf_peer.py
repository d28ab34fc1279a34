#!/usr/bin/env python3
"""HF transformers peer for Talaria's GPU benchmark (bench/gpu/README.md).

Builds a LlamaForCausalLM with the shape of Talaria's `3b` test model (Llama-3.2-3B: hidden 3072, 28 layers,
24 heads, 8 KV heads, FFN 8192, vocab 128256, tied embeddings, llama3 RoPE scaling) from a config, with random
weights, in bf16 (or 4-bit NF4 through bitsandbytes with --4bit), and measures with `generate()` the metrics
`talaria bench engine` reports:

  pp{P}        prefill tok/s: P / time of one forward pass over a P-token prompt (batch 1)
  ttft         ms to the first token: generate(max_new_tokens=1) on the P-token prompt
  tg{N}        decode tok/s, 1 stream: N / time of generate(N tokens) from a 1-token prompt (EOS ignored)
  tg{N} x{S}   aggregate decode tok/s of S streams: S*N / time of one batched generate (batch S, 1-token prompts)

  tg{N}+json   JSON-constrained decode, 1 stream, and tg{N}+json x{S} (batch S): the schema of `talaria bench
               engine`'s tg+json tests (--json-schema), through xgrammar's transformers LogitsProcessor, EOS
               allowed (the grammar ends the JSON) -- only when `xgrammar` is importable and --tokenizer gives
               the Llama 3 tokenizer.json; otherwise recorded as skipped (HF transformers has no grammar
               engine of its own, and the GPU machine's image has no xgrammar/outlines)

each repeated R times (mean +- sample sd, as llama-bench and Talaria print them). Random weights: the numbers
measure speed only. --dry-run prints the config and the plan without importing torch.

Usage: python3 hf_peer.py [--prompt-len 512] [--gen-len 128] [--streams 1,16] [--reps 5] [--4bit]
                          [--json-schema FILE --tokenizer tokenizer.json] [--device cuda] [--out hf_peer.json] [--dry-run]
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from typing import Any, Callable

# The `3b` kind of src/testmodels (options.ts), i.e. Llama-3.2-3B / Hermes-3-Llama-3.2-3B.
SHAPE_3B: dict[str, Any] = {
    "hidden_size": 3072,
    "intermediate_size": 8192,
    "num_hidden_layers": 28,
    "num_attention_heads": 24,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-5,
    "rope_theta": 500000.0,
    "rope_scaling": {
        "rope_type": "llama3",
        "factor": 32.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192,
    },
    "tie_word_embeddings": True,
    "bos_token_id": 128000,
    "eos_token_id": 128039,
    "hidden_act": "silu",
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompt-len", type=int, default=512, help="prefill / TTFT prompt tokens (default 512)")
    ap.add_argument("--gen-len", type=int, default=128, help="generated tokens per stream (default 128)")
    ap.add_argument("--streams", default="1,16", help="comma-separated batch sizes for aggregate decode (default 1,16)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per test (default 5)")
    ap.add_argument("--4bit", dest="four_bit", action="store_true", help="NF4 4-bit weights through bitsandbytes (bf16 compute)")
    ap.add_argument("--device", default="cuda", help="torch device (default cuda)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layers", type=int, default=None, help="override the layer count (for quick CPU checks)")
    ap.add_argument("--hidden", type=int, default=None, help="override the hidden size (quick CPU checks; heads scale by 128)")
    ap.add_argument("--json-schema", default=None, help="JSON schema of the constrained tests (bench/gpu/bench-schema.json)")
    ap.add_argument("--tokenizer", default=None, help="HF tokenizer.json of the Llama 3 vocabulary (for the constrained tests)")
    ap.add_argument("--out", default=None, help="write the JSON report here (default: print only)")
    ap.add_argument("--dry-run", action="store_true", help="print the config and the plan; do not import torch")
    return ap.parse_args(argv)


def model_shape(args: argparse.Namespace) -> dict[str, Any]:
    shape = dict(SHAPE_3B)
    if args.layers is not None:
        shape["num_hidden_layers"] = args.layers
    if args.hidden is not None:
        heads = max(1, args.hidden // 128)
        shape.update(hidden_size=args.hidden, intermediate_size=args.hidden * 8 // 3 // 64 * 64 or 64,
                     num_attention_heads=heads, num_key_value_heads=max(1, heads // 3))
    return shape


def mean_sd(samples: list[float]) -> dict[str, Any]:
    return {
        "mean": statistics.fmean(samples) if samples else 0.0,
        "sd": statistics.stdev(samples) if len(samples) > 1 else 0.0,
        "samples": samples,
    }


def plan(args: argparse.Namespace) -> list[str]:
    streams = [int(s) for s in args.streams.split(",") if s.strip()]
    out = [f"pp{args.prompt_len}", "ttft", f"tg{args.gen_len}"] + [f"tg{args.gen_len} x{s}" for s in streams]
    if args.json_schema:
        out += [f"tg{args.gen_len}+json", f"tg{args.gen_len}+json x{max(streams)}"]
    return out


def constrained_setup(args: argparse.Namespace, vocab: int):  # pragma: no cover - needs xgrammar
    """(make_processor, None) when xgrammar + the tokenizer are there, else (None, reason)."""
    if not args.json_schema:
        return None, "no --json-schema"
    try:
        import xgrammar as xgr  # noqa: PLC0415
    except ImportError:
        return None, "xgrammar is not importable (HF transformers has no grammar engine; carry xgrammar wheels to add it)"
    if not args.tokenizer:
        return None, "no --tokenizer (the Llama 3 tokenizer.json): xgrammar needs the vocabulary"
    from transformers import PreTrainedTokenizerFast  # noqa: PLC0415

    tokenizer = PreTrainedTokenizerFast(tokenizer_file=args.tokenizer)
    info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab, stop_token_ids=[SHAPE_3B["eos_token_id"]])
    with open(args.json_schema, encoding="utf-8") as f:
        compiled = xgr.GrammarCompiler(info).compile_json_schema(f.read())
    return (lambda: xgr.contrib.hf.LogitsProcessor(compiled)), None


def build_model(args: argparse.Namespace, shape: dict[str, Any]):  # pragma: no cover - needs torch
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(args.seed)
    config = LlamaConfig(**shape)
    if not args.four_bit:
        with torch.device(args.device):
            model = LlamaForCausalLM(config).to(torch.bfloat16)
        return model.eval()
    # bitsandbytes quantizes at load time: save the random bf16 model, reload it in NF4.
    import tempfile

    from transformers import BitsAndBytesConfig

    model = LlamaForCausalLM(config).to(torch.bfloat16)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        del model
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
        model = LlamaForCausalLM.from_pretrained(tmp, quantization_config=quant, device_map={"": args.device}, torch_dtype=torch.bfloat16)
    return model.eval()


def run(args: argparse.Namespace) -> dict[str, Any]:  # pragma: no cover - needs torch
    import torch
    import transformers

    shape = model_shape(args)
    t_build = time.perf_counter()
    model = build_model(args, shape)
    build_s = time.perf_counter() - t_build
    vocab = shape["vocab_size"]
    gen = torch.Generator(device="cpu").manual_seed(args.seed)

    def sync() -> None:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    def tokens(batch: int, length: int):
        # ordinary text tokens only (Llama 3 reserves >= 128000 for special tokens)
        return torch.randint(0, min(vocab, 128000), (batch, length), generator=gen).to(args.device)

    def timed(fn: Callable[[], Any]) -> float:
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        return time.perf_counter() - t0

    def generate(ids, new_tokens: int):
        return model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,  # ignore EOS, as llama-bench and `talaria bench engine` do
            do_sample=False,
            pad_token_id=0,
        )

    def prefill(ids):
        # logits of the last position only, as llama.cpp computes them (the 128k-vocabulary head over every
        # position would dominate otherwise); the keyword was renamed in transformers 4.50
        for keyword in ("logits_to_keep", "num_logits_to_keep"):
            try:
                return model(input_ids=ids, use_cache=True, **{keyword: 1})
            except TypeError:
                continue
        return model(input_ids=ids, use_cache=True)

    streams = [int(s) for s in args.streams.split(",") if s.strip()]
    with torch.inference_mode():
        generate(tokens(1, 8), 4)  # warm-up (CUDA kernels, allocator)
        tests: list[dict[str, Any]] = []
        pp, ttft, tg = [], [], []
        agg: dict[int, list[float]] = {s: [] for s in streams}
        for _ in range(args.reps):  # interleaved repetitions, like `talaria bench engine`
            ids = tokens(1, args.prompt_len)
            pp.append(args.prompt_len / timed(lambda: prefill(ids)))
            ids = tokens(1, args.prompt_len)
            ttft.append(1000 * timed(lambda: generate(ids, 1)))
            ids = tokens(1, 1)
            tg.append(args.gen_len / timed(lambda: generate(ids, args.gen_len)))
            for s in streams:
                ids = tokens(s, 1)
                agg[s].append(s * args.gen_len / timed(lambda: generate(ids, args.gen_len)))
        # constrained decode (after the free tests, so that a grammar problem cannot cost the main figures)
        make_processor, skipped = constrained_setup(args, vocab)
        constrained: list[dict[str, Any]] = []
        if make_processor is not None:
            for batch in (1, max(streams)):
                rates, gen_counts = [], []
                for _ in range(args.reps):
                    ids = tokens(batch, 1)
                    processor = make_processor()  # one matcher per row, fresh per generation
                    out_ids: list[Any] = []

                    def run_constrained():
                        out_ids.append(model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=args.gen_len,
                                                      do_sample=False, pad_token_id=0, eos_token_id=SHAPE_3B["eos_token_id"],
                                                      logits_processor=[processor]))
                    seconds = timed(run_constrained)
                    new = out_ids[0][:, ids.shape[1]:]
                    # tokens up to and including the first EOS of each row
                    eos = (new == SHAPE_3B["eos_token_id"]).int()
                    lengths = torch.where(eos.any(dim=1), eos.argmax(dim=1) + 1, torch.full_like(eos[:, 0], new.shape[1]))
                    generated = int(lengths.sum())
                    rates.append(generated / seconds)
                    gen_counts.append(generated / batch)
                name = f"tg{args.gen_len}+json" + ("" if batch == 1 else f" x{batch}")
                constrained.append({"name": name, "kind": "tg-grammar" if batch == 1 else "streams-grammar", "streams": batch,
                                    "tokensPerSecond": mean_sd(rates), "meanGeneratedTokens": statistics.fmean(gen_counts)})
        tests.append({"name": f"pp{args.prompt_len}", "kind": "pp", "tokensPerSecond": mean_sd(pp)})
        tests.append({"name": f"ttft{args.prompt_len}", "kind": "ttft", "ttftMs": mean_sd(ttft)})
        tests.append({"name": f"tg{args.gen_len}", "kind": "tg", "tokensPerSecond": mean_sd(tg)})
        for s in streams:
            tests.append({"name": f"tg{args.gen_len} x{s}", "kind": "streams", "streams": s, "tokensPerSecond": mean_sd(agg[s])})
        tests.extend(constrained)

    device_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") and torch.cuda.is_available() else platform.processor()
    return {
        "kind": "hf-peer",
        "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "cuda": torch.version.cuda,
            "device": device_name,
        },
        "model": {"shape": shape, "dtype": "nf4 (bitsandbytes)" if args.four_bit else "bf16",
                  "parameterCount": sum(p.numel() for p in model.parameters()), "buildSeconds": build_s},
        "config": {"promptLen": args.prompt_len, "genLen": args.gen_len, "streams": streams, "reps": args.reps, "seed": args.seed,
                   "jsonSchema": args.json_schema, "constrainedSkipped": skipped},
        "tests": tests,
    }


def format_table(report: dict[str, Any]) -> str:
    lines = [f"HF transformers peer ({report['model']['dtype']}, {report['environment'].get('device')})",
             "| test | t/s | TTFT ms |", "| --- | ---: | ---: |"]
    for t in report["tests"]:
        tps = t.get("tokensPerSecond")
        ttft = t.get("ttftMs")
        fmt = lambda x: "" if x is None else f"{x['mean']:.2f} ± {x['sd']:.2f}"  # noqa: E731
        lines.append(f"| {t['name']} | {fmt(tps)} | {fmt(ttft)} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.prompt_len < 1 or args.gen_len < 1 or args.reps < 1:
        print("hf_peer.py: --prompt-len, --gen-len and --reps must be >= 1", file=sys.stderr)
        return 2
    shape = model_shape(args)
    if args.dry_run:
        params = (shape["vocab_size"] * shape["hidden_size"]
                  + shape["num_hidden_layers"] * (
                      2 * shape["hidden_size"] * shape["hidden_size"]  # q, o
                      + 2 * shape["hidden_size"] * shape["hidden_size"] * shape["num_key_value_heads"] // shape["num_attention_heads"]  # k, v
                      + 3 * shape["hidden_size"] * shape["intermediate_size"]  # gate, up, down
                      + 2 * shape["hidden_size"])
                  + shape["hidden_size"])
        print(json.dumps({"dryRun": True, "shape": shape, "approxParameters": params,
                          "approxParametersB": round(params / 1e9, 3),
                          "dtype": "nf4" if args.four_bit else "bf16", "plan": plan(args), "reps": args.reps}, indent=2))
        return 0
    report = run(args)
    print(format_table(report))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
