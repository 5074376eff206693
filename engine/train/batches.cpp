#include "engine/train/batches.h"

namespace r1::train {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

BatchSampler::BatchSampler(const data::TokenFile* tokens, size_t begin, size_t end,
                           int64_t window, uint64_t seed)
    : tokens_(tokens), begin_(begin), end_(end), window_(static_cast<size_t>(window)),
      seed_(seed) {
  TORCH_CHECK(positions() > 0, "token range [", begin, ", ", end, ") holds fewer than ", window,
              " tokens");
}

torch::Tensor BatchSampler::train_batch(int64_t step, int64_t micro, int64_t batch,
                                        int64_t row0) const {
  auto out = torch::empty({batch, static_cast<int64_t>(window_)}, torch::kInt64);
  auto* p = out.data_ptr<int64_t>();
  const uint64_t n = positions();
  for (int64_t b = 0; b < batch; ++b) {
    uint64_t h = splitmix64(seed_ ^ splitmix64(static_cast<uint64_t>(step) * 0x10001ull +
                                                splitmix64(static_cast<uint64_t>(micro) << 20 |
                                                           static_cast<uint64_t>(row0 + b))));
    tokens_->copy_window(begin_ + h % n, window_, p + b * window_);
  }
  return out;
}

torch::Tensor BatchSampler::fixed_batch(int64_t i, int64_t n_batches, int64_t batch) const {
  auto out = torch::empty({batch, static_cast<int64_t>(window_)}, torch::kInt64);
  auto* p = out.data_ptr<int64_t>();
  const uint64_t n = positions();
  const uint64_t total = static_cast<uint64_t>(n_batches * batch);
  for (int64_t b = 0; b < batch; ++b) {
    uint64_t k = static_cast<uint64_t>(i * batch + b);
    uint64_t pos = total > 1 ? (n - 1) * k / (total - 1) : 0;
    tokens_->copy_window(begin_ + pos, window_, p + b * window_);
  }
  return out;
}

}  // namespace r1::train
