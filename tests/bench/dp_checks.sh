#!/usr/bin/env bash
# Data parallel on the GPUs of one host, the checks beside the throughput table (dp_scaling.sh):
#  1. equivalence: r1-mini on real text, N ranks × batch B vs 1 GPU × batch N·B, step losses
#     side by side (bf16: equal up to reduction order, not bit-exact);
#  2. fault: kill -9 of the last rank mid-run; how long until every other rank has exited, with
#     which exit code and error event (NCCL async error handling / collective timeout).
#   usage: tests/bench/dp_checks.sh BUILD_DIR [N]     (N: GPUs, default all)
#   PRECISION=fp32 (default bf16) for the equivalence; FAULT=0 skips the fault check.
set -uo pipefail
B=${1:?build dir}; N=${2:-$(nvidia-smi -L | wc -l)}
W=$B/engine/r1-worker
LOGS=${OUT:-./dp_logs}/dp; mkdir -p "$LOGS"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
CORPUS=$(python3 -c 'import email,os;print(os.path.dirname(os.path.dirname(email.__file__)))')
COMMON=(--preset r1-mini --set train.device=cuda --set train.precision=${PRECISION:-bf16} --set data.seq_len=1024
        --set train.warmup_steps=5 --set eval.every=0 --set checkpoint.every=0 -q --jsonl
        --set "data.paths=[\"$CORPUS/email\",\"$CORPUS/json\",\"$CORPUS/asyncio\"]"
        --set data.cache_dir=/tmp/r1cache --set run.dir=/tmp/r1dp)
ranks() {  # name steps batch extra…
  local name=$1 steps=$2 batch=$3; shift 3
  local port=$((29700 + RANDOM % 200))
  for ((r = N - 1; r >= 0; r--)); do
    MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=$N RANK=$r LOCAL_RANK=$r LOCAL_WORLD_SIZE=$N \
      "$W" train "${COMMON[@]}" --set run.name=$name --set train.steps=$steps \
      --set data.batch_size=$batch "$@" >"$LOGS/$name.rank$r.jsonl" 2>"$LOGS/$name.rank$r.err" &
    echo $! >"$LOGS/$name.rank$r.pid"
  done
}
# 1. equivalence
"$W" train "${COMMON[@]}" --set run.name=one --set train.steps=50 --set data.batch_size=$((4 * N)) \
  >"$LOGS/one.jsonl" 2>"$LOGS/one.err"; echo "1 GPU x batch $((4 * N)): rc $?"
ranks dp 50 4; wait; echo "$N GPUs x batch 4: done"
python3 - "$LOGS" <<'PY'
import json, sys
d = sys.argv[1]
def steps(f): return [json.loads(l) for l in open(f) if '"type":"step"' in l]
a, b = steps(f"{d}/one.jsonl"), steps(f"{d}/dp.rank0.jsonl")
print("| step | 1 GPU, batch 4N | N GPUs, batch 4 each | |diff| |")
print("|---|---|---|---|")
worst = 0
for s1, s2 in zip(a, b):
    d_ = abs(s1["loss"] - s2["loss"]); worst = max(worst, d_ / s1["loss"])
    if s1["step"] in (1, 2, 5, 10, 20, 30, 40, 50):
        print(f"| {s1['step']} | {s1['loss']:.4f} | {s2['loss']:.4f} | {d_:.4f} |")
print(f"steps compared: {min(len(a), len(b))}; largest relative loss difference {100*worst:.3f} %")
PY
# 2. fault
[ "${FAULT:-1}" = 0 ] && exit 0
ranks fault 100000 4
sleep 25
victim=$(cat "$LOGS/fault.rank$((N - 1)).pid")
kill -9 "$victim"; t0=$(date +%s.%N)
for ((r = 0; r < N - 1; r++)); do
  pid=$(cat "$LOGS/fault.rank$r.pid")
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; x=$(date +%s.%N); awk "BEGIN{exit !($x-$t0>120)}" && { echo "rank $r still running after 120 s"; kill -9 $pid; }; done
  wait "$pid"; rc=$?
  echo "rank $r exited $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N)-$t0}") s after kill -9 of rank $((N - 1)) (exit code $rc)"
  grep -o '"type":"error"[^}]*' "$LOGS/fault.rank$r.jsonl" | head -1 | cut -c1-300
done
echo "processes left: $(pgrep -fc 'run.name=fault' || true)"
