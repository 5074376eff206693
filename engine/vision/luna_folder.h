#pragma once

#include <string>
#include <vector>

namespace r1::vision {

// A scan of a LUNA16-style folder: <root>/subsetN/<seriesuid>.mhd (the phantom generator writes
// the same layout). MetaImage files directly under <root> count too, with subset -1. So does a
// folder of PNG/JPEG slices (is_image_folder(), volume_io.h) in <root> or a subsetN: one scan
// named after the folder, its path the folder (read_volume() reads it as a stack).
struct LunaScan {
  std::string seriesuid;  // the file name without .mhd, or the slice folder's name
  std::string path;
  int subset = -1;
};

// Sorted by subset, then seriesuid. Throws VisionError when root is not a folder; an empty list
// when it holds no scans.
std::vector<LunaScan> find_luna_scans(const std::string& root);

}  // namespace r1::vision
