#include "engine/vision/detect_data.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/vision/vision_error.h"
#include "engine/vision/volume_io.h"

namespace r1::vision {

std::vector<ScanRecord> load_scan_records(const std::string& root,
                                          const std::vector<LunaAnnotation>& annotations) {
  std::map<std::string, std::vector<LunaAnnotation>> by_uid;
  for (const auto& a : annotations) by_uid[a.seriesuid].push_back(a);
  std::vector<ScanRecord> out;
  for (auto& s : find_luna_scans(root)) {
    ScanRecord r;
    r.scan = s;
    auto it = by_uid.find(s.seriesuid);
    if (it != by_uid.end()) r.nodules = it->second;
    out.push_back(std::move(r));
  }
  if (out.empty()) throw VisionError("detector data " + root + ": no .mhd scans found");
  return out;
}

std::shared_ptr<const Volume> VolumeCache::get(const std::string& path) {
  for (auto it = items_.begin(); it != items_.end(); ++it)
    if (it->first == path) {
      items_.splice(items_.begin(), items_, it);
      return items_.front().second;
    }
  auto v = std::make_shared<const Volume>(read_volume(path));
  items_.emplace_front(path, v);
  while (items_.size() > std::max<size_t>(1, capacity_)) items_.pop_back();
  return v;
}

std::vector<Section> sections_at(const VolumeGeometry& g, const std::vector<LunaAnnotation>& nodules,
                                 int64_t z, double min_section) {
  std::vector<Section> out;
  const double pixel = 0.5 * (g.spacing[0] + g.spacing[1]);
  for (const auto& n : nodules) {
    const Vec3 c = g.world_to_index(n.center);
    const double r = n.diameter_mm / 2;
    const double dz = (static_cast<double>(z) - c.z) * g.spacing[2];
    if (!(r > 0) || std::abs(dz) >= r) continue;
    const double d = 2 * std::sqrt(r * r - dz * dz);
    out.push_back({c.x + 0.5, c.y + 0.5, d / pixel, d < min_section * n.diameter_mm});
  }
  return out;
}

torch::Tensor slice_stack(const Volume& v, int64_t z, int64_t k, double scale, double shift) {
  const auto& g = v.geometry;
  const int64_t W = g.size[0], H = g.size[1], D = g.size[2];
  auto out = torch::empty({k, H, W});
  const size_t plane = static_cast<size_t>(W * H);
  for (int64_t c = 0; c < k; ++c) {
    const int64_t zz = std::clamp<int64_t>(z - k / 2 + c, 0, D - 1);
    float* dst = out[c].data_ptr<float>();
    const size_t base = g.offset(0, 0, zz);
    if (const auto* i16 = std::get_if<std::vector<int16_t>>(&v.voxels)) {
      for (size_t i = 0; i < plane; ++i)
        dst[i] = static_cast<float>((*i16)[base + i] * scale + shift);
    } else {
      const auto& f = std::get<std::vector<float>>(v.voxels);
      for (size_t i = 0; i < plane; ++i) dst[i] = static_cast<float>(f[base + i] * scale + shift);
    }
  }
  return out;
}

double View::scale() const { return std::sqrt(std::abs(a00 * a11 - a01 * a10)); }

Section View::to_output(const Section& s) const {
  const double det = a00 * a11 - a01 * a10;
  const double x = s.cx - tx, y = s.cy - ty;
  return {(a11 * x - a01 * y) / det, (-a10 * x + a00 * y) / det, s.diameter / scale(), s.ignore};
}

Box2D View::to_input(const Box2D& b) const {
  double xs[4], ys[4];
  const double px[4] = {b.x0, b.x1, b.x0, b.x1}, py[4] = {b.y0, b.y0, b.y1, b.y1};
  for (int i = 0; i < 4; ++i) {
    xs[i] = a00 * px[i] + a01 * py[i] + tx;
    ys[i] = a10 * px[i] + a11 * py[i] + ty;
  }
  return {*std::min_element(xs, xs + 4), *std::min_element(ys, ys + 4),
          *std::max_element(xs, xs + 4), *std::max_element(ys, ys + 4)};
}

View fit_view(int64_t width, int64_t height, int64_t size) {
  const double s = static_cast<double>(std::max(width, height)) / static_cast<double>(size);
  View v;
  v.a00 = v.a11 = s;
  v.tx = static_cast<double>(width) / 2 - s * static_cast<double>(size) / 2;
  v.ty = static_cast<double>(height) / 2 - s * static_cast<double>(size) / 2;
  return v;
}

torch::Tensor render_view(const torch::Tensor& stack_hu, const View& v, int64_t size,
                          double hu_min, double hu_max) {
  namespace F = torch::nn::functional;
  const double W = static_cast<double>(stack_hu.size(2)), H = static_cast<double>(stack_hu.size(1));
  const double S = static_cast<double>(size);
  // grid_sample (align_corners = false): normalised n = 2 p / W - 1 for continuous p.
  // n_in = 2 / W (A (n_out + 1) S / 2 + t) - 1.
  const float theta[6] = {
      static_cast<float>(v.a00 * S / W), static_cast<float>(v.a01 * S / W),
      static_cast<float>((v.a00 * S + v.a01 * S + 2 * v.tx) / W - 1),
      static_cast<float>(v.a10 * S / H), static_cast<float>(v.a11 * S / H),
      static_cast<float>((v.a10 * S + v.a11 * S + 2 * v.ty) / H - 1)};
  const auto th = torch::from_blob(const_cast<float*>(theta), {1, 2, 3}).clone();
  const auto win = ((stack_hu.clamp(hu_min, hu_max) - hu_min) / (hu_max - hu_min)).unsqueeze(0);
  const auto grid = F::affine_grid(th, {1, stack_hu.size(0), size, size}, false);
  const auto out = F::grid_sample(win, grid,
                                  F::GridSampleFuncOptions()
                                      .mode(torch::kBilinear)
                                      .padding_mode(torch::kZeros)
                                      .align_corners(false));
  return out.squeeze(0) * 2 - 1;
}

SliceSampler::SliceSampler(std::vector<ScanRecord> scans, const DetectConfig& cfg, uint64_t seed)
    : scans_(std::move(scans)),
      cfg_(cfg),
      cache_(static_cast<size_t>(cfg.data.cache_scans)),
      seed_(seed),
      rng_(seed) {
  for (size_t s = 0; s < scans_.size(); ++s)
    for (size_t n = 0; n < scans_[s].nodules.size(); ++n) nodules_.emplace_back(s, n);
}

void SliceSampler::seek(int64_t step) {
  const auto s = static_cast<uint64_t>(step);
  std::seed_seq seq{static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32),
                    static_cast<uint32_t>(s), static_cast<uint32_t>(s >> 32)};
  rng_.seed(seq);
}

DetectBatch SliceSampler::next(int64_t batch, int64_t size) {
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  auto uni = [&](double a, double b) { return a + (b - a) * u01(rng_); };
  const auto& aug = cfg_.augment;
  DetectBatch out;
  std::vector<torch::Tensor> images;
  for (int64_t b = 0; b < batch; ++b) {
    const bool positive = !nodules_.empty() && u01(rng_) < cfg_.train.pos_fraction;
    size_t scan_i;
    const LunaAnnotation* focus = nullptr;
    if (positive) {
      const auto& pick = nodules_[std::uniform_int_distribution<size_t>(0, nodules_.size() - 1)(rng_)];
      scan_i = pick.first;
      focus = &scans_[scan_i].nodules[pick.second];
    } else {
      scan_i = std::uniform_int_distribution<size_t>(0, scans_.size() - 1)(rng_);
    }
    const auto vol = cache_.get(scans_[scan_i].scan.path);
    const auto& g = vol->geometry;
    const int64_t W = g.size[0], H = g.size[1], D = g.size[2];
    int64_t z;
    double fx = W / 2.0, fy = H / 2.0;
    if (focus) {
      const Vec3 c = g.world_to_index(focus->center);
      const double rz = 0.8 * focus->diameter_mm / 2 / g.spacing[2];
      z = std::clamp<int64_t>(std::llround(c.z + uni(-rz, rz)), 0, D - 1);
      fx = c.x + 0.5;
      fy = c.y + 0.5;
    } else {
      z = std::uniform_int_distribution<int64_t>(0, D - 1)(rng_);
    }
    // The view: a square field of view (side L input pixels), zoomed, rotated, flipped.
    const double side = static_cast<double>(std::max(W, H));
    const double L = side * uni(aug.crop_min, 1.0) / uni(1 - aug.scale_jitter, 1 + aug.scale_jitter);
    double cx, cy;
    if (focus) {
      cx = fx + uni(-0.3, 0.3) * L;
      cy = fy + uni(-0.3, 0.3) * L;
    } else {
      cx = L >= W ? W / 2.0 : uni(L / 2, W - L / 2);
      cy = L >= H ? H / 2.0 : uni(L / 2, H - L / 2);
    }
    const double th = uni(-aug.rotate_deg, aug.rotate_deg) * M_PI / 180;
    const double sx = (aug.flip && u01(rng_) < 0.5) ? -1 : 1;
    const double sy = (aug.flip && u01(rng_) < 0.5) ? -1 : 1;
    const double s = L / static_cast<double>(size);
    View v;
    v.a00 = s * std::cos(th) * sx;
    v.a01 = -s * std::sin(th) * sy;
    v.a10 = s * std::sin(th) * sx;
    v.a11 = s * std::cos(th) * sy;
    const double half = static_cast<double>(size) / 2;
    v.tx = cx - (v.a00 * half + v.a01 * half);
    v.ty = cy - (v.a10 * half + v.a11 * half);
    const double hu_scale = uni(1 - aug.hu_scale, 1 + aug.hu_scale);
    const double hu_shift = uni(-aug.hu_shift, aug.hu_shift);
    const auto stack = slice_stack(*vol, z, cfg_.input.context_slices, hu_scale, hu_shift);
    images.push_back(render_view(stack, v, size, cfg_.input.hu_min, cfg_.input.hu_max));
    std::vector<Section> objs;
    for (const auto& sec : sections_at(g, scans_[scan_i].nodules, z, cfg_.head.min_section)) {
      Section o = v.to_output(sec);
      if (o.cx >= 0 && o.cy >= 0 && o.cx < size && o.cy < size) objs.push_back(o);
    }
    out.objects.push_back(std::move(objs));
  }
  out.images = torch::stack(images);
  return out;
}

}  // namespace r1::vision
