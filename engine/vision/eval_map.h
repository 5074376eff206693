#pragma once

#include <string>
#include <vector>

namespace r1::vision {

// An axis-aligned box in continuous pixel coordinates: (x0, y0) top-left, (x1, y1) bottom-right,
// area (x1 - x0) · (y1 - y0) (no "+1" pixel convention).
struct Box2D {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

double box_area(const Box2D& b);
// Intersection over union; 0 when both boxes are empty.
double box_iou(const Box2D& a, const Box2D& b);

struct GroundTruthBox {
  std::string image;  // any key naming the image (e.g. "<seriesuid>/<slice>")
  int label = 0;
  Box2D box;
};

struct DetectedBox {
  std::string image;
  int label = 0;
  Box2D box;
  double score = 0;
};

struct ClassAp {
  int label = 0;
  int ground_truths = 0;
  int detections = 0;
  int true_positives = 0;
  double ap = 0;
};

struct MapResult {
  std::vector<ClassAp> classes;        // by label; only labels with at least one ground-truth box
  double map = 0;                      // mean AP over those classes; NaN when there are none
  int unmatched_label_detections = 0;  // detections of labels without any ground truth
};

// Average precision from a ranked list's recall and precision (same length, by descending
// score): all-point interpolation (PASCAL VOC 2010 on): precision made non-increasing from the
// right, then summed over each rise in recall.
double average_precision(const std::vector<double>& recall, const std::vector<double>& precision);

// mAP at an IoU threshold (0.5 = mAP@0.5). Per class, detections are taken by descending score
// (ties keep their input order); each is matched to the ground-truth box of its image and class
// with the largest IoU (first on ties): a true positive when IoU >= threshold and that box is
// still unmatched, else a false positive (a second detection of a matched box is a false
// positive, as in VOC). Throws VisionError on a box with x1 < x0 or y1 < y0, or a non-finite
// coordinate or score.
MapResult mean_average_precision(const std::vector<GroundTruthBox>& truth,
                                 const std::vector<DetectedBox>& detections,
                                 double iou_threshold = 0.5);

}  // namespace r1::vision
