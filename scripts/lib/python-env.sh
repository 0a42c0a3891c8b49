# Sourced by scripts/test-python.sh and scripts/bench.sh (from the repository root):
# makes .venv with maturin, pytest and mypy, activates it, and builds the extension
# into it with `maturin develop --release` (its own cargo profile, so it never
# invalidates the debug build of `cargo test`).
# Env: PYTHON=python3.12   interpreter for a new .venv (default python3)

VENV=$PWD/.venv
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
