#!/usr/bin/env bash
# make_curve_keys writes certificates pyzmq loads (the other direction,
# pyzmq's files read by the C++ library, is in protocol/curve_test.cc).
set -euo pipefail
tool="$1"
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/curve_keys.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$tool" --out_dir="$dir" --name=agent >/dev/null
[ -f "$dir/agent.key" ] || fail "no agent.key"
[ -f "$dir/agent.key_secret" ] || fail "no agent.key_secret"
[ "$(stat -c %a "$dir/agent.key_secret")" = 600 ] ||
  fail "agent.key_secret has mode $(stat -c %a "$dir/agent.key_secret")"
grep -q secret-key "$dir/agent.key" && fail "the public file holds the secret key"

/usr/bin/python3 - "$dir" <<'PY'
import sys
import zmq
import zmq.auth

d = sys.argv[1]
public, secret = zmq.auth.load_certificate(d + "/agent.key_secret")
public_only, none = zmq.auth.load_certificate(d + "/agent.key")
assert none is None, none
assert public == public_only, (public, public_only)
assert len(public) == 40 and len(secret) == 40, (public, secret)
assert zmq.curve_public(secret) == public, "the keys are not a pair"
assert zmq.auth.load_certificates(d) == {public: True}
PY

# Existing files are kept unless --overwrite.
before=$(cat "$dir/agent.key_secret")
if "$tool" --out_dir="$dir" --name=agent 2>"$dir/err"; then
  fail "overwrote without --overwrite"
fi
grep -q -- "--overwrite" "$dir/err" || fail "message: $(cat "$dir/err")"
[ "$(cat "$dir/agent.key_secret")" = "$before" ] || fail "the old key changed"
"$tool" --out_dir="$dir" --name=agent --overwrite >/dev/null
[ "$(cat "$dir/agent.key_secret")" != "$before" ] || fail "--overwrite kept the key"
[ "$(stat -c %a "$dir/agent.key_secret")" = 600 ] || fail "mode after --overwrite"
ls -A "$dir" | grep -q tmp && fail "temporary files left: $(ls -A "$dir")"

# Bad invocations fail with a message, not a crash.
status=0
"$tool" --out_dir="$dir/missing" --name=x 2>"$dir/err" || status=$?
[ "$status" = 1 ] || fail "missing directory: exit $status"
grep -q "does not exist" "$dir/err" || fail "message: $(cat "$dir/err")"
status=0
"$tool" --name=x 2>/dev/null || status=$?
[ "$status" = 2 ] || fail "no --out_dir: exit $status"
status=0
"$tool" --out_dir="$dir" --name=a/b 2>/dev/null || status=$?
[ "$status" = 1 ] || fail "name with '/': exit $status"
# As under `bazel run`: a relative --out_dir is the caller's directory.
mkdir "$dir/caller"
BUILD_WORKING_DIRECTORY="$dir/caller" "$tool" --out_dir=. --name=rel >/dev/null
[ -f "$dir/caller/rel.key_secret" ] || fail "relative --out_dir under bazel run"
echo PASS
