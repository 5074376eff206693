#include "engine/vision/eval_map.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "engine/vision/vision_error.h"

namespace r1::vision {

namespace {

void check_box(const Box2D& b, const std::string& image, const char* what) {
  if (!std::isfinite(b.x0) || !std::isfinite(b.y0) || !std::isfinite(b.x1) ||
      !std::isfinite(b.y1)) {
    throw VisionError(std::string("mAP: a ") + what + " box in image " + image +
                      " has a non-finite coordinate");
  }
  if (b.x1 < b.x0 || b.y1 < b.y0) {
    throw VisionError(std::string("mAP: a ") + what + " box in image " + image +
                      " has x1 < x0 or y1 < y0");
  }
}

}  // namespace

double box_area(const Box2D& b) { return std::max(0.0, b.x1 - b.x0) * std::max(0.0, b.y1 - b.y0); }

double box_iou(const Box2D& a, const Box2D& b) {
  const double iw = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const double ih = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  const double inter = iw > 0 && ih > 0 ? iw * ih : 0.0;
  const double uni = box_area(a) + box_area(b) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

double average_precision(const std::vector<double>& recall, const std::vector<double>& precision) {
  if (recall.size() != precision.size()) {
    throw VisionError("average_precision: recall and precision differ in length");
  }
  std::vector<double> r{0.0}, p{0.0};
  r.insert(r.end(), recall.begin(), recall.end());
  p.insert(p.end(), precision.begin(), precision.end());
  r.push_back(1.0);
  p.push_back(0.0);
  for (size_t i = p.size() - 1; i > 0; --i) p[i - 1] = std::max(p[i - 1], p[i]);
  double ap = 0;
  for (size_t i = 1; i < r.size(); ++i) ap += (r[i] - r[i - 1]) * p[i];
  return ap;
}

MapResult mean_average_precision(const std::vector<GroundTruthBox>& truth,
                                 const std::vector<DetectedBox>& detections, double iou_threshold) {
  for (const auto& g : truth) check_box(g.box, g.image, "ground-truth");
  for (const auto& d : detections) {
    check_box(d.box, d.image, "detected");
    if (!std::isfinite(d.score)) {
      throw VisionError("mAP: a detection in image " + d.image + " has a non-finite score");
    }
  }
  std::map<int, std::map<std::string, std::vector<size_t>>> by_class;  // label → image → boxes
  std::map<int, int> gt_count;
  for (size_t i = 0; i < truth.size(); ++i) {
    by_class[truth[i].label][truth[i].image].push_back(i);
    ++gt_count[truth[i].label];
  }

  MapResult out;
  std::map<int, std::vector<size_t>> det_by_class;
  for (size_t i = 0; i < detections.size(); ++i) {
    if (gt_count.count(detections[i].label)) {
      det_by_class[detections[i].label].push_back(i);
    } else {
      ++out.unmatched_label_detections;
    }
  }

  double sum = 0;
  for (const auto& [label, n_gt] : gt_count) {
    auto& order = det_by_class[label];
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return detections[a].score > detections[b].score; });
    std::vector<bool> matched(truth.size(), false);
    const auto& images = by_class[label];
    std::vector<double> recall, precision;
    int tp = 0;
    for (size_t rank = 0; rank < order.size(); ++rank) {
      const DetectedBox& d = detections[order[rank]];
      double best = -1;
      size_t best_gt = 0;
      auto it = images.find(d.image);
      if (it != images.end()) {
        for (size_t g : it->second) {
          const double iou = box_iou(d.box, truth[g].box);
          if (iou > best) {
            best = iou;
            best_gt = g;
          }
        }
      }
      if (best >= iou_threshold && !matched[best_gt]) {
        matched[best_gt] = true;
        ++tp;
      }
      recall.push_back(static_cast<double>(tp) / n_gt);
      precision.push_back(static_cast<double>(tp) / static_cast<double>(rank + 1));
    }
    ClassAp c;
    c.label = label;
    c.ground_truths = n_gt;
    c.detections = static_cast<int>(order.size());
    c.true_positives = tp;
    c.ap = average_precision(recall, precision);
    sum += c.ap;
    out.classes.push_back(c);
  }
  out.map = out.classes.empty() ? std::numeric_limits<double>::quiet_NaN()
                                : sum / static_cast<double>(out.classes.size());
  return out;
}

}  // namespace r1::vision
