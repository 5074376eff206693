#pragma once
// CenterNet training targets and losses for the nodule detector (docs/IMAGING.md, "Detector").
// Coordinates are continuous input pixels: pixel i covers [i, i + 1), its centre is i + 0.5;
// heatmap cell j covers input pixels [4j, 4j + 4).
#include <torch/torch.h>

#include <vector>

#include "engine/vision/detect_config.h"

namespace r1::vision {

// A nodule's cross-section in one image: centre, diameter (pixels); `ignore` marks a section
// too small to be a fair target (near a pole): no target, and no penalty for firing there.
struct Section {
  double cx = 0, cy = 0, diameter = 0;
  bool ignore = false;
};

// The largest shift r (cells, along both axes) of a d x d box keeping IoU >= min_overlap with
// the unshifted one: (d - r)^2 / (2 d^2 - (d - r)^2) >= t  <=>  r = d (1 - sqrt(2t / (1 + t))).
double gaussian_radius(double diameter_cells, double min_overlap);

struct HeatmapTargets {
  torch::Tensor heatmap;  // [B, 1, H, W] max over objects of exp(-(dx^2 + dy^2) / (2 sigma^2))
  torch::Tensor weight;   // [B, 1, H, W] 0 inside ignored sections, else 1
  torch::Tensor center;   // [B, 1, H, W] 1 at the centre cell of each object
  torch::Tensor size;     // [B, 1, H, W] log(diameter / stride) at centre cells
  torch::Tensor offset;   // [B, 2, H, W] centre / stride - cell at centre cells
  int64_t objects = 0;
};

// Per object: cell (floor(cx / stride), floor(cy / stride)); radius = max(min_radius,
// floor(gaussian_radius(diameter / stride))); sigma = (2 radius + 1) / 6; the Gaussian is drawn
// within |dx|, |dy| <= radius, the peak is exactly 1. Objects whose centre falls outside the
// map are left out.
HeatmapTargets make_targets(const std::vector<std::vector<Section>>& objects, int64_t height,
                            int64_t width, int64_t stride, const DetectHeadConfig& head);

struct DetectLoss {
  torch::Tensor total, heatmap, size, offset;  // scalars
};

// Focal loss of CenterNet (Law & Deng's penalty-reduced variant) over the heatmap logits:
//   pos (target == 1): -(1 - p)^a log p;  others: -(1 - y)^b p^a log(1 - p) x weight,
// summed and divided by max(1, objects); plus L1 on log-size and offset at centre cells, each
// divided by max(1, objects) and weighted. Computed in float32 whatever the inputs' dtype.
DetectLoss detection_loss(const torch::Tensor& heat_logits, const torch::Tensor& size,
                          const torch::Tensor& offset, const HeatmapTargets& t,
                          const DetectHeadConfig& head);

}  // namespace r1::vision
