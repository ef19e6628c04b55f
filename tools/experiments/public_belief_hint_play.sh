#!/bin/bash
# The probabilistic public agent on hint_play (thesis ch. 5; the larger
# card game: each player sees only the partner's card, hints have no fixed
# meaning; envs/cards/hint_play.h), default settings: exact optimum
# 4588/2187 = 2.098 (hint_play_optimum.h), 0 without communication.
# Agents, SEEDS (10) each, STEPS transitions:
#   belief       public_belief: K=10 particles, message, privileged critic
#   no_belief    public_belief --particles=0: the same soft actor-critic on
#                the private and public observations, no public agent
#   ppo_rnn      independent recurrent PPO (GRU) with --observe_public
#   iql          independent tabular Q-learning (soft, temperature annealed
#                to 0.05) over the private card and the public observation,
#                each agent learning from its own turns
#   iql_long     the same at 10 x STEPS (a table is cheap: seconds)
# Runs under results/public_belief_hint_play/; the learning curves (greedy
# evaluation) in docs/results/public_belief_hint_play.png, the belief's
# probability of player_0's true private observation in
# docs/results/public_belief_hint_play_belief.png; the table printed at the
# end goes into docs/RESULTS.md, "Public belief".
#
#   bash tools/experiments/public_belief_hint_play.sh    # ~25 min on 2 cores
#   SEEDS="1 2" STEPS=20000 bash tools/experiments/public_belief_hint_play.sh
#   REPORT_ONLY=1 bash tools/experiments/public_belief_hint_play.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BAZEL_BIN=$(bazel info bazel-bin 2>/dev/null)

SEEDS="${SEEDS:-1 2 3 4 5 6 7 8 9 10}"
STEPS="${STEPS:-40000}"
JOBS="${JOBS:-2}"
OUT=results/public_belief_hint_play
EVAL="--env=hint_play --num_copies=8 --eval_every=$(( STEPS / 6 )) \
  --eval_episodes=400 --log_every=$(( STEPS / 12 )) --progress_seconds=1000"

bazel build //agents/public_belief //agents/independent //tools:plot_runs
if [[ -z "${REPORT_ONLY:-}" ]]; then
rm -rf "${OUT}"
mkdir -p "${OUT}" docs/results
commands=()
for seed in ${SEEDS}; do
  common="${EVAL} --steps=${STEPS} --seed=${seed} --runs_root=${OUT}"
  commands+=("${BAZEL_BIN}/agents/public_belief/public_belief ${common} --run_name=belief_seed${seed}")
  commands+=("${BAZEL_BIN}/agents/public_belief/public_belief ${common} --particles=0 --run_name=no_belief_seed${seed}")
  commands+=("${BAZEL_BIN}/agents/independent/independent ${common} --learner=ppo --ppo_recurrent=32 --observe_public --run_name=ppo_rnn_seed${seed}")
  commands+=("${BAZEL_BIN}/agents/independent/independent ${common} --learner=soft_q --gamma=1 --observe_public --run_name=iql_seed${seed}")
  commands+=("${BAZEL_BIN}/agents/independent/independent ${EVAL} --seed=${seed} --runs_root=${OUT} --steps=$(( 10 * STEPS )) --learner=soft_q --gamma=1 --observe_public --run_name=iql_long_seed${seed}")
done
start=$(date +%s)
printf '%s\n' "${commands[@]}" |
  xargs -P "${JOBS}" -I{} bash -c '{} > /dev/null 2>&1 || echo "failed: {}"'
echo "runs: $(( $(date +%s) - start )) s"
fi

# The curves at the common budget (iql_long is in the table).
"${BAZEL_BIN}/tools/plot_runs" "${OUT}"/belief_seed* "${OUT}"/no_belief_seed* \
  "${OUT}"/ppo_rnn_seed* "${OUT}"/iql_seed* --group-by variant \
  --metric eval_return --phase eval --agent player_0 \
  --out docs/results/public_belief_hint_play.png \
  --summary "${OUT}/summary.md" > /dev/null
"${BAZEL_BIN}/tools/plot_runs" "${OUT}"/belief_seed* \
  --group-by variant --metric belief_on_true --phase train \
  --agent player_0 --out docs/results/public_belief_hint_play_belief.png \
  > /dev/null
python3 tools/experiments/public_belief_table.py "${OUT}" \
  --variants belief,no_belief,ppo_rnn,iql,iql_long --good 1.5 --best 2.0 \
  --note "exact optimum 4588/2187 = 2.098; 0 without communication; 2.478 with every card known"
