#!/usr/bin/env bash
# The protocol fuzzer against a server binary as a process, on a free
# loopback TCP port: a bounded single-client run (the opening sweep of every
# setting's extremes, then random, schema-driven and mutated requests) and a
# short run of several concurrent clients (fuzzing, stepping mixed with
# garbage, sending and vanishing). Both must end with "failures=0" and exit
# status 0; the server must then stop cleanly on SIGTERM.
#   server_fuzz_test.sh SERVER FUZZER [SERVER_ARGS...] -- [FUZZER_ARGS...]
set -euo pipefail
source tools/testing/server_process.sh
server="$1"
fuzzer="$2"
shift 2
server_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do server_args+=("$1"); shift; done
[ $# -gt 0 ] && shift
fuzzer_args=("$@")
dir=$(mktemp -d /tmp/marl-fuzz.XXXXXX)
trap 'rm -rf "$dir"' EXIT

start_server "$dir" "$server" "${server_args[@]}"

# run_fuzzer NAME ARGS...: runs the fuzzer, shows its output, insists on a
# clean summary with replies of the kinds that show it got past parsing.
run_fuzzer() {
  local name="$1"
  shift
  local status=0
  "$fuzzer" --endpoint="$endpoint" --timeout_ms=10000 "${fuzzer_args[@]}" "$@" \
    >"$dir/$name.log" 2>&1 || status=$?
  cat "$dir/$name.log"
  local summary
  summary=$(tail -n 1 "$dir/$name.log")
  [ "$status" -eq 0 ] || { echo "FAIL: $name: the fuzzer exited with $status"; exit 1; }
  grep -qE '^protocol_fuzz: seed=[0-9]+ requests=[0-9]+ replies: .* failures=0$' <<<"$summary" ||
    { echo "FAIL: $name: no clean summary line"; exit 1; }
  for code in OK INVALID_ARGUMENT NOT_FOUND OUT_OF_RANGE FAILED_PRECONDITION UNIMPLEMENTED; do
    grep -qE " $code=[1-9]" <<<"$summary" || { echo "FAIL: $name: no $code reply"; exit 1; }
  done
}

run_fuzzer single --seed=1 --requests=3000
run_fuzzer clients --seed=2 --requests=3000 --clients=6 --no_sweep

stop_server_cleanly
echo "fuzz: $(tail -n 1 "$dir/single.log")"
