#!/usr/bin/env bash
# The scaling benchmark's smallest run: every series prints its table.
set -euo pipefail
out=$("$1" --seconds=0.1 --copies=8,16 --servers=2 --ranks=1,2)
echo "$out"
for heading in "Servers and copies" "A costly environment" "The learner" \
    "Data-parallel learners"; do
  grep -q "### $heading" <<<"$out" || { echo "FAIL: no '$heading'"; exit 1; }
done
grep -qE '^\| 2 \| [0-9]+ \| [0-9]+ \| [0-9.]+x \|$' <<<"$out" ||
  { echo "FAIL: no two-rank row"; exit 1; }
