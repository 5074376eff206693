#pragma once
// One node reached through the system OpenSSH client, so ~/.ssh/config, ssh-agent, ProxyJump and
// known_hosts behave as in the user's terminal. Every call multiplexes over one master connection
// per node (ControlMaster=auto, ControlPersist), runs in BatchMode (never waits on a prompt) with
// strict host key checking against the profile's known_hosts, and has a deadline.
//
// Remote work is a POSIX sh script fed to `sh -s` on stdin: the login shell only ever sees
// "sh -s", and values reach the script through sh_quote. A script's output starts after the
// line kBeginMarker (whatever rc files print before it is skipped).
#include "engine/cluster/process.h"
#include "engine/cluster/profile.h"
#include "engine/cluster/ssh_failure.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace r1::cluster {

inline constexpr const char* kBeginMarker = "R1-BEGIN";

struct SshResult {
  ProcessResult process;
  SshFailure failure;  // ssh's own failure; none when the remote script ran
  std::string output;  // stdout after kBeginMarker

  bool ok() const { return !failure && process.exit_code == 0; }
  // failure.message, or "<who>: remote script failed (exit code N): <stderr>"
  std::string error(const std::string& who) const;
};

// A private directory for control sockets (short enough for a socket path): created 0700,
// refused when another user owns it or others can enter it. Throws ClusterError.
std::string default_control_dir();
void ensure_private_dir(const std::string& dir);

class SshSession {
 public:
  // control_dir: empty means default_control_dir().
  SshSession(const Profile& profile, Node node, std::string control_dir = {});

  const Node& node() const { return node_; }
  const std::string& known_hosts() const { return known_hosts_; }
  // "node 'gpu1' (alice@gpu1:2222)" — for messages
  std::string who() const;

  // ssh and its options up to and including the destination.
  std::vector<std::string> ssh_argv() const;

  // Runs script under `sh -s` on the node (the script is its stdin: data a script needs goes
  // into it as a quoted here-document).
  SshResult run(const std::string& script, std::chrono::milliseconds timeout) const;
  // Runs a fixed remote command with its stdin taken from fd (ownership passes), stdout to
  // stdout_fd when >= 0 (ownership passes). Used to stream files between nodes.
  SshResult run_with_fds(const std::string& remote_command, int stdin_fd, int stdout_fd,
                         std::chrono::milliseconds timeout) const;

  // A long-running script; output chunks (after the begin marker) go to on_output.
  std::unique_ptr<ProcessStream> stream(const std::string& script,
                                        std::function<void(std::string_view)> on_output,
                                        std::function<void(const SshResult&)> on_exit) const;
  // The same, one complete line (without its newline) at a time.
  std::unique_ptr<ProcessStream> stream_lines(const std::string& script,
                                              std::function<void(const std::string&)> on_line,
                                              std::function<void(const SshResult&)> on_exit) const;

  // `ssh -G`: the options ssh would use for this node (hostname, port, user, hostkeyalias,
  // proxyjump, proxycommand …), without connecting. Empty on failure.
  std::map<std::string, std::string> resolved_config() const;

  // Closes the master connection (ssh -O exit); false when there was none.
  bool close_master() const;

 private:
  std::vector<std::string> options() const;

  Node node_;
  std::string known_hosts_;
  std::string ssh_config_;
  std::vector<std::string> extra_options_;
  int connect_timeout_ = 10;
  std::string control_dir_;
};

// The text after the kBeginMarker line; false when there is no such line.
bool split_after_marker(const std::string& out, std::string* after);

}  // namespace r1::cluster
