#!/usr/bin/env bash
# An agent whose copies are spread over three env_server processes
# (--endpoint=A,B,C) trains exactly as against one: every train and eval
# record of metrics.jsonl (losses, returns, temperatures...) and the final
# results are the same to the last digit. Four agents cover between them
# Box and Discrete actions, episodes that end and auto-reset, per-copy
# latent state (options), messages, info, public observations and turns.
# 5 copies over 3 servers split 2+2+1. The same holds with
# --overlap_learning, which changes the results (and is refused by
# learners that cannot learn a step late).
# Then a server is killed mid-run: the run ends with an error naming it,
# or, with --tolerate_server_loss, finishes on the other two.
# Arguments: env_server, the JAL agent (for the loss), then binary
# environment settings steps, repeated.
set -euo pipefail
source tools/testing/server_process.sh
server="$1" binary_for_loss="$2"
shift 2
runs=$(mktemp -d /tmp/marl-several.XXXXXX)
trap 'rm -rf "$runs"' EXIT

endpoints=()
for k in 1 2 3; do
  mkdir -p "$runs/server$k"
  start_server "$runs/server$k" "$server"
  endpoints+=("$endpoint")
  pids[$k]=$server_pid
done
all=$(IFS=,; echo "${endpoints[*]}")

same_records() {
  /usr/bin/python3 - "$runs/$1" "$runs/$2" <<'PY'
import json, sys
def records(run):
    out = []
    for line in open(run + "/metrics.jsonl"):
        r = json.loads(line)
        for key in ("time", "steps_per_second"):
            r.pop(key, None)
        out.append(r)
    return out
def results(run):
    s = json.load(open(run + "/summary.json"))
    return {k: v for k, v in s.items()
            if k.startswith(("final_eval_return", "greedy_action", "total_"))}
one, three = sys.argv[1:]
a, b = records(one), records(three)
# Records with a learner's own metrics (losses...): it learned meanwhile.
fixed = {"step", "episode", "agent", "phase", "episode_return", "updates"}
learned = [r for r in a if r["phase"] == "train" and set(r) - fixed]
assert len(learned) >= 3, "too few records with learner metrics: %s" % a[-3:]
assert a == b, "the runs differ:\n%s\n%s" % (
    next((x, y) for x, y in zip(a, b) if x != y), "")
assert results(one) == results(three), (results(one), results(three))
print("ok: %s: %d records the same over one server and three" % (
    one.rsplit("/", 1)[1], len(a)))
PY
}

while [ $# -gt 0 ]; do
  binary="$1" env="$2" settings="$3" steps="$4"
  shift 4
  case "$binary" in
    */maddpg) maddpg_binary=$binary ;;
    */soft_option) soft_option_binary=$binary ;;
  esac
  name=$(basename "$binary")_$env
  for where in one three; do
    flag="--endpoint=${endpoints[0]}"
    [ "$where" = three ] && flag="--endpoint=$all"
    if ! "$binary" "$flag" --env="$env" --env_settings="$settings" \
        --steps="$steps" --num_copies=5 --eval_episodes=5 --eval_every=100 \
        --log_every=20 --progress_seconds=60 --seed=4 --runs_root="$runs" \
        --run_name="${name}_$where" >"$runs/$name.log" 2>&1; then
      echo "FAIL ${name}_$where"; cat "$runs/$name.log"; exit 1
    fi
  done
  same_records "${name}_one" "${name}_three"
done

# --overlap_learning (the update on step t runs while the servers step
# t + 1): over one server and three the same again, and not the same as
# without it (the actions of t + 1 come before the update on t).
for where in one three; do
  flag="--endpoint=${endpoints[0]}"
  [ "$where" = three ] && flag="--endpoint=$all"
  "$maddpg_binary" "$flag" --overlap_learning --env=max_of_two_quadratics \
    --env_settings=variant=paper --steps=1500 --num_copies=5 --eval_episodes=5 \
    --eval_every=100 --log_every=20 --progress_seconds=60 --seed=4 \
    --runs_root="$runs" --run_name="overlap_$where" >"$runs/overlap.log" 2>&1 ||
    { echo "FAIL overlap_$where"; cat "$runs/overlap.log"; exit 1; }
done
same_records overlap_one overlap_three
if same_records maddpg_max_of_two_quadratics_one overlap_one >/dev/null 2>&1; then
  echo "FAIL: --overlap_learning changed nothing"; exit 1
fi
status=0
"$soft_option_binary" --overlap_learning --env=taxi --steps=100 \
  --runs_root="$runs" >"$runs/refused.log" 2>&1 || status=$?
[ "$status" -ne 0 ] && grep -q "cannot learn a step late" "$runs/refused.log" ||
  { echo "FAIL: soft options took --overlap_learning"; cat "$runs/refused.log"; exit 1; }
echo "ok: --overlap_learning repeats over several servers; refused where it cannot"

# A lost server. The agent trains long enough to be cut in the middle.
agent_with_loss() {
  local run="$1"
  shift
  "$binary_for_loss" --endpoint="$all" --env=matrix_game --steps=100000000 \
    --num_copies=6 --eval_episodes=3 --timeout_ms=1000 --progress_seconds=60 \
    --log_every=50 --runs_root="$runs" --run_name="$run" "$@" \
    >"$runs/$run.log" 2>&1 &
  agent=$!
  for _ in $(seq 300); do
    [ -s "$runs/$run/metrics.jsonl" ] && break
    sleep 0.1
  done
}
agent_with_loss fails
kill -9 "${pids[2]}"
status=0
wait "$agent" || status=$?
[ "$status" -ne 0 ] || { echo "FAIL: the run went on without a server"; exit 1; }
grep -q "${endpoints[1]} (server 2 of 3, copies 2-3)" "$runs/fails.log" ||
  { echo "FAIL: the error does not name the lost server"; cat "$runs/fails.log"; exit 1; }
grep -q -- "--tolerate_server_loss" "$runs/fails.log" ||
  { echo "FAIL: the error does not name the flag"; cat "$runs/fails.log"; exit 1; }
echo "ok: a lost server ends the run, named"

# Tolerated, over the two servers left: the second dies; its copies move
# to the first and the run ends normally.
"$binary_for_loss" --endpoint="${endpoints[0]},${endpoints[2]}" \
  --env=matrix_game --steps=200000 \
  --num_copies=6 --eval_episodes=3 --timeout_ms=1000 --progress_seconds=60 \
  --log_every=50000 --runs_root="$runs" --run_name=tolerates \
  --tolerate_server_loss >"$runs/tolerates.log" 2>&1 &
agent=$!
sleep 1
kill -9 "${pids[3]}"
wait "$agent" || { echo "FAIL: the tolerant run failed"; cat "$runs/tolerates.log"; exit 1; }
grep -q "warning: environment server ${endpoints[2]} (server 2 of 2, copies 3-5) is lost" \
  "$runs/tolerates.log" ||
  { echo "FAIL: no warning naming the lost server"; cat "$runs/tolerates.log"; exit 1; }
[ -s "$runs/tolerates/summary.json" ] || { echo "FAIL: no summary"; exit 1; }
echo "ok: with --tolerate_server_loss the run finishes on the other servers"
