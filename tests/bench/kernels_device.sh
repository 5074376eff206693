#!/usr/bin/env bash
# kernels/ on the accelerator machine, in one call: build test_kernels + kernel_bench, run the
# test (every GPU case against the float64 CPU reference), run it again under compute-sanitizer
# (memcheck on all cases, racecheck on the kernels with shared memory) where the machine allows
# it, then the bandwidth bench; the bench's Markdown table comes last.
#
#   usage: tests/bench/kernels_device.sh [BUILD_DIR] [kernel_bench options…]
#          (BUILD_DIR defaults to build-gpu; when it is not configured yet, .device-deps/env.sh
#           is sourced if present and the tree is configured as docs/BUILD.md says.)
# Logs go to $OUT/kernels (or BUILD_DIR/kernel-logs). Exit status: that of the test.
# R1_KERNELS_SANITIZE=0 skips the compute-sanitizer runs (capped at 150 s + 120 s otherwise).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build-gpu}
shift $(($# > 0 ? 1 : 0))
LOGS=${OUT:+$OUT/kernels}
LOGS=${LOGS:-$B/kernel-logs}
mkdir -p "$LOGS"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export QT_QPA_PLATFORM=offscreen
say() { printf '\n== %s\n' "$*"; }

say "device"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem \
  --format=csv,noheader 2>&1 | head -4
nvcc --version 2>/dev/null | tail -1

if [ ! -f "$B/CMakeCache.txt" ]; then
  say "configure $B"
  if [ -z "${R1_DEVICE_CMAKE_ARGS:-}" ] && [ -f .device-deps/env.sh ]; then
    # shellcheck disable=SC1091
    source .device-deps/env.sh
  fi
  # shellcheck disable=SC2086
  if ! cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release ${R1_DEVICE_CMAKE_ARGS:-} \
      >"$LOGS/configure.log" 2>&1; then
    tail -40 "$LOGS/configure.log"
    echo "kernels_device: configuring $B failed (log: $LOGS/configure.log)"
    exit 2
  fi
  grep -E "CUDA compiler|LibTorch CUDA|Qt 6 " "$LOGS/configure.log"
fi

say "build test_kernels kernel_bench"
if ! cmake --build "$B" -j"$(nproc)" --target test_kernels kernel_bench \
    >"$LOGS/build.log" 2>&1; then
  grep -E "error|Error" -A3 "$LOGS/build.log" | head -60
  echo "kernels_device: build failed (log: $LOGS/build.log)"
  exit 2
fi
grep -iE "warning" "$LOGS/build.log" | head -20

say "test_kernels"
T=$B/tests/test_kernels
"$T" >"$LOGS/test_kernels.log" 2>&1
test_rc=$?
grep -E "^(QINFO|PASS|FAIL!|SKIP|XFAIL|XPASS)|^   Actual|^   Expected|Totals" \
  "$LOGS/test_kernels.log" | grep -vE "^PASS   : TestKernels::(initTestCase|cleanupTestCase)"
[ $test_rc -eq 0 ] ||
  echo "kernels_device: test_kernels FAILED (rc $test_rc; log: $LOGS/test_kernels.log)"

if [ "${R1_KERNELS_SANITIZE:-1}" != 0 ] && command -v compute-sanitizer >/dev/null 2>&1; then
  # R1_KERNELS_QUICK skips the 100M-element AdamW case (minutes under the sanitizer).
  say "compute-sanitizer memcheck (all cases)"
  R1_KERNELS_QUICK=1 timeout 150 compute-sanitizer --tool memcheck --leak-check no \
    --error-exitcode 3 "$T" >"$LOGS/memcheck.log" 2>&1
  echo "memcheck rc $? ($LOGS/memcheck.log):"
  grep -E "ERROR SUMMARY|Invalid|out of bounds|Device not supported|Totals|FAIL!" \
    "$LOGS/memcheck.log" | head -20
  say "compute-sanitizer racecheck (the kernels with shared memory)"
  R1_KERNELS_QUICK=1 timeout 120 compute-sanitizer --tool racecheck --error-exitcode 3 \
    "$T" crossEntropyGpu rmsnormGpu moeRoutingGpu moePermuteGpu >"$LOGS/racecheck.log" 2>&1
  echo "racecheck rc $? ($LOGS/racecheck.log):"
  grep -E "ERROR SUMMARY|RACECHECK SUMMARY|hazard|Device not supported|Totals|FAIL!" \
    "$LOGS/racecheck.log" | head -20
else
  say "compute-sanitizer: skipped (not found, or R1_KERNELS_SANITIZE=0)"
fi

say "kernel_bench $*"
"$B/tests/kernel_bench" "$@" >"$LOGS/kernel_table.md" 2>"$LOGS/kernel_bench.log"
bench_rc=$?
cat "$LOGS/kernel_bench.log"
[ $bench_rc -eq 0 ] || echo "kernels_device: kernel_bench FAILED (rc $bench_rc)"
cat "$LOGS/kernel_table.md"
exit $test_rc
