#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace r1::data {

// A memory-mapped token file: a 64-byte header, then the tokens little-endian.
//   0 magic "R1TOK001" | 8 u32 token width (2 or 4) | 12 u32 vocab size | 16 u64 token count
//   24 u64 tokenizer fingerprint | 32 u64 source fingerprint | 40 u32 crc32 of the payload
//   44 zero padding up to 64
class TokenFile {
 public:
  static constexpr size_t kHeaderSize = 64;

  TokenFile() = default;
  TokenFile(TokenFile&& other) noexcept;
  TokenFile& operator=(TokenFile&& other) noexcept;
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;
  ~TokenFile();

  // Width 2 when vocab_size <= 65536, else 4. Written to a temporary file renamed over path.
  // Throws DataError for a token outside [0, vocab_size) or on I/O errors.
  static void write(const std::string& path, const std::vector<int32_t>& tokens, int vocab_size,
                    uint64_t tok_fp, uint64_t src_fp);
  // Throws DataError on a missing file, bad magic, bad header or a size that does not match
  // the header. With verify_crc it also reads the whole payload and checks the crc and that
  // every token is below vocab_size.
  static TokenFile open(const std::string& path, bool verify_crc = true);

  size_t size() const { return count_; }
  // No bounds check.
  int32_t operator[](size_t i) const;
  // Copies tokens [start, start + n); throws std::out_of_range past the end.
  void copy_window(size_t start, size_t n, int64_t* out) const;

  int token_width() const { return width_; }
  int vocab_size() const { return vocab_size_; }
  uint64_t tokenizer_fingerprint() const { return tok_fp_; }
  uint64_t source_fingerprint() const { return src_fp_; }
  const std::string& path() const { return path_; }

 private:
  void release() noexcept;

  void* map_ = nullptr;
  size_t map_size_ = 0;
  const unsigned char* payload_ = nullptr;
  size_t count_ = 0;
  int width_ = 0;
  int vocab_size_ = 0;
  uint64_t tok_fp_ = 0;
  uint64_t src_fp_ = 0;
  std::string path_;
};

}  // namespace r1::data
