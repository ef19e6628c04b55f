#!/usr/bin/env bash
# The conformance suite against //server:env_server as a process: a free
# loopback TCP port (the server binds port 0 and prints the one it got),
# every listed environment, a final "N passed, 0 failed" line and exit
# status 0; then the server stops cleanly on SIGTERM.
set -euo pipefail
source tools/testing/server_process.sh
server="$1"
suite="$2"
dir=$(mktemp -d /tmp/marl-conformance.XXXXXX)
trap 'rm -rf "$dir"' EXIT

start_server "$dir" "$server"

status=0
"$suite" --endpoint="$endpoint" --timeout_ms=5000 >"$dir/suite.log" 2>&1 || status=$?
cat "$dir/suite.log"
expect_suite_passed "$dir/suite.log"
last=$suite_last_line
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

stop_server_cleanly
echo "conformance: $last"
