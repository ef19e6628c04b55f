# Shell helpers for tests and scripts that run an environment server (C++
# env_server or the Python env_server_py) as a process. Source it, then:
#   start_server DIR SERVER [ARGS...]  starts SERVER on a free loopback TCP
#       port (it binds port 0 and prints "env_server: listening on <endpoint>"),
#       logging to DIR/server.log; sets $server_pid and $endpoint, and stops
#       the server on exit (after any EXIT trap set before). Call it again
#       for more servers (give each its own DIR): every one is stopped.
#   stop_server_cleanly  sends SIGTERM and fails unless the server exits with
#       status 0 within 5 s.
#   expect_suite_passed LOG  checks a conformance run's log ends in
#       "N passed, 0 failed"; sets $suite_last_line.

server_pid=""
endpoint=""
_started_server_pids=()

_stop_server_on_exit() {
  # Only ever the servers' own pids: an empty one would make kill signal
  # the whole process group.
  local pid
  for pid in "${_started_server_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
}

start_server() {
  local dir="$1" server="$2"
  shift 2
  # The log exists before the polling below reads it: the background
  # child opens it only when it is scheduled (under load, after the first
  # read, which would then fail the caller under set -e).
  : >"$dir/server.log"
  "$server" --endpoint=tcp://127.0.0.1:0 "$@" >"$dir/server.log" 2>&1 &
  server_pid=$!
  # Keep the caller's EXIT trap (e.g. removing its scratch directory).
  if [ ${#_started_server_pids[@]} -eq 0 ]; then
    local previous
    previous=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
    trap "_stop_server_on_exit; ${previous}" EXIT
  fi
  _started_server_pids+=("$server_pid")
  endpoint=""
  for _ in $(seq 100); do
    endpoint=$(sed -n 's/^env_server: listening on //p' "$dir/server.log" | head -n 1)
    [ -n "$endpoint" ] && return 0
    sleep 0.1
  done
  echo "FAIL: the server did not start"
  cat "$dir/server.log"
  exit 1
}

stop_server_cleanly() {
  kill -TERM "$server_pid"
  for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "FAIL: server still running 5 s after SIGTERM"
    kill -9 "$server_pid"
    exit 1
  fi
  local status=0
  wait "$server_pid" || status=$?
  server_pid=""
  [ "$status" -eq 0 ] || { echo "FAIL: server exit status $status"; exit 1; }
}

expect_suite_passed() {
  suite_last_line=$(tail -n 1 "$1")
  if ! grep -qE '^[0-9]+ passed, 0 failed$' <<<"$suite_last_line"; then
    echo "FAIL: the suite's last line is '$suite_last_line', expected 'N passed, 0 failed'"
    exit 1
  fi
}
