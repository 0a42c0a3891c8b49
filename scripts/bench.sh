#!/usr/bin/env bash
# Runs every benchmark on the loopback sandbox and rewrites BENCHMARKS.md:
# rate-limit ceiling, typed decoding (criterion), Python and Node against plain
# reference clients, CLI memory (100k vs 1M records), exports on a live account
# (drift healing), a fault soak over 5 seeds,
# a time-boxed fuzzer, and a secrets audit with a sentinel key.
#
# Usage: scripts/bench.sh            (the full run, about 20–30 minutes on 2 cores)
#        scripts/bench.sh --quick    (smaller sizes, a few minutes)
# Not part of CI: figures need a quiet machine, not a pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "release builds: bench driver, sandbox, CLI"
cargo build --release --locked -p sendcloud-status-bench -p sendcloud-status-sandbox -p sendcloud-status-cli

# shellcheck source=lib/python-env.sh
source scripts/lib/python-env.sh
# shellcheck source=lib/node-env.sh
source scripts/lib/node-env.sh

step "benchmarks (scripts/bench/run.py)"
python3 scripts/bench/run.py "$@"
