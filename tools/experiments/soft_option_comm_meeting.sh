#!/bin/bash
# Delayed soft-option communication on taxi_meeting (thesis §4.2, §4.3.2;
# EXPERIMENTS.md §2): two agents on a corridor with a meeting room at each
# end; only agent a observes which room is the episode's. Agent b learns
# where to go only from a's messages (a's option at the previous step,
# through the protocol's message channel). Four agents, 5 seeds each:
#   comm    soft_option_comm: the options sent as messages
#   zeroed  the same agent reading the messages as zeros
#   fitted  the options as messages, partner models fitted to the partner
#           (--fitted_partner, outside the thesis)
#   independent  independent flat learners (PPO), no channel
# Runs under results/soft_option_comm_meeting/, the learning curves in
# docs/results/soft_option_comm_meeting.png, which option acts where (seed
# 1, from the final evaluation's trace) in
# docs/results/soft_option_comm_meeting_options.png, the table printed at
# the end; docs/RESULTS.md, "Delayed soft-option communication", has the
# numbers.
#
#   bash tools/experiments/soft_option_comm_meeting.sh     # ~35 min on 2 cores
#   SEEDS="1 2" STEPS=20000 bash tools/experiments/soft_option_comm_meeting.sh
#   REPORT_ONLY=1 bash tools/experiments/soft_option_comm_meeting.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BAZEL_BIN=$(bazel info bazel-bin 2>/dev/null)

SEEDS="${SEEDS:-1 2 3 4 5}"
STEPS="${STEPS:-60000}"
TASK_FEATURES="${TASK_FEATURES:-2}"  # the room block: a's options cannot see it
JOBS="${JOBS:-2}"
OUT=results/soft_option_comm_meeting
MAP='#########/#R.....B#/#########'
SETTINGS="map=${MAP},max_steps=20"
EVAL="--num_copies=8 --eval_every=$(( STEPS / 5 )) --eval_episodes=96 \
  --log_every=$(( STEPS / 5 )) --progress_seconds=1000"
COMM="--num_options=2 --task_features=${TASK_FEATURES} --hidden=64,64 \
  --batch_size=128 --critic_lr=1e-3 --policy_lr=1e-3 --update_ratio=0.25 \
  --eval_trace_episodes=32"

bazel build //agents/soft_option_comm //agents/independent //tools:plot_runs \
  //tools:plot_option_map
if [[ -z "${REPORT_ONLY:-}" ]]; then
rm -rf "${OUT}"
mkdir -p "${OUT}" docs/results
commands=()
for seed in ${SEEDS}; do
  for variant in "comm:" "zeroed:--zero_messages=true" \
      "fitted:--fitted_partner=true"; do
    name=${variant%%:*}
    commands+=("${BAZEL_BIN}/agents/soft_option_comm/soft_option_comm --env=taxi_meeting --env_settings='${SETTINGS},message_size=2' ${COMM} ${variant#*:} ${EVAL} --steps=${STEPS} --seed=${seed} --runs_root=${OUT} --run_name=${name}_seed${seed}")
  done
  commands+=("${BAZEL_BIN}/agents/independent/independent --learner=ppo --env=taxi_meeting --env_settings='${SETTINGS}' ${EVAL} --steps=${STEPS} --seed=${seed} --runs_root=${OUT} --run_name=independent_seed${seed}")
done
start=$(date +%s)
printf '%s\n' "${commands[@]}" |
  xargs -P "${JOBS}" -I{} bash -c '{} > /dev/null 2>&1 || echo "failed: {}"'
echo "runs: $(( $(date +%s) - start )) s"
fi

"${BAZEL_BIN}/tools/plot_runs" "${OUT}" --group-by algorithm \
  --metric eval_return --phase eval \
  --out docs/results/soft_option_comm_meeting.png \
  --summary "${OUT}/summary.md" > /dev/null
"${BAZEL_BIN}/tools/plot_option_map" "${OUT}/comm_seed1" "${OUT}/zeroed_seed1" \
  "${OUT}/fitted_seed1" \
  --out docs/results/soft_option_comm_meeting_options.png
python3 - "${OUT}" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
final = {}  # (variant, seed) -> (return, met share)
for cfg in glob.glob(os.path.join(out, "*", "config.json")):
    run = os.path.dirname(cfg)
    variant, seed = os.path.basename(run).rsplit("_seed", 1)
    evals = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl"))]
    evals = [r for r in evals if r.get("phase") == "eval" and r.get("agent") == "a"]
    if evals:
        final[(variant, int(seed))] = (evals[-1]["eval_return"],
                                       evals[-1].get("eval_terminated"))

def ms(xs):
    if not xs:
        return "n/a"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return "%.2f ± %.2f" % (statistics.mean(xs), sd)

print("\nfinal evaluation (96 greedy episodes; mean ± std over seeds):\n")
print("| agent | seeds | eval return | met share | per seed |")
print("|---|---|---|---|---|")
for variant in ("comm", "zeroed", "fitted", "independent"):
    rows = sorted((s, v) for (k, s), v in final.items() if k == variant)
    print("| %s | %d | %s | %s | %s |" % (
        variant, len(rows), ms([v[0] for _, v in rows]),
        ms([v[1] for _, v in rows if v[1] is not None]),
        " ".join("%.2f" % v[0] for _, v in rows)))
for variant in ("comm", "fitted"):
    gaps = [final[(variant, s)][0] - final[("zeroed", s)][0]
            for (k, s) in final if k == variant and ("zeroed", s) in final]
    print("%s minus zeroed, same seed: %s (%d seeds; %d positive)" % (
        variant, ms(gaps), len(gaps), sum(g > 0 for g in gaps)))
PY
