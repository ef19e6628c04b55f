#!/usr/bin/env bash
# A tiny protocol_benchmark run prints every row and the targets table.
set -euo pipefail
out=$("$1" --min_seconds=0.02 --warmup_seconds=0.005 --repeats=1 2>&1)
echo "$out"
for transport in inproc ipc tcp; do
  rows=$(grep -c "| $transport |" <<<"$out" || true)
  [ "$rows" -ge 7 ] || { echo "expected >= 7 rows for $transport, got $rows"; exit 1; }
done
grep -q "client / bare at b1" <<<"$out" || { echo "no targets table"; exit 1; }
