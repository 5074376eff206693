#include "engine/train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace r1::train {
namespace {

namespace fs = std::filesystem;
constexpr char kMagic[8] = {'R', '1', 'C', 'K', 'P', 'T', '0', '1'};
constexpr size_t kHeader = 24;

uint32_t crc_of(const std::string& s) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(s.data());
  size_t left = s.size();
  while (left > 0) {
    uInt n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    crc = crc32(crc, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(crc);
}

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw CheckpointError(path + ": write failed: " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void write_atomic(const std::string& path, const std::string& payload) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw CheckpointError(path + ": cannot create: " + std::strerror(errno));
  char header[kHeader] = {};
  std::memcpy(header, kMagic, 8);
  uint64_t len = payload.size();
  uint32_t crc = crc_of(payload);
  std::memcpy(header + 8, &len, 8);
  std::memcpy(header + 16, &crc, 4);
  try {
    write_all(fd, header, kHeader, path);
    write_all(fd, payload.data(), payload.size(), path);
    if (::fsync(fd) != 0) throw CheckpointError(path + ": fsync failed");
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw CheckpointError(path + ": cannot rename temp file: " + std::strerror(errno));
  }
}

// Checks magic, size and checksum in one streaming pass; returns the payload length.
uint64_t verify_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(path + ": cannot open checkpoint");
  char header[kHeader];
  in.read(header, kHeader);
  if (in.gcount() != static_cast<std::streamsize>(kHeader) ||
      std::memcmp(header, kMagic, 8) != 0)
    throw CheckpointError(path + ": not an R1 checkpoint (bad magic)");
  uint64_t len = 0;
  uint32_t crc = 0;
  std::memcpy(&len, header + 8, 8);
  std::memcpy(&crc, header + 16, 4);
  in.seekg(0, std::ios::end);
  const uint64_t have = static_cast<uint64_t>(in.tellg()) - kHeader;
  if (have != len)
    throw CheckpointError(path + ": truncated or padded (header says " + std::to_string(len) +
                          " payload bytes, file has " + std::to_string(have) + ")");
  in.seekg(kHeader);
  std::vector<char> buf(8 << 20);
  uLong c = crc32(0L, Z_NULL, 0);
  for (uint64_t left = len; left > 0;) {
    const auto n = static_cast<std::streamsize>(std::min<uint64_t>(left, buf.size()));
    in.read(buf.data(), n);
    if (in.gcount() != n) throw CheckpointError(path + ": read failed");
    c = crc32(c, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(n));
    left -= static_cast<uint64_t>(n);
  }
  if (static_cast<uint32_t>(c) != crc)
    throw CheckpointError(path + ": checksum mismatch (file corrupt)");
  return len;
}

torch::Tensor as_tensor(const std::string& s) {
  auto t = torch::empty({static_cast<int64_t>(s.size())}, torch::kUInt8);
  if (!s.empty()) std::memcpy(t.data_ptr(), s.data(), s.size());
  return t;
}

std::string as_string(const torch::Tensor& t) {
  auto c = t.contiguous().to(torch::kCPU);
  return std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()));
}

// Module::load replaces tensors whatever their shape: check every shape first, module by module
// (the archive nests one sub-archive per child module).
void check_shapes(torch::nn::Module& m, torch::serialize::InputArchive& ar,
                  const std::string& prefix, const std::string& path) {
  auto check = [&](const std::string& name, const torch::Tensor& want) {
    torch::Tensor t;
    if (!ar.try_read(name, t))
      throw CheckpointError(path + ": does not match this model: no tensor '" + prefix + name +
                            "'");
    if (t.sizes() != want.sizes()) {
      std::ostringstream os;
      os << path << ": does not match this model: '" << prefix << name << "' is " << t.sizes()
         << " in the checkpoint but " << want.sizes() << " here";
      throw CheckpointError(os.str());
    }
  };
  for (const auto& p : m.named_parameters(/*recurse=*/false)) check(p.key(), p.value());
  for (const auto& b : m.named_buffers(/*recurse=*/false)) check(b.key(), b.value());
  for (const auto& c : m.named_children()) {
    torch::serialize::InputArchive child;
    if (!ar.try_read(c.key(), child))
      throw CheckpointError(path + ": does not match this model: no module '" + prefix +
                            c.key() + "'");
    check_shapes(*c.value(), child, prefix + c.key() + ".", path);
  }
}

}  // namespace

int64_t save_checkpoint(const std::string& path, torch::nn::Module& model,
                        torch::optim::Optimizer* optimizer, const CheckpointMeta& m) {
  torch::serialize::OutputArchive ar;
  ar.write("meta/format", torch::tensor({int64_t(1)}));
  ar.write("meta/step", torch::tensor({m.step}));
  ar.write("meta/tokens", torch::tensor({m.tokens}));
  ar.write("meta/best_val_loss", torch::tensor({m.best_val_loss}, torch::kFloat64));
  ar.write("meta/config_toml", as_tensor(m.config_toml));
  ar.write("meta/tokenizer", as_tensor(m.tokenizer_text));
  ar.write("meta/data_fingerprint", as_tensor(m.data_fingerprint));
  if (m.scaler_state.defined()) ar.write("meta/scaler", m.scaler_state);
  if (m.rng_cpu.defined()) ar.write("rng/cpu", m.rng_cpu);
  if (m.rng_cuda.defined()) ar.write("rng/cuda", m.rng_cuda);
  torch::serialize::OutputArchive model_ar;
  model.save(model_ar);
  ar.write("model", model_ar);
  if (optimizer) {
    torch::serialize::OutputArchive opt_ar;
    optimizer->save(opt_ar);
    ar.write("optimizer", opt_ar);
  }
  std::ostringstream os;
  ar.save_to(os);
  const std::string payload = os.str();
  write_atomic(path, payload);
  return static_cast<int64_t>(payload.size() + kHeader);
}

namespace {

// Library errors (a missing key, a bad storage) become one line naming the file.
template <class F>
void as_checkpoint_error(const std::string& path, F&& f) {
  try {
    f();
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    std::string why = e.what();
    auto nl = why.find('\n');
    if (nl != std::string::npos) why.resize(nl);
    throw CheckpointError(path + ": does not match this model/optimizer: " + why);
  }
}

}  // namespace

CheckpointReader::CheckpointReader(const std::string& path, const torch::Device& device)
    : path_(path) {
  const uint64_t len = verify_file(path);
  as_checkpoint_error(path, [&] {
    // The archive reads the payload straight from the file: no copy of it in memory.
    auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
    ar_.load_from(
        [file, len](uint64_t pos, void* buf, size_t n) -> size_t {
          if (pos >= len) return 0;
          n = static_cast<size_t>(std::min<uint64_t>(n, len - pos));
          file->clear();
          file->seekg(static_cast<std::streamoff>(kHeader + pos));
          file->read(static_cast<char*>(buf), static_cast<std::streamsize>(n));
          return static_cast<size_t>(file->gcount());
        },
        [len]() -> size_t { return static_cast<size_t>(len); }, device);
    // A fresh tensor per key: reading into a defined tensor would set_() its storage.
    auto get = [&](const char* key) {
      torch::Tensor t;
      ar_.read(key, t);
      return t;
    };
    auto get_opt = [&](const char* key) {
      torch::Tensor t;
      if (ar_.try_read(key, t)) t = t.to(torch::kCPU);
      return t;
    };
    const int64_t format = get("meta/format").item<int64_t>();
    if (format != 1)
      throw CheckpointError(path + ": unsupported checkpoint format " + std::to_string(format));
    meta_.step = get("meta/step").item<int64_t>();
    meta_.tokens = get("meta/tokens").item<int64_t>();
    meta_.best_val_loss = get("meta/best_val_loss").item<double>();
    meta_.config_toml = as_string(get("meta/config_toml"));
    meta_.tokenizer_text = as_string(get("meta/tokenizer"));
    meta_.data_fingerprint = as_string(get("meta/data_fingerprint"));
    meta_.scaler_state = get_opt("meta/scaler");
    meta_.rng_cpu = get_opt("rng/cpu");
    meta_.rng_cuda = get_opt("rng/cuda");
  });
}

void CheckpointReader::restore(torch::nn::Module* model, torch::optim::Optimizer* optimizer) {
  as_checkpoint_error(path_, [&] {
    if (model) {
      torch::serialize::InputArchive model_ar;
      if (!ar_.try_read("model", model_ar)) throw CheckpointError(path_ + ": no model state");
      check_shapes(*model, model_ar, "", path_);
      model->load(model_ar);
    }
    if (optimizer) {
      torch::serialize::InputArchive opt_ar;
      if (!ar_.try_read("optimizer", opt_ar))
        throw CheckpointError(path_ + ": no optimizer state");
      optimizer->load(opt_ar);
    }
  });
}

CheckpointMeta load_checkpoint(const std::string& path, torch::nn::Module* model,
                               torch::optim::Optimizer* optimizer, const torch::Device& device) {
  CheckpointReader reader(path, device);
  reader.restore(model, optimizer);
  return reader.meta();
}

std::string checkpoint_name(int64_t step) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "ckpt-%08lld.r1ckpt", static_cast<long long>(step));
  return buf;
}

std::vector<std::string> list_checkpoints(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("ckpt-", 0) == 0 && e.path().extension() == ".r1ckpt")
      out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void prune_checkpoints(const std::string& dir, int64_t keep_last) {
  auto all = list_checkpoints(dir);
  for (size_t i = 0; i + static_cast<size_t>(keep_last) < all.size(); ++i) {
    std::error_code ec;
    fs::remove(all[i], ec);
  }
}

}  // namespace r1::train
