#!/usr/bin/env bash
# Verify and unpack the parts written by pack.sh (run on the GPU machine, no network needed).
#
# Usage: unpack.sh [--parts DIR] [--dest DIR]
#   --parts DIR   directory with talaria-gpu.tar.gz.part-* and SHA256SUMS (default: this script's directory)
#   --dest DIR    where talaria-gpu/ is created (default: the current directory)
set -euo pipefail

parts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$PWD"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --parts) parts="$2"; shift 2 ;;
    --dest) dest="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unpack.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

cd "$parts"
shopt -s nullglob
files=(talaria-gpu.tar.gz.part-*)
[[ ${#files[@]} -gt 0 ]] || { echo "unpack.sh: no talaria-gpu.tar.gz.part-* in $parts" >&2; exit 1; }
# every part listed in SHA256SUMS must be present and intact
grep 'part-' SHA256SUMS | sha256sum -c --quiet - || { echo "unpack.sh: a part is missing or corrupt" >&2; exit 1; }
expected="$(grep ' talaria-gpu.tar.gz$' SHA256SUMS | cut -d' ' -f1)"
actual="$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)"
[[ "$expected" == "$actual" ]] || { echo "unpack.sh: the reassembled archive does not match its checksum" >&2; exit 1; }
mkdir -p "$dest"
cat "${files[@]}" | tar -xzf - -C "$dest"
echo "unpack.sh: unpacked $(echo "${#files[@]}") part(s) into $dest/talaria-gpu" >&2
cat "$dest/talaria-gpu/BUNDLE-INFO.txt" >&2
echo "next: $dest/talaria-gpu/talaria/bench/gpu/run-talaria.sh   (see bench/gpu/README.md)" >&2
