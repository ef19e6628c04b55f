#!/bin/bash
# The probabilistic public agent on the BAD two-step game (thesis ch. 5;
# EXPERIMENTS.md §3): tiny_hanabi's default, optimum 10, always-middle 8;
# published averages BAD 9.5, policy gradient 9.0, independent Q-learning
# 8.8. Agents, SEEDS (10) each, STEPS transitions:
#   belief       public_belief: K=10 particles, message, privileged critic
#   literal      the same with the printed mixture losses
#                (--privileged_critic=false)
#   no_belief    public_belief --particles=0: the same soft actor-critic on
#                the private and public observations, no public agent
#   ppo_rnn      independent recurrent PPO (GRU) with --observe_public
# Runs under results/public_belief_bad/; the learning curves (greedy
# evaluation) in docs/results/public_belief_bad.png, the belief's
# probability of player_0's true card (after its action) in
# docs/results/public_belief_bad_belief.png; the table printed at the end
# goes into docs/RESULTS.md, "Public belief".
#
#   bash tools/experiments/public_belief_bad.sh          # ~35 min on 2 cores
#   SEEDS="1 2" STEPS=20000 bash tools/experiments/public_belief_bad.sh
#   REPORT_ONLY=1 bash tools/experiments/public_belief_bad.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BAZEL_BIN=$(bazel info bazel-bin 2>/dev/null)

SEEDS="${SEEDS:-1 2 3 4 5 6 7 8 9 10}"
STEPS="${STEPS:-60000}"
JOBS="${JOBS:-2}"
OUT=results/public_belief_bad
EVAL="--env=tiny_hanabi --num_copies=8 --eval_every=$(( STEPS / 6 )) \
  --eval_episodes=400 --log_every=$(( STEPS / 12 )) --progress_seconds=1000"

bazel build //agents/public_belief //agents/independent //tools:plot_runs
if [[ -z "${REPORT_ONLY:-}" ]]; then
rm -rf "${OUT}"
mkdir -p "${OUT}" docs/results
commands=()
for seed in ${SEEDS}; do
  common="${EVAL} --steps=${STEPS} --seed=${seed} --runs_root=${OUT}"
  commands+=("${BAZEL_BIN}/agents/public_belief/public_belief ${common} --run_name=belief_seed${seed}")
  commands+=("${BAZEL_BIN}/agents/public_belief/public_belief ${common} --privileged_critic=false --run_name=literal_seed${seed}")
  commands+=("${BAZEL_BIN}/agents/public_belief/public_belief ${common} --particles=0 --run_name=no_belief_seed${seed}")
  commands+=("${BAZEL_BIN}/agents/independent/independent ${common} --learner=ppo --ppo_recurrent=32 --observe_public --run_name=ppo_rnn_seed${seed}")
done
start=$(date +%s)
printf '%s\n' "${commands[@]}" |
  xargs -P "${JOBS}" -I{} bash -c '{} > /dev/null 2>&1 || echo "failed: {}"'
echo "runs: $(( $(date +%s) - start )) s"
fi

"${BAZEL_BIN}/tools/plot_runs" "${OUT}" --group-by algorithm \
  --metric eval_return --phase eval --agent player_0 \
  --out docs/results/public_belief_bad.png \
  --summary "${OUT}/summary.md" > /dev/null
"${BAZEL_BIN}/tools/plot_runs" "${OUT}"/belief_seed* "${OUT}"/literal_seed* \
  --group-by algorithm --metric belief_on_true --phase train \
  --agent player_0 --out docs/results/public_belief_bad_belief.png > /dev/null
python3 - "${OUT}" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
final, belief, first9 = {}, {}, {}
for cfg in glob.glob(os.path.join(out, "*", "config.json")):
    run = os.path.dirname(cfg)
    variant, seed = os.path.basename(run).rsplit("_seed", 1)
    recs = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl"))]
    evals = [r for r in recs if r.get("phase") == "eval"
             and r.get("agent") == "player_0"]
    if not evals:
        continue
    key = (variant, int(seed))
    final[key] = evals[-1]["eval_return"]
    hit = [r["step"] for r in evals if r["eval_return"] >= 8.5]
    first9[key] = hit[0] if hit else None
    b = [r["belief_on_true"] for r in recs if r.get("phase") == "train"
         and r.get("agent") == "player_0" and "belief_on_true" in r]
    if b:
        belief[key] = b[-1]

def ms(xs):
    if not xs:
        return "n/a"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return "%.2f ± %.2f" % (statistics.mean(xs), sd)

print("\nfinal greedy evaluation (400 episodes; mean ± std over seeds):\n")
print("| agent | seeds | return | >= 9.5 | >= 8.5 | first eval >= 8.5 (median step) "
      "| belief on player_0's card | per seed |")
print("|---|---|---|---|---|---|---|---|")
for variant in ("belief", "literal", "no_belief", "ppo_rnn"):
    rows = sorted((s, v) for (k, s), v in final.items() if k == variant)
    xs = [v for _, v in rows]
    steps = [first9[(variant, s)] for s, _ in rows
             if first9[(variant, s)] is not None]
    bs = [belief[(variant, s)] for s, _ in rows if (variant, s) in belief]
    print("| %s | %d | %s | %d | %d | %s | %s | %s |" % (
        variant, len(rows), ms(xs), sum(x >= 9.5 for x in xs),
        sum(x >= 8.5 for x in xs),
        ("%d (%d seeds)" % (statistics.median(steps), len(steps))) if steps
        else "never", ms(bs) if bs else "-",
        " ".join("%.2f" % x for x in xs)))
print("\noptimum 10; always-middle 8; published: BAD 9.5, policy gradient "
      "9.0, independent Q-learning 8.8")
PY
