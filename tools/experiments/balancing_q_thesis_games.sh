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
# SEEDS seeds (default 10). Runs (through tools/sweep.py, JOBS at a time,
# default 1 so that every run's steps/s is measured alone; one grid per
# game, in its grid.json) under results/balancing_q_thesis_games/
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
jobs=${JOBS:-1}

# One grid (tools/sweep.py) per game, as the games run different
# algorithms and each has its own runs directory: an algorithm axis x
# seeds 1..SEEDS, runs named <algorithm>_seed<N> in <game>/runs. A failed
# run is named and the report goes on. No grid for 0 seeds (a grid's seed
# list may not be empty).
if (( seeds > 0 )); then
  for game in thesis_coop thesis_zero_sum; do
    /usr/bin/python3 - "$game" "$seeds" <<'PY' |
import json
import sys

game, seeds = sys.argv[1:]


def balancing(beta_opponent):
    # Balancing-Q: 500 iterations of 50 roll-outs (the thesis's reward per
    # step is the mean over 50 roll-outs; one train record per iteration).
    return {"agent": "balancing_q",
            "flags": {"num_copies": 50, "log_every": 50, "beta_agent": 0.1,
                      "beta_opponent": beta_opponent}}


# ROMMEO-Q / PR2-Q: their own defaults (8 copies), the same 25000 steps.
others = {"log_every": 500}
pr2_q = {"agent": "pr2/pr2_q", "flags": others}
algorithms = {
    "thesis_coop": {
        "balancing_q_coop": balancing(0.1),
        "rommeo_q": {"agent": "rommeo/rommeo_q", "flags": others},
        "pr2_q": pr2_q,
    },
    "thesis_zero_sum": {
        "balancing_q_competitive": balancing(-0.1),
        "balancing_q_same_sign": balancing(0.1),
        "pr2_q": pr2_q,
        "pr2_q_optimistic": {"agent": "pr2/pr2_q", "flags": dict(
            others, opponent_temperature=0.5)},
    },
}
grid = {
    "flags": {"env": "matrix_game", "steps": 25000, "eval_episodes": 8,
              "progress_seconds": 600},
    "env_settings": {"game": game},
    "axes": [{"algorithm": algorithms[game]}],
    "seeds": list(range(1, int(seeds) + 1)),
}
json.dump(grid, sys.stdout)
PY
      /usr/bin/python3 tools/sweep.py - --out "$out/$game/runs" \
        --jobs "$jobs" --bazel_bin "$bin" || true
  done
fi
/usr/bin/python3 tools/experiments/balancing_q_thesis_games_plot.py "$out"
