#pragma once

#include <string>
#include <vector>

#include "engine/vision/luna_csv.h"

namespace r1::vision {

// The LUNA16 nodule-detection protocol (free-response ROC), as implemented here:
//  1. Per scan, at most `max_marks_per_scan` detections are kept. Like the official script, when
//     a scan has more, only those scoring strictly above the (max+1)-th highest score are kept
//     (so ties across the cut are all dropped and fewer than max may remain).
//  2. A detection hits a finding when its distance to the finding's centre is <= the finding's
//     radius (diameter_mm / 2; a negative diameter, as in annotations_excluded.csv, means 10 mm,
//     as in the official script). The official script tests "<"; only marks exactly on the
//     sphere's surface differ.
//  3. A nodule is detected when at least one detection hits it; its score is the highest among
//     them. Every detection that hits a nodule is spent: the extra hits ("duplicates") count
//     neither as true nor as false positives. One detection may hit two overlapping nodules.
//  4. Detections that hit no nodule but an excluded finding are ignored (neither TP nor FP).
//  5. All other detections are false positives.
//  6. The curve: for each distinct score t (descending), sensitivity = nodules whose score >= t
//     / all nodules, FPs per scan = false positives scoring >= t / number of scans. Nodules
//     without a hit never count. Scans without nodules or detections still count as scans.
//  7. Sensitivity at an FP rate x is that of the lowest threshold whose FPs per scan are <= x
//     (the FROC curve read as a step function). The official script instead interpolates
//     linearly between the ROC points on a 10001-point grid; the two agree except where a TP and
//     an FP share a score (a diagonal step) or an FP step lies within 0.0004 of x.
//  8. CPM = mean sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8 FPs per scan.
// Annotations and detections of series not in `scans` are left out (and counted).
struct FrocOptions {
  int max_marks_per_scan = 100;  // <= 0: no cap
  std::vector<double> fp_rates{0.125, 0.25, 0.5, 1, 2, 4, 8};
};

struct FrocPoint {
  double threshold = 0;  // detections scoring >= threshold are in
  double fps_per_scan = 0;
  double sensitivity = 0;
  int true_positives = 0;   // nodules detected at this threshold
  int false_positives = 0;  // false-positive marks at this threshold
};

struct FrocResult {
  // One point per distinct score, by descending threshold; the first point is threshold +inf
  // (nothing detected).
  std::vector<FrocPoint> curve;
  std::vector<double> fp_rates;       // the options' rates
  std::vector<double> sensitivities;  // at each of fp_rates
  double cpm = 0;                     // NaN when there are no nodules
  int scans = 0;
  int nodules = 0;           // annotated nodules in the scans
  int detected_nodules = 0;  // hit by at least one kept detection
  int detections = 0;        // kept detections (after the per-scan cap)
  int false_positives = 0;
  int duplicate_hits = 0;  // extra hits on an already hit nodule
  int ignored_on_excluded = 0;
  int dropped_by_cap = 0;
  int annotations_outside_scans = 0;
  int detections_outside_scans = 0;
};

// Throws VisionError when `scans` is empty or lists a series twice, or on a non-finite score.
FrocResult evaluate_froc(const std::vector<std::string>& scans,
                         const std::vector<LunaAnnotation>& nodules,
                         const std::vector<LunaAnnotation>& excluded,
                         const std::vector<LunaDetection>& detections,
                         const FrocOptions& options = {});

// Sensitivity at `fp_rate` on a curve from evaluate_froc (rule 7 above).
double froc_sensitivity_at(const std::vector<FrocPoint>& curve, double fp_rate);

}  // namespace r1::vision
