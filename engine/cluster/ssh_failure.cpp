#include "engine/cluster/ssh_failure.h"

#include "engine/cluster/shell.h"

#include <cstdio>

namespace r1::cluster {
namespace {

bool has(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// The last non-empty stderr line: ssh puts its verdict there.
std::string last_line(const std::string& err) {
  std::size_t end = err.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return {};
  std::size_t start = err.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return printable(err.substr(start, end - start + 1));
}

}  // namespace

const char* to_string(SshFailureKind kind) {
  switch (kind) {
    case SshFailureKind::None: return "ok";
    case SshFailureKind::NotStarted: return "ssh-not-started";
    case SshFailureKind::HostKeyUnknown: return "host-key-unknown";
    case SshFailureKind::HostKeyChanged: return "host-key-changed";
    case SshFailureKind::AuthFailed: return "auth-failed";
    case SshFailureKind::ConnectionRefused: return "connection-refused";
    case SshFailureKind::ConnectTimeout: return "connect-timeout";
    case SshFailureKind::HostUnresolved: return "host-unresolved";
    case SshFailureKind::Unreachable: return "unreachable";
    case SshFailureKind::ConnectionLost: return "connection-lost";
    case SshFailureKind::Timeout: return "timeout";
    case SshFailureKind::Other: return "ssh-error";
  }
  return "?";
}

bool SshFailure::unreachable() const {
  switch (kind) {
    case SshFailureKind::ConnectionRefused:
    case SshFailureKind::ConnectTimeout:
    case SshFailureKind::HostUnresolved:
    case SshFailureKind::Unreachable:
    case SshFailureKind::ConnectionLost:
    case SshFailureKind::Timeout: return true;
    default: return false;
  }
}

SshFailure classify_ssh(const ProcessResult& r, const std::string& who) {
  SshFailure f;
  auto set = [&](SshFailureKind k, const std::string& what) {
    f.kind = k;
    f.message = who + ": " + what;
    return f;
  };
  if (!r.started) return set(SshFailureKind::NotStarted, "cannot run ssh: " + r.start_error);
  if (r.timed_out) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "no answer within %.0f s (command timed out; link down?)",
                  r.seconds);
    return set(SshFailureKind::Timeout, buf);
  }
  if (r.signal == 0 && r.exit_code != 255) return f;  // the remote command's own status
  const std::string& e = r.err;
  if (has(e, "REMOTE HOST IDENTIFICATION HAS CHANGED") || has(e, "Host key for") ||
      has(e, "has changed and you have requested strict checking"))
    return set(SshFailureKind::HostKeyChanged,
               "the host key CHANGED since it was trusted: refused. If the node was reinstalled, "
               "remove the old key (ssh-keygen -R HOST -f KNOWN_HOSTS) and trust the new one; "
               "otherwise someone may be intercepting the connection");
  if (has(e, "Host key verification failed") || has(e, "No ED25519 host key is known") ||
      has(e, "host key is known for") || has(e, "No RSA host key is known") ||
      has(e, "No ECDSA host key is known"))
    return set(SshFailureKind::HostKeyUnknown,
               "host key not in known_hosts: check its fingerprint and trust it "
               "(r1-worker cluster trust --profile FILE, or probe --trust)");
  if (has(e, "Permission denied"))
    return set(SshFailureKind::AuthFailed,
               "authentication failed (" + last_line(e) +
                   "): check user, identity_file or ssh-agent, and the node's authorized_keys");
  if (has(e, "Connection refused"))
    return set(SshFailureKind::ConnectionRefused, "connection refused: no sshd on that port?");
  if (has(e, "Could not resolve hostname") || has(e, "Name or service not known") ||
      has(e, "nodename nor servname"))
    return set(SshFailureKind::HostUnresolved, "host name does not resolve: " + last_line(e));
  if (has(e, "Connection timed out") || has(e, "Operation timed out") ||
      (has(e, "connect to host") && has(e, "timed out")))
    return set(SshFailureKind::ConnectTimeout, "connection timed out (ConnectTimeout)");
  if (has(e, "No route to host") || has(e, "Network is unreachable"))
    return set(SshFailureKind::Unreachable, "unreachable: " + last_line(e));
  if (has(e, "Timeout, server") || has(e, "not responding") || has(e, "Connection reset") ||
      has(e, "Connection closed") || has(e, "Broken pipe") || has(e, "closed by remote host") ||
      has(e, "Connection to") || has(e, "kex_exchange_identification") || has(e, "mux_client") ||
      has(e, "Control socket connect"))
    return set(SshFailureKind::ConnectionLost, "connection lost: " + last_line(e));
  if (r.signal) return set(SshFailureKind::Other, "ssh " + r.describe());
  return set(SshFailureKind::Other,
             "ssh failed (exit 255)" + (e.empty() ? std::string() : ": " + last_line(e)));
}

}  // namespace r1::cluster
