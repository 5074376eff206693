#include "engine/cluster/probe.h"

#include "engine/cluster/shell.h"

#include <chrono>
#include <sstream>

namespace r1::cluster {
namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::int64_t to_int(const std::string& s) {
  try {
    return std::stoll(trim(s));
  } catch (...) {
    return 0;
  }
}

}  // namespace

std::string probe_script(const std::string& worker, const std::string& setup) {
  std::string s;
  s += "w=" + sh_quote(worker) + "\n";
  s += R"SH(printf 'os %s\n' "$( (. /etc/os-release && printf '%s' "$PRETTY_NAME") 2>/dev/null)"
printf 'kernel %s\n' "$(uname -sr 2>/dev/null)"
printf 'arch %s\n' "$(uname -m 2>/dev/null)"
printf 'cpus %s\n' "$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null)"
if [ -r /proc/meminfo ]; then
  while read -r k v rest; do
    case $k in
      MemTotal:) echo "mem_total_kb $v" ;;
      MemAvailable:) echo "mem_available_kb $v" ;;
    esac
  done < /proc/meminfo
fi
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits 2>/dev/null |
    while IFS= read -r l; do printf 'gpu %s\n' "$l"; done
  v=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -n 1)
  [ -n "$v" ] && echo "cuda_driver $v"
fi
if command -v nvcc >/dev/null 2>&1; then
  v=$(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p' | head -n 1)
  [ -n "$v" ] && echo "nvcc $v"
fi
n=$( { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } |
     sed -n 's/^[[:space:]]*libnccl\.so[.0-9]* .*=> \(.*\)$/\1/p' | head -n 1)
if [ -n "$n" ]; then
  r=$(readlink -f "$n" 2>/dev/null)
  echo "nccl_lib ${r:-$n}"
  h=$(dirname "${r:-$n}")/../include/nccl.h
  if [ -r "$h" ]; then
    v=$(sed -n 's/^#define NCCL_\(MAJOR\|MINOR\|PATCH\) *\([0-9]*\).*/\2/p' "$h" | head -n 3 |
        tr '\n' '.' | sed 's/\.$//')
    [ -n "$v" ] && echo "nccl_header $v"
  fi
fi
(
)SH";
  s += setup + "\n";
  s += R"SH(  if p=$(command -v "$w" 2>/dev/null); then
    echo "worker_path $p"
    out=$("$w" info --versions 2>&1)
    rc=$?
    printf '%s\n' "$out" | while IFS= read -r l; do printf 'wv %s\n' "$l"; done
    echo "worker_rc $rc"
  else
    echo "worker_missing"
  fi
) </dev/null 2>/dev/null
)SH";
  return s;
}

NodeInfo parse_probe_output(const std::string& output) {
  NodeInfo info;
  info.reachable = true;
  std::istringstream in(output);
  std::string line, versions_text;
  int worker_rc = -1;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    const std::string key = line.substr(0, sp);
    const std::string val = sp == std::string::npos ? std::string() : trim(line.substr(sp + 1));
    if (key == "os")
      info.os = val;
    else if (key == "kernel")
      info.kernel = val;
    else if (key == "arch")
      info.arch = val;
    else if (key == "cpus")
      info.cpus = static_cast<int>(to_int(val));
    else if (key == "mem_total_kb")
      info.mem_total_kb = to_int(val);
    else if (key == "mem_available_kb")
      info.mem_available_kb = to_int(val);
    else if (key == "cuda_driver")
      info.cuda_driver_version = val;
    else if (key == "nvcc")
      info.nvcc_version = val;
    else if (key == "nccl_header")
      info.nccl_version = val;  // nccl.h beside the library
    else if (key == "nccl_lib" && info.nccl_version.empty()) {
      // libnccl.so.2.21.5 -> 2.21.5; a bare libnccl.so.2 says only "2"
      auto pos = val.rfind("libnccl.so.");
      info.nccl_version = pos == std::string::npos ? val : val.substr(pos + 11);
    } else if (key == "gpu") {
      // name, memory.total [MiB], driver_version — the name may hold commas, the rest cannot
      auto c2 = val.rfind(',');
      auto c1 = c2 == std::string::npos ? std::string::npos : val.rfind(',', c2 - 1);
      GpuInfo g;
      if (c1 == std::string::npos) {
        g.name = val;
      } else {
        g.name = trim(val.substr(0, c1));
        g.memory_mib = to_int(val.substr(c1 + 1, c2 - c1 - 1));
        g.driver = trim(val.substr(c2 + 1));
      }
      info.gpus.push_back(g);
    } else if (key == "worker_path") {
      info.worker_found = true;
      info.worker_path = val;
    } else if (key == "worker_missing") {
      info.worker_found = false;
    } else if (key == "wv") {
      versions_text += (versions_text.empty() ? "" : "; ") + val;
      auto vsp = val.find(' ');
      const std::string k = val.substr(0, vsp);
      const std::string v = vsp == std::string::npos ? std::string() : trim(val.substr(vsp + 1));
      if (k == "r1-worker")
        info.worker_version = v;
      else if (k == "libtorch")
        info.libtorch_version = v;
      else if (k == "cuda")
        info.worker_cuda = v;
    } else if (key == "worker_rc") {
      worker_rc = static_cast<int>(to_int(val));
    }
  }
  if (info.worker_found && worker_rc != 0) {
    info.worker_version.clear();
    info.worker_error = "`" + info.worker_path + " info --versions` failed (exit " +
                        std::to_string(worker_rc) + ")" +
                        (versions_text.empty() ? std::string() : ": " + printable(versions_text));
  }
  return info;
}

NodeInfo probe_node(const SshSession& session, const std::string& worker, const std::string& setup,
                    int timeout_s) {
  SshResult r = session.run(probe_script(worker, setup), std::chrono::seconds(timeout_s));
  if (!r.ok()) {
    NodeInfo info;
    info.node = session.node().label();
    info.error = r.error(session.who());
    info.failure = r.failure.kind;
    return info;
  }
  NodeInfo info = parse_probe_output(r.output);
  info.node = session.node().label();
  if (!info.worker_found) {
    info.worker_error =
        session.who() + ": worker '" + worker + "' not found (profile key 'worker')";
  }
  const auto t0 = std::chrono::steady_clock::now();
  SshResult ping = session.run("exit 0\n", std::chrono::seconds(timeout_s));
  if (ping.ok())
    info.latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return info;
}

}  // namespace r1::cluster
