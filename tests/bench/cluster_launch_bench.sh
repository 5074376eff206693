#!/usr/bin/env bash
# Launch latency over SSH (issue 4, "Benchmark"): 8 loopback nodes × 2 ranks of the sshd fixture
# (127.0.0.2 … 127.0.0.9, one free port), time from "launch" until each of the 16 ranks has had
# its first output line delivered to the launching side, side by side in one run:
#   ours cold   r1-cluster launch --follow (`r1-worker cluster launch` without LibTorch),
#               no ssh master connection yet (a fresh control folder: first connection to every node)
#   ours warm   the same command again while its ControlMaster connections are up
#   ssh seq     a plain sequential loop, one `ssh` per rank
#   ssh par     the same 16 `ssh` started in the background at once (context)
#   pdsh        pdsh -R ssh -w <8 nodes>, each node starting its 2 ranks
# Every rank gets torchrun's variables (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK,
# LOCAL_WORLD_SIZE). Two workloads, the same for every launcher:
#   worker  `r1-worker info --versions` (a real worker start: it loads LibTorch). A training
#           rank's first event needs the whole job (rendezvous of all 16, data, model), so it
#           cannot time the launch; this is the worker's own start-up instead.
#   echo    a sh script printing one line: the launcher's own latency.
# For `cluster launch` the rank's program is the profile's `worker` key pointing at a script
# running that workload (it ignores the `train …` arguments) and ends with a finish event.
#
#   sudo tests/bench/cluster_launch_bench.sh [BUILD_DIR] [RUNS]     (default: build, 3)
# Needs root (the fixture creates the user r1node), Debian's openssh-server, and pdsh (installed
# here with apt-get if missing: a benchmark peer only, the tests do not need it).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${2:-3}
worker=$build/engine/r1-worker
launcher=$build/engine/r1-cluster
fixture=$root/tests/fixtures/sshd_fixture.sh
user=r1node
addrs=(127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9)
slots=2
nranks=$((${#addrs[@]} * slots))

[ "$(id -u)" = 0 ] || { echo "cluster_launch_bench: needs root (the sshd fixture creates $user)" >&2; exit 1; }
[ -x "$worker" ] && [ -x "$launcher" ] || { echo "cluster_launch_bench: $worker or $launcher missing (cmake --build build --target r1-worker r1-cluster)" >&2; exit 1; }
if ! command -v pdsh >/dev/null; then
  echo "cluster_launch_bench: pdsh is missing; installing Debian's pdsh (apt-get install pdsh), a benchmark peer only"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends pdsh >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends pdsh >/dev/null; }
fi

dir=$(mktemp -d /tmp/r1lbXXXXXX)  # short: control sockets live under it
chmod 755 "$dir"
cleanup() {
  set +e
  for c in "$dir"/c*/r1-ssh; do
    [ -d "$c" ] || continue
    for a in "${addrs[@]}"; do
      ssh -o ControlPath="$c/%C" -O exit -p "$port" "$user@$a" >/dev/null 2>&1
    done
  done
  sh "$fixture" stop "$dir/sshd"
  rm -rf "$dir"
}
port=0
trap cleanup EXIT

# A port free on every address.
port=$(python3 - "${addrs[@]}" <<'EOF'
import socket, sys
for _ in range(100):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    try:
        for a in sys.argv[1:]:
            t = socket.socket(); t.bind((a, p)); t.close()
    except OSError:
        continue
    print(p); break
EOF
)
sh "$fixture" start "$dir/sshd" "$port" "$user" "${addrs[@]}" >/dev/null
key=$dir/sshd/client_ed25519
kh=$dir/known_hosts
for a in "${addrs[@]}"; do echo "[$a]:$port $(cut -d' ' -f1,2 "$dir/sshd/host_ed25519.pub")"; done > "$kh"
mkdir -p "$dir/work" && chown "$user" "$dir/work"

# The workloads (run as the node user; `$@` — `train -c …` from the launcher — is ignored).
# Each ends with a `finish` event line, so that under `cluster launch` a rank that is done
# counts as completed: without it the fault policy fails the job as soon as the first rank
# ends and stops the others, some before their first line (seen in a first version).
finish='printf '\''{"v":1,"type":"finish","time":%s,"run":"bench","rank":%s,"status":"completed","step":0,"seconds":0}\n'\'' "$(date +%s)" "${RANK:-0}"'
cat > "$dir/rank-worker.sh" <<EOF
#!/bin/sh
'$worker' info --versions
$finish
EOF
cat > "$dir/rank-echo.sh" <<EOF
#!/bin/sh
echo "rank \${RANK:-?} of \${WORLD_SIZE:-?} up"
$finish
EOF
chmod 755 "$dir/rank-worker.sh" "$dir/rank-echo.sh"

# The experiment the launcher validates (a small valid one; the workload above ignores it).
printf 'text for the bench %s\n' $(seq 1 50) > "$dir/corpus.txt"
cat > "$dir/experiment.toml" <<EOF
[run]
name = "bench"
[model]
preset = "r1-nano"
vocab_size = 300
[data]
paths = ["$dir/corpus.txt"]
seq_len = 16
batch_size = 4
cache_dir = "$dir/work/cache"
[train]
steps = 2
EOF

profile() {  # $1 workload
  {
    echo 'name = "bench"'
    echo "remote_workdir = \"$dir/work\""
    echo "worker = \"$dir/rank-$1.sh\""
    echo "known_hosts = \"$kh\""
    echo 'ssh_config = "/dev/null"'
    echo 'gloo_socket_ifname = "lo"'
    for a in "${addrs[@]}"; do
      printf '[[nodes]]\nhost = "%s"\nport = %s\nuser = "%s"\nidentity_file = "%s"\nslots = %s\n' \
        "$a" "$port" "$user" "$key" "$slots"
    done
  } > "$dir/profile-$1.toml"
}
profile worker
profile echo

SSH_OPTS=(-T -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$kh" -i "$key"
  -p "$port" -o LogLevel=ERROR)
env_of() {  # $1 rank $2 local rank
  echo "MASTER_ADDR=127.0.0.2 MASTER_PORT=29500 WORLD_SIZE=$nranks RANK=$1 LOCAL_RANK=$2 LOCAL_WORLD_SIZE=$slots"
}

# Reads lines tagged "[rank R]" on stdin; writes to $1 the seconds from $2 (EPOCHREALTIME) until
# every rank had a line, or "-" if some never did. Keeps reading to the end.
collect() {
  local out=$1 t0=$2 line n=0 r
  local -A seen=()
  echo - > "$out"
  while IFS= read -r line; do
    if [[ $line =~ \[rank\ ([0-9]+)\] ]]; then
      r=${BASH_REMATCH[1]}
      if [ -z "${seen[$r]:-}" ]; then
        seen[$r]=1
        n=$((n + 1))
        [ $n = "$nranks" ] && echo "$EPOCHREALTIME $t0" | awk '{printf "%.2f\n", $1 - $2}' > "$out"
      fi
    elif [[ $line =~ job\ .*\ launched: ]]; then
      echo "$EPOCHREALTIME $t0" | awk '{printf "%.2f\n", $1 - $2}' > "$out.launched"
    fi
  done
}

ours() {  # $1 workload $2 control folder (XDG_RUNTIME_DIR) $3 result file
  rm -f "$3.launched"
  local t0=$EPOCHREALTIME
  XDG_RUNTIME_DIR=$2 timeout 120 "$launcher" --state-dir "$dir/state" launch \
    --profile "$dir/profile-$1.toml" -c "$dir/experiment.toml" --follow --grace 1 2>&1 |
    collect "$3" "$t0" || true
}

ssh_seq() {  # $1 workload $2 result file
  local t0=$EPOCHREALTIME
  {
    local r=0
    for a in "${addrs[@]}"; do
      for ((l = 0; l < slots; l++)); do
        timeout 60 ssh "${SSH_OPTS[@]}" "$user@$a" \
          "$(env_of $r $l) $dir/rank-$1.sh | sed 's/^/[rank $r] /'" || true
        r=$((r + 1))
      done
    done
  } | collect "$2" "$t0"
}

ssh_par() {  # $1 workload $2 result file
  local t0=$EPOCHREALTIME
  {
    local r=0
    for a in "${addrs[@]}"; do
      for ((l = 0; l < slots; l++)); do
        timeout 60 ssh "${SSH_OPTS[@]}" "$user@$a" \
          "$(env_of $r $l) $dir/rank-$1.sh | sed 's/^/[rank $r] /'" &
        r=$((r + 1))
      done
    done
    wait
  } | collect "$2" "$t0"
}

# pdsh runs one command per node; the node's index comes from the address it was reached on.
pdsh_cmd() {
  echo "set -- \$SSH_CONNECTION; n=\$((\${3##*.} - 2)); l=0; while [ \$l -lt $slots ]; do" \
    "r=\$((n * $slots + l)); (env MASTER_ADDR=127.0.0.2 MASTER_PORT=29500 WORLD_SIZE=$nranks" \
    "RANK=\$r LOCAL_RANK=\$l LOCAL_WORLD_SIZE=$slots $dir/rank-$1.sh | sed \"s/^/[rank \$r] /\") &" \
    "l=\$((l + 1)); done; wait"
}
pdsh_run() {  # $1 workload $2 result file
  local t0=$EPOCHREALTIME hosts
  hosts=$(IFS=,; echo "${addrs[*]}")
  PDSH_SSH_ARGS_APPEND="${SSH_OPTS[*]}" timeout 120 pdsh -R ssh -l "$user" -w "$hosts" \
    "$(pdsh_cmd "$1")" 2>&1 | collect "$2" "$t0" || true
}

declare -A res
for ((i = 1; i <= runs; i++)); do
  for w in worker echo; do
    c=$dir/c$i$w  # fresh control folder: the first launch connects cold
    mkdir -m 700 "$c"
    ours "$w" "$c" "$dir/t"; res[ours_cold,$w,$i]=$(cat "$dir/t"); res[ours_cold_l,$w,$i]=$(cat "$dir/t.launched" 2>/dev/null || echo -)
    ours "$w" "$c" "$dir/t"; res[ours_warm,$w,$i]=$(cat "$dir/t"); res[ours_warm_l,$w,$i]=$(cat "$dir/t.launched" 2>/dev/null || echo -)
    ssh_seq "$w" "$dir/t"; res[ssh_seq,$w,$i]=$(cat "$dir/t")
    ssh_par "$w" "$dir/t"; res[ssh_par,$w,$i]=$(cat "$dir/t")
    pdsh_run "$w" "$dir/t"; res[pdsh,$w,$i]=$(cat "$dir/t")
    t0=$EPOCHREALTIME
    "$launcher" --state-dir "$dir/none" status >/dev/null
    res[cli,$w,$i]=$(echo "$EPOCHREALTIME $t0" | awk '{printf "%.2f\n", $1 - $2}')
    echo "run $i, $w: ours cold ${res[ours_cold,$w,$i]} s (launched ${res[ours_cold_l,$w,$i]}), warm ${res[ours_warm,$w,$i]} s (launched ${res[ours_warm_l,$w,$i]}), ssh seq ${res[ssh_seq,$w,$i]} s, ssh par ${res[ssh_par,$w,$i]} s, pdsh ${res[pdsh,$w,$i]} s" >&2
  done
done

median() { printf '%s\n' "$@" | grep -v '^-$' | sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
row() {  # $1 key $2 workload $3 label $4 command
  local vals=() i
  for ((i = 1; i <= runs; i++)); do vals+=("${res[$1,$2,$i]}"); done
  printf '| %s | %s | `%s` |' "$3" "$2" "$4"
  printf ' %s |' "${vals[@]}"
  printf ' **%s** |\n' "$(median "${vals[@]}")"
}
hdr="| launcher | workload | command |"
sep="|---|---|---|"
for ((i = 1; i <= runs; i++)); do hdr+=" run $i (s) |"; sep+="---:|"; done
echo
echo "8 loopback nodes × $slots ranks = $nranks ranks; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(ssh -V 2>&1 | cut -d, -f1), $(pdsh -V 2>&1 | head -1)"
echo
echo "$hdr median (s) |"
echo "$sep---:|"
for w in echo worker; do
  row ours_cold "$w" "ours, cold" "r1-cluster launch --profile P -c E --follow"
  row ours_warm "$w" "ours, warm" "(same, ControlMaster up)"
  row ours_cold_l "$w" "ours, cold: launch done" "(ranks started, pids read)"
  row ours_warm_l "$w" "ours, warm: launch done" "(ranks started, pids read)"
  row cli "$w" "(context) our CLI's own start" "r1-cluster status (no jobs)"
  row ssh_seq "$w" "ssh, sequential" "for rank: ssh node 'ENV rank.sh'"
  row ssh_par "$w" "ssh, parallel" "for rank: ssh node 'ENV rank.sh' &; wait"
  row pdsh "$w" "pdsh" "pdsh -R ssh -l r1node -w 127.0.0.2,…,127.0.0.9 'start 2 ranks'"
done
