#include "engine/vision/luna_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "engine/vision/vision_error.h"
#include "engine/vision/volume_io.h"

namespace r1::vision {

namespace fs = std::filesystem;

namespace {

bool is_mhd(const fs::directory_entry& e) {
  if (!e.is_regular_file()) return false;
  std::string ext = e.path().extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".mhd";
}

// "subset7" → 7; anything else → -1.
int subset_number(const std::string& name) {
  if (name.size() <= 6 || name.compare(0, 6, "subset") != 0) return -1;
  int n = 0;
  for (size_t i = 6; i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i])) || n > 100000) return -1;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

}  // namespace

std::vector<LunaScan> find_luna_scans(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    throw VisionError("LUNA16 folder " + root +
                      (fs::exists(root, ec) ? ": not a folder" : ": no such folder"));
  }
  std::vector<LunaScan> out;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (is_mhd(e)) {
      out.push_back({e.path().stem().string(), e.path().string(), -1});
      continue;
    }
    const int subset = e.is_directory() ? subset_number(e.path().filename().string()) : -1;
    if (subset < 0) {
      if (e.is_directory() && is_image_folder(e.path().string())) {
        out.push_back({e.path().filename().string(), e.path().string(), -1});
      }
      continue;
    }
    for (const auto& f : fs::directory_iterator(e.path(), ec)) {
      if (is_mhd(f)) {
        out.push_back({f.path().stem().string(), f.path().string(), subset});
      } else if (f.is_directory() && is_image_folder(f.path().string())) {
        out.push_back({f.path().filename().string(), f.path().string(), subset});
      }
    }
  }
  if (ec) throw VisionError("LUNA16 folder " + root + ": cannot list: " + ec.message());
  std::sort(out.begin(), out.end(), [](const LunaScan& a, const LunaScan& b) {
    return a.subset != b.subset ? a.subset < b.subset : a.seriesuid < b.seriesuid;
  });
  return out;
}

}  // namespace r1::vision
