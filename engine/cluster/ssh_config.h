#pragma once
// The Host entries of an OpenSSH client config (~/.ssh/config), so that a profile can pick them.
// Only what a node table shows is read (HostName, User, Port, IdentityFile); ssh itself still
// applies the whole config when it connects to the alias.
#include "engine/cluster/profile.h"

#include <string>
#include <vector>

namespace r1::cluster {

struct SshHostEntry {
  std::string alias;     // a Host pattern without wildcards
  std::string hostname;  // HostName, if the entry sets one
  std::string user;
  std::string identity_file;
  int port = 0;
  std::string file;  // where the Host line is
  int line = 0;
};

// Host aliases in file order, each once, skipping patterns with '*', '?' or '!' and Match
// blocks; Include lines are followed (globs; relative paths are relative to ~/.ssh). A missing
// file yields no entries; an unreadable or malformed one throws ProfileError naming file:line.
std::vector<SshHostEntry> ssh_config_hosts(const std::string& path = "~/.ssh/config");
std::vector<SshHostEntry> ssh_config_hosts_from_text(const std::string& text,
                                                     const std::string& origin);

// A node that connects through the alias (so ssh applies every option of the entry).
Node node_from_ssh_host(const SshHostEntry& entry);

}  // namespace r1::cluster
