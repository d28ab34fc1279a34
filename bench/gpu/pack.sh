#!/usr/bin/env bash
# Pack Talaria for an offline Linux x64 + NVIDIA GPU machine that has no Node.js and no network:
# the Node binary (this machine's process.execPath, plus npm and the Node headers for a source build),
# the built dist/, the production node_modules (node-llama-cpp with the @node-llama-cpp/linux-x64-cuda
# prebuilt and the CPU one; other platforms' binaries left out), the Hermes tool_use template from the
# shared material, and bench/gpu/. The archive is a gzip'd tar split into parts of at most --part-size
# bytes, with SHA256SUMS for every part and for the whole archive. See bench/gpu/README.md.
#
# Usage: bench/gpu/pack.sh [--out DIR] [--part-size SIZE] [--subset] [--no-build] [--with-cuda-ext]
#                          [--no-llama-source] [--no-node-extras]
#   --out DIR           where the parts go (default: out/gpu-pack)
#   --part-size SIZE    split size as understood by `split -b` (default 38M: under 40 MB)
#   --subset            a small test bundle (no Node binary, no node_modules): checks the pack/unpack round trip
#   --no-build          do not run `npm run build` first (dist/ must exist)
#   --with-cuda-ext     also ship @node-llama-cpp/linux-x64-cuda-ext (CUDA 12 fallback, ~360 MB more)
#   --no-llama-source   leave out node-llama-cpp's llama.cpp git bundle (35 MB; needed only for the source-build route)
#   --no-node-extras    leave out npm and the Node headers (needed only for `node-llama-cpp source build`)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$repo/out/gpu-pack"
part_size="38M"
subset=0
build=1
cuda_ext=0
llama_source=1
node_extras=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --part-size) part_size="$2"; shift 2 ;;
    --subset) subset=1; shift ;;
    --no-build) build=0; shift ;;
    --with-cuda-ext) cuda_ext=1; shift ;;
    --no-llama-source) llama_source=0; shift ;;
    --no-node-extras) node_extras=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "pack.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

shared="${TALARIA_SHARED_DIR:-$repo/../shared}"
template="$shared/fixtures/hermes-prompts/hermes-tool-use.jinja"
node_bin="$(node -p process.execPath)"
node_prefix="$(cd "$(dirname "$node_bin")/.." && pwd)"

stage="$(mktemp -d "${TMPDIR:-/tmp}/talaria-gpu-pack.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
root="$stage/talaria-gpu"
mkdir -p "$root/talaria" "$root/shared/fixtures/hermes-prompts" "$root/node/bin"

copy() { # copy repo-relative paths into the staged repo, keeping their layout
  for p in "$@"; do
    mkdir -p "$root/talaria/$(dirname "$p")"
    cp -a "$repo/$p" "$root/talaria/$p"
  done
}

if [[ $subset -eq 1 ]]; then
  copy package.json bin bench/gpu test/fixtures/vllm
  [[ -d "$repo/dist/bench" ]] && copy dist/bench
else
  if [[ $build -eq 1 ]]; then (cd "$repo" && npm run build >&2); fi
  [[ -f "$repo/dist/cli/main.js" ]] || { echo "pack.sh: dist/ is missing; run npm run build" >&2; exit 1; }
  copy package.json package-lock.json bin dist bench/gpu test/fixtures/vllm
  [[ -f "$repo/NOTICE" ]] && copy NOTICE
  cp "$node_bin" "$root/node/bin/node"
  if [[ $node_extras -eq 1 ]]; then
    # npm (node-llama-cpp's source build runs `npm run cmake-js-llama`) and the headers cmake-js compiles against
    if [[ -d "$node_prefix/lib/node_modules/npm" ]]; then
      mkdir -p "$root/node/lib/node_modules"
      cp -a "$node_prefix/lib/node_modules/npm" "$root/node/lib/node_modules/npm"
      ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/node/bin/npm"
      ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/node/bin/npx"
    fi
    if [[ -d "$node_prefix/include/node" ]]; then
      mkdir -p "$root/node/include"
      cp -a "$node_prefix/include/node" "$root/node/include/node"
    fi
  fi
  # Production dependency closure, minus other platforms' llama.cpp binaries and typescript (an optional peer).
  mapfile -t modules < <(cd "$repo" && npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$repo/||" | grep '^node_modules/' | sort -u)
  for m in "${modules[@]}"; do
    case "$m" in
      node_modules/@node-llama-cpp/linux-x64|node_modules/@node-llama-cpp/linux-x64-cuda) ;;
      node_modules/@node-llama-cpp/linux-x64-cuda-ext) [[ $cuda_ext -eq 1 ]] || continue ;;
      node_modules/@node-llama-cpp/*) continue ;;
      node_modules/typescript) continue ;;
    esac
    # nested node_modules (a/node_modules/b) are copied with their parent
    if [[ "${m#node_modules/}" == */node_modules/* ]]; then continue; fi
    copy "$m"
  done
  if [[ $llama_source -eq 0 ]]; then rm -f "$root/talaria/node_modules/node-llama-cpp/llama/gitRelease.bundle"; fi
  # node-llama-cpp's own local builds and caches never travel
  rm -rf "$root/talaria/node_modules/node-llama-cpp/llama/localBuilds" "$root/talaria/node_modules/node-llama-cpp/llama/llama.cpp"
fi
if [[ -f "$template" ]]; then
  cp "$template" "$root/shared/fixtures/hermes-prompts/"
else
  echo "pack.sh: warning: $template not found (set TALARIA_SHARED_DIR); make-test-model will fail on the GPU machine" >&2
fi

{
  echo "talaria-gpu bundle"
  echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "from: $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown) (working tree, may be uncommitted)"
  echo "node: $(node --version) ($node_bin)"
  echo "subset: $subset; cuda-ext: $cuda_ext; llama-source: $llama_source; node-extras: $node_extras"
} > "$root/BUNDLE-INFO.txt"

mkdir -p "$out"
rm -f "$out"/talaria-gpu.tar.gz.part-* "$out/SHA256SUMS"
echo "pack.sh: compressing $(du -sh "$root" | cut -f1) …" >&2
tar -C "$stage" -cf - talaria-gpu | gzip -6 > "$stage/talaria-gpu.tar.gz"
rm -rf "$root"
(cd "$stage" && sha256sum talaria-gpu.tar.gz > whole.sha256)
split -b "$part_size" -d -a 3 "$stage/talaria-gpu.tar.gz" "$out/talaria-gpu.tar.gz.part-"
(cd "$out" && sha256sum talaria-gpu.tar.gz.part-* > SHA256SUMS && cat "$stage/whole.sha256" >> SHA256SUMS)
cp "$repo/bench/gpu/unpack.sh" "$out/unpack.sh"
echo "pack.sh: wrote $(ls "$out"/talaria-gpu.tar.gz.part-* | wc -l) part(s) of ≤ $part_size, SHA256SUMS and unpack.sh to $out" >&2
ls -la "$out" >&2
