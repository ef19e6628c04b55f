#!/usr/bin/env bash
# Every agent binary trains against a real env_server over loopback TCP and,
# with no endpoint, against its embedded server; each run must leave a
# summary.json in the shared run format. Short runs: this checks the
# plumbing of each binary, the learning tests live beside each agent.
set -euo pipefail
source tools/testing/server_process.sh
server="$1"
shift
runs=$(mktemp -d /tmp/marl-agents.XXXXXX)
trap 'rm -rf "$runs"' EXIT

start_server "$runs" "$server"

# binary path, environment, settings, steps
while [ $# -gt 0 ]; do
  binary="$1" env="$2" settings="$3" steps="$4"
  shift 4
  name=$(basename "$binary")
  for where in tcp embedded; do
    endpoint_flag=""
    [ "$where" = tcp ] && endpoint_flag="--endpoint=$endpoint"
    run="${name}_${env}_$(tr -c "a-zA-Z0-9\n" _ <<<"$settings")_${where}"
    if ! "$binary" $endpoint_flag --env="$env" --env_settings="$settings" \
        --steps="$steps" --eval_episodes=5 --progress_seconds=60 --seed=3 \
        --runs_root="$runs" --run_name="$run" >"$runs/$run.log" 2>&1; then
      echo "FAIL $run"; cat "$runs/$run.log"; exit 1
    fi
    [ -s "$runs/$run/summary.json" ] || { echo "FAIL $run: no summary.json"; exit 1; }
    [ -s "$runs/$run/metrics.jsonl" ] || { echo "FAIL $run: no metrics"; exit 1; }
    echo "ok   $run"
  done
done
