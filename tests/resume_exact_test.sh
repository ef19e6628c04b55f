#!/usr/bin/env bash
# With --checkpoint_replay, a run stopped at step 128 and resumed with
# --resume goes on exactly as one that never stopped: every metrics record
# after the cut (losses, returns, temperatures...) is the same, to the last
# digit. The games are deterministic one-step games, so that the fresh
# episodes of the resumed run are the same episodes; everything else (the
# networks, optimisers, random streams, update schedule and replay) must
# come from the checkpoint. Without --checkpoint_replay the records differ
# (the resumed learner starts with an empty replay), which shows the check
# can fail. Five learners: MADDPG (the deep joint-action base), SAC, PR2-AC,
# GR2 and PPO, feed-forward and recurrent (cut mid-rollout; its
# checkpoints always hold the rollout, so it has no run without it to
# contrast).
set -euo pipefail
runs=$(mktemp -d /tmp/marl-resume.XXXXXX)
trap 'rm -rf "$runs"' EXIT

# name, binary, then its flags
check() {
  local name="$1" binary="$2"
  shift 2
  local flags=("$@" --progress_seconds=60 --runs_root="$runs" --seed=5
               --log_every=32 --eval_episodes=2)
  "$binary" "${flags[@]}" --run_name="${name}_full" --steps=256 \
    --checkpoint_replay >"$runs/$name.log" 2>&1 || { cat "$runs/$name.log"; exit 1; }
  for replay in true false; do
    "$binary" "${flags[@]}" --run_name="${name}_cut_$replay" --steps=128 \
      --checkpoint_replay=$replay >"$runs/$name.log" 2>&1 ||
      { cat "$runs/$name.log"; exit 1; }
    "$binary" --progress_seconds=60 --resume="$runs/${name}_cut_$replay" \
      --steps=256 >"$runs/$name.log" 2>&1 || { cat "$runs/$name.log"; exit 1; }
  done
  /usr/bin/python3 - "$runs" "$name" <<'PY'
import json, sys
runs, name = sys.argv[1:]
def records(run):
    out = []
    for line in open("%s/%s/metrics.jsonl" % (runs, run)):
        r = json.loads(line)
        if r["phase"] != "train" or r["step"] <= 128:
            continue
        for key in ("time", "steps_per_second"):
            r.pop(key, None)
        out.append(r)
    return out
full = records(name + "_full")
assert len(full) > 4, full
resumed = records(name + "_cut_true")
assert resumed == full, "%s: the resumed run differs:\n%s\n%s" % (
    name, resumed[:2], full[:2])
if not name.startswith("ppo"):
    assert records(name + "_cut_false") != full, name + ": same without replay"
print("ok: %s resumed at 128 repeats %d records exactly" % (name, len(full)))
PY
}

check maddpg "$1" --env=matrix_game --env_settings=game=climbing \
  --num_copies=4 --hidden=16,16 --batch_size=32 --warmup=64
check sac "$2" --env=max_of_two_quadratics --num_copies=4 --sac_hidden=16,16 \
  --sac_batch_size=32 --sac_warmup=64
check pr2_ac "$3" --env=max_of_two_quadratics --num_copies=4 --hidden=16,16 \
  --batch_size=32 --warmup=64 --value_particles=4 --kernel_particles=4
check gr2 "$4" --env=beauty_contest --env_settings=num_agents=3 \
  --num_copies=4 --hidden=8,8 --batch_size=32 --warmup=64
check ppo "$2" --learner=ppo --env=max_of_two_quadratics --num_copies=4 \
  --ppo_hidden=16 --ppo_rollout=24 --ppo_minibatch=32
check ppo_gru "$2" --learner=ppo --env=iterated_matrix_game \
  --env_settings=episode_length=4 --num_copies=4 --ppo_hidden=16 \
  --ppo_rollout=24 --ppo_bptt=8 --ppo_recurrent=8 --ppo_minibatch=32
