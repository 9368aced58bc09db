#!/usr/bin/env bash
# The soak test (not part of CI): hundreds of listeners across local, HTTP and YouTube-style
# tracks for a bounded few minutes, a rescan and a faulty origin meanwhile, then SIGTERM.
# Usage: scripts/soak.sh [--seconds 90] [--rounds 2] [--clients 300] [--drain-clients 100]
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 bench/soak.py "$@"
