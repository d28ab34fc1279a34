#!/usr/bin/env bash
# Prints the path of a CPU-only llama.cpp `llama-server` of the exact llama.cpp commit that node-llama-cpp
# bundles (node_modules/node-llama-cpp/llama/gitRelease.bundle), for tests and benchmarks. In order:
#   1. the cache:   $TALARIA_LLAMA_SERVER_CACHE (default ${TMPDIR:-/tmp}/talaria-llama-server)/<commit>/llama-server
#   2. a prebuilt:  ${TALARIA_SHARED_DIR:-<repo>/../shared}/prebuilt/llama-server-<commit>-linux-x64-cpu, when its
#                   .sha256 matches (see that folder's README.md); copied into the cache
#   3. with --build: clone the bundle (kept in the cache) and build it (6–7 min on 2 idle cores, up to ~40 on busy ones), else exit 3
# Only the path goes to stdout; progress and build output go to stderr.
#
# Usage: llama-server.sh [--build] [--print-commit]
#   --build         build from source when neither the cache nor a prebuilt copy has it
#   --print-commit  print the bundle's llama.cpp commit (short hash) and exit
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=0; print_commit=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=1; shift ;;
    --print-commit) print_commit=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "llama-server.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
die() { echo "llama-server.sh: $*" >&2; exit 1; }
install_bin() {  # copy $1 into the cache as $bin atomically (temp file in the same folder + rename)
  local tmp; tmp="$(mktemp "$dir/.llama-server.XXXXXX")"
  cp "$1" "$tmp"; chmod 755 "$tmp"; mv -f "$tmp" "$bin"
}

git_bundle="$repo/node_modules/node-llama-cpp/llama/gitRelease.bundle"
[[ -f "$git_bundle" ]] || die "$git_bundle not found (run npm ci first)"
full="$(git bundle list-heads "$git_bundle" | awk '$2 == "HEAD" { print $1 }')"
[[ "$full" =~ ^[0-9a-f]{40}$ ]] || die "no HEAD in $git_bundle"
commit="${full:0:7}"
if [[ $print_commit -eq 1 ]]; then echo "$commit"; exit 0; fi

dir="${TALARIA_LLAMA_SERVER_CACHE:-${TMPDIR:-/tmp}/talaria-llama-server}/$commit"
bin="$dir/llama-server"
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi

prebuilt="${TALARIA_SHARED_DIR:-$repo/../shared}/prebuilt/llama-server-$commit-linux-x64-cpu"
if [[ -f "$prebuilt" && -f "$prebuilt.sha256" && "$(uname -sm)" == "Linux x86_64" ]]; then
  if [[ "$(sha256sum "$prebuilt" | cut -d' ' -f1)" == "$(cut -d' ' -f1 "$prebuilt.sha256")" ]]; then
    mkdir -p "$dir"; install_bin "$prebuilt"
    echo "$bin"; exit 0
  fi
  echo "llama-server.sh: $prebuilt does not match its .sha256; ignoring it" >&2
fi

if [[ $build -eq 0 ]]; then
  echo "llama-server.sh: no llama-server for llama.cpp $commit (not in $dir, no prebuilt copy); build it (6–7 min on 2 idle cores): bash scripts/llama-server.sh --build" >&2
  exit 3
fi

mkdir -p "$dir"
exec 9>"$dir/.lock"; flock 9                      # one build per commit at a time
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi  # another process built it meanwhile
src="$dir/src"
if [[ ! -f "$src/CMakeLists.txt" ]]; then
  rm -rf "$src.tmp"
  git -c advice.detachedHead=false clone --quiet "$git_bundle" "$src.tmp" >&2
  mv "$src.tmp" "$src"
fi
[[ "$(git -C "$src" rev-parse HEAD)" == "$full" ]] || die "$src is at $(git -C "$src" rev-parse --short HEAD), not $commit; delete it"
flags=(-DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
       -DGGML_CUDA=OFF -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF)
echo "llama-server.sh: building llama-server (llama.cpp $commit, $(tr -d '\n ' <"${git_bundle%/*}/llama.cpp.info.json")) in $dir/build, -j$(nproc)" >&2
start="$(date +%s)"
cmake -S "$src" -B "$dir/build" "${flags[@]}" >&2
cmake --build "$dir/build" --config Release -j"$(nproc)" --target llama-server >&2
secs=$(( $(date +%s) - start ))
version="$("$dir/build/bin/llama-server" --version 2>&1 || true)"
[[ "$version" == *"commit $commit"* ]] || die "built binary does not report commit $commit: $version"
echo "$secs s wall (cmake configure + build of llama-server, -j$(nproc), $(date -u +%FT%TZ))" | tee "$dir/build-time.txt" >&2
install_bin "$dir/build/bin/llama-server"
echo "$bin"
