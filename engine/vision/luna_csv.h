#pragma once

#include <string>
#include <vector>

#include "engine/vision/geometry.h"

namespace r1::vision {

// The LUNA16 CSV files. Coordinates are world millimetres in the scan's own frame (the .mhd's
// Offset/TransformMatrix), not voxel indices.
//
// annotations.csv and annotations_excluded.csv: seriesuid,coordX,coordY,coordZ,diameter_mm
//   (the excluded file marks findings that count neither as hits nor as false positives; the
//   official one holds diameter_mm = -1 where no size was given — see eval_froc.h)
// candidates.csv:  seriesuid,coordX,coordY,coordZ,class   (class 1 = nodule, 0 = not)
// submission:      seriesuid,coordX,coordY,coordZ,probability
//
// Reading: a header row is recognised when its fields name the columns (any order, any case,
// extra columns ignored); without one the columns are taken in the order above. Quoted fields,
// CRLF and a byte-order mark are fine. Errors name the file, line, column number and column name:
//   "annotations /d/annotations.csv line 7, column 4 (coordZ): '12,5' is not a number".
struct LunaAnnotation {
  std::string seriesuid;
  Vec3 center;
  double diameter_mm = 0;
};

struct LunaCandidate {
  std::string seriesuid;
  Vec3 center;
  int label = 0;  // the "class" column: 1 nodule, 0 not
};

struct LunaDetection {
  std::string seriesuid;
  Vec3 center;
  double probability = 0;
};

std::vector<LunaAnnotation> read_luna_annotations(const std::string& path);
std::vector<LunaCandidate> read_luna_candidates(const std::string& path);
std::vector<LunaDetection> read_luna_submission(const std::string& path);

// Write with the header row, LF line ends, numbers in their shortest exact form; through a
// temporary file renamed into place.
void write_luna_annotations(const std::string& path, const std::vector<LunaAnnotation>& rows);
void write_luna_candidates(const std::string& path, const std::vector<LunaCandidate>& rows);
void write_luna_submission(const std::string& path, const std::vector<LunaDetection>& rows);

}  // namespace r1::vision
