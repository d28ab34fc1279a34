#!/usr/bin/env bash
# The source-build route (bench/gpu/README.md, route B): build llama.cpp's own `llama-bench` and
# `llama-server` with CUDA from the llama.cpp git bundle that node-llama-cpp ships
# (node_modules/node-llama-cpp/llama/gitRelease.bundle: the exact llama.cpp release inside Talaria's
# engine), offline. Needs git, CMake >= 3.21, a C++17 compiler and, for CUDA, nvcc.
#
# Usage: build-llama-cpp.sh [--dest DIR] [--cpu] [--arch ARCHS] [--jobs N] [--targets "llama-bench llama-server"]
#   --dest DIR      where llama.cpp/ and build/ go (default: <bundle>/work/llama.cpp)
#   --cpu           CPU-only build (to try the script on a machine without CUDA)
#   --arch ARCHS    CMAKE_CUDA_ARCHITECTURES (default 90 = H100; 90a, 100 for B200; "native" to detect)
#   --jobs N        parallel build jobs (default: nproc)
#   --targets LIST  build targets (default "llama-bench llama-server")
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bundle_root="$(cd "$repo/.." && pwd)"
dest="$bundle_root/work/llama.cpp"
cuda=1; arch=90; jobs="$(nproc)"; targets="llama-bench llama-server"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dest) dest="$2"; shift 2 ;;
    --cpu) cuda=0; shift ;;
    --arch) arch="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "build-llama-cpp.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

git_bundle="$repo/node_modules/node-llama-cpp/llama/gitRelease.bundle"
[[ -f "$git_bundle" ]] || { echo "build-llama-cpp.sh: $git_bundle not found (pack without --no-llama-source)" >&2; exit 1; }
info="$repo/node_modules/node-llama-cpp/llama/llama.cpp.info.json"
src="$dest/src"
if [[ ! -f "$src/CMakeLists.txt" ]]; then
  mkdir -p "$dest"
  git -c advice.detachedHead=false clone --quiet "$git_bundle" "$src"
fi
echo "llama.cpp source: $src ($(cat "$info" 2>/dev/null | tr -d '\n ' || echo 'release unknown'); commit $(git -C "$src" rev-parse --short HEAD))"
flags=(-DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF)
if [[ $cuda -eq 1 ]]; then
  command -v nvcc >/dev/null || { echo "build-llama-cpp.sh: nvcc not on PATH (export PATH=/usr/local/cuda/bin:\$PATH)" >&2; exit 1; }
  flags+=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$arch")
else
  flags+=(-DGGML_CUDA=OFF)
fi
cmake -S "$src" -B "$dest/build" "${flags[@]}"
# shellcheck disable=SC2086
cmake --build "$dest/build" --config Release -j "$jobs" --target $targets
echo "built: $(ls "$dest/build/bin" | tr '\n' ' ')"
echo "next:  $dest/build/bin/llama-bench -m MODEL.gguf -ngl 99 -p 512 -n 128 -r 5 -o json"
