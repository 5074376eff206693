#include "engine/vision/detect_infer.h"

#include <cmath>
#include <limits>

#include "engine/compat/torch_compat.h"
#include "engine/train/checkpoint.h"
#include "engine/vision/eval_froc.h"
#include "engine/vision/eval_map.h"

namespace r1::vision {

namespace {
torch::Device parse_device(const std::string& s) {
  return s == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(s);
}
}  // namespace

Detector::Detector(DetectConfig cfg, DetectorNet net, torch::Device device)
    : cfg_(std::move(cfg)), net_(std::move(net)), device_(device) {
  net_->to(device_);
}

Detector Detector::load(const std::string& path, const std::string& device,
                        const std::vector<std::string>& overrides) {
  train::CheckpointReader reader(path, torch::kCPU);
  if (reader.meta().data_fingerprint.rfind("r1-detect", 0) != 0)
    throw train::CheckpointError(path + ": not a detector checkpoint (r1-worker detect train)");
  std::vector<std::string> sets = overrides;
  sets.push_back("train.device=" + device);
  DetectConfig cfg = detect_config_from_string(reader.meta().config_toml, path + " (embedded config)",
                                               sets);
  DetectorNet net(cfg.model, cfg.input.context_slices);
  reader.restore(net.ptr().get(), nullptr);
  return Detector(cfg, net, parse_device(cfg.train.device));
}

std::vector<SliceDetection> Detector::detect_slices(const Volume& v, int64_t size,
                                                    const std::function<bool()>& cancelled,
                                                    const Progress& progress) {
  if (size <= 0) size = cfg_.train.sizes.back();
  torch::NoGradGuard no_grad;
  const bool was_training = net_->is_training();
  net_->eval();
  const auto& g = v.geometry;
  const View view = fit_view(g.size[0], g.size[1], size);
  const int64_t D = g.size[2];
  std::vector<SliceDetection> out;
  for (int64_t z0 = 0; z0 < D; z0 += cfg_.decode.batch) {
    if (cancelled && cancelled()) break;
    const int64_t z1 = std::min(D, z0 + cfg_.decode.batch);
    std::vector<torch::Tensor> imgs;
    for (int64_t z = z0; z < z1; ++z)
      imgs.push_back(render_view(slice_stack(v, z, cfg_.input.context_slices), view, size,
                                 cfg_.input.hu_min, cfg_.input.hu_max));
    const auto o = net_->forward(torch::stack(imgs).to(device_));
    const auto prob = torch::sigmoid(o.heatmap.to(torch::kFloat32));
    for (int64_t z = z0; z < z1; ++z) {
      const int64_t i = z - z0;
      auto peaks = decode_peaks(prob[i][0], o.size[i][0], o.offset[i], DetectorNetImpl::kStride,
                                cfg_.decode.top_k, cfg_.decode.score_threshold);
      std::vector<Box2D> boxes;
      std::vector<double> scores;
      for (const auto& p : peaks) {
        boxes.push_back(view.to_input(p.box));
        scores.push_back(p.score);
      }
      for (size_t k : nms(boxes, scores, cfg_.decode.nms_iou))
        out.push_back({z, boxes[k], scores[k]});
    }
    if (progress) progress(z1, D);
  }
  if (was_training) net_->train();
  return out;
}

DetectorOutput forward_at(DetectorNet& net, const torch::Tensor& x, const std::string& precision) {
  TORCH_CHECK(precision == "fp32" || precision == "bf16" || precision == "fp16",
              "forward_at: precision must be fp32, bf16 or fp16, got '", precision, "'");
  const torch::Device dev = x.device();
  if (precision == "fp32" || !dev.is_cuda()) return net->forward(x);
  const auto dtype = precision == "fp16" ? at::kHalf : at::kBFloat16;
  compat::set_autocast(dev, true, dtype);
  DetectorOutput out;
  try {
    out = net->forward(x);
  } catch (...) {
    compat::set_autocast(dev, false, dtype);
    throw;
  }
  compat::set_autocast(dev, false, dtype);
  return out;
}

std::vector<Candidate3D> Detector::detect(const Volume& v, int64_t size,
                                          const std::function<bool()>& cancelled,
                                          const Progress& progress) {
  MergeOptions m;
  m.gap = cfg_.decode.merge_gap;
  m.distance = cfg_.decode.merge_distance;
  m.max_candidates = cfg_.decode.max_candidates;
  return merge_slices(detect_slices(v, size, cancelled, progress), v.geometry, m);
}

DetectEvaluation evaluate_detector(Detector& det, const std::vector<ScanRecord>& scans,
                                   const std::vector<LunaAnnotation>& excluded, VolumeCache& cache,
                                   int64_t size) {
  DetectEvaluation e;
  std::vector<GroundTruthBox> truth;
  std::vector<DetectedBox> boxes;
  std::vector<std::string> uids;
  std::vector<LunaAnnotation> nodules;
  MergeOptions m;
  m.gap = det.config().decode.merge_gap;
  m.distance = det.config().decode.merge_distance;
  m.max_candidates = det.config().decode.max_candidates;
  for (const auto& s : scans) {
    const auto vol = cache.get(s.scan.path);
    const auto& g = vol->geometry;
    const std::string uid = s.scan.seriesuid;
    uids.push_back(uid);
    nodules.insert(nodules.end(), s.nodules.begin(), s.nodules.end());
    for (int64_t z = 0; z < g.size[2]; ++z)
      for (const auto& sec : sections_at(g, s.nodules, z, det.config().head.min_section)) {
        if (sec.ignore) continue;
        const double h = sec.diameter / 2;
        truth.push_back({uid + "/" + std::to_string(z), 0,
                         {sec.cx - h, sec.cy - h, sec.cx + h, sec.cy + h}});
      }
    const auto dets = det.detect_slices(*vol, size);
    for (const auto& d : dets) boxes.push_back({uid + "/" + std::to_string(d.z), 0, d.box, d.score});
    for (const auto& c : merge_slices(dets, g, m))
      e.submission.push_back({uid, c.world, c.score});
    e.slices += static_cast<int>(g.size[2]);
  }
  e.scans = static_cast<int>(scans.size());
  e.map50 = truth.empty() ? std::numeric_limits<double>::quiet_NaN()
                          : mean_average_precision(truth, boxes, 0.5).map;
  const auto froc = evaluate_froc(uids, nodules, excluded, e.submission);
  e.cpm = froc.cpm;
  e.sens_at_1fp = froc.nodules ? froc_sensitivity_at(froc.curve, 1.0)
                               : std::numeric_limits<double>::quiet_NaN();
  e.nodules = froc.nodules;
  e.detected_nodules = froc.detected_nodules;
  e.candidates = froc.detections;
  return e;
}

}  // namespace r1::vision
