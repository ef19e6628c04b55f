#!/bin/bash
# The probabilistic public agent (thesis ch. 5; EXPERIMENTS.md §3) on a
# card game, against its baselines, SEEDS (10) each:
#
#   bash tools/experiments/public_belief.sh bad         # ~30 min on 2 cores
#   bash tools/experiments/public_belief.sh hint_play   # ~25 min on 2 cores
#   SEEDS="1 2" STEPS=20000 bash tools/experiments/public_belief.sh bad
#   REPORT_ONLY=1 bash tools/experiments/public_belief.sh bad
#
# Games:
#   bad        tiny_hanabi's default, the BAD two-step game: optimum 10,
#              always-middle 8; published averages BAD 9.5, policy gradient
#              9.0, independent Q-learning 8.8. STEPS 60,000.
#   hint_play  hint_play's default (envs/cards/hint_play.h): each player
#              sees only the partner's card, hints have no fixed meaning;
#              exact optimum 4588/2187 = 2.098, 0 without communication,
#              2.478 with every card known. STEPS 40,000; the
#              public_belief variants anneal their temperature (alpha 1 ->
#              0.02, factor 0.9999 per transition).
# Agents, STEPS transitions each:
#   belief       public_belief: K=10 particles, message, privileged critic
#   literal      (bad) the same with the printed mixture losses
#                (--privileged_critic=false)
#   no_belief    public_belief --particles=0: the same soft actor-critic on
#                the private and public observations, no public agent
#   ppo_rnn      independent recurrent PPO (GRU) with --observe_public
#   iql          independent tabular Q-learning (soft, temperature annealed
#                to 0.05) over the private card and the public observation,
#                each agent learning from its own turns
#   iql_long     (hint_play) the same at 10 x STEPS (a table is cheap)
# Runs (through tools/sweep.py, JOBS at a time; the grid in grid.json)
# under results/public_belief_<game>/; the learning curves (greedy
# evaluation, common budget) in docs/results/public_belief_<game>.png, the
# belief's probability of player_0's true private observation in
# docs/results/public_belief_<game>_belief.png; the table printed at the
# end goes into docs/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
GAME="${1:-}"
case "${GAME}" in
  bad)
    ENV=tiny_hanabi
    DEFAULT_STEPS=60000
    AGENT_FLAGS=""
    VARIANTS="belief literal no_belief ppo_rnn iql"
    TABLE="--good 8.5 --best 9.5"
    NOTE="optimum 10; always-middle 8; published: BAD 9.5, policy gradient 9.0, independent Q-learning 8.8"
    ;;
  hint_play)
    ENV=hint_play
    DEFAULT_STEPS=40000
    # Rewards of +-1 a step: a constant temperature of 1 (the entropy of
    # 4 actions is 1.39 nats) drowns them; anneal it as IQL does.
    AGENT_FLAGS="--alpha_decay=0.9999 --alpha_min=0.02"
    VARIANTS="belief no_belief ppo_rnn iql iql_long"
    TABLE="--good 1.5 --best 2.0"
    NOTE="exact optimum 4588/2187 = 2.098; 0 without communication; 2.478 with every card known"
    ;;
  *)
    echo "usage: $0 bad|hint_play" >&2
    exit 2
    ;;
esac
BAZEL_BIN=$(bazel info bazel-bin 2>/dev/null)
SEEDS="${SEEDS:-1 2 3 4 5 6 7 8 9 10}"
STEPS="${STEPS:-${DEFAULT_STEPS}}"
JOBS="${JOBS:-2}"
OUT="results/public_belief_${GAME}"
bazel build //agents/public_belief //agents/independent //tools:plot_runs
if [[ -z "${REPORT_ONLY:-}" ]]; then
  rm -rf "${OUT}"
  mkdir -p "${OUT}" docs/results
  # The grid (tools/sweep.py, which keeps it as OUT/grid.json): one axis,
  # the variant; runs named <variant>_seed<N>.
  /usr/bin/python3 - "${ENV}" "${STEPS}" "${VARIANTS}" "${SEEDS}" \
      "${AGENT_FLAGS}" <<'PY' |
import json
import sys

env, steps, variants, seeds, agent_flags = sys.argv[1:]
steps = int(steps)
belief = dict(f.lstrip("-").split("=", 1) for f in agent_flags.split())
public = {"observe_public": True}
every = {
    "belief": {"agent": "public_belief", "flags": belief},
    "literal": {"agent": "public_belief",
                "flags": dict(belief, privileged_critic=False)},
    "no_belief": {"agent": "public_belief", "flags": dict(belief, particles=0)},
    "ppo_rnn": {"agent": "independent",
                "flags": dict(public, learner="ppo", ppo_recurrent=32)},
    "iql": {"agent": "independent",
            "flags": dict(public, learner="soft_q", gamma=1)},
    "iql_long": {"agent": "independent",
                 "flags": dict(public, learner="soft_q", gamma=1,
                               steps=10 * steps)},
}
grid = {
    "flags": {"env": env, "num_copies": 8, "eval_every": steps // 6,
              "eval_episodes": 400, "log_every": steps // 12,
              "progress_seconds": 1000, "steps": steps},
    "axes": [{"variant": {v: every[v] for v in variants.split()}}],
    "seeds": [int(s) for s in seeds.split()],
}
json.dump(grid, sys.stdout)
PY
    /usr/bin/python3 tools/sweep.py - --out "${OUT}" --jobs "${JOBS}" \
      --bazel_bin "${BAZEL_BIN}" || true
fi

# The curves at the common budget (iql_long is in the table only).
curves=()
for variant in ${VARIANTS}; do
  [[ "${variant}" == iql_long ]] || curves+=("${OUT}"/"${variant}"_seed*)
done
"${BAZEL_BIN}/tools/plot_runs" "${curves[@]}" --group-by variant \
  --metric eval_return --phase eval --agent player_0 \
  --out "docs/results/public_belief_${GAME}.png" \
  --summary "${OUT}/summary.md" > /dev/null
beliefs=("${OUT}"/belief_seed*)
[[ " ${VARIANTS} " == *" literal "* ]] && beliefs+=("${OUT}"/literal_seed*)
"${BAZEL_BIN}/tools/plot_runs" "${beliefs[@]}" \
  --group-by variant --metric belief_on_true --phase train \
  --agent player_0 --out "docs/results/public_belief_${GAME}_belief.png" \
  > /dev/null
# shellcheck disable=SC2086  # TABLE holds two flags
python3 tools/experiments/public_belief_table.py "${OUT}" \
  --variants "${VARIANTS// /,}" ${TABLE} --note "${NOTE}"
