#!/usr/bin/env bash
# Builds and tests the Node.js package (node/): npm dev dependencies (only
# when missing), the native addon (release), the sandbox binary, the
# TypeScript check of the example, then `node --test`.
# Usage: scripts/test-node.sh
#   SENDCLOUD_SANDBOX_BIN=/path/to/sendcloud-status-sandbox  use that binary (not built here)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

command -v node >/dev/null 2>&1 || { echo "test-node.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "test-node.sh: npm is not installed" >&2; exit 1; }

if [ ! -x node/node_modules/.bin/napi ] || [ ! -x node/node_modules/.bin/tsc ]; then
  step "npm dev dependencies (@napi-rs/cli, typescript)"
  if [ -f node/package-lock.json ]; then
    (cd node && npm ci --no-audit --no-fund)
  else
    (cd node && npm install --no-audit --no-fund)
  fi
fi

step "native addon (napi build --platform --release)"
(cd node && node_modules/.bin/napi build --platform --release \
  --manifest-path ../bindings/node/Cargo.toml --output-dir lib --js binding.js --dts binding.d.ts -- --locked)

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
