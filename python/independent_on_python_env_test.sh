#!/usr/bin/env bash
# A C++ agent trains on environments written in Python: //agents/independent
# against //python:env_server_py over loopback TCP.
#   - soft-Q on py_matrix_game (3x3 coordination, equilibria worth 5, 3, 1;
#     uniformly random play earns 1): both final greedy evaluations must
#     reach an equilibrium worth at least 3.
#   - SAC on py_rendezvous (two agents on a line must meet; shared reward
#     -distance per step; random play scores about -11.7 per episode, see
#     examples/rendezvous_test.py): the final evaluation must beat -3.
#   - //agents/soft_option_comm on py_matrix_game through the Python
#     server's message channel (message_size=2: the options as messages):
#     both final greedy evaluations must reach an equilibrium worth >= 3.
# Figures come from each run's summary.json (docs/RUN_FORMAT.md).
#   independent_on_python_env_test.sh SERVER AGENT COMM_AGENT
set -euo pipefail
source tools/testing/server_process.sh
server="$1"
agent="$2"
comm_agent="$3"
runs=$(mktemp -d /tmp/marl-py-train.XXXXXX)
trap 'rm -rf "$runs"' EXIT

start_server "$runs" "$server"

# name, env, threshold, extra flags
train() {
  local name="$1" env="$2" threshold="$3"
  shift 3
  local start=$SECONDS
  if ! "${binary:-$agent}" --endpoint="$endpoint" --env="$env" --seed=1 \
      --runs_root="$runs" --run_name="$name" --progress_seconds=60 "$@" \
      >"$runs/$name.log" 2>&1; then
    echo "FAIL $name: the agent failed"; cat "$runs/$name.log"; exit 1
  fi
  local summary="$runs/$name/summary.json"
  [ -s "$summary" ] || { echo "FAIL $name: no summary.json"; exit 1; }
  /usr/bin/python3 - "$summary" "$threshold" "$name" "$((SECONDS - start))" <<'PY'
import json
import sys

path, threshold, name, seconds = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
summary = json.load(open(path))
returns = {k[len("final_eval_return_"):]: v for k, v in summary.items()
           if k.startswith("final_eval_return_")}
print("%s: final eval return %s, %d steps in %s s wall" % (
    name, ", ".join("%s %.3f" % kv for kv in sorted(returns.items())),
    summary["total_steps"], seconds))
if len(returns) != 2 or not all(v is not None and v >= threshold
                                for v in returns.values()):
    sys.exit("FAIL %s: final eval returns %s, threshold %g" %
             (name, returns, threshold))
PY
}

train soft_q_py_matrix_game py_matrix_game 3 --steps=3000
train sac_py_rendezvous py_rendezvous -3 --steps=8000 --eval_episodes=50
binary="$comm_agent" train soft_option_comm_py_matrix_game py_matrix_game 3 \
  --env_settings=message_size=2 --num_options=2 --hidden=32,32 \
  --batch_size=64 --steps=3000 --eval_episodes=20

stop_server_cleanly
echo "ok: C++ agents trained on both Python environments"
