#include "engine/vision/volume.h"

#include "engine/vision/vision_error.h"

namespace r1::vision {

const char* to_string(VoxelType t) { return t == VoxelType::Int16 ? "int16" : "float32"; }

Volume Volume::zeros(const VolumeGeometry& g, VoxelType type) {
  g.validate("volume");
  Volume v;
  v.geometry = g;
  if (type == VoxelType::Int16) {
    v.voxels = std::vector<int16_t>(g.voxel_count(), 0);
  } else {
    v.voxels = std::vector<float>(g.voxel_count(), 0.0f);
  }
  return v;
}

std::vector<int16_t>& Volume::int16() {
  if (auto* v = std::get_if<std::vector<int16_t>>(&voxels)) return *v;
  throw VisionError("volume holds float32 voxels, not int16");
}

const std::vector<int16_t>& Volume::int16() const {
  if (auto* v = std::get_if<std::vector<int16_t>>(&voxels)) return *v;
  throw VisionError("volume holds float32 voxels, not int16");
}

std::vector<float>& Volume::float32() {
  if (auto* v = std::get_if<std::vector<float>>(&voxels)) return *v;
  throw VisionError("volume holds int16 voxels, not float32");
}

const std::vector<float>& Volume::float32() const {
  if (auto* v = std::get_if<std::vector<float>>(&voxels)) return *v;
  throw VisionError("volume holds int16 voxels, not float32");
}

std::vector<float> Volume::to_float() const {
  if (auto* v = std::get_if<std::vector<float>>(&voxels)) return *v;
  const auto& s = std::get<std::vector<int16_t>>(voxels);
  return std::vector<float>(s.begin(), s.end());
}

void Volume::validate(const std::string& what) const {
  geometry.validate(what);
  const size_t n = std::visit([](const auto& v) { return v.size(); }, voxels);
  if (n != geometry.voxel_count()) {
    throw VisionError(what + ": holds " + std::to_string(n) + " voxels, its size " +
                      std::to_string(geometry.size[0]) + "x" + std::to_string(geometry.size[1]) +
                      "x" + std::to_string(geometry.size[2]) + " needs " +
                      std::to_string(geometry.voxel_count()));
  }
}

}  // namespace r1::vision
