#!/usr/bin/env bash
# Data-parallel learners on LibTorch's c10d: 2 and 4 processes of an agent,
# started as a launcher would (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK),
# train together on loopback. Each rank checks at every checkpoint and at
# the end that its model is rank 0's (the run fails otherwise), and each
# rank's own final checkpoint, evaluated alone, plays the same greedy
# actions. A run of N ranks with C copies each learns as one process with
# N x C copies: the same verdict on a game with one best joint action.
# A rank whose peers never come fails with an error, as does an agent
# without LibTorch optimizers.
# Arguments: the MADDPG agent, the JAL agent (tabular).
set -euo pipefail
maddpg="$1" jal="$2"
runs=$(mktemp -d /tmp/marl-dp.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$runs"' EXIT

game="payoffs_row=[[4,2,0],[1,0,0],[0,0,1]],payoffs_column=[[4,1,0],[2,0,0],[0,0,1]]"
flags=(--env=matrix_game "--env_settings=$game" --warmup=128 --batch_size=64
       --eval_episodes=5 --progress_seconds=60 --runs_root="$runs")
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
greedy() {  # a run's greedy joint action, from its summary
  /usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
print(s["greedy_action_player_0"], s["greedy_action_player_1"],
      s["final_eval_return_player_0"])' "$1"
}

total=2400
for seed in 1 2; do
  "$maddpg" "${flags[@]}" --seed=$seed --num_copies=8 --steps=$total \
    --run_name=one_$seed >"$runs/one_$seed.log" 2>&1 ||
    { cat "$runs/one_$seed.log"; exit 1; }
  one=$(greedy "$runs/one_$seed")
  for world in 2 4; do
    port=$(free_port)
    pids=()
    for ((rank = 0; rank < world; rank++)); do
      MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=$world RANK=$rank \
        "$maddpg" "${flags[@]}" --seed=$seed --num_copies=$((8 / world)) \
        --steps=$((total / world)) --checkpoint_every=$((total / world / 3)) \
        --run_name=dp${world}_$seed >"$runs/dp${world}_${seed}_$rank.log" 2>&1 &
      pids+=($!)
    done
    for ((rank = 0; rank < world; rank++)); do
      wait "${pids[$rank]}" ||
        { echo "FAIL: rank $rank of $world"; cat "$runs/dp${world}_${seed}_$rank.log"; exit 1; }
    done
    pids=()
    # Every rank's final model, evaluated alone, plays as rank 0's.
    reference=""
    for ((rank = 0; rank < world; rank++)); do
      run="dp${world}_$seed"
      [ $rank -gt 0 ] && run="${run}_rank$rank"
      "$maddpg" "${flags[@]}" --mode=eval --seed=9 --num_copies=1 \
        --restore="$runs/$run/checkpoints/final" --run_name="eval_$run" \
        >"$runs/eval.log" 2>&1 || { cat "$runs/eval.log"; exit 1; }
      got=$(greedy "$runs/eval_$run")
      [ -z "$reference" ] && reference=$got
      [ "$got" = "$reference" ] ||
        { echo "FAIL: rank $rank of $world plays $got, rank 0 $reference"; exit 1; }
    done
    dp=$(greedy "$runs/dp${world}_$seed")
    echo "seed $seed: one process with 8 copies: $one; $world ranks: $dp"
    [ "$dp" = "$one" ] ||
      { echo "FAIL: $world ranks learned $dp, one process $one"; exit 1; }
  done
done
[ "${one% *}" = "0 0" ] || { echo "FAIL: the best joint action is (0, 0), got $one"; exit 1; }

# torchrun's way: its agent hosts the store and says so with
# TORCHELASTIC_USE_AGENT_STORE=True (Debian 12's torchrun itself fails
# under Python 3.11 before starting workers, so a store is hosted here as
# its agent does, with torch's own TCPStore).
port=$(free_port)
/usr/bin/python3 -c '
import sys, time, torch.distributed as dist
store = dist.TCPStore("127.0.0.1", int(sys.argv[1]), None, True,
                      wait_for_workers=False)
print("store up", flush=True)
time.sleep(120)' "$port" >"$runs/store.log" 2>&1 &
pids=($!)
for _ in $(seq 100); do grep -q "store up" "$runs/store.log" && break; sleep 0.1; done
ranks=()
for rank in 0 1; do
  TORCHELASTIC_USE_AGENT_STORE=True MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    WORLD_SIZE=2 RANK=$rank "$maddpg" "${flags[@]}" --steps=200 \
    --data_parallel_timeout_s=20 --run_name=hosted >"$runs/hosted_$rank.log" 2>&1 &
  ranks+=($!)
done
for rank in 0 1; do
  wait "${ranks[$rank]}" ||
    { echo "FAIL: rank $rank with a hosted store"; cat "$runs/hosted_$rank.log"; exit 1; }
done
[ -s "$runs/hosted_rank1/summary.json" ] || { echo "FAIL: no rank 1 run"; exit 1; }
kill "${pids[@]}" 2>/dev/null || true
pids=()
echo "ok: ranks join a store their launcher hosts (torchrun's convention)"

# A rank whose peers never come ends with an error, not a hang.
start=$(date +%s)
status=0
MASTER_ADDR=127.0.0.1 MASTER_PORT=$(free_port) WORLD_SIZE=2 RANK=1 \
  timeout 120 "$maddpg" "${flags[@]}" --steps=100 --run_name=alone \
  --data_parallel_timeout_s=3 \
  >"$runs/alone.log" 2>&1 || status=$?
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] ||
  { echo "FAIL: a lone rank exited with $status"; cat "$runs/alone.log"; exit 1; }
grep -q "MASTER_ADDR\|127.0.0.1" "$runs/alone.log" ||
  { echo "FAIL: the error does not say where"; cat "$runs/alone.log"; exit 1; }
echo "ok: a lone rank fails in $(( $(date +%s) - start )) s"

# Bad launcher variables and an agent without LibTorch optimizers.
status=0
WORLD_SIZE=2 RANK=5 MASTER_ADDR=127.0.0.1 MASTER_PORT=1234 \
  "$maddpg" "${flags[@]}" --steps=10 >"$runs/bad.log" 2>&1 || status=$?
[ "$status" -eq 2 ] && grep -q "RANK" "$runs/bad.log" ||
  { echo "FAIL: RANK=5 of 2"; cat "$runs/bad.log"; exit 1; }
status=0
WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=1234 \
  "$jal" --env=matrix_game --steps=10 --runs_root="$runs" >"$runs/jal.log" 2>&1 || status=$?
[ "$status" -eq 2 ] && grep -q "cannot run data-parallel" "$runs/jal.log" ||
  { echo "FAIL: jal under WORLD_SIZE=2"; cat "$runs/jal.log"; exit 1; }
echo "ok: bad variables and a tabular agent are refused"
