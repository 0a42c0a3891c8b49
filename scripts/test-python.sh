#!/usr/bin/env bash
# Builds the Python package (bindings/python + python/) into .venv and tests it:
# mypy --strict on the package, its example and its tests, then pytest against the
# sandbox binary. Works on a fresh clone (needs python3 ≥ 3.9 and the Rust toolchain);
# reruns only redo what changed.
#
# Usage: scripts/test-python.sh [pytest args…]      e.g. scripts/test-python.sh -k vectors
# Env:   PYTHON=python3.12   interpreter for a new .venv (default python3)
#        SENDCLOUD_SANDBOX_BIN=…   use another sandbox binary (then it is not built)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

step() { printf '\n==> %s\n' "$*"; }

VENV=$ROOT/.venv
if [ ! -x "$VENV/bin/python" ]; then
  step "creating .venv"
  "${PYTHON:-python3}" -m venv "$VENV"
fi
# Activate: maturin finds the venv through VIRTUAL_ENV, pytest and mypy come from it.
# shellcheck disable=SC1091
source "$VENV/bin/activate"

if ! { maturin --version 2>/dev/null | grep -q '^maturin 1\.16\.' &&
       python -c 'import pytest, mypy' 2>/dev/null; }; then
  step "installing maturin 1.16, pytest, mypy into .venv"
  python -m pip install --quiet --disable-pip-version-check --upgrade pip
  python -m pip install --quiet --disable-pip-version-check 'maturin>=1.16,<1.17' 'pytest>=8' 'mypy>=1.10'
fi

# The extension is built with --release: its own cargo profile, so it never
# invalidates (nor is invalidated by) the debug build of `cargo test`.
step "building the extension (maturin develop --release)"
LOG=$(mktemp)
if ! (cd python && maturin develop --release --locked) >"$LOG" 2>&1; then
  cat "$LOG" >&2
  rm -f "$LOG"
  exit 1
fi
grep -E '^ *(Compiling|Finished)' "$LOG" | tail -n 3 || true
rm -f "$LOG"
python -c 'import sendcloud_status, sys; print("sendcloud_status", sendcloud_status.__version__, "on Python", sys.version.split()[0])'

if [ -z "${SENDCLOUD_SANDBOX_BIN:-}" ]; then
  step "building the sandbox binary"
  cargo build --quiet --locked -p sendcloud-status-sandbox
fi

step "mypy --strict (package, example, tests)"
(cd python && mypy --strict sendcloud_status examples/export.py tests)

step "pytest"
cd python
exec python -m pytest "$@"
