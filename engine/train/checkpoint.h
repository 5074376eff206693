#pragma once
// Checkpoint files: "R1CKPT01" | u64 payload bytes | u32 crc32(payload) | u32 0 | payload,
// where the payload is a LibTorch archive. Written to a temp file, fsynced, then renamed.
#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace r1::train {

struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CheckpointMeta {
  int64_t step = 0;
  int64_t tokens = 0;
  double best_val_loss = 0;  // NaN: none yet
  std::string config_toml;
  std::string tokenizer_text;
  std::string data_fingerprint;  // token file: tokenizer + source fingerprints
  torch::Tensor scaler_state;
  torch::Tensor rng_cpu;
  torch::Tensor rng_cuda;  // undefined without CUDA
};

// Returns the file size in bytes.
int64_t save_checkpoint(const std::string& path, torch::nn::Module& model,
                        torch::optim::Optimizer* optimizer, const CheckpointMeta& meta);
// Opens a checkpoint once: verifies magic, size and checksum, reads the metadata, and can then
// restore a model and optimizer. Errors name the path and the reason. Tensors land on `device`.
class CheckpointReader {
 public:
  explicit CheckpointReader(const std::string& path, const torch::Device& device = torch::kCPU);
  const CheckpointMeta& meta() const { return meta_; }
  const std::string& path() const { return path_; }
  // Either may be null. Every tensor's shape is checked before anything is replaced.
  void restore(torch::nn::Module* model, torch::optim::Optimizer* optimizer);

 private:
  std::string path_;
  torch::serialize::InputArchive ar_;
  CheckpointMeta meta_;
};

// CheckpointReader + restore in one call.
CheckpointMeta load_checkpoint(const std::string& path, torch::nn::Module* model,
                               torch::optim::Optimizer* optimizer,
                               const torch::Device& device = torch::kCPU);

std::string checkpoint_name(int64_t step);  // ckpt-00000100.r1ckpt
// Checkpoints in dir, oldest first.
std::vector<std::string> list_checkpoints(const std::string& dir);
// Deletes all but the newest keep_last.
void prune_checkpoints(const std::string& dir, int64_t keep_last);

}  // namespace r1::train
