#pragma once
// Learning-rate factor in [0, 1]: linear warmup, then cosine / linear decay to min_lr_ratio,
// or constant.
#include <cstdint>
#include <string>

namespace r1::train {

double lr_factor(int64_t step, int64_t total_steps, int64_t warmup, const std::string& schedule,
                 double min_ratio);

}  // namespace r1::train
