#!/usr/bin/env bash
# Hunt vs floor, alternating, on the same machine in one run. Usage: bench/hunt-50mb/run.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")"
hunter=../../target/release/hunter
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq "${1:-2}"); do
  s=$(date +%s.%N); node --expose-gc floor.js "$out" >/dev/null; e=$(date +%s.%N)
  floor=$(echo "$e - $s" | bc)
  rm -f "$out"/*.heapsnapshot
  s=$(date +%s.%N); "$hunter" run scenario.toml -q >/dev/null 2>&1 || true; e=$(date +%s.%N)
  hunt=$(echo "$e - $s" | bc)
  printf 'round %s: floor %.1f s, hunt %.1f s, ratio %.2f\n' "$round" "$floor" "$hunt" "$(echo "$hunt / $floor" | bc -l)"
done
