#include "engine/vision/detect_targets.h"

#include <algorithm>
#include <cmath>

namespace r1::vision {

double gaussian_radius(double d, double t) {
  return std::max(0.0, d * (1.0 - std::sqrt(2.0 * t / (1.0 + t))));
}

HeatmapTargets make_targets(const std::vector<std::vector<Section>>& objects, int64_t H,
                            int64_t W, int64_t stride, const DetectHeadConfig& head) {
  const int64_t B = static_cast<int64_t>(objects.size());
  HeatmapTargets t;
  t.heatmap = torch::zeros({B, 1, H, W});
  t.weight = torch::ones({B, 1, H, W});
  t.center = torch::zeros({B, 1, H, W});
  t.size = torch::zeros({B, 1, H, W});
  t.offset = torch::zeros({B, 2, H, W});
  auto hm = t.heatmap.accessor<float, 4>();
  auto wt = t.weight.accessor<float, 4>();
  auto ce = t.center.accessor<float, 4>();
  auto sz = t.size.accessor<float, 4>();
  auto of = t.offset.accessor<float, 4>();
  const double s = static_cast<double>(stride);
  for (int64_t b = 0; b < B; ++b) {
    // Ignored sections first: a positive drawn later keeps its peak's weight.
    for (const Section& o : objects[b]) {
      if (!o.ignore) continue;
      const double gx = o.cx / s, gy = o.cy / s;
      const int64_t r = std::max<int64_t>(1, std::llround(o.diameter / s / 2));
      const int64_t ix = static_cast<int64_t>(std::floor(gx)), iy = static_cast<int64_t>(std::floor(gy));
      for (int64_t y = std::max<int64_t>(0, iy - r); y <= std::min(H - 1, iy + r); ++y)
        for (int64_t x = std::max<int64_t>(0, ix - r); x <= std::min(W - 1, ix + r); ++x)
          wt[b][0][y][x] = 0;
    }
    for (const Section& o : objects[b]) {
      if (o.ignore || !(o.diameter > 0)) continue;
      const double gx = o.cx / s, gy = o.cy / s, d = o.diameter / s;
      const int64_t ix = static_cast<int64_t>(std::floor(gx)), iy = static_cast<int64_t>(std::floor(gy));
      if (ix < 0 || iy < 0 || ix >= W || iy >= H) continue;
      const int64_t r = std::max<int64_t>(
          head.min_radius, static_cast<int64_t>(std::floor(gaussian_radius(d, head.min_overlap))));
      const double sigma = (2.0 * static_cast<double>(r) + 1.0) / 6.0;
      for (int64_t y = std::max<int64_t>(0, iy - r); y <= std::min(H - 1, iy + r); ++y)
        for (int64_t x = std::max<int64_t>(0, ix - r); x <= std::min(W - 1, ix + r); ++x) {
          const double dx = static_cast<double>(x - ix), dy = static_cast<double>(y - iy);
          const float g = static_cast<float>(std::exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)));
          hm[b][0][y][x] = std::max(hm[b][0][y][x], g);
        }
      hm[b][0][iy][ix] = 1.0f;
      wt[b][0][iy][ix] = 1.0f;
      if (ce[b][0][iy][ix] == 0) ++t.objects;
      ce[b][0][iy][ix] = 1.0f;
      sz[b][0][iy][ix] = static_cast<float>(std::log(d));
      of[b][0][iy][ix] = static_cast<float>(gx - static_cast<double>(ix));
      of[b][1][iy][ix] = static_cast<float>(gy - static_cast<double>(iy));
    }
  }
  return t;
}

DetectLoss detection_loss(const torch::Tensor& heat_logits, const torch::Tensor& size,
                          const torch::Tensor& offset, const HeatmapTargets& t,
                          const DetectHeadConfig& head) {
  const auto dev = heat_logits.device();
  const auto x = heat_logits.to(torch::kFloat32);
  const auto y = t.heatmap.to(dev), w = t.weight.to(dev), c = t.center.to(dev);
  const auto p = torch::sigmoid(x);
  const auto logp = torch::log_sigmoid(x), log1mp = torch::log_sigmoid(-x);
  const auto pos = -(torch::pow(1 - p, head.focal_alpha) * logp * c).sum();
  const auto neg = -(torch::pow(1 - y, head.focal_beta) * torch::pow(p, head.focal_alpha) *
                     log1mp * (1 - c) * w)
                        .sum();
  const double n = std::max<int64_t>(1, t.objects);
  DetectLoss l;
  l.heatmap = (pos + neg) / n;
  l.size = ((size.to(torch::kFloat32) - t.size.to(dev)).abs() * c).sum() / n;
  l.offset = ((offset.to(torch::kFloat32) - t.offset.to(dev)).abs() * c).sum() / n;
  l.total = l.heatmap + head.size_weight * l.size + head.offset_weight * l.offset;
  return l;
}

}  // namespace r1::vision
