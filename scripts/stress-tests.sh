#!/usr/bin/env bash
# The whole suite N times in a row (default 5) while two busy loops keep both cores loaded: the check
# that no test depends on how fast or busy the machine is. Not part of CI (it takes 15 minutes or so).
# Usage: bash scripts/stress-tests.sh [runs]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
node -e 'for(;;){}' & b1=$!
node -e 'for(;;){}' & b2=$!
trap 'kill $b1 $b2 2>/dev/null' EXIT
fails=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  log=$(mktemp)
  if npx vitest run --reporter=dot >"$log" 2>&1; then r=pass; else r=FAIL; fails=$((fails + 1)); fi
  echo "run $i: $r in $(($(date +%s) - start)) s: $(grep -E 'Tests ' "$log" | sed 's/\x1b\[[0-9;]*m//g')"
  [ "$r" = FAIL ] && grep -E 'FAIL ' "$log" | sed 's/\x1b\[[0-9;]*m//g'
done
echo "failures: $fails"
[ "$fails" -eq 0 ]
