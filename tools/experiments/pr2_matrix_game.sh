#!/usr/bin/env bash
# PR2 matrix game (the "wolf" preset, [[0,3],[1,2]] / [[3,2],[0,1]], only
# Nash: both mix (0.5, 0.5)): PR2-Q against naive independent gradient
# ascent (IGA), five seeds each, embedded server. Runs (through
# tools/sweep.py, JOBS at a time, default 1 so that every run's steps/s is
# measured alone; one grid per seed, kept as seed<N>_grid.json) under
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
jobs=${JOBS:-1}
start=$(date +%s.%N)
# IGA starts from another point in every seed, which one grid cannot say
# (each axis value runs with every seed): one grid per seed, PR2-Q and IGA
# from that seed's point, runs named pr2_q_seed<N> and iga_seed<N>. The
# grids share runs/, so each one's grid.json and sweep_summary.md are kept
# as seed<N>_grid.json and seed<N>_sweep_summary.md. A failed run is named
# and the report goes on.
initial=("0.8,0.2" "0.2,0.8" "0.9,0.9" "0.1,0.1" "0.7,0.4")
for seed in 1 2 3 4 5; do
  /usr/bin/python3 - "$steps" "$seed" "${initial[$((seed - 1))]}" <<'PY' |
import json
import sys

steps, seed, initial_p0 = sys.argv[1:]
grid = {
    "agent": "pr2/pr2_q",
    "flags": {"env": "matrix_game", "steps": int(steps), "log_every": 400,
              "eval_episodes": 8, "progress_seconds": 30},
    "env_settings": {"game": "wolf"},
    "axes": [{"learner": {
        "pr2_q": {"flags": {"learner": "pr2_q"}},
        "iga": {"flags": {"learner": "iga", "iga_initial_p0": initial_p0}},
    }}],
    "seeds": [int(seed)],
}
json.dump(grid, sys.stdout)
PY
    /usr/bin/python3 tools/sweep.py - --out "$out/runs" --jobs "$jobs" \
      --bazel_bin "$BAZEL_BIN" || true
  for f in grid.json sweep_summary.md; do
    if [[ -e "$out/runs/$f" ]]; then
      mv "$out/runs/$f" "$out/runs/seed${seed}_$f"
    fi
  done
done
end=$(date +%s.%N)
/usr/bin/python3 tools/experiments/pr2_matrix_game_plot.py "$out/runs" \
  --out "$out/trajectory.png" --summary "$out/summary.md" \
  --wall_seconds "$(echo "$end - $start" | bc)"
cat "$out/summary.md"
