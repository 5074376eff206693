#include "engine/cluster/ssh_session.h"

#include "engine/cluster/cluster_error.h"
#include "engine/cluster/shell.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace r1::cluster {
namespace {

constexpr int kControlPersistSeconds = 60;
// ssh binds "<ControlPath>.<16 random characters>" first, and %C is 40 characters: the socket
// path must fit sun_path's 107 bytes.
constexpr std::size_t kMaxControlDir = 107 - 17 - 41;

// A value inside `-o Key=VALUE`: ssh splits it on whitespace (honouring double quotes) and
// expands % tokens, so both are escaped.
std::string ssh_option_value(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '%') out += '%';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string SshResult::error(const std::string& who) const {
  if (failure) return failure.message;
  std::string err = process.err;
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
  return who + ": remote script failed (" + process.describe() + ")" +
         (err.empty() ? std::string() : ": " + printable(err));
}

void ensure_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw ClusterError(dir + ": cannot create the ssh control directory: " + std::strerror(errno));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) throw ClusterError(dir + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 077) != 0)
    throw ClusterError(dir +
                       ": the ssh control directory must be a directory of this user that "
                       "nobody else can enter (mode 0700)");
}

std::string default_control_dir() {
  std::string dir;
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && *x && std::strlen(x) < 40)
    dir = std::string(x) + "/r1-ssh";
  else
    dir = "/tmp/r1-ssh-" + std::to_string(::getuid());
  ensure_private_dir(dir);
  return dir;
}

bool split_after_marker(const std::string& out, std::string* after) {
  const std::string m = std::string(kBeginMarker) + "\n";
  std::size_t pos = out.rfind(m, 0) == 0 ? 0 : out.find("\n" + m);
  if (pos == std::string::npos) {
    after->clear();
    return false;
  }
  pos = pos == 0 && out.rfind(m, 0) == 0 ? m.size() : pos + 1 + m.size();
  *after = out.substr(pos);
  return true;
}

SshSession::SshSession(const Profile& profile, Node node, std::string control_dir)
    : node_(std::move(node)),
      known_hosts_(profile.known_hosts_path()),
      ssh_config_(profile.ssh_config.empty() ? std::string() : expand_home(profile.ssh_config)),
      extra_options_(profile.ssh_options),
      connect_timeout_(profile.connect_timeout),
      control_dir_(control_dir.empty() ? default_control_dir() : std::move(control_dir)) {
  if (control_dir_.size() > kMaxControlDir)
    throw ClusterError(control_dir_ + ": too long for an ssh control socket path (at most " +
                       std::to_string(kMaxControlDir) + " characters)");
}

std::string SshSession::who() const {
  std::string target = (node_.user.empty() ? "" : node_.user + "@") + node_.host +
                       (node_.port > 0 ? ":" + std::to_string(node_.port) : "");
  return "node '" + node_.label() + "' (" + target + ")";
}

std::vector<std::string> SshSession::options() const {
  std::vector<std::string> a;
  auto opt = [&](const std::string& kv) {
    a.push_back("-o");
    a.push_back(kv);
  };
  opt("BatchMode=yes");
  opt("StrictHostKeyChecking=yes");
  opt("UserKnownHostsFile=" + ssh_option_value(known_hosts_));
  opt("ControlMaster=auto");
  std::string control_path = ssh_option_value(control_dir_ + "/");
  control_path.insert(control_path.size() - 1, "%C");  // ssh's hash of host, port and user
  opt("ControlPath=" + control_path);
  opt("ControlPersist=" + std::to_string(kControlPersistSeconds));
  opt("ServerAliveInterval=5");
  opt("ServerAliveCountMax=2");
  opt("ConnectTimeout=" + std::to_string(connect_timeout_));
  opt("LogLevel=ERROR");
  if (!ssh_config_.empty()) {
    a.push_back("-F");
    a.push_back(ssh_config_);
  }
  if (!node_.identity_file.empty()) {
    a.push_back("-i");
    a.push_back(expand_home(node_.identity_file));
    opt("IdentitiesOnly=yes");
  }
  if (node_.port > 0) {
    a.push_back("-p");
    a.push_back(std::to_string(node_.port));
  }
  if (!node_.user.empty()) {
    a.push_back("-l");
    a.push_back(node_.user);
  }
  for (const auto& o : extra_options_) opt(o);
  return a;
}

std::vector<std::string> SshSession::ssh_argv() const {
  std::vector<std::string> a = {"ssh", "-T"};
  auto o = options();
  a.insert(a.end(), o.begin(), o.end());
  a.push_back("--");
  a.push_back(node_.host);
  return a;
}

SshResult SshSession::run(const std::string& script, std::chrono::milliseconds timeout) const {
  ProcessSpec spec;
  spec.argv = ssh_argv();
  spec.argv.push_back("sh -s");
  spec.input = "printf '%s\\n' " + std::string(kBeginMarker) + "\n" + script;
  spec.timeout = timeout;
  SshResult r;
  r.process = run_process(spec);
  r.failure = classify_ssh(r.process, who());
  if (!r.failure && !split_after_marker(r.process.out, &r.output) && r.process.exit_code == 0) {
    r.failure.kind = SshFailureKind::Other;
    r.failure.message = who() + ": the remote login shell did not run the launcher's sh script";
  }
  return r;
}

SshResult SshSession::run_with_fds(const std::string& remote_command, int stdin_fd, int stdout_fd,
                                   std::chrono::milliseconds timeout) const {
  ProcessSpec spec;
  spec.argv = ssh_argv();
  spec.argv.push_back(remote_command);
  spec.stdin_fd = stdin_fd;
  spec.stdout_fd = stdout_fd;
  spec.timeout = timeout;
  SshResult r;
  r.process = run_process(spec);
  r.failure = classify_ssh(r.process, who());
  r.output = r.process.out;
  return r;
}

std::unique_ptr<ProcessStream> SshSession::stream(
    const std::string& script, std::function<void(std::string_view)> on_output,
    std::function<void(const SshResult&)> on_exit) const {
  std::vector<std::string> argv = ssh_argv();
  argv.push_back("sh -s");
  // Output before the marker (rc files) is dropped; the marker is matched across chunks.
  auto state = std::make_shared<std::string>();
  auto seen = std::make_shared<bool>(false);
  auto out = [on_output, state, seen](std::string_view chunk) {
    if (*seen) {
      on_output(chunk);
      return;
    }
    state->append(chunk);
    std::string after;
    if (split_after_marker(*state, &after)) {
      *seen = true;
      state->clear();
      if (!after.empty()) on_output(after);
    }
  };
  const std::string w = who();
  auto done = [on_exit, w](const ProcessResult& p) {
    if (!on_exit) return;
    SshResult r;
    r.process = p;
    r.failure = classify_ssh(p, w);
    on_exit(r);
  };
  return std::make_unique<ProcessStream>(
      argv, "printf '%s\\n' " + std::string(kBeginMarker) + "\n" + script, out, done);
}

std::unique_ptr<ProcessStream> SshSession::stream_lines(
    const std::string& script, std::function<void(const std::string&)> on_line,
    std::function<void(const SshResult&)> on_exit) const {
  auto partial = std::make_shared<std::string>();
  auto chunks = [on_line, partial](std::string_view chunk) {
    partial->append(chunk);
    std::size_t start = 0, nl;
    while ((nl = partial->find('\n', start)) != std::string::npos) {
      std::string line = partial->substr(start, nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      on_line(line);
      start = nl + 1;
    }
    partial->erase(0, start);
  };
  auto done = [on_exit, on_line, partial](const SshResult& r) {
    if (!partial->empty()) on_line(*partial);
    partial->clear();
    if (on_exit) on_exit(r);
  };
  return stream(script, chunks, done);
}

std::map<std::string, std::string> SshSession::resolved_config() const {
  ProcessSpec spec;
  spec.argv = {"ssh", "-G"};
  auto o = options();
  spec.argv.insert(spec.argv.end(), o.begin(), o.end());
  spec.argv.push_back("--");
  spec.argv.push_back(node_.host);
  spec.timeout = std::chrono::seconds(10);
  ProcessResult r = run_process(spec);
  std::map<std::string, std::string> cfg;
  if (!r.ok()) return cfg;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    std::string key = line.substr(0, sp);
    if (!cfg.count(key)) cfg[key] = line.substr(sp + 1);
  }
  return cfg;
}

bool SshSession::close_master() const {
  ProcessSpec spec;
  spec.argv = {"ssh"};
  auto o = options();
  spec.argv.insert(spec.argv.end(), o.begin(), o.end());
  spec.argv.push_back("-O");
  spec.argv.push_back("exit");
  spec.argv.push_back("--");
  spec.argv.push_back(node_.host);
  spec.timeout = std::chrono::seconds(5);
  return run_process(spec).ok();
}

}  // namespace r1::cluster
