#!/usr/bin/env bash
# Runs on this machine the sequence .github/workflows/fanout-compare.yml runs in CI: sweep every
# shard of "base" and of "head", merge each side, compare, write the Markdown summary and the HTML
# reports. Here base and head are both the current tree (a real base needs a second checkout), so
# the comparison shows what noise alone does.
#
# Usage: scripts/ci-sequence.sh [SCENARIO] [OUT_DIR]
#   SCENARIO  defaults to scenarios/seed-case-study.json; OUT_DIR to .tmp/ci-sequence (emptied first if
#             this script made it; any other folder that is not empty is refused, exit 2)
#   Settings, as in the workflow: SHARD_COUNT (3), REPS (7), CONCURRENCY (1,2,4,8,16,32,60,64),
#   MEMORY (1769), THRESHOLD (5%), MAX_ERROR_RATE (0.01).
# Exit code: that of `npm run compare` (0 no regression, 1 regression, 2 bad input), or the first
# failing step's.
set -euo pipefail
cd "$(dirname "$0")/.."

scenario="${1:-scenarios/seed-case-study.json}"
out="${2:-.tmp/ci-sequence}"
shard_count="${SHARD_COUNT:-3}"
reps="${REPS:-7}"
concurrency="${CONCURRENCY:-1,2,4,8,16,32,60,64}"
memory="${MEMORY:-1769}"
threshold="${THRESHOLD:-5%}"
max_error_rate="${MAX_ERROR_RATE:-0.01}"

# Emptied only if this script made it (its marker file is there): a folder of other files is never deleted.
marker="$out/.fanout-ci-sequence"
if [ -e "$out" ] && [ ! -f "$marker" ] && [ -n "$(ls -A "$out" 2>/dev/null || echo not-a-folder)" ]; then
  echo "error: $out: OUT_DIR exists and was not made by scripts/ci-sequence.sh (it has no .fanout-ci-sequence marker), so it is left as it is. Fix: pass a new or empty folder as OUT_DIR" >&2
  exit 2
fi
rm -rf "$out"
mkdir -p "$out/shards" "$out/results" "$out/reports"
touch "$marker"

# The matrix: one job per shard, each sweeping base then head on the same machine.
for ((shard = 1; shard <= shard_count; shard++)); do
  for side in base head; do
    echo "== sweep $side, shard $shard/$shard_count"
    npm run --silent sweep -- "$scenario" --shard "$shard/$shard_count" --reps "$reps" \
      --concurrency "$concurrency" --memory "$memory" --out "$out/shards/$side-$shard.json"
  done
done

# The compare job.
npm run --silent merge -- "$out"/shards/base-*.json --out "$out/results/base.json"
npm run --silent merge -- "$out"/shards/head-*.json --out "$out/results/head.json"
set +e
npm run --silent compare -- "$out/results/base.json" "$out/results/head.json" --threshold "$threshold" \
  --max-error-rate "$max_error_rate" --markdown "$out/summary.md"
status=$?
set -e
if [ "$status" -ge 2 ]; then exit "$status"; fi
npm run --silent report -- "$out/results/base.json" --out "$out/reports/base.html"
npm run --silent report -- "$out/results/head.json" --out "$out/reports/head.html"
echo "Summary: $out/summary.md; reports: $out/reports/"
exit "$status"
