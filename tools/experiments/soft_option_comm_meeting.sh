#!/bin/bash
# Delayed soft-option communication on taxi_meeting (thesis §4.2, §4.3.2;
# EXPERIMENTS.md §2): two agents on a corridor with a meeting room at each
# end; only agent a observes which room is the episode's. Agent b learns
# where to go only from a's messages (a's option at the previous step,
# through the protocol's message channel). Five agents, 5 seeds each:
#   comm    soft_option_comm: the options sent as messages
#   zeroed  the same agent reading the messages as zeros
#   fitted  the options as messages, partner models fitted to the partner
#           (--fitted_partner, outside the thesis)
#   fitted_zeroed  the fitted agent reading the messages as zeros (fitted's
#           ablation)
#   independent  independent flat learners (PPO), no channel
# VARIANTS and SEEDS pick some of them (other runs already in OUT stay and
# are reported); OUT defaults to results/soft_option_comm_meeting.
# Runs (through tools/sweep.py, JOBS at a time; the grid in grid.json)
# under results/soft_option_comm_meeting/, the learning curves in
# docs/results/soft_option_comm_meeting.png, which option acts where (seed
# 1, from the final evaluation's trace) in
# docs/results/soft_option_comm_meeting_options.png, the table printed at
# the end; docs/RESULTS.md, "Delayed soft-option communication", has the
# numbers.
#
#   bash tools/experiments/soft_option_comm_meeting.sh     # ~45 min on 2 cores
#   SEEDS="1 2" STEPS=20000 bash tools/experiments/soft_option_comm_meeting.sh
#   VARIANTS="fitted fitted_zeroed" STEPS=150000 \
#     OUT=results/soft_option_comm_meeting_150k \
#     bash tools/experiments/soft_option_comm_meeting.sh
#   REPORT_ONLY=1 bash tools/experiments/soft_option_comm_meeting.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BAZEL_BIN=$(bazel info bazel-bin 2>/dev/null)

SEEDS="${SEEDS:-1 2 3 4 5}"
STEPS="${STEPS:-60000}"
TASK_FEATURES="${TASK_FEATURES:-2}"  # the room block: a's options cannot see it
JOBS="${JOBS:-2}"
VARIANTS="${VARIANTS:-comm zeroed fitted fitted_zeroed independent}"
OUT="${OUT:-results/soft_option_comm_meeting}"
PLOTS=docs/results/$(basename "${OUT}")
MAP='#########/#R.....B#/#########'
SETTINGS="map=${MAP},max_steps=20"
bazel build //agents/soft_option_comm //agents/independent //tools:plot_runs \
  //tools:plot_option_map
if [[ -z "${REPORT_ONLY:-}" ]]; then
for v in ${VARIANTS}; do
  for seed in ${SEEDS}; do rm -rf "${OUT}/${v}_seed${seed}"; done
done
mkdir -p "${OUT}" docs/results
# The grid (tools/sweep.py, which keeps it as OUT/grid.json): one axis,
# the agent; runs named <agent>_seed<N>.
/usr/bin/python3 - "${SETTINGS}" "${STEPS}" "${TASK_FEATURES}" \
    "${SEEDS}" "${VARIANTS}" <<'PY' |
import json
import sys

settings, steps, task_features, seeds, variants = sys.argv[1:]
steps = int(steps)
comm = {"num_options": 2, "task_features": int(task_features),
        "hidden": "64,64", "batch_size": 128, "critic_lr": 1e-3,
        "policy_lr": 1e-3, "update_ratio": 0.25, "eval_trace_episodes": 32}
with_messages = {"message_size": 2}
grid = {
    "flags": {"env": "taxi_meeting", "num_copies": 8,
              "eval_every": steps // 5, "eval_episodes": 96,
              "log_every": steps // 5, "progress_seconds": 1000,
              "steps": steps},
    "env_settings": dict(s.split("=", 1) for s in settings.split(",")),
    "axes": [{"agent": {
        "comm": {"agent": "soft_option_comm", "flags": comm,
                 "env_settings": with_messages},
        "zeroed": {"agent": "soft_option_comm",
                   "flags": dict(comm, zero_messages=True),
                   "env_settings": with_messages},
        "fitted": {"agent": "soft_option_comm",
                   "flags": dict(comm, fitted_partner=True),
                   "env_settings": with_messages},
        "fitted_zeroed": {"agent": "soft_option_comm",
                          "flags": dict(comm, fitted_partner=True,
                                        zero_messages=True),
                          "env_settings": with_messages},
        "independent": {"agent": "independent", "flags": {"learner": "ppo"}},
    }}],
    "seeds": [int(s) for s in seeds.split()],
}
every = grid["axes"][0]["agent"]
unknown = set(variants.split()) - set(every)
if unknown:
    sys.exit("unknown VARIANTS %s; they are %s" % (sorted(unknown),
                                                   sorted(every)))
grid["axes"][0]["agent"] = {k: v for k, v in every.items()
                            if k in variants.split()}
json.dump(grid, sys.stdout)
PY
  /usr/bin/python3 tools/sweep.py - --out "${OUT}" --jobs "${JOBS}" \
    --bazel_bin "${BAZEL_BIN}" || true
fi

"${BAZEL_BIN}/tools/plot_runs" "${OUT}" --group-by variant \
  --metric eval_return --phase eval \
  --out "${PLOTS}.png" \
  --summary "${OUT}/summary.md" > /dev/null
maps=()
for v in comm zeroed fitted; do
  [[ -s "${OUT}/${v}_seed1/eval_trace.jsonl" ]] && maps+=("${OUT}/${v}_seed1")
done
if (( ${#maps[@]} )); then
  "${BAZEL_BIN}/tools/plot_option_map" "${maps[@]}" \
    --out "${PLOTS}_options.png"
fi
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
for variant in ("comm", "zeroed", "fitted", "fitted_zeroed", "independent"):
    rows = sorted((s, v) for (k, s), v in final.items() if k == variant)
    print("| %s | %d | %s | %s | %s |" % (
        variant, len(rows), ms([v[0] for _, v in rows]),
        ms([v[1] for _, v in rows if v[1] is not None]),
        " ".join("%.2f" % v[0] for _, v in rows)))
for variant, control in (("comm", "zeroed"), ("fitted", "zeroed"),
                         ("fitted", "fitted_zeroed")):
    gaps = [final[(variant, s)][0] - final[(control, s)][0]
            for (k, s) in final if k == variant and (control, s) in final]
    if gaps:
        print("%s minus %s, same seed: %s (%d seeds; %d positive)" % (
            variant, control, ms(gaps), len(gaps), sum(g > 0 for g in gaps)))
PY
