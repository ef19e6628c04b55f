#!/usr/bin/env bash
# Sets up the machine, then builds everything and runs every test.
# Ends with a plain "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
bazel build //... 2>&1 | tail -n 3
# Every test really runs (no cached results), each listed with its outcome.
# (grep's own status is dropped inside the group, so PIPESTATUS[0] is
# bazel's: a `|| true` after the pipeline would replace it with true's.)
bazel test //... --nocache_test_results --test_summary=short 2>&1 |
  tee "$log" | { grep -E "^//|Executed|ERROR" || true; }
status=${PIPESTATUS[0]}

# The tree-wide include check (tools/include_check.py) reads every BUILD
# file and source, which a sandboxed test cannot: it runs here, listed and
# counted like a test.
if /usr/bin/python3 tools/include_check.py . > "$log.includes" 2>&1; then
  echo "//tools:include_check.py                                           PASSED" | tee -a "$log"
else
  cat "$log.includes"
  echo "//tools:include_check.py                                           FAILED" | tee -a "$log"
  status=1
fi
rm -f "$log.includes"

# A failure is diagnosable from CI's printout alone: the end of each failed
# test's log (bazel's --test_output=errors text is in "$log", not shown).
testlogs=$(bazel info bazel-testlogs 2>/dev/null)
grep -E "^//\S+ +(FAILED|TIMEOUT)" "$log" | sort -u | while read -r target _; do
  test_log="$testlogs/$(echo "${target#//}" | tr ':' '/')/test.log"
  if [ -f "$test_log" ]; then
    echo "---- the last 60 lines of $target's log ----"
    tail -n 60 "$test_log"
  fi
done

passed=$(grep -cE "^//\S+ +PASSED" "$log" || true)
failed=$(grep -cE "^//\S+ +(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD|INCOMPLETE)" "$log" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
exit "$status"
