#!/usr/bin/env bash
# Installs the packages in DIST as a user without Rust would, and exports from a
# sandbox with each: PATH has no cargo/rustc, pip sees only DIST (--no-index, wheels
# only), npm installs the two tarballs into a new project, which runs the smoke
# through require() and through import. The sandbox is the CLI's (`sendcloud-status
# sandbox`) on loopback; the smokes (scripts/smoke/, which the release workflow runs
# too) compare what they exported with the sandbox's ground truth.
#
# Usage: scripts/clean-room.sh DIST CLI_BINARY      (scripts/package.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

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
PASSED=0
export CLI
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
export SANDBOX_LOG="$ROOM/sandbox.out"
# shellcheck source=smoke/sandbox.sh
. scripts/smoke/sandbox.sh

# --- Python ------------------------------------------------------------------
step "Python: new venv, pip install --no-index --find-links dist --only-binary :all: sendcloud-status"
room python3 -m venv "$ROOM/venv"
room "$ROOM/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
  --find-links "$DIST" --only-binary :all: "sendcloud-status==$VERSION"
(cd "$ROOM" && room "$ROOM/venv/bin/python" "$REPO/scripts/smoke/smoke.py")
PASSED=$((PASSED + 1))

# --- Node ----------------------------------------------------------------------
step "Node: new project, npm install the main and platform tarballs"
mkdir -p "$ROOM/app"
echo '{ "name": "clean-room", "version": "1.0.0", "private": true }' >"$ROOM/app/package.json"
MAIN_TGZ="$DIST/sendcloud-status-$VERSION.tgz"
mapfile -t ADDON_TGZ < <(ls "$DIST"/sendcloud-status-*-"$VERSION".tgz)
if [ ! -f "$MAIN_TGZ" ] || [ "${#ADDON_TGZ[@]}" -eq 0 ]; then fail "no npm tarballs in $DIST"; fi
# The other platforms' optional packages are not in the registry (they are published with
# a release): --omit=optional skips them; the tarballs named here are installed all the same.
(cd "$ROOM/app" && room npm install --no-audit --no-fund --omit=optional --cache "$ROOM/npm-cache" \
  "$MAIN_TGZ" "${ADDON_TGZ[@]}")
ls "$ROOM/app/node_modules/@sendcloud-status"

cp scripts/smoke/smoke.cjs scripts/smoke/smoke.mjs scripts/smoke/check.cjs "$ROOM/app/"
(cd "$ROOM/app" && room node smoke.cjs)
PASSED=$((PASSED + 1))
(cd "$ROOM/app" && room node smoke.mjs)
PASSED=$((PASSED + 1))

echo
echo "the wheel and the npm tarballs install without Rust and export from the sandbox"
# Any failure above ends the script (set -e): reaching here, every smoke passed.
echo "clean-room: $PASSED passed, 0 failed"
