#!/usr/bin/env bash
# The project's one test command: what CI runs and what you run before a push.
# Usage: scripts/test.sh            (everything)
#        SKIP_LINT=1 scripts/test.sh (tests only)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ -z "${SKIP_LINT:-}" ]; then
  step "rustfmt"
  cargo fmt --all -- --check

  step "clippy (all targets, warnings are errors)"
  cargo clippy --workspace --all-targets --locked -- -D warnings

  step "docs (warnings are errors)"
  RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps --locked

  step "Markdown links, protocol.md citations, no path outside the repository"
  python3 scripts/check-docs.py

  step "the core stays sans-IO (no HTTP client, no sockets crate, no RNG, no database)"
  if cargo tree -p sendcloud-status-core -e normal --prefix none --locked \
      | grep -Ei '^(ureq|hyper|reqwest|tokio|mio|socket2|rand|getrandom|tiny_http|rusqlite|libsqlite3-sys) '; then
    echo "sendcloud-status-core must not depend on networking, RNG or database crates" >&2
    exit 1
  fi

  step "actionlint (.github/workflows)"
  # shellcheck source=lib/python-tools.sh
  source scripts/lib/python-tools.sh
  actionlint
fi

step "Rust tests (unit, integration against the loopback sandbox, doc tests, vectors)"
cargo test --workspace --locked

step "Python package (maturin wheel in .venv, mypy --strict, pytest)"
scripts/test-python.sh -q

step "Node package (napi addon, tsc, node --test)"
scripts/test-node.sh

step "README code blocks marked runnable (Python, JS, shell; the Rust ones ran in cargo test)"
.venv/bin/python scripts/test-readme.py
