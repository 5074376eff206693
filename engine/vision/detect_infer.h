#pragma once
// Running a trained detector over whole CT volumes, and scoring it on annotated scans.
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/vision/detect_config.h"
#include "engine/vision/detect_data.h"
#include "engine/vision/detect_decode.h"
#include "engine/vision/detect_model.h"

namespace r1::vision {

class Detector {
 public:
  Detector(DetectConfig cfg, DetectorNet net, torch::Device device);
  // The network and config embedded in a checkpoint of `r1-worker detect train`; `overrides`
  // (key=value) change decoding or device keys. Throws on a bad file.
  static Detector load(const std::string& checkpoint, const std::string& device = "cpu",
                       const std::vector<std::string>& overrides = {});

  // Called after each batch of slices: (slices done, slices in the volume).
  using Progress = std::function<void(int64_t done, int64_t total)>;

  // Every axial slice seen whole at `size` (0: the last training size), peaks decoded, 2D NMS;
  // boxes in the slice's continuous pixel coordinates. `cancelled` is polled before each batch
  // of decode.batch slices; once it answers true the slices seen so far are returned, so a
  // caller that cancels must drop the result.
  std::vector<SliceDetection> detect_slices(const Volume& v, int64_t size = 0,
                                            const std::function<bool()>& cancelled = {},
                                            const Progress& progress = {});
  // detect_slices, then merge_slices with the config's decode keys.
  std::vector<Candidate3D> detect(const Volume& v, int64_t size = 0,
                                  const std::function<bool()>& cancelled = {},
                                  const Progress& progress = {});

  const DetectConfig& config() const { return cfg_; }
  DetectorNet& net() { return net_; }

 private:
  DetectConfig cfg_;
  DetectorNet net_;
  torch::Device device_;
};

// net->forward(x) under autocast at `precision` (bf16 | fp16) on a CUDA device, the way
// DetectTrainer trains (compat::set_autocast: convs in the low precision, weights stay fp32).
// "fp32", or any precision on CPU (as in training: LibTorch 1.13's CPU autocast breaks in
// GroupNorm), is a plain forward. Throws on an unknown precision.
DetectorOutput forward_at(DetectorNet& net, const torch::Tensor& x, const std::string& precision);

struct DetectEvaluation {
  double map50 = 0;       // mAP@0.5 of slice boxes against the non-ignored sections
  double cpm = 0;         // LUNA16 CPM of the 3D candidates (NaN without nodules)
  double sens_at_1fp = 0; // sensitivity at 1 false positive per scan
  int scans = 0, nodules = 0, detected_nodules = 0, slices = 0, candidates = 0;
  std::vector<LunaDetection> submission;  // every scan's candidates, world mm
};

DetectEvaluation evaluate_detector(Detector& detector, const std::vector<ScanRecord>& scans,
                                   const std::vector<LunaAnnotation>& excluded, VolumeCache& cache,
                                   int64_t size = 0);

}  // namespace r1::vision
