#!/usr/bin/env bash
# The main job: set-up, build, then run the default experiment (r1-nano on Debian's fortunes,
# English + Chinese) with a progress bar. Extra arguments go to `r1-worker train`,
# e.g. ./run.sh --set train.steps=1000
set -euo pipefail
cd "$(dirname "$0")"
R1_TARGETS=r1-worker ./setup.sh
exec build/engine/r1-worker train --config resources/experiments/default.toml "$@"
