#pragma once
// From heatmaps to 2D boxes to 3D nodule candidates (docs/IMAGING.md, "Detector").
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "engine/vision/eval_map.h"
#include "engine/vision/geometry.h"

namespace r1::vision {

struct Peak {
  Box2D box;  // continuous input pixels
  double score = 0;
};

// One image's head outputs (heatmap probabilities [H, W], log-size [H, W], offset [2, H, W], on
// any device) -> boxes: a cell is a peak when it equals the max of its 3x3 neighbourhood (the
// max-pool "NMS" of CenterNet) and scores >= threshold; the top_k peaks by score, each a square
// box centred at (cell + offset) x stride with side exp(log-size) x stride.
std::vector<Peak> decode_peaks(const torch::Tensor& prob, const torch::Tensor& log_size,
                               const torch::Tensor& offset, int64_t stride, int64_t top_k,
                               double threshold);

// Greedy NMS: by descending score (ties in input order), keep a box unless its IoU with a kept
// one is > iou. Returns the kept indices in that order.
std::vector<size_t> nms(const std::vector<Box2D>& boxes, const std::vector<double>& scores,
                        double iou);

// A detection on axial slice z of a volume, in continuous pixel coordinates of that slice.
struct SliceDetection {
  int64_t z = 0;
  Box2D box;
  double score = 0;
};

struct Candidate3D {
  Vec3 index;  // continuous voxel index (integer at voxel centres)
  Vec3 world;  // mm, through the volume's geometry
  double diameter_mm = 0;
  double score = 0;
  int64_t z_first = 0, z_last = 0;
  int detections = 0;
};

struct MergeOptions {
  int64_t gap = 1;          // two detections link when |z_a - z_b| <= 1 + gap ...
  double distance = 0.5;    // ... and their centres are <= distance x the larger diameter apart
  int64_t max_candidates = 100;
};

// Slice detections -> 3D candidates: link as above (in mm, through the in-plane spacing), take
// connected groups; a group's score is its best detection's, its centre the score-weighted mean
// of its detections' centres (x, y and z), its diameter the largest box side in mm. By
// descending score, at most max_candidates.
std::vector<Candidate3D> merge_slices(const std::vector<SliceDetection>& detections,
                                      const VolumeGeometry& geometry, const MergeOptions& options);

}  // namespace r1::vision
