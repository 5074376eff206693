#!/usr/bin/env bash
# Data-parallel scaling on one host: r1-worker bench on 1 GPU without a process group, on 1 GPU
# through NCCL (WORLD_SIZE=1: the bucketing and all-reduce path alone), and on N GPUs (every GPU
# this host shows, when more than one). Prints one table; full logs go to $OUT (or ./dp_logs).
#   usage: tests/bench/dp_scaling.sh BUILD_DIR [presets…]   (default: r1-mini r1-mini-dense)
# Keeps NVLink multicast off in every process (see the device README).
set -uo pipefail
BUILD=${1:?build dir}; shift
PRESETS=("$@")
[ ${#PRESETS[@]} -eq 0 ] && PRESETS=(r1-mini r1-mini-dense)
W=$BUILD/engine/r1-worker
LOGS=${OUT:-./dp_logs}; mkdir -p "$LOGS"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
N=$(nvidia-smi -L 2>/dev/null | wc -l)
ARGS=(--set train.device=cuda --set train.precision=bf16 --set data.batch_size=8
      --set data.seq_len=1024 --steps 20 --warmup 5)
run() {  # name world preset → tokens/s and wait
  local name=$1 world=$2 preset=$3 port=$((29600 + RANDOM % 300))
  local log=$LOGS/$name-$preset-$rep.log
  if [ "$world" = 0 ]; then
    "$W" bench --preset "$preset" "${ARGS[@]}" >"$log" 2>&1
  else
    for ((r = world - 1; r >= 0; r--)); do
      MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=$world RANK=$r LOCAL_RANK=$r \
        LOCAL_WORLD_SIZE=$world "$W" bench --preset "$preset" "${ARGS[@]}" >"$log.rank$r" 2>&1 &
    done
    wait
    cp "$log.rank0" "$log"
  fi
  local tps wait_ms early unused
  tps=$(awk '/^tokens\/s/ {print $2}' "$log")
  wait_ms=$(sed -n 's/.*all-reduce wait \([0-9.]*\) ms.*/\1/p' "$log")
  early=$(sed -n 's/^overlap: \([0-9.]*\) gradient buckets of \([0-9]*\).*/\1 of \2/p' "$log")
  unused=$(sed -n 's/^overlap:.*(\([0-9.]*\) parameters unused.*/\1/p' "$log")
  echo "$preset|$name|${tps:-FAILED}|${wait_ms:--}|${early:--}|${unused:--}"
}
rows=()
for ((rep = 1; rep <= ${REPS:-1}; rep++)); do  # REPS=3: interleaved repeats (host noise)
for p in "${PRESETS[@]}"; do
  rows+=("$(run single 0 "$p")")
  rows+=("$(run nccl-1 1 "$p")")
  ((N > 1)) && rows+=("$(run nccl-$N "$N" "$p")")
done
done
echo
echo "$(date -u +%F) commit ${R1_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null)} — $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1) × $N"
echo "| preset | run | tokens/s (all ranks) | all-reduce wait ms/step | buckets started in backward | parameters unused/step |"
echo "|---|---|---|---|---|---|"
for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
