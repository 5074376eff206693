#include "engine/cluster/profile.h"

#include "engine/cluster/cluster_error.h"
#include "engine/cluster/shell.h"

#include <toml++/toml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace r1::cluster {
namespace {

// Launcher-owned variables: a profile cannot set them through [env].
const std::set<std::string> kReservedEnv = {"MASTER_ADDR", "MASTER_PORT", "RANK",
                                            "LOCAL_RANK",  "WORLD_SIZE",  "LOCAL_WORLD_SIZE",
                                            "R1_JOB_ID"};

// ssh options the launcher sets itself; a profile must not override them.
const std::set<std::string> kManagedSshOptions = {
    "batchmode",           "controlmaster",         "controlpath",
    "controlpersist",      "stricthostkeychecking", "userknownhostsfile",
    "serveraliveinterval", "serveralivecountmax",   "connecttimeout"};

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool has_control(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  std::string where(const toml::node& n) const {
    return origin_ + ":" + std::to_string(n.source().begin.line) + ":" +
           std::to_string(n.source().begin.column);
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& key,
                         const std::string& why) const {
    throw ProfileError(where(n) + ": key '" + key + "': " + why);
  }
  std::string str(const toml::node& n, const std::string& key) const {
    if (!n.is_string()) fail(n, key, std::string("must be a string, got ") + type_name(n));
    return *n.value<std::string>();
  }
  int integer(const toml::node& n, const std::string& key, int lo, int hi) const {
    if (!n.is_integer()) fail(n, key, std::string("must be an integer, got ") + type_name(n));
    const int64_t v = *n.value<int64_t>();
    if (v < lo || v > hi)
      fail(n, key,
           "value " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
               std::to_string(hi) + "]");
    return static_cast<int>(v);
  }
  std::vector<std::string> strings(const toml::node& n, const std::string& key) const {
    if (!n.is_array())
      fail(n, key, std::string("must be an array of strings, got ") + type_name(n));
    std::vector<std::string> out;
    for (const auto& e : *n.as_array()) {
      if (!e.is_string()) fail(e, key, std::string("must hold strings, got ") + type_name(e));
      out.push_back(*e.value<std::string>());
    }
    return out;
  }
  [[noreturn]] void unknown(const toml::node& n, const std::string& key) const {
    throw ProfileError(where(n) + ": unknown key '" + key + "'");
  }

 private:
  std::string origin_;
};

Node read_node(const Reader& r, const toml::node& n, const std::string& prefix) {
  if (!n.is_table()) r.fail(n, prefix, std::string("must be a table, got ") + type_name(n));
  Node node;
  node.line = static_cast<int>(n.source().begin.line);
  for (const auto& [k, v] : *n.as_table()) {
    const std::string key = std::string(k.str());
    const std::string full = prefix + "." + key;
    if (key == "name")
      node.name = r.str(v, full);
    else if (key == "host")
      node.host = r.str(v, full);
    else if (key == "port")
      node.port = r.integer(v, full, 1, 65535);
    else if (key == "user")
      node.user = r.str(v, full);
    else if (key == "identity_file")
      node.identity_file = r.str(v, full);
    else if (key == "gpus")
      node.gpus = r.integer(v, full, 0, 1024);
    else if (key == "slots")
      node.slots = r.integer(v, full, 1, 4096);
    else if (key == "tags")
      node.tags = r.strings(v, full);
    else
      r.unknown(v, full);
  }
  if (node.host.empty()) r.fail(n, prefix + ".host", "is required");
  return node;
}

// A host or user travels in ssh's argv only, yet a '-' in front would read as an option and
// shell characters have no business in either: refuse them with the reason.
void check_ssh_word(const std::string& value, const std::string& what, const std::string& at) {
  auto bad = [&](const std::string& why) {
    throw ProfileError(at + ": key '" + what + "': '" + printable(value) + "' " + why);
  };
  if (value.empty()) bad("is empty");
  if (value[0] == '-') bad("starts with '-' (would be read as an ssh option)");
  if (has_control(value)) bad("contains a control character");
  for (char c : value) {
    if (c == ' ') bad("contains a space");
    if (std::strchr("'\"`$;|&<>()\\*?!{}", c)) bad(std::string("contains '") + c + "'");
  }
}

}  // namespace

std::string Node::label() const {
  if (!name.empty()) return name;
  return port > 0 ? host + ":" + std::to_string(port) : host;
}

std::string Profile::known_hosts_path() const {
  return known_hosts.empty() ? expand_home("~/.ssh/known_hosts") : expand_home(known_hosts);
}

const Node* Profile::find_node(const std::string& label_or_host) const {
  for (const auto& n : nodes)
    if (n.label() == label_or_host) return &n;
  for (const auto& n : nodes)
    if (n.host == label_or_host) return &n;
  return nullptr;
}

void validate(const Profile& p, const std::string& origin) {
  auto fail = [&](const std::string& key, const std::string& why, int line = 0) {
    std::string at = origin + (line > 0 ? ":" + std::to_string(line) : "");
    throw ProfileError(at + ": key '" + key + "': " + why);
  };
  if (p.name.empty() || has_control(p.name)) fail("name", "must be a non-empty line of text");
  if (p.nodes.empty()) fail("nodes", "the profile lists no node ([[nodes]] tables)");
  std::map<std::string, std::size_t> seen_target, seen_label;
  for (std::size_t i = 0; i < p.nodes.size(); ++i) {
    const Node& n = p.nodes[i];
    const std::string key = "nodes[" + std::to_string(i) + "]";
    const std::string at = origin + (n.line > 0 ? ":" + std::to_string(n.line) : "");
    check_ssh_word(n.host, key + ".host", at);
    if (n.host.find('@') != std::string::npos)
      throw ProfileError(at + ": key '" + key + ".host': '" + n.host +
                         "' holds a user: write it as user = \"...\"");
    if (!n.user.empty()) check_ssh_word(n.user, key + ".user", at);
    if (n.port < 0 || n.port > 65535) fail(key + ".port", "must be in [1, 65535]", n.line);
    if (n.gpus < 0) fail(key + ".gpus", "must be >= 0", n.line);
    if (n.slots < 1) fail(key + ".slots", "must be >= 1", n.line);
    if (has_control(n.name)) fail(key + ".name", "contains a control character", n.line);
    if (has_control(n.identity_file))
      fail(key + ".identity_file", "contains a control character", n.line);
    for (const auto& t : n.tags)
      if (t.empty() || has_control(t))
        fail(key + ".tags", "holds an empty or unprintable tag", n.line);
    const std::string target = n.user + "@" + n.host + ":" + std::to_string(n.port);
    if (auto it = seen_target.find(target); it != seen_target.end())
      fail(key,
           "the same host, port and user as nodes[" + std::to_string(it->second) + "] ('" +
               n.label() + "')",
           n.line);
    seen_target[target] = i;
    if (auto it = seen_label.find(n.label()); it != seen_label.end())
      fail(key + ".name",
           "'" + n.label() + "' names nodes[" + std::to_string(it->second) +
               "] too; give each node a distinct name",
           n.line);
    seen_label[n.label()] = i;
  }
  if (has_control(p.master_addr)) fail("master_addr", "contains a control character");
  if (p.master_port < 1 || p.master_port > 65535) fail("master_port", "must be in [1, 65535]");
  for (const auto* k : {&p.nccl_socket_ifname, &p.gloo_socket_ifname})
    if (has_control(*k))
      fail(k == &p.nccl_socket_ifname ? "nccl_socket_ifname" : "gloo_socket_ifname",
           "contains a control character");
  if (p.remote_workdir.empty() || p.remote_workdir.find('\0') != std::string::npos)
    fail("remote_workdir", "must be a non-empty path");
  if (p.worker.empty() || p.worker[0] == '-' || p.worker.find('\0') != std::string::npos)
    fail("worker", "must be a path or command name (not starting with '-')");
  if (p.setup.find('\0') != std::string::npos) fail("setup", "contains a NUL byte");
  for (const auto& [k, v] : p.env) {
    bool ident = !k.empty() && !(k[0] >= '0' && k[0] <= '9');
    for (char c : k)
      ident = ident && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '_');
    if (!ident) fail("env." + k, "is not a valid environment variable name");
    if (kReservedEnv.count(k)) fail("env." + k, "is set by the launcher for each rank");
    if (v.find('\0') != std::string::npos) fail("env." + k, "contains a NUL byte");
  }
  for (const auto* path : {&p.known_hosts, &p.ssh_config})
    if (has_control(*path))
      fail(path == &p.known_hosts ? "known_hosts" : "ssh_config", "contains a control character");
  for (const auto& o : p.ssh_options) {
    auto eq = o.find_first_of("= ");
    if (o.empty() || eq == 0 || eq == std::string::npos || has_control(o) || o[0] == '-')
      fail("ssh_options", "'" + printable(o) + "' is not of the form Key=Value");
    const std::string name = lower(o.substr(0, eq));
    if (kManagedSshOptions.count(name))
      fail("ssh_options", "'" + o.substr(0, eq) +
                              "' is managed by the launcher (host keys: `r1-worker cluster trust`; "
                              "known hosts file: key 'known_hosts')");
  }
  if (p.connect_timeout < 1 || p.connect_timeout > 600)
    fail("connect_timeout", "must be in [1, 600] seconds");
}

Profile profile_from_string(const std::string& text, const std::string& origin) {
  toml::table tbl;
  try {
    tbl = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    throw ProfileError(origin + ":" + std::to_string(e.source().begin.line) + ":" +
                       std::to_string(e.source().begin.column) + ": " +
                       std::string(e.description()));
  }
  Reader r(origin);
  Profile p;
  for (const auto& [k, v] : tbl) {
    const std::string key = std::string(k.str());
    if (key == "name")
      p.name = r.str(v, key);
    else if (key == "master_addr")
      p.master_addr = r.str(v, key);
    else if (key == "master_port")
      p.master_port = r.integer(v, key, 1, 65535);
    else if (key == "nccl_socket_ifname")
      p.nccl_socket_ifname = r.str(v, key);
    else if (key == "gloo_socket_ifname")
      p.gloo_socket_ifname = r.str(v, key);
    else if (key == "remote_workdir")
      p.remote_workdir = r.str(v, key);
    else if (key == "worker")
      p.worker = r.str(v, key);
    else if (key == "setup")
      p.setup = r.str(v, key);
    else if (key == "known_hosts")
      p.known_hosts = r.str(v, key);
    else if (key == "ssh_config")
      p.ssh_config = r.str(v, key);
    else if (key == "ssh_options")
      p.ssh_options = r.strings(v, key);
    else if (key == "connect_timeout")
      p.connect_timeout = r.integer(v, key, 1, 600);
    else if (key == "env") {
      if (!v.is_table()) r.fail(v, key, std::string("must be a table, got ") + type_name(v));
      for (const auto& [ek, ev] : *v.as_table())
        p.env[std::string(ek.str())] = r.str(ev, "env." + std::string(ek.str()));
    } else if (key == "nodes") {
      if (!v.is_array())
        r.fail(v, key, std::string("must be an array of tables ([[nodes]]), got ") + type_name(v));
      const auto& arr = *v.as_array();
      for (std::size_t i = 0; i < arr.size(); ++i)
        p.nodes.push_back(read_node(r, arr[i], "nodes[" + std::to_string(i) + "]"));
    } else {
      r.unknown(v, key);
    }
  }
  validate(p, origin);
  return p;
}

Profile load_profile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ProfileError(path + ": cannot open cluster profile: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return profile_from_string(ss.str(), path);
}

std::string to_toml(const Profile& p) {
  // Written by hand so that keys keep the documented order; strings go through toml++.
  auto q = [](const std::string& s) {
    std::ostringstream o;
    o << toml::value<std::string>(s);
    return o.str();
  };
  auto list = [&](const std::vector<std::string>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + q(v[i]);
    return out + "]";
  };
  std::ostringstream o;
  o << "# R1 Workbench cluster profile (docs/CLUSTER.md)\n";
  o << "name = " << q(p.name) << "\n";
  if (!p.master_addr.empty()) o << "master_addr = " << q(p.master_addr) << "\n";
  o << "master_port = " << p.master_port << "\n";
  if (!p.nccl_socket_ifname.empty())
    o << "nccl_socket_ifname = " << q(p.nccl_socket_ifname) << "\n";
  if (!p.gloo_socket_ifname.empty())
    o << "gloo_socket_ifname = " << q(p.gloo_socket_ifname) << "\n";
  o << "remote_workdir = " << q(p.remote_workdir) << "\n";
  o << "worker = " << q(p.worker) << "\n";
  if (!p.setup.empty()) o << "setup = " << q(p.setup) << "\n";
  if (!p.known_hosts.empty()) o << "known_hosts = " << q(p.known_hosts) << "\n";
  if (!p.ssh_config.empty()) o << "ssh_config = " << q(p.ssh_config) << "\n";
  if (!p.ssh_options.empty()) o << "ssh_options = " << list(p.ssh_options) << "\n";
  o << "connect_timeout = " << p.connect_timeout << "\n";
  if (!p.env.empty()) {
    o << "\n[env]\n";
    for (const auto& [k, v] : p.env) o << k << " = " << q(v) << "\n";
  }
  for (const auto& n : p.nodes) {
    o << "\n[[nodes]]\n";
    if (!n.name.empty()) o << "name = " << q(n.name) << "\n";
    o << "host = " << q(n.host) << "\n";
    if (n.port > 0) o << "port = " << n.port << "\n";
    if (!n.user.empty()) o << "user = " << q(n.user) << "\n";
    if (!n.identity_file.empty()) o << "identity_file = " << q(n.identity_file) << "\n";
    o << "gpus = " << n.gpus << "\n";
    o << "slots = " << n.slots << "\n";
    if (!n.tags.empty()) o << "tags = " << list(n.tags) << "\n";
  }
  return o.str();
}

void save_profile(const Profile& p, const std::string& path) {
  validate(p, path);
  const std::string text = to_toml(p);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw ProfileError(path + ": cannot write: " + std::strerror(errno));
    out << text;
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw ProfileError(path + ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw ProfileError(path + ": cannot replace: " + std::strerror(err));
  }
}

}  // namespace r1::cluster
