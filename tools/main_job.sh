#!/usr/bin/env bash
# The main job: an environment server on loopback TCP plus independent
# soft actor-critic learners training against it on the max of two
# quadratics (PR2's differential game; three seeds), with progress on screen,
# ending in a result summary and a learning-curve PNG in results/main_job/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

bazel build //server:env_server //agents/independent //tools:plot_runs 2>&1 |
  tail -n 2
# The real output directory, not the bazel-bin symlink (which follows
# whichever output base built last).
BAZEL_BIN=$(bazel info bazel-bin 2>/dev/null)

out=results/main_job
rm -rf "$out"
mkdir -p "$out"

# The server picks a free port; its first line names the endpoint.
source tools/testing/server_process.sh
start_server "$out" "${BAZEL_BIN}/server/env_server"
echo "main_job: environment server at $endpoint"

for seed in 1 2 3; do
  echo
  echo "main_job: independent SAC on max_of_two_quadratics, seed $seed"
  ${BAZEL_BIN}/agents/independent/independent \
    --endpoint="$endpoint" \
    --env=max_of_two_quadratics \
    --steps=6000 --eval_every=500 --eval_episodes=20 --log_every=250 \
    --progress_seconds=2 --seed="$seed" \
    --runs_root="$out/runs" --run_name="independent_quadratics_seed$seed"
done

stop_server_cleanly
trap - EXIT

echo
${BAZEL_BIN}/tools/plot_runs "$out/runs" --metric eval_return --phase eval \
  --group-by algorithm --agent player_0 \
  --out "$out/learning_curve.png" --summary "$out/summary.md"
# Which optimum each seed ended at: global 10 at (5, 5), local 0 at (-5, -5).
/usr/bin/python3 - "$out/runs" <<'PY'
import json, pathlib, sys
runs = sorted(pathlib.Path(sys.argv[1]).glob("*/summary.json"))
results = [json.loads(p.read_text())["final_eval_return_player_0"] for p in runs]
near_global = sum(r > 9.0 for r in results)
near_local = sum(-1.0 < r <= 9.0 for r in results)
print(f"main_job: {len(results)} seeds: {near_global} at the global optimum "
      f"(about 10), {near_local} at the local optimum (about 0), "
      f"final eval returns {', '.join(f'{r:.3f}' for r in results)}")
PY
echo
echo "main_job: learning curve: $out/learning_curve.png"
echo "main_job: summary table:  $out/summary.md"
echo "main_job: runs:           $out/runs/"
