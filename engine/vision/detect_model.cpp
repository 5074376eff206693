#include "engine/vision/detect_model.h"

#include <cmath>

namespace r1::vision {
namespace F = torch::nn::functional;

ConvNormActImpl::ConvNormActImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                 int64_t dilation, const std::string& norm, int64_t groups) {
  const int64_t pad = dilation * (kernel - 1) / 2;
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                                                       .stride(stride)
                                                       .padding(pad)
                                                       .dilation(dilation)
                                                       .bias(false)));
  if (norm == "batch")
    bn = register_module("bn", torch::nn::BatchNorm2d(out));
  else
    gn = register_module("gn", torch::nn::GroupNorm(std::min(groups, out), out));
  torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
}

torch::Tensor ConvNormActImpl::forward(const torch::Tensor& x) {
  auto y = conv->forward(x);
  y = bn ? bn->forward(y) : gn->forward(y);
  return F::silu(y);
}

MultiScaleFusionImpl::MultiScaleFusionImpl(int64_t in, int64_t out,
                                           const std::vector<int64_t>& rates,
                                           const std::string& norm, int64_t groups) {
  TORCH_CHECK(out % 4 == 0, "MultiScaleFusion: out channels must be a multiple of 4, got ", out);
  const int64_t q = out / 4;
  b1 = register_module("b1", ConvNormAct(in, q, 1, 1, 1, norm, groups));
  b3 = register_module("b3", ConvNormAct(in, q, 3, 1, 1, norm, groups));
  aspp = register_module("aspp", torch::nn::ModuleList());
  for (int64_t r : rates) aspp->push_back(ConvNormAct(in, q, 3, 1, r, norm, groups));
  // The pooled branch sees a 1x1 map: no norm there (BatchNorm would need > 1 value per channel).
  pool_conv = register_module("pool_conv",
                              torch::nn::Conv2d(torch::nn::Conv2dOptions(in, q, 1).bias(true)));
  aspp_project = register_module(
      "aspp_project",
      ConvNormAct(q * static_cast<int64_t>(rates.size() + 1), 2 * q, 1, 1, 1, norm, groups));
  fuse = register_module("fuse", ConvNormAct(4 * q, out, 1, 1, 1, norm, groups));
}

torch::Tensor MultiScaleFusionImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> a;
  a.reserve(aspp->size() + 1);
  for (const auto& m : *aspp) a.push_back(m->as<ConvNormActImpl>()->forward(x));
  auto pooled = F::silu(pool_conv->forward(x.mean({2, 3}, /*keepdim=*/true)));
  a.push_back(pooled.expand({-1, -1, x.size(2), x.size(3)}));
  auto aspp_out = aspp_project->forward(torch::cat(a, 1));
  return fuse->forward(torch::cat({b1->forward(x), b3->forward(x), aspp_out}, 1));
}

namespace {

// Stride-2 downsampling conv, then a residual 3x3 pair.
struct ResidualImpl : torch::nn::Module {
  ResidualImpl(int64_t c, const std::string& norm, int64_t groups) {
    a = register_module("a", ConvNormAct(c, c, 3, 1, 1, norm, groups));
    b = register_module("b", ConvNormAct(c, c, 3, 1, 1, norm, groups));
  }
  torch::Tensor forward(const torch::Tensor& x) { return x + b->forward(a->forward(x)); }
  ConvNormAct a{nullptr}, b{nullptr};
};
TORCH_MODULE(Residual);

torch::nn::Sequential stage(int64_t in, int64_t out, const std::string& norm, int64_t groups) {
  return torch::nn::Sequential(ConvNormAct(in, out, 3, 2, 1, norm, groups),
                               Residual(out, norm, groups));
}

torch::nn::Conv2d conv1x1(int64_t in, int64_t out) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).bias(true));
}

torch::nn::Sequential head(int64_t c, int64_t out) {
  auto last = conv1x1(c, out);
  torch::nn::init::normal_(last->weight, 0.0, 0.01);
  torch::nn::init::zeros_(last->bias);
  return torch::nn::Sequential(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(c, c, 3).padding(1).bias(true)),
      torch::nn::SiLU(), last);
}

torch::Tensor up_to(const torch::Tensor& x, const torch::Tensor& like) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{like.size(2), like.size(3)})
                               .mode(torch::kNearest));
}

}  // namespace

DetectorNetImpl::DetectorNetImpl(const DetectModelConfig& cfg, int64_t in_channels) {
  const auto& ch = cfg.channels;
  const int64_t f = cfg.fpn_channels, g = cfg.groups;
  const auto& n = cfg.norm;
  stem = register_module("stem", torch::nn::Sequential(ConvNormAct(in_channels, ch[0], 3, 2, 1, n, g),
                                                       ConvNormAct(ch[0], ch[0], 3, 1, 1, n, g)));
  stage4 = register_module("stage4", stage(ch[0], ch[1], n, g));
  stage8 = register_module("stage8", stage(ch[1], ch[2], n, g));
  stage16 = register_module("stage16", stage(ch[2], ch[3], n, g));
  lat4 = register_module("lat4", conv1x1(ch[1], f));
  lat8 = register_module("lat8", conv1x1(ch[2], f));
  lat16 = register_module("lat16", conv1x1(ch[3], f));
  fuse16 = register_module("fuse16", MultiScaleFusion(f, f, cfg.aspp_rates, n, g));
  fuse8 = register_module("fuse8", MultiScaleFusion(f, f, cfg.aspp_rates, n, g));
  fuse4 = register_module("fuse4", MultiScaleFusion(f, f, cfg.aspp_rates, n, g));
  heat_head = register_module("heat_head", head(f, 1));
  size_head = register_module("size_head", head(f, 1));
  offset_head = register_module("offset_head", head(f, 2));
  auto* last = heat_head[2]->as<torch::nn::Conv2dImpl>();
  torch::NoGradGuard no_grad;
  last->bias.fill_(-std::log((1 - kHeatmapPrior) / kHeatmapPrior));
}

DetectorOutput DetectorNetImpl::forward(const torch::Tensor& x) {
  auto c2 = stem->forward(x);
  auto c4 = stage4->forward(c2);
  auto c8 = stage8->forward(c4);
  auto c16 = stage16->forward(c8);
  auto p16 = fuse16->forward(lat16->forward(c16));
  auto p8 = fuse8->forward(lat8->forward(c8) + up_to(p16, c8));
  auto p4 = fuse4->forward(lat4->forward(c4) + up_to(p8, c4));
  return {heat_head->forward(p4), size_head->forward(p4), offset_head->forward(p4)};
}

int64_t parameter_count(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace r1::vision
