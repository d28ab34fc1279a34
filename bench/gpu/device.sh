#!/usr/bin/env bash
# The on-device driver of the GPU runbook's two calls (bench/gpu/README.md). Runs in the repo root on the
# device machine (bash + python3 only; the one Node binary it uses is the carried one) and leaves at most
# 8 files in $OUT, as the device tool brings back.
#
#   device.sh 1   unpack out/gpu-payload/call1/talaria-gpu.tar.xz; build llama.cpp once (node-llama-cpp's
#                 addon + llama-bench + llama-batched-bench + llama-server, sm_90) while gen_gguf.py writes
#                 the 3b model; then Talaria's `bench engine` (free, JSON-schema grammar, 1 and 16 streams,
#                 in-process server), llama-bench, llama-batched-bench (1 and 16 sequences), llama-server
#                 through the same `bench engine --backend` and through `bench serve` (free text and
#                 JSON schema, concurrency 1 and 16) against `talaria serve` on the same GPU.
#   device.sh 2   hf_peer.py (HF transformers generate(), bf16, free text 1 and 16 streams; JSON-constrained
#                 when xgrammar is importable), then compare.py over call 1's results staged in
#                 out/gpu-payload/call2/results-call1/ (plan.sh stage-results) and the peer's.
#
# Options: --work DIR (default /tmp/talaria-gpu)  --budget S (seconds before stages are skipped; default
#   570 for call 1, 400 for call 2)  --cpu (no CUDA: a CPU build, --gpu off, -ngl 0)  --small (a
#   256-wide 2-layer model and tiny lengths: a rehearsal of the whole call on a CPU machine)
#   --reuse (keep an unpacked payload and build found in --work)  --payload DIR (default out/gpu-payload)
#   --threads N (CPU threads of every system: Talaria, llama-bench, batched-bench, llama-server; default 8, 1 with --cpu)
set -uo pipefail

call="${1:-}"; shift || true
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work=/tmp/talaria-gpu; budget=""; cpu=0; small=0; reuse=0; payload="$repo/out/gpu-payload"; threads=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --work) work="$2"; shift 2 ;;
    --budget) budget="$2"; shift 2 ;;
    --cpu) cpu=1; shift ;;
    --small) small=1; shift ;;
    --reuse) reuse=1; shift ;;
    --payload) payload="$(cd "$2" && pwd)"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "device.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$call" == 1 || "$call" == 2 ]] || { sed -n '2,23p' "$0" >&2; exit 2; }
[[ -n "$budget" ]] || { [[ $call == 1 ]] && budget=570 || budget=400; }
OUT="${OUT:-$work/out}"
mkdir -p "$OUT" "$work"
R="$work/results-call$call"; rm -rf "$R"; mkdir -p "$R"
start=$(date +%s)
left() { echo $(( start + budget - $(date +%s) )); }
exec > >(tee -a "$OUT/log.txt") 2>&1
tee_pid=$!
status="$R/stages.tsv"; : > "$status"
stage() { # name rc seconds note
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >> "$status"
  echo "== stage $1: $([[ $2 == 0 ]] && echo ok || echo "FAILED ($2)") in ${3} s${4:+ — $4} ($(left) s of the budget left)"
}
run_stage() { # name min_seconds_left command...
  local name="$1" need="$2"; shift 2
  if (( $(left) < need )); then stage "$name" skip 0 "needs ~${need} s, $(left) s left"; return 1; fi
  echo "== $name: $*"
  local t0=$(date +%s) rc=0
  "$@" || rc=$?
  stage "$name" "$rc" $(( $(date +%s) - t0 ))
  return "$rc"
}

if [[ $small -eq 1 ]]; then
  shape=(--hidden 256 --layers 2 --heads 4 --kv-heads 2 --ffn 512); P=32; N=16; REPS=2; STREAMS=1,4; SERVE_REQ=8
else
  shape=(); P=512; N=128; REPS=5; STREAMS=1,16; SERVE_REQ=80
fi
MAXS="${STREAMS##*,}"
if [[ $cpu -eq 1 ]]; then GPU=off; NGL=0; TH="${threads:-1}"; else GPU=cuda; NGL=99; TH="${threads:-8}"; fi
# the same CPU thread count for every system (llama.cpp's defaults differ, and spinning threads on busy cores
# distort everything: docs/decisions/0012-threads-default.md)

echo "== device.sh $call $(date -u +%Y-%m-%dT%H:%M:%SZ): work $work, OUT $OUT, budget ${budget} s$([[ $cpu == 1 ]] && echo ', CPU')$([[ $small == 1 ]] && echo ', small')"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"; uname -a; echo "cpus: $(nproc)"; free -g 2>/dev/null | head -2; df -h "$work" 2>/dev/null | tail -1
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv,noheader
  command -v nvcc >/dev/null && nvcc --version | tail -2; ls -d /usr/local/cuda*/bin 2>/dev/null
  cmake --version 2>/dev/null | head -1; command -v ninja >/dev/null && echo "ninja $(ninja --version)"
  python3 -c 'import sys, numpy; print("python", sys.version.split()[0], "numpy", numpy.__version__)'
  python3 -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)' 2>/dev/null
  command -v xz >/dev/null && echo "xz: $(xz --version | head -1)"
} > "$R/environment.txt" 2>&1
cat "$R/environment.txt"

finish() {
  local summary="$OUT/summary.md"
  {
    echo "# device.sh $call ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(( $(date +%s) - start )) s)"
    echo; echo '| stage | rc | s | note |'; echo '| --- | --- | ---: | --- |'
    while IFS=$'\t' read -r a b c d; do echo "| $a | $b | $c | $d |"; done < "$status"
    echo
    if [[ -s "$R/compare.md" ]]; then cat "$R/compare.md"; fi
  } > "$summary"
  # everything else in one archive (the device tool returns at most 8 files)
  tar -C "$work" -czf "$OUT/results.tar.gz" "$(basename "$R")" 2>/dev/null
  echo "== OUT: $(ls "$OUT" | tr '\n' ' ')"
  cat "$summary"
  exec >&- 2>&-; wait "$tee_pid" 2>/dev/null   # let tee finish log.txt before the tool collects $OUT
}
trap finish EXIT

T="$work/talaria-gpu"
NODE="$T/node/bin/node"
TAL="$T/talaria"
MODEL="$work/talaria-3b$([[ $small == 1 ]] && echo -small).gguf"
B="$work/build/bin"

if [[ $call == 1 ]]; then
  unpack() {
    if [[ $reuse -eq 1 && -x "$NODE" && -f "$TAL/bin/talaria.js" ]]; then echo "reusing $T"; return 0; fi
    local a="$payload/call1/talaria-gpu.tar.xz"
    [[ -f "$a" ]] || { echo "no $a: run bench/gpu/plan.sh pack here and carry out/gpu-payload/call1"; return 1; }
    if command -v sha256sum >/dev/null; then (cd "$payload/call1" && sha256sum -c --quiet SHA256SUMS) || return 1
    else python3 -c 'import hashlib,sys; h,f=open(sys.argv[1]).read().split(); sys.exit(hashlib.sha256(open(sys.argv[2],"rb").read()).hexdigest()!=h)' "$payload/call1/SHA256SUMS" "$a" || return 1; fi
    rm -rf "$T"
    if command -v xz >/dev/null; then tar -C "$work" -xJf "$a"; else python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$a" "$work"; fi
    cat "$T/PAYLOAD-INFO.txt"; "$NODE" --version
  }
  run_stage unpack 60 unpack || exit 1

  gguf() {
    [[ -f "$MODEL" ]] && { echo "reusing $MODEL"; return 0; }
    python3 "$repo/bench/gpu/gen_gguf.py" --meta "$T/testmodel-meta.json" --out "$MODEL" \
      --gguf-py "$TAL/node_modules/node-llama-cpp/llama/llama.cpp/gguf-py" ${shape[@]+"${shape[@]}"} $([[ $small == 0 ]] && echo --check-3b)
  }
  gguf > "$R/gguf.log" 2>&1 &
  gguf_pid=$!

  build() {
    if [[ $reuse -eq 1 && -x "$B/llama-server" && -d "$TAL/node_modules/node-llama-cpp/llama/localBuilds" ]]; then echo "reusing $work/build"; return 0; fi
    local jobs; jobs=$(nproc)
    bash "$repo/bench/gpu/build-llama-cpp.sh" --talaria "$TAL" --node-dir "$T/node" --build "$work/build" --jobs "$jobs" \
      $([[ $cpu == 1 ]] && echo --cpu || echo --arch "${CUDA_ARCH:-90}") > "$R/build.log" 2>&1
    local rc=$?; tail -5 "$R/build.log"; [[ $rc == 0 ]] || grep -m 20 -i "error" "$R/build.log"; return $rc
  }
  run_stage build 240 build; build_rc=$?
  wait "$gguf_pid"; gguf_rc=$?
  stage gguf "$gguf_rc" 0 "$(tail -1 "$R/gguf.log")"
  [[ $gguf_rc == 0 ]] || { tail -20 "$R/gguf.log"; exit 1; }

  talaria() { "$NODE" "$TAL/bin/talaria.js" "$@"; }
  engine() {
    talaria bench engine --model "$MODEL" --gpu "$GPU" --threads "$TH" --streams "$STREAMS" -p "$P" -n "$N" -r "$REPS" \
      --server --server-input-len "$P" --output "$R/talaria-engine" && cp "$R/talaria-engine/engine.json" "$OUT/talaria-engine.json"
  }
  [[ $build_rc == 0 ]] && run_stage talaria-engine 90 engine

  lbench() {
    "$B/llama-bench" -m "$MODEL" -ngl "$NGL" -t "$TH" -p "$P" -n "$N" -r "$REPS" -o json > "$OUT/llama-bench.json" 2> "$R/llama-bench.err" || { tail -5 "$R/llama-bench.err"; return 1; }
    python3 -c 'import json,sys; [print(t["n_prompt"], t["n_gen"], round(t["avg_ts"],1), "±", round(t["stddev_ts"],1), "t/s") for t in json.load(open(sys.argv[1]))]' "$OUT/llama-bench.json"
  }
  [[ $build_rc == 0 ]] && run_stage llama-bench 40 lbench

  batched() {
    local i ctx=$(( (MAXS * (1 + N) / 256 + 1) * 256 ))
    : > "$R/batched.jsonl"
    for i in $(seq "$REPS"); do
      "$B/llama-batched-bench" -m "$MODEL" -ngl "$NGL" -t "$TH" -c "$ctx" -b 2048 -ub 512 -npp 1 -ntg "$N" -npl "$STREAMS" --output-format jsonl 2>> "$R/batched.err" | grep '^{' >> "$R/batched.jsonl" || return 1
    done
    python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1]) if l.strip()], indent=1))' "$R/batched.jsonl" > "$OUT/llama-batched-bench.json"
  }
  [[ $build_rc == 0 ]] && run_stage llama-batched-bench 40 batched

  # llama-server: the same GGUF, MAXS slots of 1024 tokens
  server_pid=""
  start_server() {
    "$B/llama-server" -m "$MODEL" -ngl "$NGL" -t "$TH" -np "$MAXS" -c $(( MAXS * 1024 )) --host 127.0.0.1 --port 8081 > "$R/llama-server.log" 2>&1 &
    server_pid=$!
    local i; for i in $(seq 120); do
      python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8081/health", timeout=2)' 2>/dev/null && return 0
      kill -0 "$server_pid" 2>/dev/null || { tail -20 "$R/llama-server.log"; return 1; }
      sleep 1
    done
    return 1
  }
  stop_server() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=""; }
  # DEFAULT_BENCH_SCHEMA of src/bench/engine-bench.ts (the test checks the copy): the grammar of the tg+json tests
  schema="$repo/bench/gpu/bench-schema.json"
  serve_bench() { # url out-name [extra]
    local url="$1" name="$2"; shift 2
    talaria bench serve --url "$url" --concurrency "$STREAMS" --requests "$SERVE_REQ" --input-len "$P" --output-len "$N" \
      --temperature 0 --output "$R/$name" "$@" --json > "$R/$name.json"
  }
  remote_engine() {
    talaria bench engine --backend http://127.0.0.1:8081 --backend-kind llama-server --model-info "$MODEL" --streams "$STREAMS" \
      -p "$P" -n "$N" -r "$REPS" --no-loglik --output "$R/llama-server-engine" && cp "$R/llama-server-engine/engine.json" "$OUT/llama-server-engine.json"
  }
  llama_serve() { serve_bench http://127.0.0.1:8081 llama-server-serve && serve_bench http://127.0.0.1:8081 llama-server-serve-json --json-schema "$schema"; }
  if [[ $build_rc == 0 ]] && (( $(left) > 90 )) && run_stage llama-server-start 60 start_server; then
    run_stage llama-server-engine 60 remote_engine
    run_stage llama-server-serve 60 llama_serve
    stop_server
  fi
  # Talaria's own server with a JSON schema (its free-text server figures are in talaria-engine.json)
  talaria_serve() {
    talaria serve --model "$MODEL" --gpu "$GPU" --threads "$TH" --parallel "$MAXS" --context-size 1024 --port 8082 --max-queue 4096 > "$R/talaria-serve.log" 2>&1 &
    local pid=$! i rc=1
    for i in $(seq 120); do
      python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8082/health", timeout=2)' 2>/dev/null && { rc=0; break; }
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if [[ $rc == 0 ]]; then serve_bench http://127.0.0.1:8082 talaria-serve-json --json-schema "$schema"; rc=$?; else tail -20 "$R/talaria-serve.log"; fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    return $rc
  }
  [[ $build_rc == 0 ]] && run_stage talaria-serve-json 60 talaria_serve
  # the three bench serve runs in one file (the device tool returns at most 8): llama-server free and JSON, Talaria JSON
  python3 -c '
import json, os, sys
out = {}
for key, f in (("llamaServer", sys.argv[1]), ("llamaServerJson", sys.argv[2]), ("talariaJson", sys.argv[3])):
    if os.path.isfile(f) and os.path.getsize(f) > 0:
        out[key] = json.load(open(f))
if out:
    json.dump(out, open(sys.argv[4], "w"))
' "$R/llama-server-serve.json" "$R/llama-server-serve-json.json" "$R/talaria-serve-json.json" "$OUT/serve.json"
  compare_args=()
  for f in talaria-engine:--talaria llama-bench:--llama-bench llama-batched-bench:--llama-batched llama-server-engine:--llama-server-engine serve:--serve; do
    [[ -s "$OUT/${f%%:*}.json" ]] && compare_args+=("${f#*:}" "$OUT/${f%%:*}.json")
  done
  python3 "$repo/bench/gpu/compare.py" "${compare_args[@]}" > "$R/compare.md" 2> "$R/compare.err" || cat "$R/compare.err"
  exit 0
fi

# ---- call 2 ---------------------------------------------------------------------------------------
wheels=("$payload/call2/wheels/"*.whl)
if [[ -f "${wheels[0]}" ]]; then
  run_stage wheels 30 python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "${wheels[@]}" && export PYTHONPATH=/tmp/site
fi
tok=()
[[ -f "$payload/call2/tokenizer.json.xz" ]] && { python3 -c 'import lzma,sys; open(sys.argv[2],"wb").write(lzma.open(sys.argv[1]).read())' "$payload/call2/tokenizer.json.xz" "$work/tokenizer.json" && tok=(--tokenizer "$work/tokenizer.json"); }
if [[ $small -eq 1 ]]; then hf_shape=(--layers 2 --hidden 256); else hf_shape=(); fi
dev=cuda; [[ $cpu == 1 ]] && dev=cpu
export PYTHONUNBUFFERED=1
run_stage hf-peer 120 python3 "$repo/bench/gpu/hf_peer.py" --device "$dev" --prompt-len "$P" --gen-len "$N" --streams "$STREAMS" --reps "$REPS" \
  --json-schema "$repo/bench/gpu/bench-schema.json" ${tok[@]+"${tok[@]}"} ${hf_shape[@]+"${hf_shape[@]}"} --out "$OUT/hf-peer.json"
c1="$payload/call2/results-call1"
if [[ -d "$c1" ]]; then
  args=()
  for f in talaria-engine:--talaria llama-bench:--llama-bench llama-batched-bench:--llama-batched llama-server-engine:--llama-server-engine serve:--serve; do
    [[ -f "$c1/${f%%:*}.json" ]] && args+=("${f#*:}" "$c1/${f%%:*}.json")
  done
else
  echo "no $c1 (plan.sh stage-results after call 1): compare.py runs on the peer alone"
  args=()
fi
[[ -s "$OUT/hf-peer.json" ]] && args+=(--hf "$OUT/hf-peer.json")
if [[ ${#args[@]} -gt 0 ]]; then python3 "$repo/bench/gpu/compare.py" "${args[@]}" > "$R/compare.md" 2> "$R/compare.err" || cat "$R/compare.err"; fi
exit 0
