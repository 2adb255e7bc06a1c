#!/usr/bin/env bash
# Benchmarks for BENCHMARKS.md (snapshot engine): `hunter summary` (release) against DevTools'
# own code (heap-snapshot-toolkit) and memlab 2.x on the same files, one after the other, with
# wall time and peak RSS from /usr/bin/time -v. Then the streaming latency.
#
#   tools/bench-summary.sh FILE...
# Make files with: node --max-old-space-size=12000 tools/make-snapshots.js big bench-out/b500.heapsnapshot 500
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d tools/node_modules/heap-snapshot-toolkit ] || npm ci --prefix tools --ignore-scripts --no-audit --no-fund
cargo build --release --bin hunter --example bench_summary_stream >&2
bin="${CARGO_TARGET_DIR:-target}/release"

measure() { # label command...
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || { echo "$label failed:"; tail -5 "$log"; }
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  printf '| %s | %s | %s | %.0f MB |\n' "$(basename "$file")" "$label" "$wall" "$((rss / 1024))"
  rm -f "$log"
}

echo "| file | tool | wall (m:ss) | peak RSS |"
echo "|---|---|---|---|"
out=$(mktemp -d)
for file in "$@"; do
  name=$(basename "$file")
  measure "hunter summary" "$bin/hunter" summary "$file" --json "$out/$name.hunter.json"
  measure "DevTools (heap-snapshot-toolkit)" sh -c "node --max-old-space-size=16000 tools/devtools-summary.mjs '$file' > '$out/$name.devtools.json'"
  measure "memlab 2.0.5" node --max-old-space-size=16000 tools/memlab-summary.js "$file"
done
for file in "$@"; do
  name=$(basename "$file")
  printf '%s: ' "$name"; node tools/compare-summaries.mjs "$out/$name.hunter.json" "$out/$name.devtools.json" || true
done
for file in "$@"; do
  "$bin/examples/bench_summary_stream" "$file" 15 100
done
