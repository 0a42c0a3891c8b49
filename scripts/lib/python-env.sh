# Sourced by scripts/test-python.sh and scripts/bench.sh (from the repository root):
# makes and activates .venv with the project's Python tools (python-tools.sh), and builds the extension
# into it with `maturin develop --release` (its own cargo profile, so it never
# invalidates the debug build of `cargo test`).
# Env: PYTHON=python3.12   interpreter for a new .venv (default python3)

# shellcheck source=python-tools.sh
source scripts/lib/python-tools.sh

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
