#pragma once

#include <string>
#include <vector>

namespace r1::vision {

// A scan of a LUNA16-style folder: <root>/subsetN/<seriesuid>.mhd (the phantom generator writes
// the same layout). MetaImage files directly under <root> count too, with subset -1.
struct LunaScan {
  std::string seriesuid;  // the file name without .mhd
  std::string path;
  int subset = -1;
};

// Sorted by subset, then seriesuid. Throws VisionError when root is not a folder; an empty list
// when it holds no scans.
std::vector<LunaScan> find_luna_scans(const std::string& root);

}  // namespace r1::vision
