#include "engine/cluster/ssh_config.h"

#include "engine/cluster/cluster_error.h"
#include "engine/cluster/shell.h"

#include <glob.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace r1::cluster {
namespace {

constexpr int kMaxIncludeDepth = 16;

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// ssh's argument splitting: whitespace separates, double quotes group.
std::vector<std::string> split_args(const std::string& s, const std::string& at) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i >= s.size()) break;
    std::string word;
    if (s[i] == '"') {
      auto end = s.find('"', i + 1);
      if (end == std::string::npos) throw ProfileError(at + ": unterminated quote");
      word = s.substr(i + 1, end - i - 1);
      i = end + 1;
    } else {
      while (i < s.size() && s[i] != ' ' && s[i] != '\t') word += s[i++];
    }
    out.push_back(word);
  }
  return out;
}

struct Parser {
  std::vector<SshHostEntry> entries;
  std::set<std::string> seen;

  void parse_file(const std::string& path, int depth, bool must_exist) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (!must_exist && errno == ENOENT) return;
      throw ProfileError(path + ": cannot read ssh config: " + std::strerror(errno));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    parse_text(ss.str(), path, depth);
  }

  void parse_text(const std::string& text, const std::string& origin, int depth) {
    std::istringstream in(text);
    std::string line;
    int no = 0;
    std::vector<std::size_t> block;  // entries the current Host line opened
    while (std::getline(in, line)) {
      ++no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::string at = origin + ":" + std::to_string(no);
      std::size_t i = line.find_first_not_of(" \t");
      if (i == std::string::npos || line[i] == '#') continue;
      std::size_t k = i;
      while (k < line.size() && line[k] != ' ' && line[k] != '\t' && line[k] != '=') ++k;
      const std::string keyword = lower(line.substr(i, k - i));
      while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
      if (k < line.size() && line[k] == '=') ++k;
      const std::vector<std::string> args = split_args(line.substr(k), at);
      if (keyword == "host") {
        if (args.empty()) throw ProfileError(at + ": 'Host' without a pattern");
        block.clear();
        for (const auto& a : args) {
          if (a.find_first_of("*?!") != std::string::npos) continue;
          if (!seen.insert(a).second) continue;
          SshHostEntry e;
          e.alias = a;
          e.file = origin;
          e.line = no;
          entries.push_back(e);
          block.push_back(entries.size() - 1);
        }
      } else if (keyword == "match") {
        block.clear();
      } else if (keyword == "include") {
        if (depth >= kMaxIncludeDepth)
          throw ProfileError(at + ": Include nested more than " + std::to_string(kMaxIncludeDepth) +
                             " deep");
        for (const auto& pattern : args) {
          std::string p = expand_home(pattern);
          if (p.empty() || p[0] != '/') p = expand_home("~/.ssh/") + p;
          glob_t g{};
          if (::glob(p.c_str(), 0, nullptr, &g) == 0) {
            for (std::size_t j = 0; j < g.gl_pathc; ++j) parse_file(g.gl_pathv[j], depth + 1, true);
          }
          ::globfree(&g);
        }
      } else if (!args.empty()) {
        for (std::size_t idx : block) {  // ssh: the first value obtained wins
          SshHostEntry& e = entries[idx];
          if (keyword == "hostname" && e.hostname.empty()) e.hostname = args[0];
          if (keyword == "user" && e.user.empty()) e.user = args[0];
          if (keyword == "identityfile" && e.identity_file.empty()) e.identity_file = args[0];
          if (keyword == "port" && e.port == 0) {
            char* end = nullptr;
            long v = std::strtol(args[0].c_str(), &end, 10);
            if (*end != '\0' || v < 1 || v > 65535)
              throw ProfileError(at + ": Port '" + printable(args[0]) + "' is not a port number");
            e.port = static_cast<int>(v);
          }
        }
      }
    }
  }
};

}  // namespace

std::vector<SshHostEntry> ssh_config_hosts(const std::string& path) {
  Parser p;
  p.parse_file(expand_home(path), 0, false);
  return p.entries;
}

std::vector<SshHostEntry> ssh_config_hosts_from_text(const std::string& text,
                                                     const std::string& origin) {
  Parser p;
  p.parse_text(text, origin, 0);
  return p.entries;
}

Node node_from_ssh_host(const SshHostEntry& entry) {
  Node n;
  n.host = entry.alias;  // port, user and key come from the ssh config entry
  return n;
}

}  // namespace r1::cluster
