#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r1::data {

// Byte-level BPE. Ids 0..255 are the bytes, then one id per merge in training order, then the
// special token "<|endoftext|>" (eot_id() == vocab_size() - 1). Text is first split into
// pre-tokens (see pretokenize()); merges never cross their boundaries. Instances are
// immutable after construction; all const members are safe to call concurrently (the encode
// cache is shared between copies and guarded by locks).
class BpeTokenizer {
 public:
  static constexpr int kByteTokens = 256;
  static constexpr int kMaxVocab = 1 << 24;
  static constexpr const char* kEndOfText = "<|endoftext|>";

  // Bytes only (vocab 257).
  BpeTokenizer();

  // Learns vocab_size - 257 merges (fewer when no pair occurs at least twice any more; then
  // vocab_size() is smaller than requested). Ties go to the pair with the smallest ids.
  // progress(done, total) counts merges. Throws DataError if vocab_size < 257.
  static BpeTokenizer train(const std::vector<std::string>& docs, int vocab_size,
                            const std::function<void(int done, int total)>& progress = {});

  // GPT-2-like split into pre-tokens that partition the input: an optional space plus a run
  // of letters (ASCII and Latin-1/Latin Extended-A/B), an optional space plus a run of other
  // non-ASCII code points (CJK etc.), digits in runs of at most 3, an optional space plus a
  // run of punctuation (ASCII, general and CJK punctuation), whitespace runs (whose last space
  // goes to a following letter/non-ASCII/punctuation run). Invalid UTF-8 bytes count as
  // non-ASCII code points.
  static std::vector<std::string_view> pretokenize(std::string_view text);

  // Any byte string; the text "<|endoftext|>" is encoded as ordinary bytes, never as eot_id().
  std::vector<int32_t> encode(std::string_view text) const;
  // Throws DataError for an id outside [0, vocab_size()).
  std::string decode(const std::vector<int32_t>& ids) const;

  int vocab_size() const { return static_cast<int>(token_bytes_.size()) + 1; }
  int eot_id() const { return static_cast<int>(token_bytes_.size()); }
  int merge_count() const { return static_cast<int>(merges_.size()); }
  const std::vector<std::pair<int32_t, int32_t>>& merges() const { return merges_; }
  // The bytes a token stands for; empty for the special token (and for ids out of range).
  const std::string& token_bytes(int id) const;
  uint64_t fingerprint() const { return fingerprint_; }

  // Text: a header line "r1-bpe 1 <vocab_size>", then one merge "a b" per line. Written to a
  // temporary file that is renamed over path. Throws DataError on I/O errors.
  void save(const std::string& path) const;
  // Throws DataError naming the file (and line) for missing files and malformed content.
  static BpeTokenizer load(const std::string& path);

 private:
  struct Cache;

  explicit BpeTokenizer(std::vector<std::pair<int32_t, int32_t>> merges);
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;

  std::vector<std::pair<int32_t, int32_t>> merges_;
  std::vector<std::string> token_bytes_;  // all tokens except the special one
  std::vector<std::pair<uint64_t, int32_t>> merge_table_;  // open addressing: pair key -> id
  uint64_t merge_mask_ = 0;
  uint64_t fingerprint_ = 0;
  std::shared_ptr<Cache> cache_;
};

}  // namespace r1::data
