#!/usr/bin/env bash
# Under `bazel run` an agent runs in its runfiles tree; relative paths on its
# command line mean the directory bazel run was started in
# (BUILD_WORKING_DIRECTORY): a run's files land there, and --resume finds
# them there. A directory that cannot be entered is a clear error (exit 2).
set -euo pipefail
agent="$(realpath "$1")"
work=$(mktemp -d /tmp/marl-paths.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$(mktemp -d "$work/elsewhere.XXXXXX")"

BUILD_WORKING_DIRECTORY="$work" "$agent" --env=matrix_game --steps=64 \
  --runs_root=runs --run_name=here --progress_seconds=60 >/dev/null
test -f "$work/runs/here/config.json" || { echo "no run under $work"; exit 1; }
test ! -e runs || { echo "the run landed in the binary's directory"; exit 1; }
BUILD_WORKING_DIRECTORY="$work" "$agent" --resume=runs/here --steps=128 \
  --progress_seconds=60 >/dev/null
grep -q '"step": 128' "$work/runs/here/metrics.jsonl" ||
  { echo "--resume did not go on in $work"; exit 1; }

set +e
BUILD_WORKING_DIRECTORY="$work/missing" "$agent" --env=matrix_game \
  --steps=8 >/dev/null 2>"$work/err"
code=$?
set -e
test "$code" -eq 2 || { echo "exit $code, want 2"; exit 1; }
grep -q "cannot change to the directory" "$work/err" ||
  { cat "$work/err"; exit 1; }
echo "ok: relative paths follow BUILD_WORKING_DIRECTORY"
