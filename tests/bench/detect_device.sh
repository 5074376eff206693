#!/usr/bin/env bash
# The nodule detector's inference on the accelerator machine, in one call (issue 5): builds
# detect_bench (configuring BUILD_DIR as kernels_device.sh does when it is not configured yet),
# then at 512² for each batch runs ours (detect_bench) and the plain-PyTorch peer
# (detect_torch_peer.py, eager) in fp32 and under bf16 / fp16 autocast, one process per run,
# ours and the peer interleaved; checks that both count the same parameters; table last.
#   usage: tests/bench/detect_device.sh BUILD_DIR [--size 512] [--batches "16 1"]
# Logs (one JSON line per run, stderr beside it) go to $OUT/detect (or BUILD_DIR/detect-logs).
# Exit status: 0 when every run succeeded and the parameter counts agree.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
B=${1:?build dir}; shift
SIZE=512; BATCHES="16 1"
while (($#)); do
  case $1 in
    --size) SIZE=${2:?}; shift 2 ;;
    --batches) BATCHES=${2:?}; shift 2 ;;
    *) echo "usage: $0 BUILD_DIR [--size 512] [--batches \"16 1\"]"; exit 2 ;;
  esac
done
LOGS=${OUT:+$OUT/detect}; LOGS=${LOGS:-$B/detect-logs}; mkdir -p "$LOGS"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
say() { printf '\n== %s\n' "$*"; }

say "device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -4
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
  "cudnn", torch.backends.cudnn.version())' 2>&1 | tail -1

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
    echo "detect_device: configuring $B failed (log: $LOGS/configure.log)"
    exit 2
  fi
  grep -E "LibTorch CUDA|CUDA compiler" "$LOGS/configure.log"
fi

say "build detect_bench"
if ! cmake --build "$B" -j"$(nproc)" --target detect_bench >"$LOGS/build.log" 2>&1; then
  grep -E "error|Error" -A3 "$LOGS/build.log" | head -60
  echo "detect_device: build failed (log: $LOGS/build.log)"
  exit 2
fi

say "runs at ${SIZE}², batches $BATCHES"
runs=()
for b in $BATCHES; do
  iters=$((b >= 8 ? 50 : 200))
  for dt in fp32 bf16 fp16; do
    common=(--device cuda --size "$SIZE" --batch "$b" --dtype "$dt" --iters "$iters" --warmup 10)
    "$B/tests/detect_bench" "${common[@]}" --json >"$LOGS/ours-$dt-b$b.json" 2>"$LOGS/ours-$dt-b$b.err"
    echo "ours $dt batch $b rc $?"; tail -3 "$LOGS/ours-$dt-b$b.err"
    python3 tests/bench/detect_torch_peer.py "${common[@]}" \
      >"$LOGS/peer-$dt-b$b.json" 2>"$LOGS/peer-$dt-b$b.err"
    echo "peer $dt batch $b rc $?"; tail -3 "$LOGS/peer-$dt-b$b.err"
    runs+=("ours-$dt-b$b" "peer-$dt-b$b")
  done
done

echo
python3 - "$LOGS" "$SIZE" "${R1_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null)}" "${runs[@]}" <<'PY'
import datetime, json, sys
logs, size, commit, names = sys.argv[1], sys.argv[2], sys.argv[3] or "?", sys.argv[4:]
res = {}
for n in names:
    try:
        res[n] = json.loads(open(f"{logs}/{n}.json").read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        res[n] = None
ok = all(r is not None for r in res.values())
params = {n.split("-")[0]: r["params"] for n, r in res.items() if r}
counts = sorted(set(params.values()))
print(f"parameters: ours {params.get('ours', '?')}, PyTorch peer {params.get('peer', '?')} "
      f"({'equal' if len(counts) == 1 else 'DIFFER'})")
ok = ok and len(counts) == 1
any_r = next((r for r in res.values() if r), {})
print()
print(f"{datetime.date.today()} commit {commit} — {any_r.get('device_name', '?')}, torch "
      f"{any_r.get('torch', '?')}, detector inference at {size}² × {any_r.get('channels', '?')} "
      f"slices (eval, no_grad; fp32 convs TF32: {any_r.get('tf32_conv', '?')}; bf16/fp16 = "
      f"autocast)")
print("| impl | dtype | batch | slices/s | peak MiB | memory vs fp32 |")
print("|---|---|---|---|---|---|")
label = {"ours": "ours (LibTorch)", "peer": "PyTorch eager"}
for n in names:
    impl, dt, b = n.split("-")
    r, base = res[n], res.get(f"{impl}-fp32-{b}")
    if r is None:
        print(f"| {label[impl]} | {dt} | {b[1:]} | FAILED | | |")
        continue
    vs = "—"
    if dt != "fp32" and base and base["peak_mib"] and r["peak_mib"] is not None:
        vs = f"{100 * (r['peak_mib'] / base['peak_mib'] - 1):+.1f} %"
    peak = "—" if r["peak_mib"] is None else f"{r['peak_mib']:.0f}"
    if dt != "fp32" and not r["autocast"]:
        dt += " (ran fp32: no autocast)"
    print(f"| {label[impl]} | {dt} | {r['batch']} | {r['slices_per_s']:.0f} | {peak} | {vs} |")
sys.exit(0 if ok else 1)
PY
