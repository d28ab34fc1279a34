#!/usr/bin/env bash
# Run Talaria's engine benchmark on the GPU machine (or, with --cpu, on any machine) from an unpacked
# bundle or a repo checkout: generate the `3b` test model (Llama-3.2-3B shape, Q4_K_M, random weights)
# unless --model is given, then `talaria bench engine` with CUDA, 1 and 16 streams, the in-process
# server comparison, and the JSON + SVG report. See bench/gpu/README.md.
#
# Usage: run-talaria.sh [--cpu] [--model FILE] [--kind 3b|random] [--streams LIST] [-p LIST] [-n LIST] [-r N]
#                       [--threads N] [--work DIR] [--no-server] [-- EXTRA bench engine FLAGS]
#   --cpu          CPU mode: --gpu off, the random tiny model, tiny lengths (a dry run of this script)
#   --model FILE   benchmark this GGUF instead of generating one
#   --kind KIND    test model to generate (default 3b; random in --cpu mode)
#   --streams      concurrent streams (default 1,16; 1,2 in --cpu mode)
#   -p / -n / -r   prompt lengths, generation lengths, repetitions (default 512 / 128 / 5; 32 / 16 / 2 in --cpu mode)
#   --threads N    CPU threads for llama.cpp (default: the engine default)
#   --work DIR     where the model and results go (default: <bundle>/work)
#   --no-server    skip the in-process server comparison
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bundle="$(cd "$repo/.." && pwd)"

cpu=0; model=""; kind=""; streams=""; p=""; n=""; r=""; threads=""; work=""; server=1; extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cpu) cpu=1; shift ;;
    --model) model="$2"; shift 2 ;;
    --kind) kind="$2"; shift 2 ;;
    --streams) streams="$2"; shift 2 ;;
    -p) p="$2"; shift 2 ;;
    -n) n="$2"; shift 2 ;;
    -r) r="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --no-server) server=0; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "run-talaria.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ $cpu -eq 1 ]]; then
  gpu=off; kind="${kind:-random}"; streams="${streams:-1,2}"; p="${p:-32}"; n="${n:-16}"; r="${r:-2}"
else
  gpu=cuda; kind="${kind:-3b}"; streams="${streams:-1,16}"; p="${p:-512}"; n="${n:-128}"; r="${r:-5}"
fi
work="${work:-$bundle/work}"
mkdir -p "$work"

# Node: the bundled binary when present, else the one on PATH (a repo checkout).
if [[ -x "$bundle/node/bin/node" ]]; then export PATH="$bundle/node/bin:$PATH"; fi
command -v node >/dev/null || { echo "run-talaria.sh: no node binary (unpack the bundle, or install Node >= 20)" >&2; exit 1; }
# The Hermes tool_use template that make-test-model embeds.
if [[ -z "${TALARIA_SHARED_DIR:-}" && -d "$bundle/shared/fixtures" ]]; then export TALARIA_SHARED_DIR="$bundle/shared"; fi
talaria=(node "$repo/bin/talaria.js")

log="$work/run-talaria-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee -a "$log") 2>&1
echo "== run-talaria.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) (log: $log)"
echo "node $(node --version); $(uname -srm); $(nproc) CPUs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $cpu -eq 0 ]]; then
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "warning: nvidia-smi not found"
  # The @node-llama-cpp/linux-x64-cuda prebuilt links against the CUDA 13 runtime and cuBLAS (not bundled).
  for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13; do
    if ! ldconfig -p 2>/dev/null | grep -q "$lib" && ! find ${LD_LIBRARY_PATH//:/ } /usr/local/cuda*/lib64 /usr/local/cuda*/targets/x86_64-linux/lib -maxdepth 1 -name "$lib*" 2>/dev/null | grep -q .; then
      echo "warning: $lib not found by ldconfig or in LD_LIBRARY_PATH / /usr/local/cuda*/lib64; set LD_LIBRARY_PATH to the CUDA 13 lib64 directory, or see README (source build)"
    fi
  done
fi

if [[ -z "$model" ]]; then
  model="$work/talaria-$kind.gguf"
  if [[ ! -f "$model" ]]; then
    echo "== generating the $kind test model → $model"
    "${talaria[@]}" make-test-model --kind "$kind" --out "$model"
  fi
fi

out="$work/results/talaria-$(basename "$model" .gguf)-$gpu-$(date -u +%Y%m%dT%H%M%SZ)"
args=(bench engine --model "$model" --gpu "$gpu" --streams "$streams" -p "$p" -n "$n" -r "$r" --output "$out")
[[ -n "$threads" ]] && args+=(--threads "$threads")
[[ $server -eq 1 ]] && args+=(--server --server-input-len "${p%%,*}")
echo "== talaria ${args[*]} ${extra[*]:-}"
"${talaria[@]}" "${args[@]}" "${extra[@]}"
echo "== report: $out/engine.json (+ SVG charts)"
