#include "engine/data/token_file.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <zlib.h>

#include "engine/data/data_error.h"

namespace r1::data {

namespace {

constexpr char kMagic[8] = {'R', '1', 'T', 'O', 'K', '0', '0', '1'};
constexpr size_t kChunkTokens = 1 << 16;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr bool kLittleEndian = true;
#else
constexpr bool kLittleEndian = false;
#endif

void put_le(unsigned char* p, uint64_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) p[k] = static_cast<unsigned char>(v >> (8 * k));
}

uint64_t get_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

uint32_t crc_update(uint32_t crc, const unsigned char* p, size_t n) {
  while (n > 0) {
    auto step = static_cast<uInt>(std::min<size_t>(n, size_t{1} << 30));
    crc = static_cast<uint32_t>(::crc32(crc, p, step));
    p += step;
    n -= step;
  }
  return crc;
}

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw DataError("token file " + path + ": " + why);
}

void write_all(int fd, const unsigned char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(path, std::string("write failed: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

TokenFile::TokenFile(TokenFile&& other) noexcept { *this = std::move(other); }

TokenFile& TokenFile::operator=(TokenFile&& other) noexcept {
  if (this != &other) {
    release();
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
    payload_ = std::exchange(other.payload_, nullptr);
    count_ = std::exchange(other.count_, 0);
    width_ = std::exchange(other.width_, 0);
    vocab_size_ = std::exchange(other.vocab_size_, 0);
    tok_fp_ = std::exchange(other.tok_fp_, 0);
    src_fp_ = std::exchange(other.src_fp_, 0);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TokenFile::~TokenFile() { release(); }

void TokenFile::release() noexcept {
  if (map_) ::munmap(map_, map_size_);
  map_ = nullptr;
  map_size_ = 0;
  payload_ = nullptr;
  count_ = 0;
}

void TokenFile::write(const std::string& path, const std::vector<int32_t>& tokens,
                      int vocab_size, uint64_t tok_fp, uint64_t src_fp) {
  if (vocab_size <= 0) fail(path, "invalid vocab size " + std::to_string(vocab_size));
  const int width = vocab_size <= 65536 ? 2 : 4;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab_size) {
      fail(path, "token " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                     " out of range [0, " + std::to_string(vocab_size) + ")");
    }
  }
  static std::atomic<unsigned> counter{0};
  std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, std::string("cannot create: ") + std::strerror(errno));
  try {
    unsigned char header[kHeaderSize] = {};
    write_all(fd, header, kHeaderSize, path);
    std::vector<unsigned char> chunk(kChunkTokens * static_cast<size_t>(width));
    uint32_t crc = static_cast<uint32_t>(::crc32(0, nullptr, 0));
    for (size_t start = 0; start < tokens.size(); start += kChunkTokens) {
      size_t n = std::min(kChunkTokens, tokens.size() - start);
      for (size_t k = 0; k < n; ++k) {
        put_le(chunk.data() + k * static_cast<size_t>(width),
               static_cast<uint32_t>(tokens[start + k]), width);
      }
      size_t bytes = n * static_cast<size_t>(width);
      crc = crc_update(crc, chunk.data(), bytes);
      write_all(fd, chunk.data(), bytes, path);
    }
    std::memcpy(header, kMagic, sizeof(kMagic));
    put_le(header + 8, static_cast<uint32_t>(width), 4);
    put_le(header + 12, static_cast<uint32_t>(vocab_size), 4);
    put_le(header + 16, tokens.size(), 8);
    put_le(header + 24, tok_fp, 8);
    put_le(header + 32, src_fp, 8);
    put_le(header + 40, crc, 4);
    if (::pwrite(fd, header, kHeaderSize, 0) != static_cast<ssize_t>(kHeaderSize)) {
      fail(path, std::string("write failed: ") + std::strerror(errno));
    }
    if (::fsync(fd) != 0) fail(path, std::string("fsync failed: ") + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail(path, std::string("close failed: ") + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(path, std::string("cannot rename: ") + std::strerror(err));
  }
}

TokenFile TokenFile::open(const std::string& path, bool verify_crc) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail(path, errno == ENOENT ? std::string("not found") : std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    fail(path, std::string("cannot stat: ") + std::strerror(err));
  }
  const auto file_size = static_cast<size_t>(st.st_size);
  if (file_size < kHeaderSize) {
    ::close(fd);
    fail(path, "truncated header (" + std::to_string(file_size) + " bytes)");
  }
  void* map = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  int map_err = errno;
  ::close(fd);
  if (map == MAP_FAILED) fail(path, std::string("mmap failed: ") + std::strerror(map_err));

  TokenFile tf;
  tf.map_ = map;
  tf.map_size_ = file_size;
  tf.path_ = path;
  const auto* h = static_cast<const unsigned char*>(map);
  if (std::memcmp(h, kMagic, sizeof(kMagic)) != 0) fail(path, "bad magic (not a token file)");
  const auto width = static_cast<int>(get_le(h + 8, 4));
  const uint64_t vocab = get_le(h + 12, 4);
  const uint64_t count = get_le(h + 16, 8);
  if (width != 2 && width != 4) fail(path, "bad token width " + std::to_string(width));
  if (vocab == 0 || vocab > (width == 2 ? 65536u : 0x7FFFFFFFu)) {
    fail(path, "bad vocab size " + std::to_string(vocab));
  }
  const size_t payload = file_size - kHeaderSize;
  if (count > payload / static_cast<size_t>(width)) {
    fail(path, "truncated: header says " + std::to_string(count) + " tokens, file holds " +
                   std::to_string(payload / static_cast<size_t>(width)));
  }
  if (count * static_cast<size_t>(width) != payload) {
    fail(path, "size mismatch: " + std::to_string(payload - count * width) + " trailing bytes");
  }
  tf.payload_ = h + kHeaderSize;
  tf.count_ = count;
  tf.width_ = width;
  tf.vocab_size_ = static_cast<int>(vocab);
  tf.tok_fp_ = get_le(h + 24, 8);
  tf.src_fp_ = get_le(h + 32, 8);
  if (verify_crc) {
    uint32_t crc = crc_update(static_cast<uint32_t>(::crc32(0, nullptr, 0)), tf.payload_, payload);
    auto stored = static_cast<uint32_t>(get_le(h + 40, 4));
    if (crc != stored) fail(path, "crc mismatch (payload corrupt)");
    for (size_t i = 0; i < count; ++i) {
      int32_t t = tf[i];
      if (t < 0 || static_cast<uint64_t>(t) >= vocab) {
        fail(path, "token " + std::to_string(t) + " at index " + std::to_string(i) +
                       " out of range [0, " + std::to_string(vocab) + ")");
      }
    }
  }
  return tf;
}

int32_t TokenFile::operator[](size_t i) const {
  const unsigned char* p = payload_ + i * static_cast<size_t>(width_);
  if (width_ == 2) return static_cast<int32_t>(p[0] | (p[1] << 8));
  return static_cast<int32_t>(get_le(p, 4));
}

void TokenFile::copy_window(size_t start, size_t n, int64_t* out) const {
  if (start > count_ || n > count_ - start) {
    throw std::out_of_range("token file " + path_ + ": window [" + std::to_string(start) +
                            ", " + std::to_string(start + n) + ") past end " +
                            std::to_string(count_));
  }
  const unsigned char* p = payload_ + start * static_cast<size_t>(width_);
  if (kLittleEndian && width_ == 2) {
    for (size_t k = 0; k < n; ++k) {
      uint16_t v;
      std::memcpy(&v, p + 2 * k, 2);
      out[k] = v;
    }
  } else if (kLittleEndian && width_ == 4) {
    for (size_t k = 0; k < n; ++k) {
      int32_t v;
      std::memcpy(&v, p + 4 * k, 4);
      out[k] = v;
    }
  } else {
    for (size_t k = 0; k < n; ++k) out[k] = (*this)[start + k];
  }
}

}  // namespace r1::data
