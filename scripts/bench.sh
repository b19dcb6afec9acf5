#!/usr/bin/env bash
# make bench: every subsystem's benchmark, each reported as a ratio against a baseline
# measured in the same run on the same machine (never as an absolute pass/fail).
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
benches=(scripts/bench-*.sh)
if ((${#benches[@]} == 0)); then
  echo "no benchmarks yet"
  exit 0
fi
for bench in "${benches[@]}"; do
  echo "== $bench"
  "$bench"
done
