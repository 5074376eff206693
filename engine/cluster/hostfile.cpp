#include "engine/cluster/hostfile.h"

#include "engine/cluster/cluster_error.h"
#include "engine/cluster/shell.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace r1::cluster {

std::vector<Node> parse_hostfile(const std::string& text, const std::string& origin,
                                 HostfileSlots meaning) {
  std::vector<Node> nodes;
  std::map<std::string, int> first_line;
  std::istringstream in(text);
  std::string line;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    const std::string at = origin + ":" + std::to_string(no);
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string s; words >> s;) w.push_back(s);
    if (w.empty()) continue;
    if (w.size() != 2 || w[1].rfind("slots=", 0) != 0)
      throw ProfileError(at + ": expected 'host slots=N', got '" + printable(line) + "'");
    const std::string count = w[1].substr(6);
    char* end = nullptr;
    errno = 0;
    const long n = count.empty() ? 0 : std::strtol(count.c_str(), &end, 10);
    if (count.empty() || *end != '\0' || errno == ERANGE || n < 1 || n > 4096)
      throw ProfileError(at + ": slots must be an integer in [1, 4096], got '" + printable(count) +
                         "'");
    const std::string& host = w[0];
    if (host[0] == '-' || host.find_first_of("'\"`$;|&<>()\\") != std::string::npos)
      throw ProfileError(at + ": '" + printable(host) + "' is not a host name");
    if (auto it = first_line.find(host); it != first_line.end())
      throw ProfileError(at + ": host '" + host + "' is already listed on line " +
                         std::to_string(it->second));
    first_line[host] = no;
    Node node;
    node.line = no;
    if (auto at_sign = host.find('@'); at_sign != std::string::npos) {
      node.user = host.substr(0, at_sign);
      node.host = host.substr(at_sign + 1);
    } else {
      node.host = host;
    }
    if (node.host.empty()) throw ProfileError(at + ": empty host name");
    if (meaning == HostfileSlots::Gpus) {
      node.gpus = static_cast<int>(n);
    } else {
      node.slots = static_cast<int>(n);
    }
    nodes.push_back(std::move(node));
  }
  if (nodes.empty()) throw ProfileError(origin + ": the hostfile lists no host");
  return nodes;
}

std::vector<Node> load_hostfile(const std::string& path, HostfileSlots meaning) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ProfileError(path + ": cannot open hostfile: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_hostfile(ss.str(), path, meaning);
}

}  // namespace r1::cluster
