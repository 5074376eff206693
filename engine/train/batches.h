#pragma once
// Deterministic batches from a token file: the window of row b in micro-batch m of step s is
// a pure function of (seed, s, m, b), so the data position of a resumed run is just its step.
#include "engine/data/token_file.h"

#include <torch/torch.h>

namespace r1::train {

class BatchSampler {
 public:
  // Windows of `window` tokens inside [begin, end) of the token file.
  BatchSampler(const data::TokenFile* tokens, size_t begin, size_t end, int64_t window,
               uint64_t seed);
  // [batch, window] int64 on CPU: rows row0 … row0 + batch - 1 of the step's global batch (a
  // data-parallel rank r of batch B takes row0 = r·B, so N ranks see what one process with
  // batch N·B would, split disjointly).
  torch::Tensor train_batch(int64_t step, int64_t micro, int64_t batch, int64_t row0 = 0) const;
  // Evenly spaced, non-random windows for evaluation: batch i of n.
  torch::Tensor fixed_batch(int64_t i, int64_t n, int64_t batch) const;
  size_t positions() const { return end_ - begin_ >= window_ ? end_ - begin_ - window_ + 1 : 0; }

 private:
  const data::TokenFile* tokens_;
  size_t begin_, end_;
  size_t window_;
  uint64_t seed_;
};

uint64_t splitmix64(uint64_t x);

}  // namespace r1::train
