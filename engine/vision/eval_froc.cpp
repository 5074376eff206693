#include "engine/vision/eval_froc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "engine/vision/vision_error.h"

namespace r1::vision {

namespace {

constexpr double kUnknownDiameterMm = 10.0;

double radius_of(const LunaAnnotation& a) {
  return (a.diameter_mm < 0 ? kUnknownDiameterMm : a.diameter_mm) / 2.0;
}

bool hits(const LunaDetection& d, const LunaAnnotation& a) {
  const Vec3 v = d.center - a.center;
  const double r = radius_of(a);
  return dot(v, v) <= r * r;
}

}  // namespace

double froc_sensitivity_at(const std::vector<FrocPoint>& curve, double fp_rate) {
  // Points come by descending threshold, so FPs per scan and sensitivity never decrease: the
  // answer is the last point within the rate. A relative tolerance keeps e.g. 3/24 == 0.125.
  double s = 0;
  for (const auto& p : curve) {
    if (p.fps_per_scan > fp_rate * (1 + 1e-12) + 1e-15) break;
    s = p.sensitivity;
  }
  return s;
}

FrocResult evaluate_froc(const std::vector<std::string>& scans,
                         const std::vector<LunaAnnotation>& nodules,
                         const std::vector<LunaAnnotation>& excluded,
                         const std::vector<LunaDetection>& detections, const FrocOptions& options) {
  if (scans.empty()) throw VisionError("FROC: no scans to evaluate");
  std::map<std::string, size_t> scan_index;
  for (size_t i = 0; i < scans.size(); ++i) {
    if (!scan_index.emplace(scans[i], i).second) {
      throw VisionError("FROC: series " + scans[i] + " is listed twice");
    }
  }
  FrocResult r;
  r.scans = static_cast<int>(scans.size());
  r.fp_rates = options.fp_rates;

  std::vector<std::vector<const LunaAnnotation*>> nod(scans.size()), exc(scans.size());
  std::vector<std::vector<const LunaDetection*>> det(scans.size());
  for (const auto& a : nodules) {
    auto it = scan_index.find(a.seriesuid);
    if (it == scan_index.end()) {
      ++r.annotations_outside_scans;
    } else {
      nod[it->second].push_back(&a);
    }
  }
  for (const auto& a : excluded) {
    auto it = scan_index.find(a.seriesuid);
    if (it != scan_index.end()) exc[it->second].push_back(&a);
  }
  for (const auto& d : detections) {
    if (!std::isfinite(d.probability)) {
      throw VisionError("FROC: a detection in series " + d.seriesuid + " has a non-finite score");
    }
    auto it = scan_index.find(d.seriesuid);
    if (it == scan_index.end()) {
      ++r.detections_outside_scans;
    } else {
      det[it->second].push_back(&d);
    }
  }

  // (score, is nodule) samples; an undetected nodule contributes nothing but the denominator.
  std::vector<double> tp_scores, fp_scores;
  for (size_t s = 0; s < scans.size(); ++s) {
    auto& marks = det[s];
    const auto cap = static_cast<size_t>(std::max(options.max_marks_per_scan, 0));
    if (options.max_marks_per_scan > 0 && marks.size() > cap) {
      std::vector<double> p;
      for (const auto* d : marks) p.push_back(d->probability);
      std::nth_element(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(cap), p.end(),
                       std::greater<double>());
      const double cut = p[cap];  // the (cap+1)-th highest score
      std::vector<const LunaDetection*> kept;
      for (const auto* d : marks)
        if (d->probability > cut) kept.push_back(d);
      r.dropped_by_cap += static_cast<int>(marks.size() - kept.size());
      marks = std::move(kept);
    }
    r.detections += static_cast<int>(marks.size());

    std::vector<bool> spent(marks.size(), false);
    for (const auto* a : nod[s]) {
      ++r.nodules;
      double best = -std::numeric_limits<double>::infinity();
      int hits_here = 0;
      for (size_t k = 0; k < marks.size(); ++k) {
        if (!hits(*marks[k], *a)) continue;
        ++hits_here;
        spent[k] = true;
        best = std::max(best, marks[k]->probability);
      }
      if (hits_here > 0) {
        ++r.detected_nodules;
        r.duplicate_hits += hits_here - 1;
        tp_scores.push_back(best);
      }
    }
    for (size_t k = 0; k < marks.size(); ++k) {
      if (spent[k]) continue;
      bool ignored = false;
      for (const auto* a : exc[s]) ignored = ignored || hits(*marks[k], *a);
      if (ignored) {
        ++r.ignored_on_excluded;
      } else {
        ++r.false_positives;
        fp_scores.push_back(marks[k]->probability);
      }
    }
  }

  // The curve, one point per distinct score.
  std::sort(tp_scores.begin(), tp_scores.end(), std::greater<double>());
  std::sort(fp_scores.begin(), fp_scores.end(), std::greater<double>());
  const double n_nod = r.nodules;
  const double n_scans = r.scans;
  auto point = [&](double t, int tp, int fp) {
    FrocPoint p;
    p.threshold = t;
    p.true_positives = tp;
    p.false_positives = fp;
    p.fps_per_scan = fp / n_scans;
    p.sensitivity = r.nodules > 0 ? tp / n_nod : std::numeric_limits<double>::quiet_NaN();
    return p;
  };
  r.curve.push_back(point(std::numeric_limits<double>::infinity(), 0, 0));
  size_t i = 0, j = 0;
  while (i < tp_scores.size() || j < fp_scores.size()) {
    const double t = std::max(i < tp_scores.size() ? tp_scores[i] : -HUGE_VAL,
                              j < fp_scores.size() ? fp_scores[j] : -HUGE_VAL);
    while (i < tp_scores.size() && tp_scores[i] == t) ++i;
    while (j < fp_scores.size() && fp_scores[j] == t) ++j;
    r.curve.push_back(point(t, static_cast<int>(i), static_cast<int>(j)));
  }

  double sum = 0;
  for (double x : r.fp_rates) {
    const double s =
        r.nodules > 0 ? froc_sensitivity_at(r.curve, x) : std::numeric_limits<double>::quiet_NaN();
    r.sensitivities.push_back(s);
    sum += s;
  }
  r.cpm = r.fp_rates.empty() ? std::numeric_limits<double>::quiet_NaN()
                             : sum / static_cast<double>(r.fp_rates.size());
  return r;
}

}  // namespace r1::vision
