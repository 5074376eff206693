#pragma once
// The nodule detector network: 2.5D input (k adjacent axial slices as channels) -> a strided
// conv backbone (strides 2, 4, 8, 16) -> a top-down pyramid whose every level is a
// MultiScaleFusion block -> an anchor-free CenterNet head at stride 4 (docs/IMAGING.md).
#include <torch/torch.h>

#include <vector>

#include "engine/vision/detect_config.h"

namespace r1::vision {

// Conv (no bias) -> GroupNorm or BatchNorm -> SiLU.
struct ConvNormActImpl : torch::nn::Module {
  ConvNormActImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t dilation,
                  const std::string& norm, int64_t groups);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv{nullptr};
  torch::nn::GroupNorm gn{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(ConvNormAct);

// The seed's fusion block. Parallel branches over the same input:
//   b1   1x1 conv
//   b3   3x3 conv
//   aspp atrous 3x3 convs at each rate + image pooling (global mean -> 1x1 conv -> broadcast),
//        concatenated and projected by a 1x1 conv
// each out/4 wide (ASPP out/2), concatenated (out channels) and fused by a 1x1 conv. Spatial
// size is kept for any input size (odd ones included).
struct MultiScaleFusionImpl : torch::nn::Module {
  MultiScaleFusionImpl(int64_t in, int64_t out, const std::vector<int64_t>& rates,
                       const std::string& norm, int64_t groups);
  torch::Tensor forward(const torch::Tensor& x);

  ConvNormAct b1{nullptr}, b3{nullptr};
  torch::nn::ModuleList aspp{nullptr};  // one ConvNormAct per rate
  torch::nn::Conv2d pool_conv{nullptr};
  ConvNormAct aspp_project{nullptr}, fuse{nullptr};
};
TORCH_MODULE(MultiScaleFusion);

struct DetectorOutput {
  torch::Tensor heatmap;  // [B, 1, H/4, W/4] logits of "a nodule centre is in this cell"
  torch::Tensor size;     // [B, 1, H/4, W/4] log(section diameter in input pixels / 4)
  torch::Tensor offset;   // [B, 2, H/4, W/4] sub-cell centre offset (x, y) in cells, 0..1
};

struct DetectorNetImpl : torch::nn::Module {
  static constexpr int64_t kStride = 4;

  DetectorNetImpl(const DetectModelConfig& cfg, int64_t in_channels);
  // x: [B, k, H, W], HU windowed to [-1, 1].
  DetectorOutput forward(const torch::Tensor& x);

  torch::nn::Sequential stem{nullptr}, stage4{nullptr}, stage8{nullptr}, stage16{nullptr};
  torch::nn::Conv2d lat4{nullptr}, lat8{nullptr}, lat16{nullptr};
  MultiScaleFusion fuse4{nullptr}, fuse8{nullptr}, fuse16{nullptr};
  torch::nn::Sequential heat_head{nullptr}, size_head{nullptr}, offset_head{nullptr};
};
TORCH_MODULE(DetectorNet);

// The heatmap head's initial bias: sigmoid(b) = prior (CenterNet / RetinaNet practice), so the
// focal loss does not start with every cell a confident positive.
inline constexpr double kHeatmapPrior = 0.01;

int64_t parameter_count(torch::nn::Module& m);

}  // namespace r1::vision
