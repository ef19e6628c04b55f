#!/usr/bin/env bash
# The protocol conformance suite against the Python server as a process, on
# a free loopback TCP port: every environment it serves (the examples, plus
# the turn-based test game from --module, which has action masks, sequential
# turns, a public observation and a state) must pass every check, with a
# final "N passed, 0 failed" line and exit status 0; then the server stops
# cleanly on SIGTERM.
#   python_server_conformance_test.sh SERVER SUITE MODULE
set -euo pipefail
server="$1"
suite="$2"
module="$3"
dir=$(mktemp -d /tmp/marl-py-conformance.XXXXXX)
server_pid=""
# Only ever the server's own pid.
trap '[ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null; rm -rf "$dir"' EXIT

"$server" --endpoint=tcp://127.0.0.1:0 --module="$module" >"$dir/server.log" 2>&1 &
server_pid=$!
endpoint=""
for _ in $(seq 100); do
  endpoint=$(sed -n 's/^env_server: listening on //p' "$dir/server.log")
  [ -n "$endpoint" ] && break
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "server did not start"; cat "$dir/server.log"; exit 1; }

status=0
"$suite" --endpoint="$endpoint" --timeout_ms=5000 >"$dir/suite.log" 2>&1 || status=$?
cat "$dir/suite.log"
last=$(tail -n 1 "$dir/suite.log")
if ! grep -qE '^[0-9]+ passed, 0 failed$' <<<"$last"; then
  echo "FAIL: the suite's last line is '$last', expected 'N passed, 0 failed'"
  exit 1
fi
[ "$status" -eq 0 ] || { echo "FAIL: the suite exited with $status"; exit 1; }
envs=$("$server" --list --module="$module" | sed -n 's/^\([a-z0-9_]*\): .*/\1/p')
for env in py_matrix_game py_rendezvous test_turns; do
  grep -qx "$env" <<<"$envs" || { echo "FAIL: the server does not list $env"; exit 1; }
done
for env in $envs; do
  grep -q "^PASS $env/" "$dir/suite.log" || { echo "FAIL: $env not checked"; exit 1; }
done

kill -TERM "$server_pid"
for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server_pid" 2>/dev/null; then
  echo "FAIL: server still running 5 s after SIGTERM"; kill -9 "$server_pid"; exit 1
fi
wait "$server_pid" || { echo "FAIL: server exit status $?"; exit 1; }
server_pid=""
grep -q "^env_server: stopped$" "$dir/server.log" || { echo "FAIL: no clean stop"; exit 1; }
echo "python server conformance: $last"
