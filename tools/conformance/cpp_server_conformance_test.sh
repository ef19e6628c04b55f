#!/usr/bin/env bash
# The conformance suite against //server:env_server as a process: a free
# loopback TCP port (the server binds port 0 and prints the one it got),
# every listed environment, a final "N passed, 0 failed" line and exit
# status 0; then the server stops cleanly on SIGTERM.
set -euo pipefail
server="$1"
suite="$2"
dir=$(mktemp -d /tmp/marl-conformance.XXXXXX)
server_pid=""
# Only ever the server's own pid (an empty one would make `kill` signal the
# whole process group).
trap '[ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null; rm -rf "$dir"' EXIT

"$server" --endpoint=tcp://127.0.0.1:0 >"$dir/server.log" 2>&1 &
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
# Every environment the server lists was checked.
for env in $("$server" --list | sed -n 's/^\([a-z0-9_]*\): .*/\1/p'); do
  grep -q "^PASS $env/" "$dir/suite.log" || { echo "FAIL: $env not checked"; exit 1; }
done

# A usage error is reported as one, with a non-zero status.
usage=0
"$suite" >"$dir/usage.log" 2>&1 || usage=$?
[ "$usage" -eq 2 ] && grep -q -- "--endpoint is required" "$dir/usage.log" ||
  { echo "FAIL: no clear usage error without --endpoint"; cat "$dir/usage.log"; exit 1; }

# Nothing listening: every check fails (quickly), exit status 1.
dead=0
"$suite" --endpoint=tcp://127.0.0.1:1 --timeout_ms=100 >"$dir/dead.log" 2>&1 || dead=$?
[ "$dead" -eq 1 ] && tail -n 1 "$dir/dead.log" | grep -qE '^0 passed, [1-9][0-9]* failed$' ||
  { echo "FAIL: against no server, expected exit 1 and '0 passed, N failed'"; cat "$dir/dead.log"; exit 1; }

kill -TERM "$server_pid"
for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$server_pid" 2>/dev/null; then
  echo "FAIL: server still running 5 s after SIGTERM"; kill -9 "$server_pid"; exit 1
fi
wait "$server_pid" || { echo "FAIL: server exit status $?"; exit 1; }
server_pid=""
echo "conformance: $last"
