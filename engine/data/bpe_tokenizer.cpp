#include "engine/data/bpe_tokenizer.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <queue>
#include <sstream>
#include <unistd.h>
#include <unordered_map>

#include "engine/data/corpus.h"
#include "engine/data/data_error.h"

namespace r1::data {

namespace {

constexpr uint64_t kEmptyKey = ~uint64_t{0};
constexpr const char* kMagic = "r1-bpe";
constexpr int kFormatVersion = 1;

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

uint64_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xFF51AFD7ED558CCDULL;
  k ^= k >> 33;
  return k;
}

enum class CharClass { kLetter, kNonAscii, kDigit, kPunct, kSpace };

CharClass classify(std::string_view s, size_t i, size_t* len) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *len = 1;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CharClass::kLetter;
    if (c >= '0' && c <= '9') return CharClass::kDigit;
    if (c == ' ' || (c >= '\t' && c <= '\r')) return CharClass::kSpace;
    return CharClass::kPunct;
  }
  uint32_t cp = 0;
  int n = utf8_decode(s, i, &cp);
  if (n == 0) {
    *len = 1;
    return CharClass::kNonAscii;
  }
  *len = static_cast<size_t>(n);
  if (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) return CharClass::kLetter;
  if ((cp >= 0xA1 && cp <= 0xBF) || (cp >= 0x2000 && cp <= 0x206F) ||
      (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF01 && cp <= 0xFF0F) ||
      (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
      (cp >= 0xFF5B && cp <= 0xFF65)) {
    return CharClass::kPunct;
  }
  return CharClass::kNonAscii;
}

bool takes_leading_space(CharClass c) {
  return c == CharClass::kLetter || c == CharClass::kNonAscii || c == CharClass::kPunct;
}

// Training state: unique pre-tokens as id sequences with their corpus counts.
struct Word {
  std::vector<int32_t> ids;
  int64_t count = 0;
};

struct HeapEntry {
  int64_t count;
  int32_t a, b;
  bool operator<(const HeapEntry& o) const {  // max-heap: larger count, then smaller ids
    if (count != o.count) return count < o.count;
    if (a != o.a) return a > o.a;
    return b > o.b;
  }
};

[[noreturn]] void fail_line(const std::string& path, size_t line, const std::string& why) {
  throw DataError("tokenizer " + path + " line " + std::to_string(line) + ": " + why);
}

bool parse_int(std::string_view s, long long* out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

struct BpeTokenizer::Cache {
  static constexpr size_t kShards = 16;
  static constexpr size_t kShardCapacity = 1 << 13;
  struct Entry {
    std::string word;
    std::vector<int32_t> ids;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<uint64_t, Entry> map;
  };
  Shard shards[kShards];
};

BpeTokenizer::BpeTokenizer() : BpeTokenizer(std::vector<std::pair<int32_t, int32_t>>{}) {}

BpeTokenizer::BpeTokenizer(std::vector<std::pair<int32_t, int32_t>> merges)
    : merges_(std::move(merges)), cache_(std::make_shared<Cache>()) {
  token_bytes_.reserve(kByteTokens + merges_.size());
  for (int i = 0; i < kByteTokens; ++i) token_bytes_.emplace_back(1, static_cast<char>(i));
  for (const auto& [a, b] : merges_) token_bytes_.push_back(token_bytes_[a] + token_bytes_[b]);

  size_t cap = 16;
  while (cap < merges_.size() * 2 + 2) cap <<= 1;
  merge_table_.assign(cap, {kEmptyKey, -1});
  merge_mask_ = cap - 1;
  std::string fp_bytes;
  fp_bytes.reserve(merges_.size() * 8);
  for (size_t i = 0; i < merges_.size(); ++i) {
    uint64_t key = pair_key(merges_[i].first, merges_[i].second);
    uint64_t slot = mix(key) & merge_mask_;
    while (merge_table_[slot].first != kEmptyKey) slot = (slot + 1) & merge_mask_;
    merge_table_[slot] = {key, kByteTokens + static_cast<int32_t>(i)};
    for (int32_t v : {merges_[i].first, merges_[i].second}) {
      for (int k = 0; k < 4; ++k) fp_bytes.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
    }
  }
  fingerprint_ = hash_bytes(fp_bytes, 0x7231627065310001ULL);
}

std::vector<std::string_view> BpeTokenizer::pretokenize(std::string_view text) {
  std::vector<std::string_view> out;
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    size_t len = 0;
    CharClass c = classify(text, i, &len);
    if (text[i] == ' ' && i + 1 < n) {
      size_t next_len = 0;
      CharClass next = classify(text, i + 1, &next_len);
      if (takes_leading_space(next)) {
        c = next;
        i += 1;
        len = next_len;
      }
    }
    if (c == CharClass::kSpace) {
      size_t j = i;
      size_t last = i;
      while (j < n) {
        size_t l = 0;
        if (classify(text, j, &l) != CharClass::kSpace) break;
        last = j;
        j += l;
      }
      if (j < n && last > i && text[last] == ' ') {
        size_t l = 0;
        if (takes_leading_space(classify(text, j, &l))) j = last;
      }
      i = j;
    } else if (c == CharClass::kDigit) {
      size_t j = i;
      size_t l = 0;
      while (j < n && j - i < 3 && classify(text, j, &l) == CharClass::kDigit) j += l;
      i = j;
    } else {
      size_t j = i + len;
      size_t l = 0;
      while (j < n && classify(text, j, &l) == c) j += l;
      i = j;
    }
    out.push_back(text.substr(start, i - start));
  }
  return out;
}

BpeTokenizer BpeTokenizer::train(const std::vector<std::string>& docs, int vocab_size,
                                 const std::function<void(int, int)>& progress) {
  if (vocab_size < kByteTokens + 1 || vocab_size > kMaxVocab) {
    throw DataError("tokenizer: vocab_size " + std::to_string(vocab_size) +
                    " out of range [257, " + std::to_string(kMaxVocab) + "]");
  }
  const int target = vocab_size - kByteTokens - 1;

  std::unordered_map<std::string_view, int64_t> unique;
  for (const std::string& doc : docs) {
    for (std::string_view piece : pretokenize(doc)) {
      if (piece.size() >= 2) ++unique[piece];
    }
  }
  std::vector<std::pair<std::string_view, int64_t>> sorted(unique.begin(), unique.end());
  unique = {};
  std::sort(sorted.begin(), sorted.end());
  std::vector<Word> words(sorted.size());
  for (size_t w = 0; w < sorted.size(); ++w) {
    words[w].count = sorted[w].second;
    for (char ch : sorted[w].first) words[w].ids.push_back(static_cast<unsigned char>(ch));
  }
  sorted = {};

  std::unordered_map<uint64_t, int64_t> pair_counts;
  std::unordered_map<uint64_t, std::vector<int32_t>> where;
  for (size_t w = 0; w < words.size(); ++w) {
    const auto& ids = words[w].ids;
    for (size_t k = 0; k + 1 < ids.size(); ++k) {
      uint64_t key = pair_key(ids[k], ids[k + 1]);
      pair_counts[key] += words[w].count;
      auto& list = where[key];
      if (list.empty() || list.back() != static_cast<int32_t>(w)) {
        list.push_back(static_cast<int32_t>(w));
      }
    }
  }
  std::priority_queue<HeapEntry> heap;
  for (const auto& [key, count] : pair_counts) {
    heap.push({count, static_cast<int32_t>(key >> 32), static_cast<int32_t>(key & 0xFFFFFFFF)});
  }

  std::vector<std::pair<int32_t, int32_t>> merges;
  merges.reserve(static_cast<size_t>(target));
  std::vector<int32_t> last_merge(words.size(), -1);
  std::unordered_map<uint64_t, int64_t> delta;
  std::vector<int32_t> rebuilt;
  const int report_every = std::max(1, target / 200);

  while (static_cast<int>(merges.size()) < target && !heap.empty()) {
    HeapEntry top = heap.top();
    heap.pop();
    uint64_t key = pair_key(top.a, top.b);
    auto found = pair_counts.find(key);
    int64_t current = found == pair_counts.end() ? 0 : found->second;
    if (current != top.count) {
      if (current > 0) heap.push({current, top.a, top.b});
      continue;
    }
    if (current < 2) break;

    const int32_t a = top.a, b = top.b;
    const int32_t z = kByteTokens + static_cast<int32_t>(merges.size());
    merges.emplace_back(a, b);
    std::vector<int32_t> affected = std::move(where[key]);
    where.erase(key);
    pair_counts.erase(key);
    delta.clear();

    for (int32_t w : affected) {
      if (last_merge[w] == z) continue;
      last_merge[w] = z;
      std::vector<int32_t>& ids = words[w].ids;
      const int64_t c = words[w].count;
      rebuilt.clear();
      bool changed = false;
      for (size_t k = 0; k < ids.size();) {
        if (k + 1 < ids.size() && ids[k] == a && ids[k + 1] == b) {
          if (!rebuilt.empty()) {
            int32_t x = rebuilt.back();
            delta[pair_key(x, a)] -= c;
            delta[pair_key(x, z)] += c;
          }
          if (k + 2 < ids.size()) {
            int32_t y = ids[k + 2];
            delta[pair_key(b, y)] -= c;
            delta[pair_key(z, y)] += c;
          }
          rebuilt.push_back(z);
          changed = true;
          k += 2;
        } else {
          rebuilt.push_back(ids[k]);
          k += 1;
        }
      }
      if (!changed) continue;
      ids.assign(rebuilt.begin(), rebuilt.end());
      for (size_t k = 0; k + 1 < ids.size(); ++k) {
        if (ids[k] != z && ids[k + 1] != z) continue;
        auto& list = where[pair_key(ids[k], ids[k + 1])];
        if (list.empty() || list.back() != w) list.push_back(w);
      }
    }
    delta.erase(key);
    for (const auto& [k, d] : delta) {
      if (d == 0) continue;
      auto it = pair_counts.find(k);
      int64_t updated = (it == pair_counts.end() ? 0 : it->second) + d;
      if (updated <= 0) {
        if (it != pair_counts.end()) pair_counts.erase(it);
        continue;
      }
      if (it == pair_counts.end()) {
        pair_counts.emplace(k, updated);
      } else {
        it->second = updated;
      }
      auto ka = static_cast<int32_t>(k >> 32), kb = static_cast<int32_t>(k & 0xFFFFFFFF);
      if (ka == z || kb == z) heap.push({updated, ka, kb});
    }
    if (progress && static_cast<int>(merges.size()) % report_every == 0) {
      progress(static_cast<int>(merges.size()), target);
    }
  }
  if (progress) progress(static_cast<int>(merges.size()), target);
  return BpeTokenizer(std::move(merges));
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  const size_t n = word.size();
  if (n == 1 || merges_.empty()) {
    for (char ch : word) out->push_back(static_cast<unsigned char>(ch));
    return;
  }
  auto lookup = [this](int32_t a, int32_t b) -> int32_t {
    uint64_t key = pair_key(a, b);
    for (uint64_t slot = mix(key) & merge_mask_;; slot = (slot + 1) & merge_mask_) {
      const auto& e = merge_table_[slot];
      if (e.first == key) return e.second;
      if (e.first == kEmptyKey) return -1;
    }
  };
  std::vector<int32_t> ids(n), prev(n), next(n);
  for (size_t k = 0; k < n; ++k) {
    ids[k] = static_cast<unsigned char>(word[k]);
    prev[k] = static_cast<int32_t>(k) - 1;
    next[k] = k + 1 < n ? static_cast<int32_t>(k + 1) : -1;
  }
  using Candidate = std::pair<int32_t, int32_t>;  // (merged id = rank, position)
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  for (size_t k = 0; k + 1 < n; ++k) {
    int32_t m = lookup(ids[k], ids[k + 1]);
    if (m >= 0) heap.push({m, static_cast<int32_t>(k)});
  }
  std::vector<char> removed(n, 0);
  while (!heap.empty()) {
    auto [m, pos] = heap.top();
    heap.pop();
    if (removed[pos] || next[pos] < 0) continue;
    int32_t nx = next[pos];
    if (lookup(ids[pos], ids[nx]) != m) continue;
    ids[pos] = m;
    removed[nx] = 1;
    next[pos] = next[nx];
    if (next[nx] >= 0) prev[next[nx]] = pos;
    if (prev[pos] >= 0) {
      int32_t left = lookup(ids[prev[pos]], m);
      if (left >= 0) heap.push({left, prev[pos]});
    }
    if (next[pos] >= 0) {
      int32_t right = lookup(m, ids[next[pos]]);
      if (right >= 0) heap.push({right, pos});
    }
  }
  for (int32_t k = 0; k >= 0; k = next[k]) out->push_back(ids[k]);
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  for (std::string_view word : pretokenize(text)) {
    if (word.size() < 3) {
      encode_word(word, &out);
      continue;
    }
    uint64_t h = hash_bytes(word);
    Cache::Shard& shard = cache_->shards[h % Cache::kShards];
    {
      std::lock_guard<std::mutex> lock(shard.mu);
      auto it = shard.map.find(h);
      if (it != shard.map.end() && it->second.word == word) {
        out.insert(out.end(), it->second.ids.begin(), it->second.ids.end());
        continue;
      }
    }
    size_t before = out.size();
    encode_word(word, &out);
    std::lock_guard<std::mutex> lock(shard.mu);
    if (shard.map.size() >= Cache::kShardCapacity) shard.map.clear();
    shard.map[h] = {std::string(word), std::vector<int32_t>(out.begin() + before, out.end())};
  }
  return out;
}

std::string BpeTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id == eot_id()) {
      out += kEndOfText;
    } else if (id >= 0 && id < eot_id()) {
      out += token_bytes_[static_cast<size_t>(id)];
    } else {
      throw DataError("tokenizer: token id " + std::to_string(id) + " out of range [0, " +
                      std::to_string(vocab_size()) + ")");
    }
  }
  return out;
}

const std::string& BpeTokenizer::token_bytes(int id) const {
  static const std::string empty;
  if (id < 0 || id >= eot_id()) return empty;
  return token_bytes_[static_cast<size_t>(id)];
}

void BpeTokenizer::save(const std::string& path) const {
  std::string text = std::string(kMagic) + " " + std::to_string(kFormatVersion) + " " +
                     std::to_string(vocab_size()) + "\n";
  for (const auto& [a, b] : merges_) {
    text += std::to_string(a);
    text += ' ';
    text += std::to_string(b);
    text += '\n';
  }
  static std::atomic<unsigned> counter{0};
  std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter.fetch_add(1));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw DataError("tokenizer " + path + ": cannot write: " + std::strerror(errno));
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw DataError("tokenizer " + path + ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw DataError("tokenizer " + path + ": cannot rename: " + std::strerror(err));
  }
}

BpeTokenizer BpeTokenizer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    throw DataError("tokenizer " + path + ": " +
                    (err == ENOENT ? std::string("not found") : std::strerror(err)));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw DataError("tokenizer " + path + ": read error");
  const std::string text = buffer.str();

  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == text.npos ? text.size() : nl;
    std::string_view line(text.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = nl == text.npos ? text.size() : nl + 1;
  }
  if (lines.empty()) fail_line(path, 1, "empty file, expected header 'r1-bpe 1 <vocab_size>'");

  auto header = split_fields(lines[0]);
  long long version = 0, vocab = 0;
  if (header.size() != 3 || header[0] != kMagic) {
    fail_line(path, 1, "expected header 'r1-bpe 1 <vocab_size>'");
  }
  if (!parse_int(header[1], &version) || version != kFormatVersion) {
    fail_line(path, 1, "unsupported format version '" + std::string(header[1]) + "'");
  }
  if (!parse_int(header[2], &vocab) || vocab < kByteTokens + 1 || vocab > kMaxVocab) {
    fail_line(path, 1, "invalid vocab size '" + std::string(header[2]) + "'");
  }
  const size_t expected = static_cast<size_t>(vocab) - kByteTokens - 1;

  std::vector<std::pair<int32_t, int32_t>> merges;
  merges.reserve(std::min(expected, lines.size()));
  std::unordered_map<uint64_t, size_t> seen;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t line_no = i + 1;
    auto fields = split_fields(lines[i]);
    if (fields.empty() && i + 1 == lines.size()) break;
    if (merges.size() == expected) {
      fail_line(path, line_no, "more merges than vocab size " + std::to_string(vocab) +
                                   " allows");
    }
    long long a = 0, b = 0;
    if (fields.size() != 2 || !parse_int(fields[0], &a) || !parse_int(fields[1], &b)) {
      fail_line(path, line_no, "expected two token ids");
    }
    const long long limit = kByteTokens + static_cast<long long>(merges.size());
    if (a < 0 || b < 0 || a >= limit || b >= limit) {
      fail_line(path, line_no, "token id out of range [0, " + std::to_string(limit) + ")");
    }
    auto [it, fresh] = seen.emplace(pair_key(static_cast<int32_t>(a), static_cast<int32_t>(b)),
                                    line_no);
    if (!fresh) {
      fail_line(path, line_no, "duplicate merge (first on line " + std::to_string(it->second) +
                                   ")");
    }
    merges.emplace_back(static_cast<int32_t>(a), static_cast<int32_t>(b));
  }
  if (merges.size() != expected) {
    fail_line(path, merges.size() + 2, "truncated: expected " + std::to_string(expected) +
                                           " merges, found " + std::to_string(merges.size()));
  }
  return BpeTokenizer(std::move(merges));
}

}  // namespace r1::data
