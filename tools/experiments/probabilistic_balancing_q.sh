#!/bin/bash
# Probabilistic Balancing-Q (thesis §3.5.2) on the max of two quadratics and
# its zero-sum form (player_1 gets -r): does the sign of beta^-i decide the
# equilibrium found? Both variants of the game (paper: f1 / 9, code: f1 / 3),
# both games, beta^-i = +0.1 (the others modelled as friends) and -0.1
# (foes), beta^i = 0.1, the thesis' omega = 1.01 growth of both per update;
# several seeds each, plus the importance-sampled marginal (eq. 3.59) on the
# cooperative game. Runs under results/probabilistic_balancing_q/, one
# action plot per (variant, game) at docs/results/pbq_<variant>_<game>.png,
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
COMMON="--env=max_of_two_quadratics --num_copies=8 --steps=${STEPS} \
  --eval_every=250 --eval_episodes=8 --log_every=1000 --progress_seconds=1000 \
  --hidden=100,100 --batch_size=128 --beta_agent=0.1"

${BAZEL} build //agents/probabilistic_balancing_q //tools:plot_runs
BIN="$(${BAZEL} info bazel-bin 2>/dev/null)"
rm -rf "${OUT}"
mkdir -p "${OUT}" docs/results

commands=()
for seed in ${SEEDS}; do
  for variant in paper code; do
    for game in coop zero_sum; do
      zs=false; [[ ${game} == zero_sum ]] && zs=true
      for sign in friend foe; do
        beta_opp=0.1; [[ ${sign} == foe ]] && beta_opp=-0.1
        name="${variant}_${game}_${sign}_variational_seed${seed}"
        commands+=("${BIN}/agents/probabilistic_balancing_q/probabilistic_balancing_q ${COMMON} --env_settings=variant=${variant},zero_sum=${zs} --beta_opponent=${beta_opp} --seed=${seed} --runs_root=${OUT}/${variant}_${game} --run_name=${name}")
      done
    done
    name="${variant}_coop_friend_importance_seed${seed}"
    commands+=("${BIN}/agents/probabilistic_balancing_q/probabilistic_balancing_q ${COMMON} --env_settings=variant=${variant},zero_sum=false --beta_opponent=0.1 --marginal=importance --seed=${seed} --runs_root=${OUT}/${variant}_coop --run_name=${name}")
  done
done
start=$(date +%s)
printf '%s\n' "${commands[@]}" |
  xargs -P "${JOBS}" -I{} bash -c '{} > /dev/null 2>&1 || echo "failed: {}"'
echo "all runs (${#commands[@]}): $(( $(date +%s) - start )) s"

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
