#!/usr/bin/env bash
# Builds and tests the Node.js package (node/): npm dev dependencies (only
# when missing), the native addon (release), the sandbox binary, the
# TypeScript check of the example, then `node --test`.
# Usage: scripts/test-node.sh
#   SENDCLOUD_SANDBOX_BIN=/path/to/sendcloud-status-sandbox  use that binary (not built here)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# shellcheck source=lib/node-env.sh
source scripts/lib/node-env.sh

if [ -z "${SENDCLOUD_SANDBOX_BIN:-}" ]; then
  step "sandbox binary (cargo build -p sendcloud-status-sandbox)"
  cargo build -p sendcloud-status-sandbox --locked
  target_dir="${CARGO_TARGET_DIR:-target}"
  SENDCLOUD_SANDBOX_BIN="$(cd "$target_dir" && pwd)/debug/sendcloud-status-sandbox"
  export SENDCLOUD_SANDBOX_BIN
fi

step "TypeScript: tsc --noEmit (examples/example.ts against index.d.ts)"
(cd node && node_modules/.bin/tsc --noEmit -p .)

step "node --test"
(cd node && node --test test/*.test.mjs)
