#!/usr/bin/env bash
# A run started again from its config.json (--config) repeats it exactly,
# single flags on the command line override the file's, and a config.json
# that is not one, or that names flags this binary lacks, is refused with a
# clear error before anything runs.
set -euo pipefail
agent="$1"
runs=$(mktemp -d /tmp/marl-config.XXXXXX)
trap 'rm -rf "$runs"' EXIT
common=(--progress_seconds=60 --runs_root="$runs" --eval_episodes=3)

# A learning rate that needs all 17 significant digits to round-trip.
"$agent" "${common[@]}" --run_name=first --env=max_of_two_quadratics \
  --steps=192 --num_copies=4 --seed=7 --log_every=32 --sac_warmup=32 \
  --sac_batch_size=16 --sac_actor_lr=0.0012345678901234567 \
  --sac_hidden=8,8 >"$runs/first.log" 2>&1 ||
  { cat "$runs/first.log"; exit 1; }
"$agent" "${common[@]}" --config="$runs/first/config.json" \
  --run_name=again >"$runs/again.log" 2>&1 || { cat "$runs/again.log"; exit 1; }
"$agent" "${common[@]}" --config "$runs/first/config.json" --seed=8 \
  --run_name=seed8 >"$runs/seed8.log" 2>&1 || { cat "$runs/seed8.log"; exit 1; }

/usr/bin/python3 - "$runs" <<'PY'
import json, sys
runs = sys.argv[1]

def flags(run):
    with open("%s/%s/config.json" % (runs, run)) as f:
        return json.load(f)["flags"]

def metrics(run):
    # Wall-clock fields differ between any two runs; everything else must not.
    rows = []
    with open("%s/%s/metrics.jsonl" % (runs, run)) as f:
        for line in f:
            row = json.loads(line)
            for key in ("time", "steps_per_second"):
                row.pop(key, None)
            rows.append(row)
    return rows

first, again, seed8 = flags("first"), flags("again"), flags("seed8")
assert first["sac_actor_lr"] == "0.0012345678901234567" or \
    float(first["sac_actor_lr"]) == 0.0012345678901234567, first["sac_actor_lr"]
for name in first:
    if name in ("config", "run_name"):
        continue
    assert again[name] == first[name], (name, again[name], first[name])
    if name != "seed":
        assert seed8[name] == first[name], (name, seed8[name], first[name])
assert seed8["seed"] == "8" and first["seed"] == "7", (seed8["seed"], first["seed"])
m_first, m_again = metrics("first"), metrics("again")
assert len(m_first) > 4, len(m_first)
assert m_first == m_again, "the rerun's metrics differ from the run's"
assert metrics("seed8") != m_first, "another seed gave the same metrics"
print("ok: the rerun repeats %d metric rows; --seed overrides the file"
      % len(m_first))
PY

# --resume: a run cut short after its step_128 checkpoint goes on to 256
# with its own flags (from its config.json) in its own directory.
"$agent" "${common[@]}" --run_name=cut --env=max_of_two_quadratics \
  --steps=160 --num_copies=4 --seed=7 --log_every=32 --sac_warmup=32 \
  --sac_batch_size=16 --sac_hidden=8,8 --checkpoint_every=64 \
  >"$runs/cut.log" 2>&1 || { cat "$runs/cut.log"; exit 1; }
rm "$runs/cut/checkpoints/final"
"$agent" --progress_seconds=60 --resume="$runs/cut" --steps=256 \
  >"$runs/resumed.log" 2>&1 || { cat "$runs/resumed.log"; exit 1; }
/usr/bin/python3 - "$runs/cut" <<'PY'
import json, os, sys
run = sys.argv[1]
steps = [json.loads(l)["step"] for l in open(run + "/metrics.jsonl")
         if '"player_0"' in l and '"train"' in l]
assert steps == list(range(32, 257, 32)), steps
summary = json.load(open(run + "/summary.json"))
assert summary["total_steps"] == 256, summary
config = json.load(open(run + "/config.json"))
assert config["flags"]["sac_hidden"] == "8,8", config["flags"]["sac_hidden"]
assert os.path.exists(run + "/checkpoints/final")
print("ok: resumed from step_128 to 256, metrics", steps)
PY

# Refused at once, exit code 2, naming the problem.
expect_refused() {
  local file="$1" want="$2" out status=0
  out=$("$agent" "${common[@]}" --config="$file" --run_name=bad 2>&1) ||
    status=$?
  [ "$status" -eq 2 ] || { echo "FAIL: exit $status for $file: $out"; exit 1; }
  grep -qF -- "$want" <<<"$out" || { echo "FAIL: '$want' not in: $out"; exit 1; }
  [ ! -e "$runs/bad" ] || { echo "FAIL: a refused run left $runs/bad"; exit 1; }
  echo "ok: refused ($want)"
}
echo '{"flags": {"steps": "10", "pr2_ac_lr": "0.1"}}' >"$runs/foreign.json"
expect_refused "$runs/foreign.json" "--pr2_ac_lr"
echo '{"flags": {"steps": "ten"}}' >"$runs/badvalue.json"
expect_refused "$runs/badvalue.json" "--steps=ten"
echo '{"flags": ' >"$runs/truncated.json"
expect_refused "$runs/truncated.json" "not a run's config.json"
expect_refused "$runs/missing.json" "cannot read"
