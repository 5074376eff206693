#include "engine/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace r1::train {

double lr_factor(int64_t step, int64_t total, int64_t warmup, const std::string& schedule,
                 double min_ratio) {
  if (warmup > 0 && step < warmup) return static_cast<double>(step + 1) / warmup;
  if (schedule == "constant") return 1.0;
  const double span = std::max<int64_t>(1, total - warmup);
  const double p = std::clamp((step - warmup) / span, 0.0, 1.0);
  const double decay = schedule == "linear" ? 1.0 - p : 0.5 * (1.0 + std::cos(M_PI * p));
  return min_ratio + (1.0 - min_ratio) * decay;
}

}  // namespace r1::train
