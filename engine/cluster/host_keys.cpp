#include "engine/cluster/host_keys.h"

#include "engine/cluster/cluster_error.h"
#include "engine/cluster/shell.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

namespace r1::cluster {
namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

// Fills in fingerprints with one `ssh-keygen -lf -` over all keys.
void add_fingerprints(std::vector<HostKey>& keys) {
  if (keys.empty()) return;
  ProcessSpec spec;
  spec.argv = {"ssh-keygen", "-l", "-E", "sha256", "-f", "-"};
  for (const auto& k : keys) spec.input += "x " + k.type + " " + k.blob + "\n";
  spec.timeout = std::chrono::seconds(10);
  ProcessResult r = run_process(spec);
  std::istringstream in(r.out);
  std::string line;
  std::size_t i = 0;
  while (std::getline(in, line) && i < keys.size()) {
    auto w = words(line);
    if (w.size() >= 2 && w[1].rfind("SHA256:", 0) == 0) keys[i++].fingerprint = w[1];
  }
}

struct Target {
  std::string host;  // what to scan
  int port = 22;
  std::string lookup;  // the known_hosts name
  std::string proxy;   // non-empty: reached through this ProxyJump/ProxyCommand
};

Target resolve(const SshSession& s) {
  Target t;
  auto cfg = s.resolved_config();
  t.host = cfg.count("hostname") ? cfg["hostname"] : s.node().host;
  t.port = s.node().port > 0 ? s.node().port : 22;
  if (cfg.count("port")) t.port = std::atoi(cfg["port"].c_str());
  if (cfg.count("proxyjump") && cfg["proxyjump"] != "none")
    t.proxy = "ProxyJump " + cfg["proxyjump"];
  if (cfg.count("proxycommand") && cfg["proxycommand"] != "none")
    t.proxy = "ProxyCommand " + cfg["proxycommand"];
  if (cfg.count("hostkeyalias") && cfg["hostkeyalias"] != "none") {
    t.lookup = cfg["hostkeyalias"];
  } else {
    t.lookup = t.port == 22 ? t.host : "[" + t.host + "]:" + std::to_string(t.port);
  }
  return t;
}

bool same(const HostKey& a, const HostKey& b) { return a.type == b.type && a.blob == b.blob; }

}  // namespace

const char* to_string(HostKeyStatus status) {
  switch (status) {
    case HostKeyStatus::Known: return "known";
    case HostKeyStatus::Unknown: return "unknown";
    case HostKeyStatus::Changed: return "changed";
    case HostKeyStatus::Unscannable: return "unscannable";
  }
  return "?";
}

HostKeyCheck check_host_key(const SshSession& session, int timeout_s) {
  HostKeyCheck c;
  const Target t = resolve(session);
  c.lookup_name = t.lookup;
  const std::string kh = session.known_hosts();

  // What known_hosts says (hashed entries included).
  std::vector<HostKey> revoked;
  {
    ProcessSpec spec;
    spec.argv = {"ssh-keygen", "-F", t.lookup, "-f", kh};
    spec.timeout = std::chrono::seconds(10);
    ProcessResult r = run_process(spec);
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      auto w = words(line);
      bool is_revoked = false;
      if (!w.empty() && w[0] == "@cert-authority") continue;  // certificates: ssh checks those
      if (!w.empty() && w[0] == "@revoked") {
        is_revoked = true;
        w.erase(w.begin());
      }
      if (w.size() < 3) continue;
      HostKey k{w[1], w[2], {}};
      (is_revoked ? revoked : c.known).push_back(k);
    }
  }

  if (!t.proxy.empty()) {
    c.status = c.known.empty() ? HostKeyStatus::Unscannable : HostKeyStatus::Known;
    c.message =
        session.who() + ": reached through " + t.proxy +
        ", so its key cannot be scanned from here; ssh checks it against " + kh +
        " when it connects" +
        (c.known.empty() ? " (no key known yet: connect once with ssh and confirm it)" : "");
    add_fingerprints(c.known);
    return c;
  }

  // What the node offers.
  {
    ProcessSpec spec;
    spec.argv = {"ssh-keyscan", "-T",  std::to_string(timeout_s), "-p", std::to_string(t.port),
                 "--",          t.host};
    spec.timeout = std::chrono::seconds(timeout_s + 5);
    ProcessResult r = run_process(spec);
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      auto w = words(line);
      if (w.size() >= 3) c.offered.push_back({w[1], w[2], {}});
    }
    if (c.offered.empty()) {
      std::string why = r.err;
      why.erase(std::remove(why.begin(), why.end(), '\r'), why.end());
      while (!why.empty() && why.back() == '\n') why.pop_back();
      c.status = HostKeyStatus::Unscannable;
      c.message = session.who() + ": no host key could be read from " + t.host + ":" +
                  std::to_string(t.port) + " (node down, port closed or no sshd)" +
                  (why.empty() ? std::string() : ": " + printable(why));
      return c;
    }
  }
  add_fingerprints(c.offered);
  add_fingerprints(c.known);

  for (const auto& o : c.offered)
    for (const auto& r : revoked)
      if (same(o, r)) {
        c.status = HostKeyStatus::Changed;
        c.message = session.who() + ": offers the key " + o.fingerprint + " which " + kh +
                    " marks @revoked: refused";
        return c;
      }
  if (c.known.empty()) {
    c.status = HostKeyStatus::Unknown;
    std::string fps;
    for (const auto& o : c.offered) fps += (fps.empty() ? "" : ", ") + o.type + " " + o.fingerprint;
    c.message = session.who() + ": host key unknown (" + t.lookup + " is not in " + kh +
                "); it offers " + fps +
                ". Check the fingerprint with the node's administrator, then " +
                "trust it (r1-worker cluster trust)";
    return c;
  }
  for (const auto& o : c.offered)
    for (const auto& k : c.known)
      if (same(o, k)) {
        c.status = HostKeyStatus::Known;
        c.message = session.who() + ": host key known (" + o.type + " " + o.fingerprint + ")";
        return c;
      }
  c.status = HostKeyStatus::Changed;
  std::string now, before;
  for (const auto& o : c.offered) now += (now.empty() ? "" : ", ") + o.type + " " + o.fingerprint;
  for (const auto& k : c.known)
    before += (before.empty() ? "" : ", ") + k.type + " " + k.fingerprint;
  c.message = session.who() + ": HOST KEY CHANGED: " + kh + " has " + before + " for " + t.lookup +
              " but the node now offers " + now +
              ". Refused: if the node was reinstalled, remove the old entry (ssh-keygen -R '" +
              t.lookup + "' -f " + kh +
              ") and trust the new key; otherwise the connection may "
              "be intercepted";
  return c;
}

HostKeyCheck trust_host_key(const SshSession& session,
                            const std::vector<std::string>& expected_fingerprints, int timeout_s) {
  HostKeyCheck c = check_host_key(session, timeout_s);
  if (c.status == HostKeyStatus::Known) return c;
  if (c.status != HostKeyStatus::Unknown) throw ClusterError(c.message);
  std::vector<HostKey> add;
  for (const auto& o : c.offered) {
    const bool wanted = expected_fingerprints.empty() ||
                        std::find(expected_fingerprints.begin(), expected_fingerprints.end(),
                                  o.fingerprint) != expected_fingerprints.end();
    if (wanted) add.push_back(o);
  }
  for (const auto& fp : expected_fingerprints) {
    bool offered = false;
    for (const auto& o : c.offered) offered = offered || o.fingerprint == fp;
    if (!offered)
      throw ClusterError(session.who() + ": does not offer the key " + fp +
                         " that was to be trusted: nothing added");
  }
  const std::string kh = session.known_hosts();
  if (auto slash = kh.rfind('/'); slash != std::string::npos && slash > 0) {
    const std::string dir = kh.substr(0, slash);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 && ::mkdir(dir.c_str(), 0700) != 0)
      throw ClusterError(dir + ": cannot create: " + std::strerror(errno));
  }
  int fd = ::open(kh.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw ClusterError(kh + ": cannot open for writing: " + std::strerror(errno));
  ::flock(fd, LOCK_EX);
  std::string text;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    int rd = ::open(kh.c_str(), O_RDONLY | O_CLOEXEC);
    char last = '\n';
    if (rd >= 0) {
      if (::pread(rd, &last, 1, st.st_size - 1) != 1) last = '\n';
      ::close(rd);
    }
    if (last != '\n') text += '\n';
  }
  for (const auto& k : add) text += c.lookup_name + " " + k.type + " " + k.blob + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  ::flock(fd, LOCK_UN);
  ::close(fd);
  if (!written) throw ClusterError(kh + ": cannot append the host key: " + std::strerror(err));
  return check_host_key(session, timeout_s);
}

}  // namespace r1::cluster
