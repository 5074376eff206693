#!/usr/bin/env bash
# The main job: set-up, build, then start the workbench. Without a display it trains the
# default experiment (r1-nano on Debian's fortunes, English + Chinese) headless with a
# progress bar; extra arguments then go to `r1-worker train`, e.g. ./run.sh --set train.steps=1000
set -euo pipefail
cd "$(dirname "$0")"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${1:-}" != "--headless" ]; then
  R1_TARGETS="r1-workbench r1-worker" ./setup.sh
  exec build/app/r1-workbench "$@"
fi
[ "${1:-}" = "--headless" ] && shift
R1_TARGETS=r1-worker ./setup.sh
exec build/engine/r1-worker train --config resources/experiments/default.toml "$@"
