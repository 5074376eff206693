#!/usr/bin/env bash
# The detector's training on a GPU, fp32 against autocast bf16 and fp16 (with the loss scaler), on
# one phantom set, in one call: images/s, the loss at the start and the end, the final mAP@0.5 and
# CPM on the held-out scans, and what the run's telemetry said (gpu events with the SM clock,
# host events). Prints a Markdown table last; full event logs go to $OUT/detect-train (or
# BUILD_DIR/detect-train-logs).
#   usage: tests/bench/detect_gpu_train.sh BUILD_DIR [STEPS]      (default 300)
set -uo pipefail
B=${1:?build dir}
STEPS=${2:-300}
W=$B/engine/r1-worker
LOGS=${OUT:+$OUT/detect-train}
LOGS=${LOGS:-$B/detect-train-logs}
mkdir -p "$LOGS"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
WORK=$(mktemp -d)
"$W" detect phantom --out "$WORK/ph" --scans 12 --seed 7 --size 256 >"$LOGS/phantom.log" 2>&1 ||
  { tail "$LOGS/phantom.log"; exit 2; }
cat >"$WORK/det.toml" <<TOML
[data]
root = "$WORK/ph"
annotations = "$WORK/ph/annotations.csv"
val_scans = 3
[train]
device = "${R1_DETECT_DEVICE:-cuda}"
batch_size = 16
sizes = [128, 256]
resize_at = [0.5]
eval_every = 0
checkpoint_every = 0
out_dir = "$WORK/runs"
TOML
rows=()
for p in fp32 bf16 fp16; do
  log=$LOGS/train-$p.jsonl
  "$W" detect train --config "$WORK/det.toml" --set train.steps="$STEPS" \
    --set train.precision=$p --set train.run_name=$p --jsonl >"$log" 2>"$LOGS/train-$p.err"
  rc=$?
  row=$(python3 - "$log" "$rc" "$p" <<'PY'
import json, sys
path, rc, p = sys.argv[1], int(sys.argv[2]), sys.argv[3]
steps, evals, gpu, host, fin, clocks = [], [], 0, 0, None, []
for line in open(path):
    try: e = json.loads(line)
    except ValueError: continue
    t = e.get("type")
    if t == "step": steps.append(e)
    elif t == "eval": evals.append(e)
    elif t == "gpu":
        gpu += 1
        if "sm_clock_mhz" in e: clocks.append(e["sm_clock_mhz"])
    elif t == "host": host += 1
    elif t == "finish": fin = e
ips = [s["tokens_per_s"] for s in steps[len(steps)//2:] if s.get("tokens_per_s")]
m = evals[-1].get("metrics", {}) if evals else {}
f = lambda v: "-" if v is None else ("%.3f" % v if isinstance(v, float) else str(v))
print("|".join([p, str(rc), f(fin and fin.get("status")), f(steps[0]["loss"] if steps else None),
                f(steps[-1]["loss"] if steps else None),
                "%.0f" % (sum(ips) / len(ips)) if ips else "-", f(m.get("map50")), f(m.get("cpm")),
                str(gpu), "%d..%d" % (min(clocks), max(clocks)) if clocks else "-", str(host)]))
PY
)
  rows+=("$row")
done
echo
echo "$(date -u +%F) commit ${R1_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null)} — $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1); $STEPS steps, batch 16, 128 -> 256 px, 12 phantom scans (3 held out)"
echo "| precision | exit | finish | loss first | loss last | images/s (2nd half) | mAP@0.5 | CPM | gpu events | SM clock MHz | host events |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
rm -rf "$WORK"
