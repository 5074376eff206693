#!/usr/bin/env bash
# The fused kernels inside the engine, on the accelerator machine: test_fused_ops (values and
# gradients against ATen), then r1-worker bench with train.kernels on and off, and (with
# --train) 200 steps of r1-mini on real text with kernels on and off (final losses within 1 %),
# and (with --peer) the PyTorch peer (eager and torch.compile) on the same shapes. Table last.
#   usage: tests/bench/kernels_e2e.sh BUILD_DIR [--train] [--peer]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
B=${1:?build dir}; shift
TRAIN=0; PEER=0; GRAPH=0
for a in "$@"; do case $a in --train) TRAIN=1 ;; --peer) PEER=1 ;; --graph) GRAPH=1 ;; esac; done
LOGS=${OUT:+$OUT/e2e}; LOGS=${LOGS:-$B/e2e-logs}; mkdir -p "$LOGS"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
W=$B/engine/r1-worker
SHAPE=(--set train.device=cuda --set train.precision=bf16 --set data.batch_size=8 --set data.seq_len=1024)
rows=()

[ -x "$B/tests/test_fused_ops" ] && { "$B/tests/test_fused_ops" >"$LOGS/test_fused_ops.log" 2>&1
echo "test_fused_ops rc $?"; }; grep -sE "QINFO|FAIL|SKIP|Totals" "$LOGS/test_fused_ops.log" | head -60

# BENCH=0 skips the bench rows (with --train: only the loss check).
for ((rep = 1; rep <= ${REPS:-1} * ${BENCH:-1}; rep++)); do  # REPS=3: interleaved repeats (host noise)
for p in r1-mini r1-mini-dense; do
  for k in true false graph; do
    [ $k = graph ] && ((!GRAPH)) && continue
    L=$LOGS/bench-$p-$k-$rep.log
    if [ $k = graph ]; then set -- --set train.kernels=true --set train.cuda_graph=true; run="kernels true + cuda_graph"
    else set -- --set train.kernels=$k; run="kernels $k"; fi
    "$W" bench --preset $p "${SHAPE[@]}" "$@" --steps 20 --warmup 5 >"$L" 2>&1
    rows+=("$p|ours, $run|$(awk '/^tokens\/s/ {print $2}' "$L")|$(awk '/^MFU/ {print $2}' "$L")|$(awk '/^peak GPU/ {print $4" "$5}' "$L")")
  done
done
done

if ((TRAIN)); then
  CORPUS=$(python3 -c 'import email,os;print(os.path.dirname(os.path.dirname(email.__file__)))')
  # Twice each, interleaved: GPU training is not bit-deterministic (atomics in index_add, SDPA
  # backward), so the spread between two runs of one setting is the yardstick for on vs off.
  for rep in 1 2; do
    for k in true false; do
      "$W" train --preset r1-mini "${SHAPE[@]}" --set train.kernels=$k --set train.steps=200 \
        --set train.warmup_steps=20 --set eval.every=0 --set checkpoint.every=0 \
        --set "data.paths=[\"$CORPUS/email\",\"$CORPUS/json\",\"$CORPUS/asyncio\"]" \
        --set data.cache_dir=/tmp/r1cache --set run.dir=/tmp/r1runs --set run.name=e2e-$k-$rep -q --jsonl \
        >"$LOGS/train-$k-$rep.jsonl" 2>"$LOGS/train-$k-$rep.err"
      echo "train kernels=$k rep $rep rc $?"; tail -2 "$LOGS/train-$k-$rep.err"
    done
  done
  python3 - "$LOGS" <<'PY'
import json, sys
d = sys.argv[1]
def losses(k, rep):
    return [json.loads(l)["loss"] for l in open(f"{d}/train-{k}-{rep}.jsonl") if '"type":"step"' in l]
print("200 steps of r1-mini on Python's email/json/asyncio sources (loss = main + MTP):")
print("| kernels | run | step 50 | step 100 | step 150 | mean of steps 191-200 |")
print("|---|---|---|---|---|---|")
last = {}
for k in ("true", "false"):
    for rep in (1, 2):
        L = losses(k, rep)
        last[(k, rep)] = sum(L[-10:]) / 10
        print(f"| {k} | {rep} | {L[49]:.4f} | {L[99]:.4f} | {L[149]:.4f} | {last[(k, rep)]:.4f} |")
on = (last[("true", 1)] + last[("true", 2)]) / 2
off = (last[("false", 1)] + last[("false", 2)]) / 2
spread = max(abs(last[("true", 1)] - last[("true", 2)]), abs(last[("false", 1)] - last[("false", 2)]))
print(f"on vs off: {100 * abs(on - off) / off:.2f} % apart; same-setting repeats up to {100 * spread / off:.2f} % apart")
PY
fi

if ((PEER)); then
  for p in r1-mini r1-mini-dense; do
    python3 tests/bench/r1_torch_peer.py --preset $p --batch 8 --seq 1024 --steps 20 --warmup 5 >"$LOGS/peer-$p.log" 2>&1
    echo "peer $p rc $?"; tail -4 "$LOGS/peer-$p.log"
  done
fi

echo
echo "$(date -u +%F) commit ${R1_COMMIT:-?} — $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), bf16, batch 8 × seq 1024"
echo "| preset | run | tokens/s | MFU | peak GPU memory |"
echo "|---|---|---|---|---|"
for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
