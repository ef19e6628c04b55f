#!/usr/bin/env bash
# Climbing game (optimum (A,A) = 11) and the thesis cooperative game
# (optimum (2,2) 0-based = 10): how often ROMMEO-Q, PR2-Q (default
# opponent temperature 10, and an optimistic 0.5) and independent soft-Q
# reach the global optimum over SEEDS seeds (default 10), and the deep
# PR2-AC (Discrete actions, exact closed-form opponent model) over
# PR2_AC_SEEDS seeds (default 5; PR2_AC_STEPS transitions, default 8000:
# it costs about 10 CPU-seconds per run where the tabular agents take
# under one). Runs (through tools/sweep.py, JOBS at a time, default 1 so
# that every run's steps/s is measured alone; per game two grids, the
# tabular agents' and PR2-AC's, kept as tabular_grid.json and
# pr2_ac_grid.json) under results/climbing_and_thesis_coop/<game>/runs,
# summary.md with the success rates and optimum_rate.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The real output directory, not the bazel-bin symlink (which follows
# whichever output base built last).
BAZEL_BIN=$(bazel info bazel-bin 2>/dev/null)
bazel build //agents/rommeo:rommeo_q //agents/pr2:pr2_q //agents/pr2:pr2_ac \
  //agents/independent //tools:plot_runs 2>&1 | tail -n 1

out=results/climbing_and_thesis_coop
rm -rf "$out"
mkdir -p "$out"
steps=${STEPS:-20000}
seeds=${SEEDS:-10}
pr2_ac_seeds=${PR2_AC_SEEDS:-5}
pr2_ac_steps=${PR2_AC_STEPS:-8000}
jobs=${JOBS:-1}

# A grid (tools/sweep.py) for GAME: KIND tabular, the tabular agents over
# seeds 1..SEEDS, or pr2_ac, PR2-AC over seeds 1..PR2_AC_SEEDS (a grid has
# one seed list, hence two); runs named <algorithm>_seed<N>.
grid() {
  /usr/bin/python3 - "$1" "$2" "$steps" "$seeds" "$pr2_ac_steps" \
      "$pr2_ac_seeds" <<'PY'
import json
import sys

game, kind, steps, seeds, pr2_ac_steps, pr2_ac_seeds = sys.argv[1:]
if kind == "tabular":
    grid = {
        "flags": {"env": "matrix_game", "steps": int(steps),
                  "eval_every": 2000, "eval_episodes": 8, "log_every": 1000,
                  "progress_seconds": 60},
        "env_settings": {"game": game},
        "axes": [{"algorithm": {
            "rommeo_q": {"agent": "rommeo/rommeo_q"},
            "pr2_q": {"agent": "pr2/pr2_q"},
            "pr2_q_optimistic": {"agent": "pr2/pr2_q",
                                 "flags": {"opponent_temperature": 0.5}},
            "independent": {"agent": "independent",
                            "flags": {"learner": "soft_q"}},
        }}],
        "seeds": list(range(1, int(seeds) + 1)),
    }
else:
    # PR2-AC: 8 copies per batched step, batch 128, other settings the
    # binary's defaults (2x100 ReLU, lr 1e-2, opponent temperature 1).
    grid = {
        "agent": "pr2/pr2_ac",
        "flags": {"env": "matrix_game", "num_copies": 8, "batch_size": 128,
                  "steps": int(pr2_ac_steps), "eval_every": 2000,
                  "eval_episodes": 8, "log_every": 1000,
                  "progress_seconds": 60},
        "env_settings": {"game": game},
        # One value: it names the runs pr2_ac_seed<N>.
        "axes": [{"algorithm": {"pr2_ac": {}}}],
        "seeds": list(range(1, int(pr2_ac_seeds) + 1)),
    }
json.dump(grid, sys.stdout)
PY
}

# Runs the grid on stdin into the runs directory $1, then keeps its
# grid.json and sweep_summary.md as $2_grid.json and $2_sweep_summary.md:
# the two grids of a game share the directory. A failed run is named and
# the report goes on.
sweep_into() {
  /usr/bin/python3 tools/sweep.py - --out "$1" --jobs "$jobs" \
    --bazel_bin "$BAZEL_BIN" || true
  for f in grid.json sweep_summary.md; do
    if [[ -e "$1/$f" ]]; then mv "$1/$f" "$1/$2_$f"; fi
  done
}

for game in climbing thesis_coop; do
  runs="$out/$game/runs"
  mkdir -p "$runs"
  # No grid for 0 seeds (PR2_AC_SEEDS=0 leaves PR2-AC out, as before): a
  # grid's seed list may not be empty.
  if (( seeds > 0 )); then
    grid "$game" tabular | sweep_into "$runs" tabular
  fi
  if (( pr2_ac_seeds > 0 )); then
    grid "$game" pr2_ac | sweep_into "$runs" pr2_ac
  fi
done

/usr/bin/python3 - "$out" <<'PY'
import json, pathlib, re, sys, collections
out = pathlib.Path(sys.argv[1])
optimum = {"climbing": 11.0, "thesis_coop": 10.0}
lines = ["| game | algorithm | seeds at the global optimum | final joint "
         "actions (count) | mean steps/s |", "|---|---|---|---|---|"]
for game, best in optimum.items():
    groups = collections.defaultdict(list)
    for p in sorted((out / game / "runs").glob("*/summary.json")):
        algo = re.sub(r"_seed\d+$", "", p.parent.name)
        s = json.loads(p.read_text())
        joint = (int(s["greedy_action_player_0"]),
                 int(s["greedy_action_player_1"]))
        groups[algo].append((s["final_eval_return_player_0"], joint,
                             s["steps_per_second"]))
    for algo, rs in sorted(groups.items()):
        hits = sum(r[0] == best for r in rs)
        joints = collections.Counter(r[1] for r in rs)
        lines.append("| %s | %s | %d / %d | %s | %.0f |" % (
            game, algo, hits, len(rs),
            ", ".join("%s x%d" % (j, c) for j, c in joints.most_common()),
            sum(r[2] for r in rs) / len(rs)))
(out / "summary.md").write_text("\n".join(lines) + "\n")
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(7, 3.2), dpi=80)
names = ["rommeo_q", "pr2_q_optimistic", "pr2_q", "pr2_ac", "independent"]
width = 0.38
for k, (game, best) in enumerate(optimum.items()):
    rates = []
    for algo in names:
        rs = [json.loads(p.read_text())["final_eval_return_player_0"] == best
              for p in (out / game / "runs").glob(algo + "_seed*/summary.json")]
        rates.append(sum(rs) / max(1, len(rs)))
    ax.bar([i + (k - 0.5) * width for i in range(len(names))], rates, width,
           label=game)
ax.set_xticks(range(len(names)))
ax.set_xticklabels(names, fontsize=8)
ax.set_ylabel("P(global optimum)")
ax.set_ylim(0, 1.05)
ax.legend(fontsize=8)
ax.set_title("greedy joint action at the global optimum after training")
fig.tight_layout()
fig.savefig(out / "optimum_rate.png")
print("\n".join(lines))
PY
