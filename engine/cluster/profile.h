#pragma once
// A cluster profile: the nodes of a cluster and how to reach them and launch ranks there,
// saved as a TOML file (docs/CLUSTER.md lists every key). Load errors name file:line:column
// and the key; a loaded profile has been validated.
#include <map>
#include <string>
#include <vector>

namespace r1::cluster {

struct Node {
  std::string name;           // optional label for messages and tables; default: host
  std::string host;           // host name, address or a Host alias of ~/.ssh/config
  int port = 0;               // 0: ssh's choice (ssh config Port, else 22)
  std::string user;           // empty: ssh's choice (ssh config User, else the local user)
  std::string identity_file;  // empty: ssh-agent / ssh config IdentityFile
  int gpus = 0;               // ranks on this node = gpus, or slots when gpus == 0
  int slots = 1;              // CPU ranks when gpus == 0
  std::vector<std::string> tags;
  int line = 0;  // line of its [[nodes]] table in the file it came from (0: none)

  std::string label() const;  // name, else host[:port]
  int ranks() const { return gpus > 0 ? gpus : slots; }
};

struct Profile {
  std::string name = "cluster";
  std::vector<Node> nodes;
  std::string master_addr;  // empty: the first node's host name as ssh resolves it
  int master_port = 29500;
  std::string nccl_socket_ifname;
  std::string gloo_socket_ifname;
  std::string remote_workdir = "r1-jobs";  // relative: to the remote user's home
  std::string worker = "r1-worker";        // the remote r1-worker: a path or a name on PATH
  std::string setup;  // shell lines run before each rank (module load, conda activate …)
  std::map<std::string, std::string> env;  // exported to every rank
  std::string known_hosts;                 // empty: ~/.ssh/known_hosts
  std::string ssh_config;  // empty: ssh's default (~/.ssh/config); else passed as ssh -F
  std::vector<std::string> ssh_options;  // extra "-o Key=Value" options, e.g. ProxyJump=bastion
  int connect_timeout = 10;              // seconds (ssh ConnectTimeout)

  std::string known_hosts_path() const;  // known_hosts with ~ expanded, or the default
  const Node* find_node(const std::string& label_or_host) const;
};

// Throws ProfileError naming the origin and the key; `origin` is a file name for messages.
void validate(const Profile& profile, const std::string& origin);

Profile load_profile(const std::string& path);
Profile profile_from_string(const std::string& toml, const std::string& origin);
std::string to_toml(const Profile& profile);
void save_profile(const Profile& profile, const std::string& path);  // atomic replace

}  // namespace r1::cluster
