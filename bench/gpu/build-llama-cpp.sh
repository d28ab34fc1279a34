#!/usr/bin/env bash
# Build llama.cpp ONCE for the GPU runbook (bench/gpu/README.md): node-llama-cpp's addon (llama-addon.node,
# the engine Talaria runs) and llama.cpp's own llama-bench, llama-batched-bench and llama-server, from the
# same source and the same ggml build, so that the peers run exactly the kernels Talaria runs. The source is
# the subset of node-llama-cpp's llama.cpp release that bench/gpu/plan.sh packs (at
# <talaria>/node_modules/node-llama-cpp/llama/llama.cpp, where node-llama-cpp keeps its own clone); the
# CMake project is node-llama-cpp's llama/CMakeLists.txt, configured directly (no cmake-js, no npm, no
# network): llama.cpp's tools are switched on in the same tree. The addon is then installed where
# getLlama({build: "never"}) looks first: llama/localBuilds/linux-x64-cuda/Release/ (linux-x64 with --cpu).
# Needs CMake >= 3.21, a C++17 compiler, a Node binary (the addon's CMakeLists asks node for
# node-addon-api's include path) and the N-API headers; with CUDA, nvcc.
#
# Without --talaria (a repo checkout, tools only): llama.cpp's own CMake project, cloned from the git bundle
# in this checkout's node_modules into --dest, builds llama-bench, llama-batched-bench and llama-server.
#
# Usage: build-llama-cpp.sh --talaria DIR [--node-dir DIR] [--build DIR] [--cpu] [--arch ARCHS] [--jobs N]
#                           [--targets LIST] [--no-install]
#        build-llama-cpp.sh [--dest DIR] [--cpu] [--arch ARCHS] [--jobs N] [--targets LIST]     (tools only)
#   --talaria DIR   the unpacked talaria/ (package.json, dist/, node_modules/)
#   --dest DIR      tools only: where the clone (src/) and build/ go (default <repo>/out/llama.cpp)
#   --node-dir DIR  the carried node/ (bin/node, include/node/*.h) (default: DIR/../node, else node on PATH)
#   --build DIR     CMake build folder (default: DIR/../build)
#   --cpu           CPU-only build (to try the route on a machine without CUDA)
#   --arch ARCHS    CMAKE_CUDA_ARCHITECTURES (default 90: H100/H200; "native" to detect)
#   --jobs N        parallel jobs (default: nproc)
#   --targets LIST  default "llama-addon llama-bench llama-batched-bench llama-server"
#   --no-install    do not install the addon into node-llama-cpp's localBuilds/
set -euo pipefail

talaria=""; node_dir=""; build=""; cuda=1; arch=90; jobs="$(nproc)"; install=1; dest=""; targets=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --talaria) talaria="$(cd "$2" && pwd)"; shift 2 ;;
    --node-dir) node_dir="$(cd "$2" && pwd)"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --cpu) cuda=0; shift ;;
    --arch) arch="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    --no-install) install=0; shift ;;
    --dest) dest="$2"; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "build-llama-cpp.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ $cuda -eq 1 ]]; then
  command -v nvcc >/dev/null || export PATH="/usr/local/cuda/bin:$PATH"
  command -v nvcc >/dev/null || { echo "build-llama-cpp.sh: nvcc not found (PATH, /usr/local/cuda/bin)" >&2; exit 1; }
  cuda_flags=(-DGGML_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$arch")
else
  cuda_flags=(-DGGML_CUDA=OFF)
fi
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)

if [[ -z "$talaria" ]]; then # tools only, from a repo checkout
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  bundle="$repo/node_modules/node-llama-cpp/llama/gitRelease.bundle"
  [[ -f "$bundle" ]] || { echo "build-llama-cpp.sh: $bundle not found (npm install), or give --talaria DIR" >&2; exit 1; }
  dest="${dest:-$repo/out/llama.cpp}"
  [[ -f "$dest/src/CMakeLists.txt" ]] || { mkdir -p "$dest"; git -c advice.detachedHead=false clone --quiet "$bundle" "$dest/src"; }
  echo "llama.cpp source: $dest/src (commit $(git -C "$dest/src" rev-parse --short HEAD))"
  cmake -S "$dest/src" -B "$dest/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF "${cuda_flags[@]}" ${gen[@]+"${gen[@]}"}
  # shellcheck disable=SC2086
  cmake --build "$dest/build" --config Release -j "$jobs" --target ${targets:-llama-bench llama-batched-bench llama-server}
  echo "built: $(ls "$dest/build/bin" | tr '\n' ' ')"
  exit 0
fi
targets="${targets:-llama-addon llama-bench llama-batched-bench llama-server}"
nlc="$talaria/node_modules/node-llama-cpp"
src="$nlc/llama"
[[ -f "$src/llama.cpp/CMakeLists.txt" ]] || { echo "build-llama-cpp.sh: no llama.cpp source at $src/llama.cpp (bench/gpu/plan.sh pack puts it there)" >&2; exit 1; }
[[ -n "$node_dir" || ! -d "$talaria/../node" ]] || node_dir="$(cd "$talaria/../node" && pwd)"
if [[ -n "$node_dir" ]]; then export PATH="$node_dir/bin:$PATH"; fi
command -v node >/dev/null || { echo "build-llama-cpp.sh: no node binary (--node-dir)" >&2; exit 1; }
headers="${node_dir:+$node_dir/include/node}"
[[ -n "$headers" && -f "$headers/node_api.h" ]] || headers="$(cd "$(dirname "$(command -v node)")/.." && pwd)/include/node"
[[ -f "$headers/node_api.h" ]] || { echo "build-llama-cpp.sh: node_api.h not found (looked in $headers)" >&2; exit 1; }
build="${build:-$talaria/../build}"
mkdir -p "$build"; build="$(cd "$build" && pwd)"

release="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["release"])' "$src/binariesGithubRelease.json")"
if [[ $cuda -eq 1 ]]; then gpu=cuda; folder=linux-x64-cuda; variant="cuda.$release"; else gpu=false; folder=linux-x64; variant="$release"; fi
echo "llama.cpp $(cat "$src/llama.cpp/.llama-commit" 2>/dev/null | cut -c1-7) (node-llama-cpp release $release) → $build ($gpu, $jobs jobs)"

flags=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CONFIGURATION_TYPES=Release
  "-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=$build/Release" "-DCMAKE_JS_INC=$headers" -DCMAKE_JS_SRC= -DCMAKE_JS_LIB=
  -DNLC_CURRENT_PLATFORM=linux-x64 -DNLC_TARGET_PLATFORM=linux-x64 "-DNLC_VARIANT=$variant" -DGGML_BUILD_NUMBER=1
  -DGGML_METAL=OFF -DGGML_CCACHE=OFF -DGGML_NATIVE=ON
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_BORINGSSL=OFF -DLLAMA_HTTPLIB=ON
  -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DMTMD_VIDEO=OFF)
flags+=("${cuda_flags[@]}" ${gen[@]+"${gen[@]}"})
t0=$(date +%s)
cmake -S "$src" -B "$build" "${flags[@]}"
# shellcheck disable=SC2086
cmake --build "$build" --config Release -j "$jobs" --target $targets
echo "built in $(( $(date +%s) - t0 )) s: $(ls "$build/bin" | tr '\n' ' ')"

if [[ $install -eq 1 ]]; then
  addon="$(find "$build" -name llama-addon.node -type f | head -1)"
  [[ -n "$addon" ]] || { echo "build-llama-cpp.sh: llama-addon.node was not built" >&2; exit 1; }
  dest="$src/localBuilds/$folder"
  rm -rf "$dest"; mkdir -p "$dest/Release"
  cp -a "$addon" "$dest/Release/"
  # the shared libraries it links with rpath $ORIGIN (libllama.<variant>.so, libggml*.so, libllama-common.so …)
  find "$build/bin" "$build/Release" -maxdepth 1 \( -name '*.so' -o -name '*.so.*' \) -exec cp -a {} "$dest/Release/" \;
  node --input-type=module -e '
    import { writeFileSync } from "node:fs";
    const [nlc, out, gpu, release] = process.argv.slice(1);
    let platformInfo = { name: "Unknown", version: "" };
    try { platformInfo = await (await import(nlc + "/dist/bindings/utils/getPlatformInfo.js")).getPlatformInfo(); } catch {}
    const buildOptions = { customCmakeOptions: {}, progressLogs: true, platform: "linux", platformInfo, arch: "x64",
      gpu: gpu === "false" ? false : gpu, llamaCpp: { repo: "ggml-org/llama.cpp", release } };
    writeFileSync(out, JSON.stringify({ buildOptions }));
  ' "$nlc" "$dest/Release/_nlcBuildMetadata.json" "$gpu" "$release"
  : > "$dest/buildDone.status"
  echo "installed the addon: $dest/Release ($(ls "$dest/Release" | wc -l) files)"
fi
