#!/usr/bin/env bash
# One hunt of a 4-process tree vs 4 separate single-process hunts of the same service,
# alternating. Usage: bench/tree-4/run.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")"
hunter=../../target/release/hunter
for round in $(seq "${1:-2}"); do
  s=$(date +%s.%N); "$hunter" run tree.toml -q >/dev/null 2>&1 || true; e=$(date +%s.%N)
  tree=$(echo "$e - $s" | bc)
  s=$(date +%s.%N)
  for _ in 1 2 3 4; do "$hunter" run solo.toml -q >/dev/null 2>&1 || true; done
  e=$(date +%s.%N)
  solo=$(echo "$e - $s" | bc)
  printf 'round %s: tree of 4 %.1f s, 4 separate hunts %.1f s, ratio %.2f\n' "$round" "$tree" "$solo" "$(echo "$tree / $solo" | bc -l)"
done
