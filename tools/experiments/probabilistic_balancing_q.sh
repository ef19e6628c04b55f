#!/bin/bash
# Probabilistic Balancing-Q (thesis §3.5.2) on the max of two quadratics and
# its zero-sum form (player_1 gets -r): does the sign of beta^-i decide the
# equilibrium found? Both variants of the game (paper: f1 / 9, code: f1 / 3),
# both games, beta^-i = +0.1 (the others modelled as friends) and -0.1
# (foes), beta^i = 0.1, the thesis' omega = 1.01 growth of both per update;
# several seeds each, plus the importance-sampled marginal (eq. 3.59) on the
# cooperative game. Runs (through tools/sweep.py, JOBS at a time; one grid
# per (variant, game), in its grid.json) under
# results/probabilistic_balancing_q/<variant>_<game>/, one action plot per
# (variant, game) at docs/results/pbq_<variant>_<game>.png,
# and a per-seed table (final greedy actions, returns, player_0's security
# value min_a2 r(a1, a2)) printed at the end.
# docs/RESULTS.md, "Probabilistic Balancing-Q (deep)", has the numbers.
#
#   bash tools/experiments/probabilistic_balancing_q.sh   # ~12 min, 2 cores
#   SEEDS="1 2" STEPS=3000 bash tools/experiments/probabilistic_balancing_q.sh
#   BAZEL="bazel --output_base=/tmp/ob" bash tools/experiments/...  # own base
set -euo pipefail
cd "$(dirname "$0")/../.."

SEEDS="${SEEDS:-1 2 3}"
STEPS="${STEPS:-4000}"  # transitions; 8 copies -> 500 batched steps
JOBS="${JOBS:-2}"
BAZEL="${BAZEL:-bazel}"
OUT=results/probabilistic_balancing_q

${BAZEL} build //agents/probabilistic_balancing_q //tools:plot_runs
BIN="$(${BAZEL} info bazel-bin 2>/dev/null)"
rm -rf "${OUT}"
mkdir -p "${OUT}" docs/results

# One grid (tools/sweep.py) per (variant, game), each into its own
# OUT/<variant>_<game>/ (one action plot each, below): runs named
# <variant>_<game>_<friend|foe>_<marginal>_seed<N>. A failed run is named
# and the report goes on.
for variant in paper code; do
  for game in coop zero_sum; do
    /usr/bin/python3 - "${variant}" "${game}" "${STEPS}" "${SEEDS}" <<'PY' |
import json
import sys

variant, game, steps, seeds = sys.argv[1:]
friend = {"beta_opponent": 0.1}  # the others modelled as friends
foe = {"beta_opponent": -0.1}  # as foes
models = {"friend_variational": {"flags": friend},
          "foe_variational": {"flags": foe}}
if game == "coop":
    # The importance-sampled marginal (eq. 3.59): the cooperative game only.
    models["friend_importance"] = {
        "flags": dict(friend, marginal="importance")}
grid = {
    "agent": "probabilistic_balancing_q",
    "flags": {"env": "max_of_two_quadratics", "num_copies": 8,
              "steps": int(steps), "eval_every": 250, "eval_episodes": 8,
              "log_every": 1000, "progress_seconds": 1000,
              "hidden": "100,100", "batch_size": 128, "beta_agent": 0.1},
    # One value each: they name the runs.
    "axes": [
        {"variant": {variant: {"env_settings": {"variant": variant}}}},
        {"game": {game: {"env_settings": {"zero_sum": game == "zero_sum"}}}},
        {"model": models},
    ],
    "seeds": [int(s) for s in seeds.split()],
}
json.dump(grid, sys.stdout)
PY
      /usr/bin/python3 tools/sweep.py - --out "${OUT}/${variant}_${game}" \
        --jobs "${JOBS}" --bazel_bin "${BIN}" || true
  done
done

for dir in "${OUT}"/*/; do
  tag="$(basename "${dir}")"
  "${BIN}/tools/plot_runs" "${dir}" --metric greedy_action --phase eval \
    --out "docs/results/pbq_${tag}.png" > /dev/null
done
python3 - "${OUT}" <<'PY'
import glob, json, os, sys

def reward(a1, a2, div):
    f1 = 0.8 * (-(a1 + 5) ** 2 / div - (a2 + 5) ** 2 / div)
    f2 = -(a1 - 5) ** 2 - (a2 - 5) ** 2 + 10
    return max(f1, f2)

grid = [-10 + 20 * k / 2000 for k in range(2001)]
rows = []
for cfg in sorted(glob.glob(os.path.join(sys.argv[1], "*", "*", "config.json"))):
    run = os.path.dirname(cfg)
    name = os.path.basename(run)
    variant, rest = name.split("_", 1)
    game = "zero_sum" if rest.startswith("zero_sum") else "coop"
    sign, estimator = rest[len(game) + 1:].split("_")[:2]
    seed = json.load(open(cfg))["seed"]
    final = {}
    for line in open(os.path.join(run, "metrics.jsonl")):
        r = json.loads(line)
        if r.get("phase") == "eval":
            final[r["agent"]] = (r["greedy_action"], r["eval_return"])
    s = json.load(open(os.path.join(run, "summary.json")))
    (a1, r0), (a2, r1) = final["player_0"], final["player_1"]
    div = 9.0 if variant == "paper" else 3.0
    security = min(reward(a1, b, div) for b in grid)
    rows.append((variant, game, sign, estimator, seed, a1, a2, r0, r1,
                 security, s.get("train_seconds", float("nan")),
                 s.get("steps_per_second", float("nan"))))
print("| variant | game | beta^-i | marginal | seed | a1 | a2 | return p0 | "
      "return p1 | p0 security min_a2 r(a1,a2) | train s | steps/s |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for v, g, sg, e, seed, a1, a2, r0, r1, sec, secs, sps in sorted(rows):
    b = "+0.1" if sg == "friend" else "-0.1"
    print(f"| {v} | {g} | {b} | {e} | {seed} | {a1:.2f} | {a2:.2f} | "
          f"{r0:.2f} | {r1:.2f} | {sec:.2f} | {secs:.1f} | {sps:.0f} |")
PY
