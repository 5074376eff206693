#!/usr/bin/env bash
# The fused kernels inside the engine, on the accelerator machine: test_fused_ops (values and
# gradients against ATen), then r1-worker bench with train.kernels on and off, and (with
# --train) 200 steps of r1-mini on real text with kernels on and off (final losses within 1 %),
# and (with --peer) the PyTorch peer (eager and torch.compile) on the same shapes. Table last.
#   usage: [REPS=n] [BENCH=0] [TRAIN_REPS=6] tests/bench/kernels_e2e.sh BUILD_DIR [--train] [--peer] [--graph]
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
  # GPU training is not bit-reproducible (atomics in the embedding and attention backward), so the
  # spread of TRAIN_REPS runs per setting is the yardstick for on vs off. With two or more GPUs a
  # kernels-on and a kernels-off run go side by side, swapping GPUs every repeat.
  NGPU=$(nvidia-smi -L 2>/dev/null | wc -l); ((NGPU >= 1)) || NGPU=1
  train_one() {  # kernels rep gpu
    CUDA_VISIBLE_DEVICES=$3 "$W" train --preset r1-mini "${SHAPE[@]}" --set train.kernels=$1 \
      --set train.steps=200 --set train.warmup_steps=20 --set eval.every=0 --set eval.batches=32 \
      --set checkpoint.every=0 \
      --set "data.paths=[\"$CORPUS/email\",\"$CORPUS/json\",\"$CORPUS/asyncio\"]" \
      --set data.cache_dir=/tmp/r1cache-gpu$3 --set run.dir=/tmp/r1runs --set run.name=e2e-$1-$2 \
      -q --jsonl >"$LOGS/train-$1-$2.jsonl" 2>"$LOGS/train-$1-$2.err"
    echo "train kernels=$1 rep $2 gpu $3 rc $?"
  }
  for ((rep = 1; rep <= ${TRAIN_REPS:-6}; rep++)); do
    g1=$((rep % 2 % NGPU)); g2=$(((rep + 1) % 2 % NGPU))
    if ((NGPU >= 2)); then
      train_one true $rep $g1 & train_one false $rep $g2 & wait
    else
      train_one true $rep 0; train_one false $rep 0
    fi
  done
  python3 - "$LOGS" "${TRAIN_REPS:-6}" <<'PY'
import json, math, sys
d, reps = sys.argv[1], int(sys.argv[2])
def events(k, rep):
    out = []
    for l in open(f"{d}/train-{k}-{rep}.jsonl"):
        try: out.append(json.loads(l))
        except ValueError: pass
    return out
def mean_sd(xs):
    m = sum(xs) / len(xs)
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / max(1, len(xs) - 1))
print(f"200 steps of r1-mini on Python's email/json/asyncio sources, {reps} runs per setting (loss = main + MTP; eval = next-token cross-entropy on 32 held-out batches):")
print("| kernels | run | step 50 | step 100 | step 150 | mean of steps 191-200 | eval at 200 |")
print("|---|---|---|---|---|---|---|")
res = {"true": ([], []), "false": ([], [])}
for k in ("true", "false"):
    for rep in range(1, reps + 1):
        ev = events(k, rep)
        L = [e["loss"] for e in ev if e.get("type") == "step"]
        E = [e["loss"] for e in ev if e.get("type") == "eval"]
        if len(L) < 200 or not E:
            print(f"| {k} | {rep} | run incomplete ({len(L)} steps, {len(E)} evals) | | | | |")
            continue
        last = sum(L[-10:]) / 10
        res[k][0].append(last); res[k][1].append(E[-1])
        print(f"| {k} | {rep} | {L[49]:.4f} | {L[99]:.4f} | {L[149]:.4f} | {last:.4f} | {E[-1]:.4f} |")
for i, what in enumerate(("mean of steps 191-200", "eval at 200")):
    on, off = res["true"][i], res["false"][i]
    if len(on) < 2 or len(off) < 2:
        print(f"{what}: too few complete runs"); continue
    (mon, son), (moff, soff) = mean_sd(on), mean_sd(off)
    se = math.sqrt(son ** 2 / len(on) + soff ** 2 / len(off))
    print(f"{what}: on {mon:.4f} ± {son:.4f} (sd, n={len(on)}), off {moff:.4f} ± {soff:.4f} (n={len(off)}); "
          f"on - off = {100 * (mon - moff) / moff:+.2f} % of off, standard error {100 * se / moff:.2f} %")
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
