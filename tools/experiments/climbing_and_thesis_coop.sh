#!/usr/bin/env bash
# Climbing game (optimum (A,A) = 11) and the thesis cooperative game
# (optimum (2,2) 0-based = 10): how often ROMMEO-Q, PR2-Q (default
# opponent temperature 10, and an optimistic 0.5) and independent soft-Q
# reach the global optimum over SEEDS seeds (default 10), and the deep
# PR2-AC (Discrete actions, exact closed-form opponent model) over
# PR2_AC_SEEDS seeds (default 5; PR2_AC_STEPS transitions, default 8000:
# it costs about 10 CPU-seconds per run where the tabular agents take
# under one). Runs under results/climbing_and_thesis_coop/<game>/runs,
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
common=(--env=matrix_game --steps="$steps" --eval_every=2000
  --eval_episodes=8 --log_every=1000 --progress_seconds=60)

for game in climbing thesis_coop; do
  runs="$out/$game/runs"
  mkdir -p "$runs"
  for seed in $(seq 1 "$seeds"); do
    t0=$(date +%s.%N)
    ${BAZEL_BIN}/agents/rommeo/rommeo_q "${common[@]}" \
      --env_settings=game=$game --seed="$seed" --runs_root="$runs" \
      --run_name="rommeo_q_seed$seed" >/dev/null
    t1=$(date +%s.%N)
    ${BAZEL_BIN}/agents/pr2/pr2_q "${common[@]}" --env_settings=game=$game \
      --seed="$seed" --runs_root="$runs" --run_name="pr2_q_seed$seed" \
      >/dev/null
    t2=$(date +%s.%N)
    ${BAZEL_BIN}/agents/pr2/pr2_q "${common[@]}" --env_settings=game=$game \
      --opponent_temperature=0.5 --seed="$seed" --runs_root="$runs" \
      --run_name="pr2_q_optimistic_seed$seed" >/dev/null
    t3=$(date +%s.%N)
    ${BAZEL_BIN}/agents/independent/independent "${common[@]}" \
      --env_settings=game=$game --learner=soft_q --seed="$seed" \
      --runs_root="$runs" --run_name="independent_seed$seed" >/dev/null
    t4=$(date +%s.%N)
    echo "$game seed $seed: rommeo_q $(echo "$t1 - $t0" | bc)s," \
      "pr2_q $(echo "$t2 - $t1" | bc)s, pr2_q optimistic" \
      "$(echo "$t3 - $t2" | bc)s, independent $(echo "$t4 - $t3" | bc)s"
  done
  # PR2-AC: 8 copies per batched step, batch 128, other settings the
  # binary's defaults (2x100 ReLU, lr 1e-2, opponent temperature 1).
  for seed in $(seq 1 "$pr2_ac_seeds"); do
    t0=$(date +%s.%N)
    ${BAZEL_BIN}/agents/pr2/pr2_ac --env=matrix_game --env_settings=game=$game \
      --num_copies=8 --batch_size=128 --steps="$pr2_ac_steps" \
      --eval_every=2000 --eval_episodes=8 --log_every=1000 \
      --progress_seconds=60 --seed="$seed" --runs_root="$runs" \
      --run_name="pr2_ac_seed$seed" >/dev/null
    t1=$(date +%s.%N)
    echo "$game seed $seed: pr2_ac $(echo "$t1 - $t0" | bc)s"
  done
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
