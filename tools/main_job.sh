#!/usr/bin/env bash
# The main job: an environment server on loopback TCP plus independent
# soft-Q learners training against it on the climbing game (three seeds),
# with progress on screen, ending in a result summary and a learning-curve
# PNG in results/main_job/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

bazel build //server:env_server //agents/independent //tools:plot_runs 2>&1 |
  tail -n 2

out=results/main_job
rm -rf "$out"
mkdir -p "$out"

# The server picks a free port; its first line names the endpoint.
server_log="$out/env_server.log"
bazel-bin/server/env_server --endpoint=tcp://127.0.0.1:0 >"$server_log" 2>&1 &
server_pid=$!
trap 'kill -TERM "$server_pid" 2>/dev/null || true' EXIT
endpoint=""
for _ in $(seq 100); do
  endpoint=$(sed -n 's/^env_server: listening on //p' "$server_log" | head -n 1)
  [ -n "$endpoint" ] && break
  sleep 0.1
done
if [ -z "$endpoint" ]; then
  echo "main_job: the server did not start:" >&2
  cat "$server_log" >&2
  exit 1
fi
echo "main_job: environment server at $endpoint"

for seed in 1 2 3; do
  echo
  echo "main_job: independent soft-Q on the climbing game, seed $seed"
  bazel-bin/agents/independent/independent \
    --endpoint="$endpoint" \
    --env=matrix_game --env_settings=game=climbing \
    --seed="$seed" \
    --runs_root="$out/runs" --run_name="independent_climbing_seed$seed"
done

kill -TERM "$server_pid"
wait "$server_pid" || true
trap - EXIT

echo
bazel-bin/tools/plot_runs "$out/runs" --metric episode_return --phase train \
  --smooth 20 --group-by algorithm \
  --out "$out/learning_curve.png" --summary "$out/summary.md"
echo
echo "main_job: learning curve: $out/learning_curve.png"
echo "main_job: summary table:  $out/summary.md"
echo "main_job: runs:           $out/runs/"
