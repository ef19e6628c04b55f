#!/usr/bin/env bash
# The protocol conformance suite against the Python server as a process, on
# a free loopback TCP port: every environment it serves (the examples, plus
# the turn-based test game from --module, which has action masks, sequential
# turns, a public observation and a state) must pass every check, with a
# final "N passed, 0 failed" line and exit status 0; then the server stops
# cleanly on SIGTERM.
#   python_server_conformance_test.sh SERVER SUITE MODULE
set -euo pipefail
source tools/testing/server_process.sh
server="$1"
suite="$2"
module="$3"
dir=$(mktemp -d /tmp/marl-py-conformance.XXXXXX)
trap 'rm -rf "$dir"' EXIT

start_server "$dir" "$server" --module="$module"

status=0
"$suite" --endpoint="$endpoint" --timeout_ms=5000 >"$dir/suite.log" 2>&1 || status=$?
cat "$dir/suite.log"
expect_suite_passed "$dir/suite.log"
last=$suite_last_line
[ "$status" -eq 0 ] || { echo "FAIL: the suite exited with $status"; exit 1; }
envs=$("$server" --list --module="$module" | sed -n 's/^\([a-z0-9_]*\): .*/\1/p')
for env in py_matrix_game py_rendezvous test_turns; do
  grep -qx "$env" <<<"$envs" || { echo "FAIL: the server does not list $env"; exit 1; }
done
for env in $envs; do
  grep -q "^PASS $env/" "$dir/suite.log" || { echo "FAIL: $env not checked"; exit 1; }
done

stop_server_cleanly
grep -q "^env_server: stopped$" "$dir/server.log" || { echo "FAIL: no clean stop"; exit 1; }
echo "python server conformance: $last"
