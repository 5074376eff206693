#pragma once
// The nodule detector's typed config (r1-worker detect train, the checkpoint's embedded copy).
// One table of keys (detect_config.cpp) drives TOML loading, --set overrides, validation, the
// TOML written into checkpoints and the JSON of the run_start event. docs/IMAGING.md lists them.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace r1::vision {

// "<file>:<line>: key 'train.lr': must be a number, got string" and the like.
struct DetectConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct DetectDataConfig {
  std::string root;              // LUNA16-style folder (subsetN/<uid>.mhd + annotations.csv)
  std::string annotations;       // "": <root>/annotations.csv
  std::string excluded;          // annotations_excluded.csv; "": <root>/annotations_excluded.csv
                                 // when it exists
  std::string val_root;          // held-out folder; "": the last val_scans scans of root
  int64_t val_scans = 1;         // 0 with no val_root: evaluate on the training scans
  int64_t cache_scans = 16;      // volumes kept in memory (least recently used leave)
};

struct DetectInputConfig {
  int64_t context_slices = 3;  // k adjacent axial slices as channels (odd)
  double hu_min = -1000, hu_max = 400;  // window, mapped to [-1, 1]
};

struct DetectModelConfig {
  std::vector<int64_t> channels{16, 32, 64, 128};  // backbone stages at strides 2, 4, 8, 16
  int64_t fpn_channels = 64;
  std::vector<int64_t> aspp_rates{1, 6, 12};
  std::string norm = "group";  // group | batch
  int64_t groups = 8;          // GroupNorm groups (divides every width)
};

struct DetectHeadConfig {
  double min_overlap = 0.5;   // Gaussian radius: the largest centre shift keeping IoU >= this
  int64_t min_radius = 1;     // heatmap cells
  double min_section = 0.5;   // slices whose section diameter < this x nodule diameter: ignored
  double focal_alpha = 2, focal_beta = 4;
  double size_weight = 1.0, offset_weight = 1.0;
};

struct DetectAugmentConfig {
  bool flip = true;
  double rotate_deg = 10;
  double scale_jitter = 0.1;  // zoom in [1 - j, 1 + j]
  double crop_min = 0.6;      // field of view: a square of [crop_min, 1] x the slice's side
  double hu_shift = 20;       // HU added, uniform in [-s, s]
  double hu_scale = 0.05;     // HU multiplied by [1 - s, 1 + s]
};

struct DetectTrainConfig {
  int64_t steps = 2000;
  int64_t batch_size = 8;
  double lr = 2e-3;
  double weight_decay = 1e-4;
  int64_t warmup_steps = 100;
  std::string schedule = "cosine";  // cosine | linear | constant
  double min_lr_ratio = 0.05;
  double clip_grad = 5.0;           // 0: off
  std::string precision = "fp32";   // fp32 | bf16 | fp16 (CUDA only; fp32 on CPU)
  double loss_scale_init = 65536;
  int64_t scale_window = 2000;
  int64_t seed = 1234;
  std::string device = "cpu";       // cpu | cuda | cuda:N
  int64_t threads = 0;              // CPU intra-op threads; 0: LibTorch's default
  std::vector<int64_t> sizes{128, 256, 512};  // progressive resize: input side in pixels
  std::vector<double> resize_at{0.3, 0.6};    // fractions of steps where the next size starts
  double pos_fraction = 0.6;        // share of samples centred on a nodule slice
  int64_t log_every = 10;
  int64_t eval_every = 500;         // 0: only at the end
  int64_t checkpoint_every = 500;   // 0: only at the end
  int64_t keep_checkpoints = 3;
  std::string out_dir = "runs";
  std::string run_name = "detect";
  bool resume = true;               // continue from the newest checkpoint in the run folder
};

struct DetectDecodeConfig {
  double score_threshold = 0.05;
  int64_t top_k = 20;            // peaks per slice
  double nms_iou = 0.3;
  int64_t merge_gap = 1;         // slices a 3D candidate may skip between detections
  double merge_distance = 0.5;   // link when centres are <= this x the larger diameter apart
  int64_t max_candidates = 100;  // per scan
  int64_t batch = 16;            // slices per forward pass
};

struct DetectConfig {
  DetectDataConfig data;
  DetectInputConfig input;
  DetectModelConfig model;
  DetectHeadConfig head;
  DetectAugmentConfig augment;
  DetectTrainConfig train;
  DetectDecodeConfig decode;

  // Input size at a 0-based step: sizes[i] with i = how many resize_at[j] * steps <= step
  // (rounded to the nearest step).
  int64_t size_at(int64_t step) const;
  // The step where sizes[i] starts (0 for i = 0).
  int64_t resize_step(size_t i) const;
};

DetectConfig load_detect_config(const std::string& path,
                                const std::vector<std::string>& overrides = {});
DetectConfig detect_config_from_string(const std::string& text, const std::string& origin,
                                       const std::vector<std::string>& overrides = {});
// Every key, TOML that detect_config_from_string reads back to the same config.
std::string detect_config_to_toml(const DetectConfig& cfg);
nlohmann::json detect_config_to_json(const DetectConfig& cfg);
// Throws DetectConfigError naming the key; `origin` prefixes the message.
void validate(const DetectConfig& cfg, const std::string& origin = "config");
// "key | type | default | meaning" Markdown rows, for docs/IMAGING.md.
std::string detect_config_reference();

}  // namespace r1::vision
