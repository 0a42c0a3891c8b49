# Sourced by scripts/test-node.sh and scripts/bench.sh (from the repository root):
# installs node/'s dev dependencies when missing and builds the release addon.

command -v node >/dev/null 2>&1 || { echo "node is not installed" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "npm is not installed" >&2; exit 1; }

if [ ! -x node/node_modules/.bin/napi ] || [ ! -x node/node_modules/.bin/tsc ]; then
  step "npm dev dependencies (@napi-rs/cli, typescript)"
  if [ -f node/package-lock.json ]; then
    (cd node && npm ci --no-audit --no-fund)
  else
    (cd node && npm install --no-audit --no-fund)
  fi
fi

step "native addon (napi build --platform --release)"
# lib/native.js loads the addon (napi's generated JS loader is not used); drop one
# that an older checkout generated, so that `npm pack` cannot ship it.
rm -f node/lib/binding.js
(cd node && node_modules/.bin/napi build --platform --release \
  --manifest-path ../bindings/node/Cargo.toml --output-dir lib --no-js --dts binding.d.ts -- --locked)
