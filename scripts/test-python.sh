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

step() { printf '\n==> %s\n' "$*"; }

# shellcheck source=lib/python-env.sh
source scripts/lib/python-env.sh

if [ -z "${SENDCLOUD_SANDBOX_BIN:-}" ]; then
  step "building the sandbox binary"
  cargo build --quiet --locked -p sendcloud-status-sandbox
fi

step "mypy --strict (package, example, tests)"
(cd python && mypy --strict sendcloud_status examples/export.py tests)

step "pytest"
cd python
exec python -m pytest "$@"
