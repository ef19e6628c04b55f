#!/usr/bin/env bash
# Under `bazel run` a binary runs in its runfiles tree; relative paths on its
# command line mean the directory bazel run was started in
# (BUILD_WORKING_DIRECTORY): an agent's run files land there and --resume
# finds them there; the Python server imports a --module from there. A
# directory that cannot be entered is a clear error (exit 2), for the
# agents and both servers.
#   bazel_run_paths_test.sh AGENT ENV_SERVER ENV_SERVER_PY
set -euo pipefail
agent="$(realpath "$1")"
cpp_server="$(realpath "$2")"
py_server="$(realpath "$3")"
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

cat >"$work/my_envs.py" <<'PY'
from marl_env import register
from examples.matrix_game import MatrixGame


@register("my_relative_game", "imported by a relative --module path")
class MyGame(MatrixGame):
    pass
PY
BUILD_WORKING_DIRECTORY="$work" "$py_server" --module=my_envs.py --list |
  grep -q "my_relative_game" || { echo "--module not found in $work"; exit 1; }

for server in "$cpp_server" "$py_server"; do
  set +e
  BUILD_WORKING_DIRECTORY="$work/missing" "$server" --list >/dev/null \
    2>"$work/err"
  code=$?
  set -e
  test "$code" -eq 2 || { echo "$server: exit $code, want 2"; exit 1; }
  grep -q "cannot change to the directory" "$work/err" ||
    { cat "$work/err"; exit 1; }
done
echo "ok: relative paths follow BUILD_WORKING_DIRECTORY"
