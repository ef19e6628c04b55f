#!/usr/bin/env bash
# env_server shuts down cleanly on SIGINT and SIGTERM: exit status 0 and its
# "stopped" line, within a few seconds.
set -euo pipefail
server="$1"
# Unix socket paths are limited to 107 bytes; TEST_TMPDIR is too deep.
dir=$(mktemp -d /tmp/marl-signal.XXXXXX)
trap 'rm -rf "$dir"' EXIT
for signal in INT TERM; do
  log=$(mktemp)
  "$server" --endpoint="ipc://$dir/$signal.ipc" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
  grep -q listening "$log" || { echo "server did not start"; cat "$log"; exit 1; }
  kill -s "$signal" "$pid"
  status=0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "server still running 5 s after SIG$signal"; kill -9 "$pid"; exit 1
  fi
  wait "$pid" || status=$?
  [ "$status" -eq 0 ] || { echo "exit status $status after SIG$signal"; cat "$log"; exit 1; }
  grep -q "stopped" "$log" || { echo "no 'stopped' line"; cat "$log"; exit 1; }
  echo "SIG$signal: clean shutdown"
done
