#!/usr/bin/env bash
# Runs every test of anyaudio on a fresh machine: installs what the tests need, then runs them.
# Usage: scripts/test.sh        (CI calls it through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v node >/dev/null || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

echo "== yt-dlp and the OpenAPI validator for the tests (a venv in .venv-test)"
if [ ! -x .venv-test/bin/pip ]; then
  python3 -m venv .venv-test || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv .venv-test; }
fi
.venv-test/bin/pip install --quiet --disable-pip-version-check -r scripts/test-requirements.txt
export ANYAUDIO_TEST_YT_DLP="$PWD/.venv-test/bin/yt-dlp"
export ANYAUDIO_TEST_OPENAPI_VALIDATOR="$PWD/.venv-test/bin/openapi-spec-validator"
"$ANYAUDIO_TEST_YT_DLP" --version

echo "== formatting and lints"
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings

echo "== browser test dependencies (playwright-core, no browser download)"
(cd e2e && npm ci --no-audit --no-fund --silent)

echo "== unit, property and integration tests"
# Every property test (parsers fed arbitrary input, over HTTP too) runs this many cases.
export PROPTEST_CASES="${PROPTEST_CASES:-2048}"
cargo test --locked --all-targets

echo "== browser tests (headless Chromium against the real server)"
# `cargo test` has just built target/debug/anyaudio (the integration tests run it).
[ -x target/debug/anyaudio ] || cargo build --locked --quiet
(cd e2e && ANYAUDIO_BIN="$PWD/../target/debug/anyaudio" node --test)
