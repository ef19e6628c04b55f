#!/usr/bin/env bash
# Thesis Fig 3.1 and 3.2 (ch. 3, appendix B.3.1).
#  thesis_coop:     Balancing-Q (beta 0.1 / 0.1), ROMMEO-Q and PR2-Q reach
#                   the optimum (3,3) = 10.
#  thesis_zero_sum: Balancing-Q (beta 0.1 / -0.1 for both players) reaches
#                   the Nash equilibrium (1,1), reward 2 for player 1; PR2
#                   with a cooperative opponent model picks action 3 and
#                   earns about 0. "Cooperative opponent model" is run three
#                   ways: PR2-Q with its default opponent temperature 10,
#                   PR2-Q with an optimistic opponent temperature 0.5, and
#                   Balancing-Q with same-sign betas (the thesis's PR2 as a
#                   special case of Balancing-Q).
# SEEDS seeds (default 10). Runs under results/balancing_q_thesis_games/
# <game>/runs; summary.md and thesis_games.png beside them.
set -euo pipefail
cd "$(dirname "$0")/../.."
# BAZEL may name another output base, e.g. BAZEL="bazel --output_base=...".
bazel=${BAZEL:-bazel}
$bazel build //agents/balancing_q //agents/rommeo:rommeo_q //agents/pr2:pr2_q \
  2>&1 | tail -n 1
bin=$($bazel info bazel-bin 2>/dev/null)

out=results/balancing_q_thesis_games
rm -rf "$out"
mkdir -p "$out"
seeds=${SEEDS:-10}
# Balancing-Q: 500 iterations of 50 roll-outs (the thesis's reward per
# step is the mean over 50 roll-outs; one train record per iteration).
balancing=("$bin"/agents/balancing_q/balancing_q --env=matrix_game
  --num_copies=50 --steps=25000 --log_every=50 --eval_episodes=8
  --progress_seconds=600)
# ROMMEO-Q / PR2-Q: their own defaults (8 copies), the same 25000 steps.
others=(--env=matrix_game --steps=25000 --log_every=500 --eval_episodes=8
  --progress_seconds=600)

start=$(date +%s.%N)
run() {  # game name seed command...
  local game=$1 name=$2 seed=$3
  shift 3
  "$@" --env_settings=game=$game --seed="$seed" \
    --runs_root="$out/$game/runs" --run_name="${name}_seed$seed" >/dev/null
}
for seed in $(seq 1 "$seeds"); do
  g=thesis_coop
  run $g balancing_q_coop "$seed" "${balancing[@]}" --beta_agent=0.1 \
    --beta_opponent=0.1
  run $g rommeo_q "$seed" "$bin"/agents/rommeo/rommeo_q "${others[@]}"
  run $g pr2_q "$seed" "$bin"/agents/pr2/pr2_q "${others[@]}"
  g=thesis_zero_sum
  run $g balancing_q_competitive "$seed" "${balancing[@]}" --beta_agent=0.1 \
    --beta_opponent=-0.1
  run $g balancing_q_same_sign "$seed" "${balancing[@]}" --beta_agent=0.1 \
    --beta_opponent=0.1
  run $g pr2_q "$seed" "$bin"/agents/pr2/pr2_q "${others[@]}"
  run $g pr2_q_optimistic "$seed" "$bin"/agents/pr2/pr2_q "${others[@]}" \
    --opponent_temperature=0.5
  echo "seed $seed done ($(echo "$(date +%s.%N) - $start" | bc) s)"
done
echo "all runs: $(echo "$(date +%s.%N) - $start" | bc) s wall"
/usr/bin/python3 tools/experiments/balancing_q_thesis_games_plot.py "$out"
