#!/usr/bin/env bash
# Installs the packages in DIST as a user without Rust would, and exports from a
# sandbox with each: PATH has no cargo/rustc, pip sees only DIST (--no-index, wheels
# only), npm installs the two tarballs into a new project. The sandbox is the
# CLI's (`sendcloud-status sandbox`) on loopback; each smoke compares what it
# exported with the sandbox's ground truth.
#
# Usage: scripts/clean-room.sh DIST CLI_BINARY      (scripts/package.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() {
  echo "clean-room.sh: $*" >&2
  exit 1
}

[ $# -eq 2 ] || fail "usage: scripts/clean-room.sh DIST CLI_BINARY"
DIST=$(cd "$1" && pwd)
CLI=$2
[ -x "$CLI" ] || fail "no CLI binary at $CLI"
VERSION=$(node -p "require('./node/package.json').version")

ROOM=$(mktemp -d "${TMPDIR:-/tmp}/sendcloud-status-clean-room.XXXXXX")
SANDBOX_PID=
cleanup() {
  if [ -n "$SANDBOX_PID" ]; then kill "$SANDBOX_PID" 2>/dev/null || true; fi
  rm -rf "$ROOM"
}
trap cleanup EXIT

step "a PATH without Rust"
# Every PATH entry that holds cargo or rustc is dropped; python3, node and npm must remain.
CLEAN_PATH=
IFS=: read -r -a entries <<<"$PATH"
for dir in "${entries[@]}"; do
  [ -n "$dir" ] || continue
  if [ -e "$dir/cargo" ] || [ -e "$dir/rustc" ]; then continue; fi
  CLEAN_PATH=${CLEAN_PATH:+$CLEAN_PATH:}$dir
done
# Neither Rust nor the project's venv, nor its pip/npm configuration, reaches the room.
room() {
  env -u VIRTUAL_ENV -u CARGO_HOME -u RUSTUP_HOME -u CARGO_TARGET_DIR -u PIP_FIND_LINKS \
    -u PYTHONPATH -u NODE_PATH PATH="$CLEAN_PATH" PIP_NO_INPUT=1 "$@"
}
for tool in cargo rustc; do
  if room bash -c "command -v $tool" >/dev/null; then fail "$tool is still on the clean PATH"; fi
done
for tool in python3 node npm; do
  room bash -c "command -v $tool" >/dev/null || fail "$tool is not on the clean PATH ($CLEAN_PATH)"
done
echo "no cargo, no rustc; $(room python3 --version), node $(room node --version)"

step "sandbox: $(basename "$CLI") sandbox --port 0"
"$CLI" sandbox --port 0 --records 3000 --rate-limit 0 --now '2024-05-20 12:00:00' >"$ROOM/sandbox.out" 2>&1 &
SANDBOX_PID=$!
BASE_URL=
for _ in $(seq 1 100); do
  BASE_URL=$(sed -n 's/^sandbox listening on \(http:[^ ]*\)$/\1/p' "$ROOM/sandbox.out")
  [ -n "$BASE_URL" ] && break
  kill -0 "$SANDBOX_PID" 2>/dev/null || break
  sleep 0.2
done
[ -n "$BASE_URL" ] || fail "the sandbox did not start: $(cat "$ROOM/sandbox.out")"
echo "$BASE_URL"
export BASE_URL TODAY=2024-05-20 VERSION

# --- Python ------------------------------------------------------------------
step "Python: new venv, pip install --no-index --find-links dist --only-binary :all: sendcloud-status"
room python3 -m venv "$ROOM/venv"
room "$ROOM/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
  --find-links "$DIST" --only-binary :all: "sendcloud-status==$VERSION"
cat >"$ROOM/smoke.py" <<'EOF'
"""Exports three days from the sandbox and compares the ids with its ground truth."""
import datetime as dt
import json
import os
import sys
import urllib.request

import sendcloud_status as sc

base = os.environ["BASE_URL"]
here = os.path.dirname(os.path.abspath(__file__))
assert sc.__file__.startswith(os.path.join(here, "venv")), f"imported from {sc.__file__}"
with urllib.request.urlopen(base.replace("/api/", "/_sandbox/truth?days=3")) as resp:
    truth = json.load(resp)["email_ids"]
client = sc.Client("sandbox_user", "sandbox-demo-key", base_url=base, rate_limit_per_minute=None)
ids = [r.email_id for r in client.records(days=3, today=dt.date.fromisoformat(os.environ["TODAY"]))]
assert len(truth) > 0, "the sandbox holds no records for three days"
assert sorted(ids) == sorted(truth), f"exported {len(ids)} records, the sandbox holds {len(truth)}"
print(f"python {sys.version.split()[0]}: sendcloud_status {sc.__version__} exported {len(ids)} records, "
      "the sandbox's three days")
EOF
(cd "$ROOM" && room "$ROOM/venv/bin/python" smoke.py)

# --- Node ----------------------------------------------------------------------
step "Node: new project, npm install the main and platform tarballs"
mkdir -p "$ROOM/app"
echo '{ "name": "clean-room", "version": "1.0.0", "private": true }' >"$ROOM/app/package.json"
MAIN_TGZ="$DIST/sendcloud-status-$VERSION.tgz"
mapfile -t ADDON_TGZ < <(ls "$DIST"/sendcloud-status-*-"$VERSION".tgz)
[ -f "$MAIN_TGZ" ] && [ "${#ADDON_TGZ[@]}" -ge 1 ] || fail "no npm tarballs in $DIST"
# The other platforms' optional packages are not in the registry (they are published with
# a release): --omit=optional skips them; the tarballs named here are installed all the same.
(cd "$ROOM/app" && room npm install --no-audit --no-fund --omit=optional --cache "$ROOM/npm-cache" \
  "$MAIN_TGZ" "${ADDON_TGZ[@]}")
ls "$ROOM/app/node_modules/@sendcloud-status"

cat >"$ROOM/app/smoke.cjs" <<'EOF'
// require(): CommonJS, so the loop runs in an async function.
const { Client } = require('sendcloud-status')
const { check } = require('./check.cjs')

async function main() {
  const client = new Client({ apiUser: 'sandbox_user', apiKey: 'sandbox-demo-key', baseUrl: process.env.BASE_URL })
  const ids = []
  for await (const r of client.records({ days: 3, today: process.env.TODAY })) ids.push(r.emailId)
  await check('require', ids, require.resolve('sendcloud-status'))
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
EOF
cat >"$ROOM/app/smoke.mjs" <<'EOF'
// import: an ES module, with a top-level for await.
import { Client } from 'sendcloud-status'
import { createRequire } from 'node:module'

const { check } = createRequire(import.meta.url)('./check.cjs')
const client = new Client({ apiUser: 'sandbox_user', apiKey: 'sandbox-demo-key', baseUrl: process.env.BASE_URL })
const ids = []
for await (const r of client.records({ days: 3, today: process.env.TODAY })) ids.push(r.emailId)
await check('import', ids, import.meta.resolve('sendcloud-status'))
EOF
cat >"$ROOM/app/check.cjs" <<'EOF'
// The exported ids must be the sandbox's ground truth, from the installed package.
const assert = require('node:assert/strict')
const path = require('node:path')

exports.check = async (form, ids, entry) => {
  const res = await fetch(new URL('/_sandbox/truth?days=3', process.env.BASE_URL))
  const truth = (await res.json()).email_ids
  assert.ok(truth.length > 0, 'the sandbox holds no records for three days')
  assert.deepEqual([...ids].sort(), [...truth].sort(), `exported ${ids.length}, the sandbox holds ${truth.length}`)
  const installed = path.join(__dirname, 'node_modules', 'sendcloud-status')
  assert.ok(entry.replace('file://', '').startsWith(installed), `loaded from ${entry}`)
  const { version } = require('sendcloud-status')
  console.log(`node ${process.version} (${form}): sendcloud-status ${version()} exported ${ids.length} records, the sandbox's three days`)
}
EOF
(cd "$ROOM/app" && room node smoke.cjs && room node smoke.mjs)

echo
echo "clean room: the wheel and the npm tarballs install without Rust and export from the sandbox"
