#!/bin/bash
# Soft options on the multi-task Taxi (thesis ch. 4; EXPERIMENTS.md §6):
# single-agent soft option learning with 4 options (the master's soft value,
# eq. 4.9, and the plain expectation of eq. 4.10) against the flat soft
# actor-critic (one option), and 4 options that do not see the task (only
# the master and the values do: --task_features), with and without a
# termination that sees it (--task_aware_termination), trained on the 12
# training tasks, then
# transferred to the 12 hard tasks (the passenger never starts in the taxi)
# from each run's final checkpoint: the option agents with their options
# frozen (only the master and the values learn, as the authors transfer),
# the flat agent fine-tuning everything. The task's one-hot is observed (the
# agents' per-task part). Runs (through tools/sweep.py, JOBS at a time:
# the training grid, kept in train/grid.json, then one transfer grid per
# seed, each restoring that seed's checkpoints, kept in
# transfer/seed<N>_grid.json) under results/soft_options_taxi/{train,
# transfer}/, plots docs/results/soft_options_taxi_{train,transfer}.png
# (return) and ..._{train,transfer}_delivered.png (share delivered),
# table printed at the end; docs/RESULTS.md, "Soft options on the
# multi-task Taxi", has the numbers. Options are trained at the replayed
# option (the agent's default; --every_option keeps task-blind options
# identical, see agents/soft_option/README.md); the option maps of seed 1
# go to docs/results/soft_options_taxi_option_map.png.
#
# SETUP=heldout: transfer to task pairs never trained on instead. Training
# on 6 of the 12 pairs (RG GY YB BR RY GB: every depot a pickup and a goal),
# transfer to the other 6, with the task observed as its pickup and goal
# depots (task_encoding=depots, the same features for both lists), and a
# flat agent learning the held-out pairs from scratch as well. Variants:
# the task-blind options (with and without the task-aware termination) and
# the flat agent. Under results/soft_options_taxi_heldout/, plots
# docs/results/soft_options_taxi_heldout_{train,transfer}{,_delivered}.png
# (no option map: it is drawn for the hard setup only).
#
#   bash tools/experiments/soft_options_taxi.sh      # ~80 min on 2 cores
#   SETUP=heldout bash tools/experiments/soft_options_taxi.sh   # ~40 min
#   SEEDS="1 2" STEPS=100000 TRANSFER_STEPS=20000 bash tools/experiments/soft_options_taxi.sh
#   REPORT_ONLY=1 bash tools/experiments/soft_options_taxi.sh   # plots and table of the runs there
set -euo pipefail
cd "$(dirname "$0")/../.."
BAZEL_BIN=$(bazel info bazel-bin 2>/dev/null)

SETUP="${SETUP:-hard}"
case "${SETUP}" in
  hard) NAME=soft_options_taxi TARGET="the hard tasks" STEPS_DEFAULT=200000 ;;
  heldout) NAME=soft_options_taxi_heldout TARGET="the held-out pairs"
    STEPS_DEFAULT=150000 ;;
  *) echo "SETUP must be hard or heldout, not ${SETUP}" >&2; exit 2 ;;
esac
SEEDS="${SEEDS:-1 2 3 4 5}"
STEPS="${STEPS:-${STEPS_DEFAULT}}"          # transitions on the training tasks
TRANSFER_STEPS="${TRANSFER_STEPS:-50000}"   # transitions after the transfer
JOBS="${JOBS:-2}"
OUT=results/${NAME}

bazel build //agents/soft_option //tools:plot_runs //tools:plot_option_map
if [[ -z "${REPORT_ONLY:-}" ]]; then
rm -rf "${OUT}"
mkdir -p "${OUT}/train" "${OUT}/transfer" docs/results

# A grid (tools/sweep.py): PHASE train, the variant axis x SEEDS on the
# training tasks; or transfer and SEED, the variant axis for that one seed
# on the hard tasks, each run restoring its training run's final
# checkpoint (whose path holds the seed: a grid's flags cannot, hence a
# grid per seed). Runs named <variant>_seed<N>.
grid() {
  /usr/bin/python3 - "${SETUP}" "${OUT}" "${STEPS}" "${TRANSFER_STEPS}" \
      "${SEEDS}" "$@" <<'PY'
import json
import sys

setup, out, steps, transfer_steps, seeds, phase = sys.argv[1:7]
heldout = setup == "heldout"
variants = {
    "soft_option_m4": {"num_options": 4},
    "soft_option_m4_expected": {"num_options": 4,
                                "soft_master_value": False},
    "soft_option_m4_shared": {"num_options": 4, "task_features": 12},
    "soft_option_m4_shared_task_termination": {
        "num_options": 4, "task_features": 12,
        "task_aware_termination": True},
    "soft_option_flat": {"num_options": 1},
}
train_env = {"observe_task": True}
transfer_env = {"observe_task": True, "hard": True}
if heldout:
    del variants["soft_option_m4"], variants["soft_option_m4_expected"]
    for v in variants.values():
        if "task_features" in v:
            v["task_features"] = 8  # two one-hots of the 4 depots
    train_env = {"observe_task": True, "task_encoding": "depots",
                 "tasks": "RG/GY/YB/BR/RY/GB"}
    transfer_env = dict(train_env, tasks="GR/YG/BY/RB/YR/BG")
# ("1e-3" a string: the sweep would write the number as 0.001.)
flags = {"env": "taxi", "num_copies": 8,
         "hidden": "64,64", "batch_size": 128, "critic_lr": "1e-3",
         "policy_lr": "1e-3", "update_ratio": 0.25, "eval_episodes": 96,
         "progress_seconds": 1000, "eval_trace_episodes": 48}
if phase == "train":
    steps = int(steps)
    flags.update(steps=steps, eval_every=steps // 8, log_every=steps // 8)
    grid = {
        "env_settings": train_env,
        "axes": [{"variant": {name: {"flags": v}
                              for name, v in variants.items()}}],
        "seeds": [int(s) for s in seeds.split()],
    }
else:
    seed = int(sys.argv[7])
    steps = int(transfer_steps)
    flags.update(steps=steps, eval_every=steps // 5, log_every=steps // 5)
    every = {}
    for name, v in variants.items():
        v = dict(v, restore="%s/train/%s_seed%d/checkpoints/final" % (
            out, name, seed))
        # The option agents transfer with their options frozen; the flat
        # agent fine-tunes everything.
        if name != "soft_option_flat":
            v["freeze_options"] = True
        every[name] = {"flags": v}
    if heldout:  # the baseline that learns the new pairs alone
        every["soft_option_flat_scratch"] = {"flags": {"num_options": 1}}
    grid = {
        "env_settings": transfer_env,
        "axes": [{"variant": every}],
        "seeds": [seed],
    }
grid = dict(grid, agent="soft_option", flags=flags)
json.dump(grid, sys.stdout)
PY
}

# A failed run is named and the report goes on.
echo "training tasks:"
grid train | /usr/bin/python3 tools/sweep.py - --out "${OUT}/train" \
  --jobs "${JOBS}" --bazel_bin "${BAZEL_BIN}" || true

# After every training run: each transfer run restores one.
echo "transfer to ${TARGET}:"
for seed in ${SEEDS}; do
  grid transfer "${seed}" |
    /usr/bin/python3 tools/sweep.py - --out "${OUT}/transfer" \
      --jobs "${JOBS}" --bazel_bin "${BAZEL_BIN}" || true
  # The next seed's sweep writes its own: keep this one's.
  for f in grid.json sweep_summary.md; do
    if [[ -e "${OUT}/transfer/${f}" ]]; then
      mv "${OUT}/transfer/${f}" "${OUT}/transfer/seed${seed}_${f}"
    fi
  done
done
fi

# Return (<NAME>_<phase>.png) and the share of episodes delivered
# (<NAME>_<phase>_delivered.png) over the transitions.
for phase in train transfer; do
  "${BAZEL_BIN}/tools/plot_runs" "${OUT}/${phase}" --group-by variant \
    --metric eval_return --phase eval \
    --out "docs/results/${NAME}_${phase}.png" \
    --summary "${OUT}/${phase}_summary.md" > /dev/null
  "${BAZEL_BIN}/tools/plot_runs" "${OUT}/${phase}" --group-by variant \
    --metric eval_terminated --phase eval \
    --out "docs/results/${NAME}_${phase}_delivered.png" > /dev/null
done
# Which option acts where (seed 1, the final evaluation's first 48
# episodes), and the options' durations.
maps=()
for name in soft_option_m4 soft_option_m4_shared \
    soft_option_m4_shared_task_termination; do
  run="${OUT}/train/${name}_seed1"
  [[ -s "${run}/eval_trace.jsonl" ]] && maps+=("${run}")
done
if [[ "${SETUP}" == hard ]] && (( ${#maps[@]} )); then
  "${BAZEL_BIN}/tools/plot_option_map" "${maps[@]}" \
    --out docs/results/soft_options_taxi_option_map.png
fi
python3 - "${OUT}" "${TARGET}" <<'PY'
import glob, json, os, re, statistics, sys
out, target = sys.argv[1:3]

def runs(phase):
    rows = {}
    for cfg in sorted(glob.glob(os.path.join(out, phase, "*", "config.json"))):
        run = os.path.dirname(cfg)
        # The variant (run name without its seed): flat fine-tuned and
        # flat from scratch share an algorithm name.
        algo = re.sub(r"_seed\d+$", "", os.path.basename(run))
        evals, train = [], {}
        for line in open(os.path.join(run, "metrics.jsonl")):
            r = json.loads(line)
            if r.get("phase") == "eval":
                evals.append(r)
            elif r.get("phase") == "train" and r.get("agent"):
                train = r
        rows.setdefault(algo, []).append((evals, train))
    return rows

def ms(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "n/a"
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return "%.2f ± %.2f" % (statistics.mean(xs), sd)

for phase, what in (("train", "training tasks"), ("transfer", target)):
    print("\n%s (final evaluation, mean ± std over seeds):\n" % what)
    print("| agent | seeds | eval return | delivered share | first eval with share >= 0.9 (mean step) | mean option length | option shares |")
    print("|---|---|---|---|---|---|---|")
    for algo, rs in sorted(runs(phase).items()):
        finals = [e[-1]["eval_return"] for e, _ in rs if e]
        shares = [e[-1].get("eval_terminated") for e, _ in rs if e]
        reach = [next((r["step"] for r in e if r.get("eval_terminated", 0) >= 0.9), None) for e, _ in rs]
        reached = [s for s in reach if s is not None]
        # One option: its "length" is only the termination prior's.
        flat = "_flat" in algo
        lengths = [] if flat else [t.get("mean_option_length") for _, t in rs]
        opt = []
        for _, t in rs:
            z = sorted(k for k in t if k.startswith("option_") and k.endswith("_share"))
            if z:
                opt.append("/".join("%.2f" % t[k] for k in z))
        print("| %s | %d | %s | %s | %s (%d/%d seeds) | %s | %s |" % (
            algo, len(rs), ms(finals), ms(shares),
            "%.0f" % statistics.mean(reached) if reached else "n/a",
            len(reached), len(rs), "–" if flat else ms(lengths),
            "–" if flat else "; ".join(opt) or "–"))
PY
