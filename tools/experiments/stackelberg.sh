#!/bin/bash
# Stackelberg learning on the twelve iterated 2x2 games of the Stackelberg
# paper (EXPERIMENTS.md §7; agents/stackelberg/README.md), SEEDS (1-5):
#
#   bash tools/experiments/stackelberg.sh games        # ~4 min on 2 cores
#   bash tools/experiments/stackelberg.sh efficiency   # ~15 min on 2 cores
#   SEEDS="1 2" GAMES="pd battle" bash tools/experiments/stackelberg.sh games
#   REPORT_ONLY=1 bash tools/experiments/stackelberg.sh efficiency
#
# Every run: 10 play steps per episode, reward offset -2.5, the follower
# observes the play step (follower_clock; but contextual_no_clock) and
# discounts by 0.9; the leader
# is linear PPO over its memory state. Success is measured against the
# exact Stackelberg value of each game (memory_one_solver.h): a run has
# solved its game when its greedy leader, against best-responding
# followers (ties for the leader), is worth the game's value.
#
# Experiments:
#   games       the contextual oracle (the paper's meta-RL followers:
#               queries of every memory state, a table follower pre-trained
#               against random leaders until it best-responds to all 32),
#               STEPS (300,000) per run: per game the value, the leader's
#               exact value and evaluation return, the fraction solved;
#               the learned leaders of the prisoner's dilemma and the
#               battle of the sexes as tables. And the same without the
#               follower's clock (contextual_no_clock, 3 x STEPS; values
#               against memory-one followers).
#   efficiency  environment steps to success, STEPS (1,000,000) per run:
#               contextual against the inner-outer loop (no queries; a
#               tabular follower retrained for 80 episodes against every
#               leader policy), the latter with the reference code's
#               follower (Q-learning rate 0.01, temperature 0.1, Q from 0)
#               and with the contextual oracle's (rate 1, optimistic).
# Runs (through tools/sweep.py, JOBS at a time; the grid in grid.json)
# under results/stackelberg_<experiment>/; plots in
# docs/results/stackelberg_<experiment>.png; the tables printed at the end
# go into docs/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
EXPERIMENT="${1:-}"
case "${EXPERIMENT}" in
  games)
    DEFAULT_STEPS=300000
    VARIANTS="contextual contextual_no_clock"
    ;;
  efficiency)
    DEFAULT_STEPS=1000000
    VARIANTS="contextual inner_outer_reference inner_outer_optimistic"
    ;;
  *)
    echo "usage: $0 games|efficiency" >&2
    exit 2
    ;;
esac
SEEDS="${SEEDS:-1 2 3 4 5}"
STEPS="${STEPS:-${DEFAULT_STEPS}}"
JOBS="${JOBS:-2}"
GAMES="${GAMES:-pd stag_hunt assurance coordination mixedharmony harmony noconflict deadlock prisoners_delight hero battle chicken}"
OUT="results/stackelberg_${EXPERIMENT}"
# Optimised: these runs are the users' experiments (~100,000 steps/s).
bazel build -c opt //agents/stackelberg //agents/stackelberg:memory_one_values
BAZEL_BIN=$(bazel info -c opt bazel-bin 2>/dev/null)

if [[ -z "${REPORT_ONLY:-}" ]]; then
  rm -rf "${OUT}"
  mkdir -p docs/results
  # The grid (tools/sweep.py, which keeps it as OUT/grid.json): variant x
  # game x seed, runs named <variant>_<game>_seed<N>. A failed run is
  # named and the report goes on.
  /usr/bin/python3 - "${STEPS}" "${VARIANTS}" "${GAMES}" "${SEEDS}" <<'PY' |
import json
import sys

steps, variants, games, seeds = sys.argv[1:]
steps = int(steps)
queries = {"query_states": "[0,1,2,3,4]"}
reference = {"oracle": "inner_outer", "follower_q_lr": 0.01,
             "follower_q_alpha": 0.1, "follower_q_initial": 0}
every = {
    "contextual": {"env_settings": queries},
    # Its pre-training never passes the exact test, so it runs all 40,000
    # episodes (600,000 steps): 3 x STEPS leaves the leader more.
    "contextual_no_clock": {
        "flags": {"steps": 3 * steps, "eval_every": 3 * steps // 5},
        "env_settings": dict(queries, follower_clock=False)},
    "inner_outer_reference": {"flags": reference},
    "inner_outer_optimistic": {"flags": {"oracle": "inner_outer"}},
}
grid = {
    "agent": "stackelberg",
    "flags": {"env": "iterated_matrix_game", "num_copies": 8,
              "steps": steps, "log_every": 5000, "eval_every": steps // 5,
              "eval_episodes": 8, "progress_seconds": 1000},
    "env_settings": {"roles": "stackelberg", "reward_offset": -2.5,
                     "follower_clock": True},
    "axes": [
        {"variant": {v: every[v] for v in variants.split()}},
        {"game": {g: {"env_settings": {"game": "stackelberg_" + g}}
                  for g in games.split()}},
    ],
    "seeds": [int(s) for s in seeds.split()],
}
json.dump(grid, sys.stdout)
PY
    /usr/bin/python3 tools/sweep.py - --out "${OUT}" --jobs "${JOBS}" \
      --bazel_bin "${BAZEL_BIN}" || true
fi

/usr/bin/python3 tools/experiments/stackelberg_table.py "${OUT}" \
  --experiment "${EXPERIMENT}" --variants "${VARIANTS// /,}" \
  --games "${GAMES// /,}" --plot "docs/results/stackelberg_${EXPERIMENT}.png" \
  --values "${BAZEL_BIN}/agents/stackelberg/memory_one_values"
