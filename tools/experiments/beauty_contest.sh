#!/bin/bash
# Keynes beauty contest (EXPERIMENTS.md §1, GR2 paper): 10 agents, p = 0.7
# (equilibrium 0) and p = 1.1 (equilibrium 100). GR2-L levels 1-4 and GR2-M
# (levels 0..3, Poisson mean 1.5) against independent SAC learners and
# MADDPG, several seeds, runs under results/beauty_contest/, a plot per p
# under docs/results/ and a markdown table (docs/RESULTS.md, "Keynes beauty
# contest", has the numbers and the settings' reasons).
#
#   bash tools/experiments/beauty_contest.sh            # ~10 min on 2 cores
#   SEEDS="1 2" STEPS=4000 JOBS=2 bash tools/experiments/beauty_contest.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# The real output directory, not the bazel-bin symlink (which follows
# whichever output base built last).
BAZEL_BIN=$(bazel info bazel-bin 2>/dev/null)

SEEDS="${SEEDS:-1 2 3}"
STEPS="${STEPS:-8000}"  # transitions; 8 copies -> 1000 batched steps
JOBS="${JOBS:-2}"
OUT=results/beauty_contest
COMMON="--env=beauty_contest --num_copies=8 --steps=${STEPS} \
  --eval_every=500 --eval_episodes=8 --log_every=1000 --progress_seconds=1000"
# Reference: 2x10 ReLU, Adam 1e-4, batch 64, replay 100k, learning starts
# at 1k. lr raised to 1e-2 and rewards scaled by 0.02 (|r| <= 100) so the
# short budget converges; see docs/RESULTS.md.
GR2="--hidden=10,10 --lr=1e-2 --batch_size=64 \
  --buffer_size=100000 --warmup=1000 --update_ratio=0.25 \
  --reward_scale=0.02"
SAC="--learner=sac --sac_hidden=10,10 --sac_batch_size=64 --sac_warmup=1000"
MADDPG="--hidden=10,10 --batch_size=64 --warmup=1000"

targets="//agents/gr2:gr2 //agents/independent:independent"
have_maddpg=1
if ! bazel build //agents/maddpg:maddpg >/dev/null 2>&1; then
  echo "beauty_contest: //agents/maddpg:maddpg does not build; MADDPG skipped" >&2
  have_maddpg=0
fi
bazel build ${targets}

rm -rf "${OUT}"
jobs_file=$(mktemp)
for p in 0.7 1.1; do
  dir="${OUT}/p${p}"
  mkdir -p "${dir}"
  env="--env_settings=num_agents=10,p=${p} --runs_root=${dir}"
  for seed in ${SEEDS}; do
    for k in 1 2 3 4; do
      echo "${BAZEL_BIN}/agents/gr2/gr2 ${COMMON} ${env} ${GR2} --seed=${seed} --variant=level --level=${k} --run_name=gr2_l${k}_seed${seed}" >>"${jobs_file}"
    done
    echo "${BAZEL_BIN}/agents/gr2/gr2 ${COMMON} ${env} ${GR2} --seed=${seed} --variant=mixture --level=3 --poisson_mean=1.5 --run_name=gr2_m3_seed${seed}" >>"${jobs_file}"
    echo "${BAZEL_BIN}/agents/independent/independent ${COMMON} ${env} ${SAC} --seed=${seed} --run_name=independent_sac_seed${seed}" >>"${jobs_file}"
    if [[ ${have_maddpg} == 1 ]]; then
      echo "${BAZEL_BIN}/agents/maddpg/maddpg ${COMMON} ${env} ${MADDPG} --seed=${seed} --run_name=maddpg_seed${seed}" >>"${jobs_file}"
    fi
  done
done
echo "beauty_contest: $(wc -l <"${jobs_file}") runs, ${JOBS} at a time"
start=$(date +%s)
# Each run logs to its own file; a failing run is reported, not fatal.
xargs -P "${JOBS}" -I{} -d '\n' bash -c '{} >/dev/null 2>&1 || echo "FAILED: {}" >&2' <"${jobs_file}"
rm -f "${jobs_file}"
echo "beauty_contest: runs took $(( $(date +%s) - start )) s"

/usr/bin/python3 tools/experiments/beauty_contest_table.py "${OUT}" |
  tee "${OUT}/table.md"
mkdir -p docs/results
for p in 0.7 1.1; do
  bazel run //tools:plot_runs -- "$PWD/${OUT}/mean_action/p${p}" \
    --metric mean_greedy_action --phase eval --group-by algorithm \
    --out "$PWD/docs/results/beauty_contest_p${p}.png" \
    --summary "$PWD/${OUT}/mean_action_p${p}.md" >/dev/null
done
echo "beauty_contest: table ${OUT}/table.md, plots docs/results/beauty_contest_p{0.7,1.1}.png"
