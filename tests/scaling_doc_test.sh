#!/usr/bin/env bash
# docs/SCALING.md's commands work as written on one machine: every fenced
# bash block after a line starting "*Runs as written*" is run, in a scratch
# directory whose bazel-bin/ holds this build's binaries, and must succeed
# and leave the runs it names.
# Arguments: the doc, then the binaries it uses (their paths end as under
# bazel-bin/).
set -euo pipefail
doc="$1"
shift
work=$(mktemp -d /tmp/marl-scaling-doc.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
for binary in "$@"; do
  # bazel-out/.../bin/<path> or a runfiles path: keep the package path.
  path=${binary#*bin/}
  mkdir -p "$work/bazel-bin/$(dirname "$path")"
  ln -s "$(realpath "$binary")" "$work/bazel-bin/$path"
done
/usr/bin/python3 - "$doc" "$work" <<'PY'
import re, sys
doc, work = sys.argv[1:]
text = open(doc).read()
blocks = re.findall(r"^\*Runs as written\*[^\n]*\n\n```bash\n(.*?)```", text,
                    re.S | re.M)
assert len(blocks) >= 2, "no runnable blocks found in " + doc
for i, block in enumerate(blocks):
    open("%s/block%d.sh" % (work, i), "w").write(block)
print("%d blocks" % len(blocks))
PY
cd "$work"
for block in block*.sh; do
  echo "--- $block"
  cat "$block"
  timeout 300 bash -euo pipefail "$block" >"$block.log" 2>&1 ||
    { echo "FAIL: $block"; cat "$block.log"; exit 1; }
done
for run in two_servers dp_two dp_two_rank1; do
  [ -s "runs/$run/summary.json" ] || { echo "FAIL: no runs/$run/summary.json"; exit 1; }
done
echo "ok: every runnable block of SCALING.md works as written"
