#!/usr/bin/env bash
# Littman's grid soccer (4 x 5, zero-sum, +-1 per goal, episodes cut at 100
# steps = draw): Balancing-Q with opposite-sign betas (0.1 / -0.1) trained
#   vs_uniform:    against a fixed opponent playing uniformly at random;
#   self_play:     against a learning Balancing-Q opponent (same betas);
#   friend_vs_foe: player_0 with a cooperative opponent model (0.1 / 0.1)
#                  against a learning player_1 with a competitive one.
# Evaluated over EPISODES episodes (default 1000) with greedy and with
# sampled policies, against the training opponent and (restored from the
# final checkpoint) against a uniform random opponent. Win/draw/loss rates
# of player_0 follow from each evaluation's mean and std of returns in
# {-1, 0, 1}. SEEDS seeds (default 5), STEPS transitions (default 1e6)
# per training run, two runs at a time. Runs under
# results/soccer_balancing_q/runs; summary.md and soccer_balancing_q.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
# BAZEL may name another output base, e.g. BAZEL="bazel --output_base=...".
bazel=${BAZEL:-bazel}
$bazel build //agents/balancing_q 2>&1 | tail -n 1
bq="$($bazel info bazel-bin 2>/dev/null)/agents/balancing_q/balancing_q"

out=results/soccer_balancing_q
rm -rf "$out"
mkdir -p "$out/runs"
seeds=${SEEDS:-5}
steps=${STEPS:-1000000}
episodes=${EPISODES:-1000}
# omega from 10 to 300 over the first 60% of the iterations (at 50
# roll-outs each): effective inverse temperatures 1 -> 30 for beta 0.1.
iterations=$((steps / 50))
growth=$(/usr/bin/python3 -c "print(30 ** (1 / (0.6 * $iterations)))")
common=(--env=soccer --num_copies=50 --beta_agent=0.1 --omega_initial=10
  --omega_growth="$growth" --omega_max=300 --gamma=0.9
  --eval_episodes="$episodes" --progress_seconds=600 --runs_root="$out/runs")

one_seed() {  # setting seed
  local setting=$1 seed=$2 name="$1_seed$2" flags=()
  case $setting in
    vs_uniform) flags=(--beta_opponent=-0.1 --opponent=uniform) ;;
    self_play) flags=(--beta_opponent=-0.1) ;;
    friend_vs_foe) flags=(--beta_opponent=0.1,-0.1) ;;
  esac
  "$bq" "${common[@]}" "${flags[@]}" --steps="$steps" --seed="$seed" \
    --log_every=$((steps / 50)) --run_name="$name" >/dev/null
  local ckpt="$out/runs/$name/checkpoints/final"
  # Evaluations of the final tables (flags other than --opponent and
  # --eval_policy as in training, so omega is the trained one).
  for opponent in trained uniform; do
    for policy in greedy sample; do
      [ "$opponent" = trained ] && [ "$policy" = greedy ] && continue
      # Its training opponent is already the uniform one.
      [ "$setting" = vs_uniform ] && [ "$opponent" = uniform ] && continue
      local opp_flags=("${flags[@]}")
      [ "$opponent" = uniform ] && opp_flags+=(--opponent=uniform)
      "$bq" "${common[@]}" "${opp_flags[@]}" --mode=eval --restore="$ckpt" \
        --eval_policy="$policy" --seed="$seed" \
        --run_name="${name}_eval_${opponent}_$policy" >/dev/null
    done
  done
}

start=$(date +%s.%N)
jobs_running=0
for seed in $(seq 1 "$seeds"); do
  for setting in vs_uniform self_play friend_vs_foe; do
    one_seed "$setting" "$seed" &
    jobs_running=$((jobs_running + 1))
    if [ "$jobs_running" -ge 2 ]; then
      wait -n
      jobs_running=$((jobs_running - 1))
    fi
  done
done
wait
echo "all runs: $(echo "$(date +%s.%N) - $start" | bc) s wall"
/usr/bin/python3 tools/experiments/soccer_balancing_q_table.py "$out"
