#include "engine/vision/csv.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/vision/vision_error.h"

namespace r1::vision {

namespace fs = std::filesystem;

std::vector<CsvRecord> read_csv(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    throw VisionError(what + " " + path + ": " +
                      (fs::exists(path, ec) ? std::string("cannot open: ") + std::strerror(errno)
                                            : std::string("no such file")));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();

  std::vector<CsvRecord> out;
  size_t i = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
  int line = 1;
  const size_t n = text.size();
  auto fail = [&](int at_line, size_t column, const std::string& why) {
    throw VisionError(what + " " + path + " line " + std::to_string(at_line) + ", column " +
                      std::to_string(column) + ": " + why);
  };
  while (i < n) {
    CsvRecord rec;
    rec.line = line;
    std::string field;
    bool record_done = false;
    while (!record_done) {
      field.clear();
      if (i < n && text[i] == '"') {
        const int quote_line = line;
        ++i;
        for (;;) {
          if (i >= n) {
            fail(quote_line, rec.fields.size() + 1, "quoted field is never closed");
          }
          const char c = text[i++];
          if (c == '"') {
            if (i < n && text[i] == '"') {
              field.push_back('"');
              ++i;
            } else {
              break;
            }
          } else {
            if (c == '\n') ++line;
            field.push_back(c);
          }
        }
        if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          fail(line, rec.fields.size() + 1, "text after a closing quote");
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          field.push_back(text[i++]);
      }
      rec.fields.push_back(field);
      if (i >= n) {
        record_done = true;
      } else if (text[i] == ',') {
        ++i;
      } else {
        // end of line: \n, \r\n or a lone \r
        if (text[i] == '\r') ++i;
        if (i < n && text[i] == '\n') ++i;
        ++line;
        record_done = true;
      }
    }
    const bool blank =
        rec.fields.size() == 1 && rec.fields[0].find_first_not_of(" \t") == std::string::npos;
    if (!blank) out.push_back(std::move(rec));
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos &&
      (s.empty() || (s.front() != ' ' && s.back() != ' '))) {
    return s;
  }
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q.push_back('"');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

std::string csv_number(double v) {
  // The fewest significant digits that read back exactly, preferring plain notation ("10", not
  // "1e+01") for everyday magnitudes.
  std::string first_exact;
  char buf[40];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strtod(buf, nullptr) != v) continue;
    if (std::strchr(buf, 'e') == nullptr) return buf;
    if (first_exact.empty()) first_exact = buf;
  }
  return first_exact.empty() ? std::string(buf) : first_exact;
}

void write_text_file(const std::string& path, const std::string& text, const std::string& what) {
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    throw VisionError(what + " " + path + ": folder " + parent.string() + " does not exist");
  }
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw VisionError(what + " " + path + ": cannot create " + tmp + ": " + std::strerror(errno));
    }
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw VisionError(what + " " + path + ": write failed: " + std::strerror(errno));
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw VisionError(what + " " + path + ": cannot rename into place: " + ec.message());
  }
}

}  // namespace r1::vision
