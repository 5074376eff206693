#include "engine/vision/detect_decode.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace r1::vision {

std::vector<Peak> decode_peaks(const torch::Tensor& prob, const torch::Tensor& log_size,
                               const torch::Tensor& offset, int64_t stride, int64_t top_k,
                               double threshold) {
  namespace F = torch::nn::functional;
  const auto p = prob.to(torch::kFloat32).reshape({1, 1, prob.size(-2), prob.size(-1)});
  const auto pooled = F::max_pool2d(p, F::MaxPool2dFuncOptions(3).stride(1).padding(1));
  const auto peaks = (p * (pooled == p)).flatten();
  const int64_t W = prob.size(-1);
  const int64_t k = std::min<int64_t>(top_k, peaks.numel());
  auto [scores, idx] = peaks.topk(k);
  scores = scores.cpu();
  idx = idx.cpu();
  const auto ls = log_size.to(torch::kFloat32).reshape({-1}).cpu();
  const auto of = offset.to(torch::kFloat32).reshape({2, -1}).cpu();
  auto sa = scores.accessor<float, 1>();
  auto ia = idx.accessor<int64_t, 1>();
  auto la = ls.accessor<float, 1>();
  auto oa = of.accessor<float, 2>();
  std::vector<Peak> out;
  const double s = static_cast<double>(stride);
  for (int64_t i = 0; i < k; ++i) {
    if (sa[i] < threshold || !(sa[i] > 0)) break;
    const int64_t cell = ia[i];
    const double cx = (static_cast<double>(cell % W) + oa[0][cell]) * s;
    const double cy = (static_cast<double>(cell / W) + oa[1][cell]) * s;
    const double half = 0.5 * std::exp(std::clamp<double>(la[cell], -4.0, 8.0)) * s;
    out.push_back({{cx - half, cy - half, cx + half, cy + half}, sa[i]});
  }
  return out;
}

std::vector<size_t> nms(const std::vector<Box2D>& boxes, const std::vector<double>& scores,
                        double iou) {
  std::vector<size_t> order(boxes.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::vector<size_t> kept;
  for (size_t i : order) {
    bool keep = true;
    for (size_t j : kept)
      if (box_iou(boxes[i], boxes[j]) > iou) {
        keep = false;
        break;
      }
    if (keep) kept.push_back(i);
  }
  return kept;
}

namespace {

size_t find_root(std::vector<size_t>& parent, size_t i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

}  // namespace

std::vector<Candidate3D> merge_slices(const std::vector<SliceDetection>& dets,
                                      const VolumeGeometry& g, const MergeOptions& o) {
  const size_t n = dets.size();
  std::vector<size_t> parent(n);
  std::iota(parent.begin(), parent.end(), size_t{0});
  const double sx = g.spacing[0], sy = g.spacing[1];
  auto side_mm = [&](const Box2D& b) {
    return std::max((b.x1 - b.x0) * sx, (b.y1 - b.y0) * sy);
  };
  for (size_t a = 0; a < n; ++a)
    for (size_t b = a + 1; b < n; ++b) {
      if (std::llabs(dets[a].z - dets[b].z) > 1 + o.gap) continue;
      const auto& A = dets[a].box;
      const auto& B = dets[b].box;
      const double dx = ((A.x0 + A.x1) - (B.x0 + B.x1)) / 2 * sx;
      const double dy = ((A.y0 + A.y1) - (B.y0 + B.y1)) / 2 * sy;
      if (std::hypot(dx, dy) <= o.distance * std::max(side_mm(A), side_mm(B)))
        parent[find_root(parent, a)] = find_root(parent, b);
    }
  std::vector<std::vector<size_t>> groups(n);
  for (size_t i = 0; i < n; ++i) groups[find_root(parent, i)].push_back(i);
  std::vector<Candidate3D> out;
  for (const auto& grp : groups) {
    if (grp.empty()) continue;
    Candidate3D c;
    double wsum = 0, x = 0, y = 0, z = 0;
    c.z_first = dets[grp[0]].z;
    c.z_last = dets[grp[0]].z;
    for (size_t i : grp) {
      const auto& d = dets[i];
      // A zero score still places the candidate (equal weights) instead of dividing by zero.
      const double w = std::max(d.score, 1e-12);
      wsum += w;
      x += w * ((d.box.x0 + d.box.x1) / 2 - 0.5);  // continuous pixel -> voxel index
      y += w * ((d.box.y0 + d.box.y1) / 2 - 0.5);
      z += w * static_cast<double>(d.z);
      c.score = std::max(c.score, d.score);
      c.diameter_mm = std::max(c.diameter_mm, side_mm(d.box));
      c.z_first = std::min(c.z_first, d.z);
      c.z_last = std::max(c.z_last, d.z);
    }
    c.detections = static_cast<int>(grp.size());
    c.index = {x / wsum, y / wsum, z / wsum};
    c.world = g.index_to_world(c.index);
    out.push_back(c);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Candidate3D& a, const Candidate3D& b) { return a.score > b.score; });
  if (o.max_candidates > 0 && static_cast<int64_t>(out.size()) > o.max_candidates)
    out.resize(static_cast<size_t>(o.max_candidates));
  return out;
}

}  // namespace r1::vision
