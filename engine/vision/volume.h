#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "engine/vision/geometry.h"

namespace r1::vision {

enum class VoxelType { Int16, Float32 };
const char* to_string(VoxelType t);

// A CT (or any scalar) volume in Hounsfield units: voxels in z, y, x order (x fastest), int16 when
// the source's values are integers that fit (LUNA16's MET_SHORT, most CT DICOM), float otherwise.
struct Volume {
  VolumeGeometry geometry;
  std::variant<std::vector<int16_t>, std::vector<float>> voxels;
  // Things a reader noticed that do not stop it (e.g. non-uniform slice spacing in a DICOM
  // series); a viewer shows them.
  std::vector<std::string> warnings;

  // A volume of `type` filled with zeros.
  static Volume zeros(const VolumeGeometry& g, VoxelType type);

  VoxelType type() const {
    return std::holds_alternative<std::vector<int16_t>>(voxels) ? VoxelType::Int16
                                                                : VoxelType::Float32;
  }
  size_t voxel_count() const { return geometry.voxel_count(); }
  // The value at voxel (x, y, z), as float whatever the storage; no bounds check.
  float at(int64_t x, int64_t y, int64_t z) const {
    const size_t o = geometry.offset(x, y, z);
    if (auto* v = std::get_if<std::vector<int16_t>>(&voxels)) return (*v)[o];
    return std::get<std::vector<float>>(voxels)[o];
  }
  // Throw VisionError when the storage is of the other type.
  std::vector<int16_t>& int16();
  const std::vector<int16_t>& int16() const;
  std::vector<float>& float32();
  const std::vector<float>& float32() const;
  // A float copy of all voxels (whatever the storage).
  std::vector<float> to_float() const;
  // Throws VisionError (naming `what`) when the geometry is invalid or the voxel count does not
  // match the size.
  void validate(const std::string& what) const;
};

}  // namespace r1::vision
