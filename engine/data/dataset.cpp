#include "engine/data/dataset.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <thread>

#include "engine/data/data_error.h"

namespace r1::data {

namespace fs = std::filesystem;

namespace {

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::vector<size_t> document_order(size_t n, uint64_t seed) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  uint64_t state = seed;
  for (size_t i = n; i > 1; --i) {
    size_t j = static_cast<size_t>(splitmix64(&state) % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

std::vector<int32_t> encode_documents(const BpeTokenizer& tok,
                                      const std::vector<std::string>& docs,
                                      const std::vector<size_t>& order) {
  size_t threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<size_t>({threads, 8, order.size() / 64 + 1});
  std::vector<std::vector<int32_t>> parts(threads);
  auto work = [&](size_t t) {
    size_t begin = order.size() * t / threads, end = order.size() * (t + 1) / threads;
    for (size_t k = begin; k < end; ++k) {
      std::vector<int32_t> ids = tok.encode(docs[order[k]]);
      parts[t].insert(parts[t].end(), ids.begin(), ids.end());
      parts[t].push_back(tok.eot_id());
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& th : pool) th.join();
  size_t total = 0;
  for (const auto& p : parts) total += p.size();
  std::vector<int32_t> out;
  out.reserve(total);
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

uint64_t source_fingerprint(const std::vector<std::string>& docs) {
  uint64_t h = hash_bytes("r1-corpus", docs.size());
  for (const std::string& d : docs) h = hash_bytes(d, h ^ (d.size() * 0x9E3779B97F4A7C15ULL));
  return h;
}

PreparedData prepare_data(const DataOptions& options,
                          const std::function<void(const std::string&)>& log_fn) {
  auto log = [&](const std::string& line) {
    if (log_fn) log_fn(line);
  };
  if (!(options.val_fraction >= 0.0 && options.val_fraction < 1.0)) {
    throw DataError("data options: val_fraction " + std::to_string(options.val_fraction) +
                    " outside [0, 1)");
  }
  if (options.cache_dir.empty()) throw DataError("data options: cache_dir is empty");
  std::error_code ec;
  fs::create_directories(options.cache_dir, ec);
  if (ec || !fs::is_directory(options.cache_dir)) {
    throw DataError("cache dir " + options.cache_dir + ": cannot create: " + ec.message());
  }

  PreparedData out;
  std::vector<std::string> docs = load_corpus(options.paths, &out.stats);
  const uint64_t src_fp = source_fingerprint(docs);
  log("corpus: " + std::to_string(out.stats.files) + " files, " +
      std::to_string(out.stats.documents) + " documents, " + std::to_string(out.stats.bytes) +
      " bytes, " + std::to_string(out.stats.replaced_bytes) + " invalid bytes replaced");

  const bool have_given = !options.tokenizer_path.empty() && fs::exists(options.tokenizer_path);
  if (have_given) {
    out.tokenizer = BpeTokenizer::load(options.tokenizer_path);
    out.tokenizer_path = options.tokenizer_path;
    log("tokenizer: loaded " + out.tokenizer_path + " (vocab " +
        std::to_string(out.tokenizer.vocab_size()) + ")");
  } else {
    const std::string cached = (fs::path(options.cache_dir) /
                                ("tokenizer-" + hex16(src_fp) + "-" +
                                 std::to_string(options.vocab_size) + ".txt")).string();
    bool reused = false;
    if (fs::exists(cached)) {
      try {
        out.tokenizer = BpeTokenizer::load(cached);
        reused = true;
        log("tokenizer: reusing " + cached);
      } catch (const DataError& e) {
        log(std::string("tokenizer: cached file unusable, retraining: ") + e.what());
      }
    }
    if (!reused) {
      log("tokenizer: training a " + std::to_string(options.vocab_size) +
          "-token vocabulary on " + std::to_string(docs.size()) + " documents");
      auto start = std::chrono::steady_clock::now();
      int last_decile = 0;
      out.tokenizer = BpeTokenizer::train(docs, options.vocab_size, [&](int done, int total) {
        int decile = total > 0 ? done * 10 / total : 10;
        if (decile > last_decile && decile < 10) {
          last_decile = decile;
          log("tokenizer: " + std::to_string(done) + "/" + std::to_string(total) + " merges");
        }
      });
      out.tokenizer.save(cached);
      char secs[32];
      std::snprintf(secs, sizeof(secs), "%.1f", seconds_since(start));
      log("tokenizer: trained vocab " + std::to_string(out.tokenizer.vocab_size()) + " in " +
          secs + " s, saved " + cached);
    }
    out.tokenizer_path = cached;
    if (!options.tokenizer_path.empty()) {
      out.tokenizer.save(options.tokenizer_path);
      out.tokenizer_path = options.tokenizer_path;
      log("tokenizer: saved " + options.tokenizer_path);
    }
  }

  const uint64_t tok_fp = out.tokenizer.fingerprint();
  out.token_path = (fs::path(options.cache_dir) /
                    ("tokens-" + hex16(tok_fp) + "-" + hex16(src_fp) + ".bin")).string();
  bool reused = false;
  if (fs::exists(out.token_path)) {
    try {
      TokenFile tf = TokenFile::open(out.token_path);
      if (tf.tokenizer_fingerprint() != tok_fp || tf.source_fingerprint() != src_fp ||
          tf.vocab_size() != out.tokenizer.vocab_size()) {
        throw DataError("token file " + out.token_path + ": fingerprints do not match");
      }
      out.tokens = std::move(tf);
      reused = true;
      log("tokens: reusing " + out.token_path);
    } catch (const DataError& e) {
      log(std::string("tokens: cached file unusable, re-encoding: ") + e.what());
    }
  }
  if (!reused) {
    auto start = std::chrono::steady_clock::now();
    std::vector<int32_t> ids =
        encode_documents(out.tokenizer, docs, document_order(docs.size(), src_fp));
    TokenFile::write(out.token_path, ids, out.tokenizer.vocab_size(), tok_fp, src_fp);
    out.tokens = TokenFile::open(out.token_path, false);
    char info[96];
    std::snprintf(info, sizeof(info), "%zu tokens (%.2f bytes/token) in %.1f s", ids.size(),
                  static_cast<double>(out.stats.bytes) / std::max<size_t>(1, ids.size()),
                  seconds_since(start));
    log(std::string("tokens: encoded ") + info + ", wrote " + out.token_path);
  }

  const size_t n = out.tokens.size();
  size_t val = 0;
  if (options.val_fraction > 0.0) {
    val = std::max<size_t>(1, static_cast<size_t>(static_cast<double>(n) * options.val_fraction));
    if (val >= n) {
      throw DataError("token file " + out.token_path + ": " + std::to_string(n) +
                      " tokens are too few for a train/validation split");
    }
  }
  out.train_tokens = n - val;
  log("split: " + std::to_string(out.train_tokens) + " train, " + std::to_string(val) +
      " validation tokens");
  return out;
}

}  // namespace r1::data
