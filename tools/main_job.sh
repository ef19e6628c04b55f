#!/usr/bin/env bash
# The main job: the max of two quadratics (PR2 and ROMMEO §5.2: a wide basin
# around the local optimum 0, a narrow one around the global optimum 10),
# learned by a recursive-reasoning agent (ROMMEO-AC, its opponent model fitted
# to the closed form of eq. 3.14) and by the independent baseline (soft
# actor-critic per agent), three seeds each, against one environment server
# on loopback TCP. Progress on screen; ends with both learning curves in one
# plot, a summary table and a one-line verdict, in results/main_job/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

bazel build //server:env_server //agents/independent //agents/rommeo:rommeo_ac \
  //tools:plot_runs 2>&1 |
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

# Both agents see the same game and budget (4,000 transitions, 8 copies per
# batched step); ROMMEO-AC's settings are docs/RESULTS.md's "Max of two
# quadratics" (2x100 networks, batch 128).
common=(--endpoint="$endpoint" --env=max_of_two_quadratics --num_copies=8
  --steps=4000 --eval_every=250 --eval_episodes=8 --log_every=250
  --progress_seconds=2 --runs_root="$out/runs")
for seed in 1 2 3; do
  echo
  echo "main_job: ROMMEO-AC on max_of_two_quadratics, seed $seed"
  ${BAZEL_BIN}/agents/rommeo/rommeo_ac "${common[@]}" --seed="$seed" \
    --hidden=100,100 --batch_size=128 \
    --opponent_fit=sampled --policy_at_replayed_partners \
    --run_name="rommeo_ac_quadratics_seed$seed"
  echo
  echo "main_job: independent SAC on max_of_two_quadratics, seed $seed"
  ${BAZEL_BIN}/agents/independent/independent "${common[@]}" --seed="$seed" \
    --learner=sac --run_name="independent_quadratics_seed$seed"
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
finals = {}
for path in sorted(pathlib.Path(sys.argv[1]).glob("*/summary.json")):
    algorithm = json.loads((path.parent / "config.json").read_text())["algorithm"]
    finals.setdefault(algorithm, []).append(
        json.loads(path.read_text())["final_eval_return_player_0"])
names = {"rommeo_ac": "ROMMEO-AC", "independent": "independent SAC"}
print("main_job: verdict: " + "; ".join(
    f"{names.get(a, a)} reached the global optimum 10 in "
    f"{sum(r > 9.0 for r in rs)} of {len(rs)} seeds "
    f"(final returns {', '.join(f'{r:.2f}' for r in rs)})"
    for a, rs in sorted(finals.items(), key=lambda kv: kv[0] != "rommeo_ac")))
PY
echo
echo "main_job: learning curve: $out/learning_curve.png"
echo "main_job: summary table:  $out/summary.md"
echo "main_job: runs:           $out/runs/"
