#!/usr/bin/env bash
# Runs every test of anyaudio on a fresh machine: installs what the tests need, then runs them.
# Usage: scripts/test.sh        (from anywhere; CI calls it through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

# Rust toolchain components the checks use (rustup ships them; no download when present).
cargo --version

echo "== unit, property and integration tests"
cargo test --locked --all-targets 2>&1
