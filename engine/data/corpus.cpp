#include "engine/data/corpus.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine/data/data_error.h"

namespace r1::data {

namespace fs = std::filesystem;

namespace {

constexpr size_t kBinaryProbeBytes = 8192;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw DataError("corpus " + path.string() + ": cannot open: " + std::strerror(errno));
  }
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw DataError("corpus " + path.string() + ": read error");
  return data;
}

bool looks_binary(std::string_view raw) {
  return raw.substr(0, kBinaryProbeBytes).find('\0') != std::string_view::npos;
}

bool valid_utf8(std::string_view s) {
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    int len = utf8_decode(s, i, &cp);
    if (len == 0) return false;
    i += static_cast<size_t>(len);
  }
  return true;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
  });
}

bool is_fortune_file(std::string_view text) {
  return text == "%" || text.substr(0, 2) == "%\n" || text.find("\n%\n") != text.npos ||
         ends_with(text, "\n%");
}

void add_documents(std::string_view text, std::vector<std::string>* docs) {
  auto add = [&](std::string_view doc) {
    if (!blank(doc)) docs->emplace_back(doc);
  };
  if (!is_fortune_file(text)) {
    add(text);
    return;
  }
  size_t entry_start = 0;
  size_t line_start = 0;
  while (line_start < text.size()) {
    size_t nl = text.find('\n', line_start);
    size_t line_end = nl == text.npos ? text.size() : nl;
    size_t next = nl == text.npos ? text.size() : nl + 1;
    if (text.substr(line_start, line_end - line_start) == "%") {
      add(text.substr(entry_start, line_start - entry_start));
      entry_start = next;
    }
    line_start = next;
  }
  if (entry_start < text.size()) add(text.substr(entry_start));
}

void collect_files(const fs::path& dir, std::vector<fs::path>* out) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) throw DataError("corpus " + dir.string() + ": cannot list: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw DataError("corpus " + dir.string() + ": cannot list: " + ec.message());
    const fs::path& p = it->path();
    if (p.filename().string().rfind('.', 0) == 0) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) out->push_back(p);
  }
}

}  // namespace

int utf8_decode(std::string_view s, size_t pos, uint32_t* cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + pos;
  size_t avail = s.size() - pos;
  unsigned char c = p[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  int len = 0;
  uint32_t value = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    value = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    value = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    value = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (avail < static_cast<size_t>(len) || p[1] < lo || p[1] > hi) return 0;
  for (int k = 1; k < len; ++k) {
    if (!is_continuation(p[k])) return 0;
    value = (value << 6) | (p[k] & 0x3F);
  }
  *cp = value;
  return len;
}

std::string clean_text(std::string_view raw, size_t* replaced_bytes) {
  std::string out;
  out.reserve(raw.size());
  size_t replaced = 0;
  uint32_t cp = 0;
  size_t i = 0;
  while (i < raw.size()) {
    auto c = static_cast<unsigned char>(raw[i]);
    if (c == 0x1B) {
      size_t j = i + 1;
      if (j < raw.size() && raw[j] == '[') {  // CSI: params, intermediates, final byte
        ++j;
        while (j < raw.size() && raw[j] >= 0x20 && raw[j] <= 0x3F) ++j;
        if (j < raw.size() && raw[j] >= 0x40 && raw[j] <= 0x7E) ++j;
      } else if (j < raw.size() && raw[j] == ']') {  // OSC: up to BEL or ESC backslash
        ++j;
        while (j < raw.size() && raw[j] != '\a' && raw[j] != 0x1B) ++j;
        if (j < raw.size() && raw[j] == '\a') {
          ++j;
        } else if (j + 1 < raw.size() && raw[j + 1] == '\\') {
          j += 2;
        }
      } else {  // two-byte (or with intermediates) escape such as ESC ( B
        while (j < raw.size() && raw[j] >= 0x20 && raw[j] <= 0x2F) ++j;
        if (j < raw.size() && raw[j] >= 0x30 && raw[j] <= 0x7E) ++j;
      }
      i = j;
      continue;
    }
    if (c == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    int len = utf8_decode(raw, i, &cp);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++replaced;
      ++i;
    } else {
      out.append(raw.substr(i, static_cast<size_t>(len)));
      i += static_cast<size_t>(len);
    }
  }
  if (replaced_bytes) *replaced_bytes += replaced;
  return out;
}

uint64_t hash_bytes(std::string_view data, uint64_t seed) {
  constexpr uint64_t kPrime = 0x100000001B3ULL;
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint64_t h = 0xCBF29CE484222325ULL ^ (seed * kMul) ^ (static_cast<uint64_t>(n) * kPrime);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = 0;
    for (int k = 7; k >= 0; --k) w = (w << 8) | p[i + static_cast<size_t>(k)];
    h = (h ^ (w * kMul)) * kPrime;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * kPrime;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return h;
}

std::vector<std::string> default_corpus_paths() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const char* p : {"/usr/share/games/fortunes"}) {
    if (fs::is_directory(p, ec)) out.emplace_back(p);
  }
  return out;
}

std::vector<std::string> load_corpus(const std::vector<std::string>& paths,
                                     CorpusStats* stats) {
  CorpusStats local;
  std::vector<std::string> docs;
  auto use_file = [&](const fs::path& path, std::string raw) {
    if (looks_binary(raw)) return;
    size_t before = docs.size();
    std::string text = clean_text(raw, &local.replaced_bytes);
    add_documents(text, &docs);
    if (docs.size() > before) ++local.files;
  };

  for (const std::string& p : paths) {
    std::error_code ec;
    fs::path path(p);
    if (!fs::exists(path, ec)) throw DataError("corpus " + p + ": not found");
    if (!fs::is_directory(path, ec)) {
      if (!ends_with(path.filename().string(), ".dat")) use_file(path, read_file(path));
      continue;
    }
    std::vector<fs::path> files;
    collect_files(path, &files);
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) { return a.string() < b.string(); });
    std::set<std::string> names;
    for (const fs::path& f : files) names.insert(f.string());
    for (const fs::path& f : files) {
      std::string name = f.string();
      if (ends_with(name, ".dat")) continue;
      if (ends_with(name, ".u8") && names.count(name.substr(0, name.size() - 3))) continue;
      std::string raw = read_file(f);
      std::string u8 = name + ".u8";
      if (names.count(u8) && !valid_utf8(raw)) {
        use_file(u8, read_file(u8));
      } else {
        use_file(f, std::move(raw));
      }
    }
  }
  if (docs.empty()) {
    std::string joined;
    for (const std::string& p : paths) joined += (joined.empty() ? "" : ", ") + p;
    throw DataError("corpus " + (joined.empty() ? std::string("(no paths)") : joined) +
                    ": no text documents found");
  }
  local.documents = docs.size();
  for (const std::string& d : docs) local.bytes += d.size();
  if (stats) *stats = local;
  return docs;
}

}  // namespace r1::data
