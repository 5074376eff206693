#!/usr/bin/env bash
# Builds everything and runs every test (QtTest executables registered with ctest).
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
ctest --test-dir build --output-on-failure -j 2 "$@"
