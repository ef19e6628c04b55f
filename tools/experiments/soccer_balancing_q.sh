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
# per training run. Runs (through tools/sweep.py, JOBS at a time, default
# 2: first the training grid, kept as train_grid.json, then one grid of
# evaluations per seed, kept as eval_seed<N>_grid.json) under
# results/soccer_balancing_q/runs; summary.md and soccer_balancing_q.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
# BAZEL may name another output base, e.g. BAZEL="bazel --output_base=...".
bazel=${BAZEL:-bazel}
$bazel build //agents/balancing_q 2>&1 | tail -n 1
bin=$($bazel info bazel-bin 2>/dev/null)

out=results/soccer_balancing_q
rm -rf "$out"
mkdir -p "$out/runs"
seeds=${SEEDS:-5}
steps=${STEPS:-1000000}
episodes=${EPISODES:-1000}
jobs=${JOBS:-2}

# A grid (tools/sweep.py): with "train", the settings x seeds 1..SEEDS,
# runs named <setting>_seed<N>; with "eval N", the evaluations of seed N's
# final tables, runs named <setting>_eval_<opponent>_<policy>_seed<N>.
grid() {
  /usr/bin/python3 - "$out" "$steps" "$episodes" "$seeds" "$@" <<'PY'
import json
import sys

out, steps, episodes, seeds, phase = sys.argv[1:6]
steps = int(steps)
# omega from 10 to 300 over the first 60% of the iterations (at 50
# roll-outs each): effective inverse temperatures 1 -> 30 for beta 0.1.
iterations = steps // 50
common = {"env": "soccer", "num_copies": 50, "beta_agent": 0.1,
          "omega_initial": 10,
          "omega_growth": 30 ** (1 / (0.6 * iterations)),
          "omega_max": 300, "gamma": 0.9, "eval_episodes": int(episodes),
          "progress_seconds": 600}
settings = {
    "vs_uniform": {"beta_opponent": -0.1, "opponent": "uniform"},
    "self_play": {"beta_opponent": -0.1},
    "friend_vs_foe": {"beta_opponent": "0.1,-0.1"},
}
if phase == "train":
    grid = {
        "agent": "balancing_q",
        "flags": dict(common, steps=steps, log_every=steps // 50),
        "axes": [{"setting": {s: {"flags": f} for s, f in settings.items()}}],
        "seeds": list(range(1, int(seeds) + 1)),
    }
else:
    # --restore names the seed's training run, which one grid over all
    # seeds cannot say (each axis value runs with every seed): one grid per
    # seed.
    seed = int(sys.argv[6])
    # Flags other than --opponent and --eval_policy as in training (but no
    # --steps and --log_every), so omega is the trained one.
    evaluations = {}
    for setting, flags in settings.items():
        restore = "%s/runs/%s_seed%d/checkpoints/final" % (out, setting, seed)
        for opponent in ("trained", "uniform"):
            for policy in ("greedy", "sample"):
                if opponent == "trained" and policy == "greedy":
                    continue  # the training run's own final evaluation
                if setting == "vs_uniform" and opponent == "uniform":
                    continue  # its training opponent is the uniform one
                evaluation = dict(flags)
                if opponent == "uniform":
                    evaluation["opponent"] = "uniform"
                evaluation.update(mode="eval", restore=restore,
                                  eval_policy=policy)
                name = "%s_eval_%s_%s" % (setting, opponent, policy)
                evaluations[name] = {"flags": evaluation}
    grid = {
        "agent": "balancing_q",
        "flags": common,
        "axes": [{"evaluation": evaluations}],
        "seeds": [seed],
    }
json.dump(grid, sys.stdout)
PY
}

# Runs the grid on stdin into runs/, then keeps its grid.json and
# sweep_summary.md as $1_grid.json and $1_sweep_summary.md: the grids share
# the directory. A failed run is named and the report goes on.
sweep_into_runs() {
  /usr/bin/python3 tools/sweep.py - --out "$out/runs" --jobs "$jobs" \
    --bazel_bin "$bin" || true
  for f in grid.json sweep_summary.md; do
    if [[ -e "$out/runs/$f" ]]; then
      mv "$out/runs/$f" "$out/runs/$1_$f"
    fi
  done
}

# No grid for 0 seeds (a grid's seed list may not be empty). The
# evaluations restore the training runs' final checkpoints: after them.
if (( seeds > 0 )); then
  grid train | sweep_into_runs train
  for seed in $(seq 1 "$seeds"); do
    grid eval "$seed" | sweep_into_runs "eval_seed$seed"
  done
fi
/usr/bin/python3 tools/experiments/soccer_balancing_q_table.py "$out"
