#!/usr/bin/env bash
# PR2 matrix game (the "wolf" preset, [[0,3],[1,2]] / [[3,2],[0,1]], only
# Nash: both mix (0.5, 0.5)): PR2-Q against naive independent gradient
# ascent (IGA), five seeds each, embedded server. Writes runs under
# results/pr2_matrix_game/runs, the policy trajectory P(a1=0) vs P(a2=0)
# (trajectory.png) and a summary (summary.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
# The real output directory, not the bazel-bin symlink (which follows
# whichever output base built last).
BAZEL_BIN=$(bazel info bazel-bin 2>/dev/null)
bazel build //agents/pr2:pr2_q 2>&1 | tail -n 1

out=results/pr2_matrix_game
rm -rf "$out"
mkdir -p "$out/runs"
steps=${STEPS:-40000}
start=$(date +%s.%N)
initial=("0.8,0.2" "0.2,0.8" "0.9,0.9" "0.1,0.1" "0.7,0.4")
for seed in 1 2 3 4 5; do
  ${BAZEL_BIN}/agents/pr2/pr2_q --env=matrix_game --env_settings=game=wolf \
    --learner=pr2_q --steps="$steps" --log_every=400 --eval_episodes=8 \
    --progress_seconds=30 --seed="$seed" --runs_root="$out/runs" \
    --run_name="pr2_q_seed$seed" | tail -n 3
  ${BAZEL_BIN}/agents/pr2/pr2_q --env=matrix_game --env_settings=game=wolf \
    --learner=iga --iga_initial_p0="${initial[$((seed - 1))]}" \
    --steps="$steps" --log_every=400 --eval_episodes=8 \
    --progress_seconds=30 --seed="$seed" --runs_root="$out/runs" \
    --run_name="iga_seed$seed" | tail -n 3
done
end=$(date +%s.%N)
/usr/bin/python3 tools/experiments/pr2_matrix_game_plot.py "$out/runs" \
  --out "$out/trajectory.png" --summary "$out/summary.md" \
  --wall_seconds "$(echo "$end - $start" | bc)"
cat "$out/summary.md"
