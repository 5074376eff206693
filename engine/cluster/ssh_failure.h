#pragma once
// What went wrong when ssh ran: ssh's own failures (exit status 255 and its messages) mapped to
// one kind and a sentence that names the node and says what to do.
#include "engine/cluster/process.h"

#include <string>

namespace r1::cluster {

enum class SshFailureKind {
  None,               // ssh connected; the remote command's exit status is in the result
  NotStarted,         // the ssh client could not run
  HostKeyUnknown,     // no key for the host in known_hosts (BatchMode + strict checking)
  HostKeyChanged,     // the host presented a key other than the known one
  AuthFailed,         // Permission denied
  ConnectionRefused,  // nothing listens on the port
  ConnectTimeout,     // no answer within ConnectTimeout
  HostUnresolved,     // the name does not resolve
  Unreachable,        // no route / network unreachable
  ConnectionLost,     // the link dropped (ServerAlive, reset, closed)
  Timeout,            // the command ran past the launcher's deadline
  Other,              // ssh exited 255 for another reason
};

struct SshFailure {
  SshFailureKind kind = SshFailureKind::None;
  std::string message;  // "node 'n1' (r1node@127.0.0.2:22022): connection refused …"

  explicit operator bool() const { return kind != SshFailureKind::None; }
  // A failure that says the node cannot be reached now (rather than a refusal).
  bool unreachable() const;
};

const char* to_string(SshFailureKind kind);

// `who` names the node for messages; `timeout_s` is what the launcher allowed.
SshFailure classify_ssh(const ProcessResult& result, const std::string& who);

}  // namespace r1::cluster
