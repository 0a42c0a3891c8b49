#!/usr/bin/env bash
# Builds into dist/ what this machine can ship, checks it, then installs it in a
# clean room (scripts/clean-room.sh: no Rust on PATH, no network but loopback):
#   dist/sendcloud_status-<v>-cp39-abi3-manylinux_*.whl  the wheel (auditwheel: a manylinux tag)
#   dist/sendcloud_status-<v>.tar.gz                     the sdist
#   dist/sendcloud-status-<v>.tgz                        the npm main package
#   dist/sendcloud-status-<platform>-<v>.tgz             this platform's npm addon package
#   dist/crates/*.crate                                  the publishable crates (cargo package)
# The wheel and the addon come from the same release builds as scripts/test.sh's
# (same profile, same flags), so after it they cost no compile; the smoke's sandbox
# is the debug CLI.
#
# Usage: scripts/package.sh                 (build, check, clean-room install)
#        SKIP_CLEAN_ROOM=1 scripts/package.sh
#        SKIP_CRATE_VERIFY=1 scripts/package.sh   (do not build the .crate files)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() {
  echo "package.sh: $*" >&2
  exit 1
}
# Temporary directories, removed on exit.
TMPS=()
trap 'rm -rf "${TMPS[@]}"' EXIT
tmpdir() {
  local dir
  dir=$(mktemp -d)
  TMPS+=("$dir")
  echo "$dir"
}
# Runs a command quietly: its lines matching PATTERN, or all its output if it fails.
quiet() {
  local pattern=$1 log
  shift
  log=$(mktemp)
  "$@" >"$log" 2>&1 || {
    cat "$log" >&2
    rm -f "$log"
    fail "failed: $*"
  }
  grep -E "$pattern" "$log" || true
  rm -f "$log"
}

ROOT=$PWD
DIST=$ROOT/dist
TARGET_DIR=$(mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)
rm -rf "$DIST"
mkdir -p "$DIST/crates"

step "versions agree (Cargo workspace, npm main and platform packages)"
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[ -n "$VERSION" ] || fail "no version in Cargo.toml's [workspace.package]"
for pkg in node/package.json node/npm/*/package.json; do
  v=$(node -p "require('./$pkg').version")
  [ "$v" = "$VERSION" ] || fail "$pkg has version $v, Cargo.toml $VERSION"
done
echo "$VERSION everywhere"

# --- Python ------------------------------------------------------------------
# shellcheck source=lib/python-tools.sh
source scripts/lib/python-tools.sh

step "wheel (maturin build --release: abi3, stripped)"
(cd python && quiet '^ *(Compiling|Finished)|Built wheel' maturin build --release --locked --out "$DIST")
WHEEL=$(ls "$DIST"/sendcloud_status-"$VERSION"-cp39-abi3-*.whl 2>/dev/null) || fail "no abi3 wheel in dist/"

step "auditwheel show: the wheel must be manylinux-compliant"
SHOW=$(auditwheel show "$WHEEL")
echo "$SHOW" | sed -n '1,4p'
TAG=$(echo "$SHOW" | tr -s ' \n' ' ' | sed -n 's/.*consistent with the following platform tag: "\([^"]*\)".*/\1/p')
case "$TAG" in
  manylinux_*) ;;
  *) fail "auditwheel reports no manylinux tag for $(basename "$WHEEL") (got '${TAG:-nothing}')" ;;
esac
case "$(basename "$WHEEL")" in
  *"$TAG"*) ;;
  *) fail "$(basename "$WHEEL") is not tagged $TAG, the tag auditwheel found" ;;
esac

step "sdist (maturin sdist)"
(cd python && quiet 'Built source distribution' maturin sdist --out "$DIST")
SDIST="$DIST/sendcloud_status-$VERSION.tar.gz"
[ -f "$SDIST" ] || fail "no sdist at $SDIST"
# It must carry the Rust sources the wheel is built from.
LISTING=$(tar tzf "$SDIST")
for f in bindings/python/Cargo.toml crates/sendcloud-status-core/src/lib.rs Cargo.lock; do
  grep -q "/$f\$" <<<"$LISTING" || fail "the sdist lacks $f"
done

# --- Node ----------------------------------------------------------------------
# shellcheck source=lib/node-env.sh
source scripts/lib/node-env.sh

step "npm packages (scripts/npm-stage.mjs, strip, npm pack)"
STAGE=$(tmpdir)
mapfile -t STAGED < <(node scripts/npm-stage.mjs "$STAGE")
[ "${#STAGED[@]}" -ge 2 ] || fail "no addon staged (is node/lib/sendcloud-status.<platform>.node built?)"
# The release profile keeps line tables (Cargo.toml); what ships does not.
strip --strip-unneeded "$STAGE"/*/*.node # keeps the dynamic symbols Node loads
for dir in "${STAGED[@]}"; do
  (cd "$dir" && npm pack --silent --pack-destination "$DIST") >/dev/null
done
ls "$DIST"/*.tgz

# --- Rust ---------------------------------------------------------------------
step "crates (cargo package, then built from the .crate files alone)"
CRATES=(sendcloud-status-core sendcloud-status sendcloud-status-sandbox sendcloud-status-archive
  sendcloud-status-webhook sendcloud-status-cli)
rm -f "$TARGET_DIR"/package/*.crate
# --allow-dirty: this checks the tree as it is; the release workflow publishes from a clean tag.
quiet '^ *(Packaged|warning)' cargo package --locked --allow-dirty --no-verify "${CRATES[@]/#/-p}"
for crate in "${CRATES[@]}"; do
  cp "$TARGET_DIR/package/$crate-$VERSION.crate" "$DIST/crates/" || fail "cargo package made no $crate-$VERSION.crate"
done

if [ -z "${SKIP_CRATE_VERIFY:-}" ]; then
  # Not cargo package's own verification: it builds each crate against its siblings' .crate
  # files, unpacked and compiled once per name and version and trusted from then on, so with
  # the version unchanged a later run builds an earlier run's sources. Here the unpacked
  # .crate files form one workspace, each sibling patched in by path. Its place is fixed, so
  # that each run replaces the last one's artifacts, and the files get the time of unpacking
  # (.crate files hold one fixed date), so that cargo always rebuilds the six.
  VERIFY=$TARGET_DIR/package-verify
  rm -rf "$VERIFY"
  mkdir -p "$VERIFY"
  {
    echo '[workspace]'
    echo 'resolver = "3"'
    printf 'members = [%s]\n' "$(printf '"%s", ' "${CRATES[@]/%/-$VERSION}")"
    echo '[patch.crates-io]'
    for crate in "${CRATES[@]}"; do echo "$crate = { path = \"$crate-$VERSION\" }"; done
  } >"$VERIFY/Cargo.toml"
  for crate in "${CRATES[@]}"; do tar xzmf "$DIST/crates/$crate-$VERSION.crate" -C "$VERIFY"; done
  cp Cargo.lock "$VERIFY/" # the versions the tests ran with
  step "building the six crates from their .crate files (libraries and binaries)"
  (cd "$VERIFY" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --workspace --quiet) ||
    fail "the packaged crates do not build from their .crate files"
  echo "${#CRATES[@]} crates build from what cargo package put in them"
fi
# Every other workspace member must be publish = false (cargo publish then refuses it).
PUBLISHABLE=$(cargo metadata --no-deps --format-version 1 --locked |
  python -c 'import json, sys; print(" ".join(sorted(p["name"] for p in json.load(sys.stdin)["packages"] if p["publish"] != [])))')
EXPECTED=$(printf '%s\n' "${CRATES[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
[ "$PUBLISHABLE" = "$EXPECTED" ] || fail "publishable workspace members: $PUBLISHABLE; packaged: $EXPECTED"

# --- Checks of what ships -----------------------------------------------------
step "no debug info in the shipped binaries"
CHECK=$(tmpdir)
python -m zipfile -e "$WHEEL" "$CHECK/wheel"
tar xzf "$DIST"/sendcloud-status-linux-*-"$VERSION".tgz -C "$CHECK"
for bin in "$CHECK"/wheel/sendcloud_status/_native*.so "$CHECK"/package/*.node; do
  [ -f "$bin" ] || fail "no binary at $bin"
  if readelf -S --wide "$bin" | grep -q ' \.debug_'; then
    fail "$(basename "$bin") ships debug info"
  fi
  echo "$(basename "$bin"): no .debug_* sections"
done

step "sizes"
(cd "$DIST" && du -h -- *.whl *.tar.gz *.tgz crates/*.crate)

# --- Clean room ---------------------------------------------------------------
if [ -z "${SKIP_CLEAN_ROOM:-}" ]; then
  step "the smoke's sandbox: the CLI (cargo build -p sendcloud-status-cli)"
  cargo build --quiet --locked -p sendcloud-status-cli
  scripts/clean-room.sh "$DIST" "$TARGET_DIR/debug/sendcloud-status"
fi
