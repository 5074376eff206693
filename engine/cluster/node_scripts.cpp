#include "engine/cluster/node_scripts.h"

#include "engine/cluster/shell.h"

#include <sstream>

namespace r1::cluster {
namespace {

// Shared sh functions. Reads go through the `read` builtin and tests through `[ -ef ]`, so a
// liveness pass forks nothing.
const char* kShellLib = R"SH(
r1_live() {  # $1 pid, $2 rank dir: a live, non-zombie process working in that dir
  case $1 in ''|*[!0-9]*|0|1) return 1 ;; esac
  if [ -d /proc/self ]; then
    read -r r1_l 2>/dev/null < "/proc/$1/stat" || return 1
    r1_l=${r1_l##*) }
    case $r1_l in Z*|X*|x*) return 1 ;; esac
    [ "/proc/$1/cwd" -ef "$2" ]
  else
    kill -0 "$1" 2>/dev/null
  fi
}
r1_ids() {  # $1 rank dir -> r1_g (pgid) and r1_p (worker pid)
  r1_g=; r1_p=
  read -r r1_g 2>/dev/null < "$1/pgid"
  read -r r1_p 2>/dev/null < "$1/pid"
}
r1_rank_live() {  # $1 rank dir
  r1_ids "$1"
  r1_live "$r1_g" "$1" || r1_live "$r1_p" "$1"
}
r1_signal() {  # $1 signal, $2 rank dir: the rank's process group, or its worker alone
  r1_ids "$2"
  if r1_live "$r1_g" "$2"; then
    kill -"$1" -"$r1_g" 2>/dev/null || kill -"$1" "$r1_g" 2>/dev/null
  elif r1_live "$r1_p" "$2"; then
    r1_grp=
    if [ -d /proc/self ]; then
      read -r r1_l 2>/dev/null < "/proc/$r1_p/stat"
      r1_l=${r1_l##*) }
      set -- "$1" $r1_l
      r1_grp=$4
    fi
    if [ -n "$r1_grp" ] && [ "$r1_grp" = "$r1_g" ]; then
      kill -"$1" -"$r1_g" 2>/dev/null
    else
      kill -"$1" "$r1_p" 2>/dev/null
    fi
  fi
}
)SH";

std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (int r : ranks) s += (s.empty() ? "" : " ") + std::to_string(r);
  return s;
}

// Enters the job folder; when it is gone, prints "X missing" (and `then`) and ends.
std::string enter_job_dir(const std::string& job_dir, const std::string& then = "") {
  return "R1_JD=" + sh_quote(job_dir) + "\n" +
         "cd -- \"$R1_JD\" 2>/dev/null || { echo 'X missing'; " + then + "exit 0; }\n";
}

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

long to_long(const std::string& s, long fallback) {
  try {
    std::size_t used = 0;
    long v = std::stol(s, &used);
    return used == s.size() ? v : fallback;
  } catch (...) {
    return fallback;
  }
}

std::vector<int> int_list(const std::vector<std::string>& w, std::size_t from) {
  std::vector<int> out;
  for (std::size_t i = from; i < w.size(); ++i) {
    long v = to_long(w[i], -1);
    if (v >= 0) out.push_back(static_cast<int>(v));
  }
  return out;
}

// "<tag> <rank> <rest of line>"
bool tagged(const std::string& line, char tag, int* rank, std::string* rest) {
  if (line.size() < 3 || line[0] != tag || line[1] != ' ') return false;
  auto sp = line.find(' ', 2);
  *rank = static_cast<int>(
      to_long(line.substr(2, sp == std::string::npos ? std::string::npos : sp - 2), -1));
  *rest = sp == std::string::npos ? std::string() : line.substr(sp + 1);
  return *rank >= 0;
}

}  // namespace

std::string rank_run_script(const NodeLaunch& in, const RankLaunch& r) {
  std::ostringstream s;
  s << "# rank " << r.rank << " of job " << in.job_id << " (node '" << printable(in.node_label)
    << "', local rank " << r.local_rank << " of " << in.local_world_size << ").\n"
    << "# Written by r1-worker cluster launch. Started from this folder as\n"
    << "#   setsid nohup sh ./run.sh </dev/null >/dev/null 2>>stderr.log &\n"
    << "echo $$ > pgid\n"
    << "R1_RD=$(pwd -P)\n"
    << "R1_JD=$(cd .. && pwd -P)\n";
  for (const auto& [k, v] : in.env) s << "export " << k << "=" << sh_quote(v) << "\n";
  s << "export RANK=" << r.rank << " LOCAL_RANK=" << r.local_rank
    << " LOCAL_WORLD_SIZE=" << in.local_world_size << " R1_JOB_ID=" << sh_quote(in.job_id) << "\n";
  if (in.set_omp_threads) s << "[ -n \"${OMP_NUM_THREADS:-}\" ] || export OMP_NUM_THREADS=1\n";
  if (!in.setup.empty()) {
    s << "# setup (profile key 'setup')\n"
      << in.setup << "\n"
      << "r1_rc=$?\n"
      << "if [ \"$r1_rc\" -ne 0 ]; then\n"
      << "  echo \"r1-launch: the profile's setup failed (exit $r1_rc)\" >&2\n"
      << "  echo \"$r1_rc\" > exit_code\n"
      << "  exit \"$r1_rc\"\n"
      << "fi\n";
  }
  s << sh_quote(in.worker) << " train -c \"$R1_JD/experiment.toml\" --jsonl -q";
  for (const auto& a : in.worker_args) s << " " << sh_quote(a);
  s << " --set \"run.dir=$R1_RD\" </dev/null >>events.jsonl 2>>stderr.log &\n"
    << "echo $! > pid\n"
    << "wait $!\n"
    << "echo $? > exit_code\n";
  return s.str();
}

std::string launch_script(const NodeLaunch& in) {
  std::ostringstream s;
  s << "umask 077\n"
    << "R1_JD=" << sh_quote(in.job_dir) << "\n"
    << "mkdir -p -- \"$R1_JD\" 2>/dev/null\n"
    << "cd -- \"$R1_JD\" 2>/dev/null || { printf 'error cannot create or enter %s\\n' \"$R1_JD\"; "
       "exit 3; }\n"
    << "printf 'J %s\\n' \"$(pwd -P)\"\n"
    << "if ! (\n"
    << in.setup << "\ncommand -v " << sh_quote(in.worker) << ") >/dev/null 2>&1 </dev/null; then\n"
    << "  printf 'error worker %s not found on the node (profile key worker; PATH=%s)\\n' "
    << sh_quote(in.worker) << " \"$PATH\"\n"
    << "  exit 4\n"
    << "fi\n";
  std::string toml = in.experiment_toml;
  if (toml.empty() || toml.back() != '\n') toml += '\n';
  const std::string d = heredoc_delimiter(toml);
  s << "cat > experiment.toml <<'" << d << "'\n" << toml << d << "\n";
  for (const auto& r : in.ranks) {
    const std::string dir = "rank" + std::to_string(r.rank);
    const std::string run = rank_run_script(in, r);
    const std::string rd = heredoc_delimiter(run);
    s << "mkdir -p " << dir << " && printf '' >> " << dir
      << "/events.jsonl || { echo 'error cannot create " << dir << "'; exit 3; }\n"
      << "cat > " << dir << "/run.sh <<'" << rd << "'\n"
      << run << rd << "\n"
      << "(cd " << dir
      << " && exec setsid nohup sh ./run.sh </dev/null >/dev/null 2>>stderr.log) &\n";
  }
  std::vector<int> ids;
  for (const auto& r : in.ranks) ids.push_back(r.rank);
  const std::string list = rank_list(ids);
  s << "i=0\n"
    << "while [ $i -lt 200 ]; do\n"
    << "  ok=1\n"
    << "  for r in " << list << "; do [ -s rank$r/pid ] || [ -s rank$r/exit_code ] || ok=0; done\n"
    << "  [ $ok = 1 ] && break\n"
    << "  sleep 0.05; i=$((i + 1))\n"
    << "done\n"
    << "for r in " << list << "; do\n"
    << "  g=-; p=-; c=-\n"
    << "  read -r g 2>/dev/null < rank$r/pgid\n"
    << "  read -r p 2>/dev/null < rank$r/pid\n"
    << "  read -r c 2>/dev/null < rank$r/exit_code\n"
    << "  printf 'R %s %s %s %s\\n' $r \"${g:--}\" \"${p:--}\" \"${c:--}\"\n"
    << "  if [ -s rank$r/exit_code ]; then\n"
    << "    tail -n 3 rank$r/stderr.log 2>/dev/null | while IFS= read -r l; do "
       "printf 'L %s %s\\n' $r \"$l\"; done\n"
    << "  fi\n"
    << "done\n"
    << "exit 0\n";
  return s.str();
}

LaunchOutput parse_launch_output(const std::string& out) {
  LaunchOutput o;
  std::istringstream in(out);
  std::string line;
  std::map<int, std::size_t> index;
  while (std::getline(in, line)) {
    int rank;
    std::string rest;
    if (line.rfind("J ", 0) == 0) {
      o.job_dir = line.substr(2);
    } else if (line.rfind("error ", 0) == 0) {
      o.error = line.substr(6);
    } else if (tagged(line, 'R', &rank, &rest)) {
      auto w = split_words(rest);
      LaunchedRank lr;
      lr.rank = rank;
      if (w.size() >= 3) {
        lr.pgid = to_long(w[0], 0);
        lr.pid = to_long(w[1], 0);
        lr.exit_code = static_cast<int>(to_long(w[2], -1));
      }
      index[rank] = o.ranks.size();
      o.ranks.push_back(lr);
    } else if (tagged(line, 'L', &rank, &rest)) {
      if (auto it = index.find(rank); it != index.end()) {
        auto& t = o.ranks[it->second].stderr_tail;
        t += (t.empty() ? "" : " | ") + rest;
      }
    }
  }
  return o;
}

std::string status_script(const std::string& job_dir, const std::vector<int>& ranks) {
  std::string s = enter_job_dir(job_dir, "echo OK; ") + kShellLib;
  s += "[ -e stop_requested ] && echo M\n";
  s += "for r in " + rank_list(ranks) + R"SH(; do
  if r1_rank_live rank$r; then
    echo "S $r 1 - -"
  else
    c=-; read -r c 2>/dev/null < rank$r/exit_code
    f=$(tail -c 65536 rank$r/events.jsonl 2>/dev/null | grep '"type":"finish"' | tail -n 1 |
        sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
    echo "S $r 0 ${c:--} ${f:--}"
    e=$(tail -n 1 rank$r/stderr.log 2>/dev/null)
    [ -n "$e" ] && printf 'L %s %s\n' $r "$e"
  fi
done
echo OK
)SH";
  return s;
}

StatusOutput parse_status_output(const std::string& out) {
  StatusOutput o;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    int rank;
    std::string rest;
    if (line == "X missing") {
      o.job_dir_missing = true;
    } else if (line == "M") {
      o.stop_requested = true;
    } else if (line == "OK") {
      o.complete = true;
    } else if (tagged(line, 'S', &rank, &rest)) {
      auto w = split_words(rest);
      RankProbe p;
      p.rank = rank;
      if (w.size() >= 3) {
        p.alive = w[0] == "1";
        p.exit_code = static_cast<int>(to_long(w[1], -1));
        p.finish = w[2] == "-" ? std::string() : w[2];
      }
      o.ranks[rank] = p;
    } else if (tagged(line, 'L', &rank, &rest)) {
      if (auto it = o.ranks.find(rank); it != o.ranks.end()) it->second.stderr_tail = rest;
    }
  }
  return o;
}

std::string follow_script(const std::string& job_dir, const std::map<int, std::int64_t>& offsets) {
  std::string s = enter_job_dir(job_dir) + kShellLib;
  std::vector<int> ranks;
  for (const auto& [r, off] : offsets) {
    s += "o_" + std::to_string(r) + "=" + std::to_string(off) + "\n";
    ranks.push_back(r);
  }
  // Frames: "@<rank> <n>\n" + n bytes of the log + "\n"; "H" heartbeat every tick; "T <rank>
  // <size>" when a log shrank; "E" when every rank has ended and its log has been sent.
  s += "R1_MAX=4194304\n";
  s += "while :; do\n  alive=0\n  for r in " + rank_list(ranks) +
       "; do r1_rank_live rank$r && alive=1; done\n"
       "  more=0\n"
       "  for r in " +
       rank_list(ranks) + R"SH(; do
    eval "o=\$o_$r"
    n=$(wc -c 2>/dev/null < rank$r/events.jsonl)
    [ -n "$n" ] || n=$o
    n=$((n + 0))
    if [ "$n" -gt "$o" ]; then
      len=$((n - o))
      if [ "$len" -gt "$R1_MAX" ]; then len=$R1_MAX; more=1; fi
      printf '@%s %s\n' "$r" "$len"
      tail -c +$((o + 1)) rank$r/events.jsonl | head -c "$len"
      printf '\n'
      eval "o_$r=$((o + len))"
    elif [ "$n" -lt "$o" ]; then
      printf 'T %s %s\n' "$r" "$n"
      eval "o_$r=$n"
    fi
  done
  if [ "$alive" = 0 ] && [ "$more" = 0 ]; then echo E; exit 0; fi
  echo H
  [ "$more" = 1 ] || sleep 0.25
done
)SH";
  return s;
}

std::string stop_script(const std::string& job_dir, const std::vector<int>& ranks, int grace_s) {
  const std::string list = rank_list(ranks);
  std::string s = enter_job_dir(job_dir, "echo OK; ") + kShellLib;
  s += "echo stop 2>/dev/null > stop_requested\n";
  s += "t=\nfor r in " + list +
       "; do r1_rank_live rank$r && { r1_signal TERM rank$r; t=\"$t $r\"; }; done\n";
  s += "echo \"T$t\"\n";
  s += "i=0\nwhile [ $i -lt " + std::to_string(grace_s * 10) +
       " ]; do\n"
       "  a=0\n  for r in " +
       list +
       "; do r1_rank_live rank$r && a=1; done\n"
       "  [ $a = 0 ] && break\n  sleep 0.1; i=$((i + 1))\ndone\n";
  s += "k=\nfor r in " + list +
       "; do r1_rank_live rank$r && { r1_signal KILL rank$r; k=\"$k $r\"; }; done\n";
  s += "echo \"K$k\"\n";
  s += "[ -n \"$k\" ] && sleep 0.3\n";
  s += "a=\nfor r in " + list + "; do r1_rank_live rank$r && a=\"$a $r\"; done\n";
  s += "echo \"A$a\"\n";
  // Verification: no live process at all may still work in a rank folder.
  s += "if [ -d /proc/self ]; then\n"
       "  for d in /proc/[0-9]*; do\n"
       "    p=${d#/proc/}\n"
       "    [ \"$p\" = \"$$\" ] && continue\n"
       "    for r in " +
       list +
       "; do\n"
       "      if [ \"$d/cwd\" -ef rank$r ]; then\n"
       "        read -r l 2>/dev/null < \"$d/stat\" || continue\n"
       "        l=${l##*) }\n"
       "        case $l in Z*|X*|x*) continue ;; esac\n"
       "        printf 'P %s rank%s\\n' \"$p\" \"$r\"\n"
       "      fi\n"
       "    done\n"
       "  done\n"
       "fi\n"
       "echo OK\n";
  return s;
}

StopOutput parse_stop_output(const std::string& out) {
  StopOutput o;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto w = split_words(line);
    if (line == "X missing")
      o.job_dir_missing = true;
    else if (line == "OK")
      o.complete = true;
    else if (!w.empty() && w[0] == "T")
      o.termed = int_list(w, 1);
    else if (!w.empty() && w[0] == "K")
      o.killed = int_list(w, 1);
    else if (!w.empty() && w[0] == "A")
      o.alive_after = int_list(w, 1);
    else if (line.rfind("P ", 0) == 0)
      o.leftovers.push_back(line.substr(2));
  }
  return o;
}

std::string last_checkpoint_script(const std::string& job_dir, int rank) {
  return enter_job_dir(job_dir) + "grep '\"type\":\"checkpoint\"' rank" + std::to_string(rank) +
         "/events.jsonl 2>/dev/null | tail -n 1\n";
}

std::string file_size_script(const std::string& path) {
  return "f=" + sh_quote(path) + "\nif [ -f \"$f\" ]; then wc -c < \"$f\"; else echo -1; fi\n";
}

}  // namespace r1::cluster
