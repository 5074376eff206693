#pragma once
// Training and inference images for the detector: 2.5D slice stacks from CT volumes, nodule
// cross-sections, views (crop + resize + flip + rotation + zoom in one affine map) and the
// random sampler of training batches.
#include <torch/torch.h>

#include <cstdint>
#include <list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/vision/detect_config.h"
#include "engine/vision/detect_targets.h"
#include "engine/vision/eval_map.h"
#include "engine/vision/luna_csv.h"
#include "engine/vision/luna_folder.h"
#include "engine/vision/volume.h"

namespace r1::vision {

// A scan and the annotated nodules of its series.
struct ScanRecord {
  LunaScan scan;
  std::vector<LunaAnnotation> nodules;
};

// Scans of a LUNA16-style folder with their annotations (series without annotations have
// none). Throws VisionError when the folder has no scans.
std::vector<ScanRecord> load_scan_records(const std::string& root,
                                          const std::vector<LunaAnnotation>& annotations);

// Volumes by path, the `capacity` most recently used kept.
class VolumeCache {
 public:
  explicit VolumeCache(size_t capacity) : capacity_(capacity) {}
  std::shared_ptr<const Volume> get(const std::string& path);

 private:
  size_t capacity_;
  std::list<std::pair<std::string, std::shared_ptr<const Volume>>> items_;  // newest first
};

// Cross-sections of `nodules` with axial slice z, in continuous pixel coordinates of that slice
// (voxel index + 0.5). Section diameter = 2 sqrt(r^2 - dz^2) over the mean in-plane spacing;
// a section below min_section x the nodule's diameter is marked ignore.
std::vector<Section> sections_at(const VolumeGeometry& g, const std::vector<LunaAnnotation>& nodules,
                                 int64_t z, double min_section);

// Slices z - k/2 .. z + k/2 (clamped at the ends) as [k, H, W] float HU, each value
// hu * scale + shift.
torch::Tensor slice_stack(const Volume& v, int64_t z, int64_t k, double scale = 1,
                          double shift = 0);

// An affine map from output pixels to input pixels (continuous coordinates):
// p_in = A p_out + t.
struct View {
  double a00 = 1, a01 = 0, a10 = 0, a11 = 1, tx = 0, ty = 0;
  double scale() const;  // sqrt(|det A|): input pixels per output pixel
  Section to_output(const Section& s) const;
  Box2D to_input(const Box2D& b) const;  // axis-aligned hull of the mapped box
};

// The whole W x H slice fitted (aspect kept, centred) into size x size.
View fit_view(int64_t width, int64_t height, int64_t size);

// Window HU to [-1, 1] (hu_min -> -1, hu_max -> +1) and resample [k, H, W] through `view`
// into [k, size, size] (bilinear; outside the slice reads hu_min).
torch::Tensor render_view(const torch::Tensor& stack_hu, const View& view, int64_t size,
                          double hu_min, double hu_max);

struct DetectBatch {
  torch::Tensor images;                      // [B, k, S, S]
  std::vector<std::vector<Section>> objects;  // per image, output pixels
};

// Random training batches: with probability pos_fraction a slice through a random nodule
// (within 0.8 of its radius from the centre) seen through a random view that keeps the nodule
// inside, else a random slice of a random scan seen through a random view; augmentation as
// configured (flips, rotation, zoom, crop, HU shift and scale).
class SliceSampler {
 public:
  SliceSampler(std::vector<ScanRecord> scans, const DetectConfig& cfg, uint64_t seed);
  // The draws of a step come from a stream seeded by (seed, step): a run resumed at step k
  // samples what the uninterrupted run sampled there.
  void seek(int64_t step);
  DetectBatch next(int64_t batch, int64_t size);
  const std::vector<ScanRecord>& scans() const { return scans_; }
  VolumeCache& cache() { return cache_; }

 private:
  std::vector<ScanRecord> scans_;
  std::vector<std::pair<size_t, size_t>> nodules_;  // (scan, nodule)
  DetectConfig cfg_;
  VolumeCache cache_;
  uint64_t seed_;
  std::mt19937_64 rng_;
};

}  // namespace r1::vision
