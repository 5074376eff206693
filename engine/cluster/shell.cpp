#include "engine/cluster/shell.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>

namespace r1::cluster {

std::string sh_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

std::string heredoc_delimiter(std::string_view body) {
  std::random_device rd;
  for (;;) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "R1_EOF_%08x", static_cast<unsigned>(rd()));
    const std::string d = buf;
    bool clash = false;
    std::size_t pos = 0;
    while (!clash && pos <= body.size()) {
      std::size_t end = body.find('\n', pos);
      if (end == std::string_view::npos) end = body.size();
      clash = body.substr(pos, end - pos) == d;
      pos = end + 1;
    }
    if (!clash) return d;
  }
}

std::string expand_home(const std::string& path) {
  if (path != "~" && path.rfind("~/", 0) != 0) return path;
  std::string home;
  if (const char* h = std::getenv("HOME"); h && *h) {
    home = h;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) {
    home = pw->pw_dir;
  }
  return home + path.substr(1);
}

std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace r1::cluster
