#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace r1::vision {

struct Vec3 {
  double x = 0, y = 0, z = 0;
};

inline Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
inline Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
inline Vec3 operator*(double s, Vec3 a) { return {s * a.x, s * a.y, s * a.z}; }
inline double dot(Vec3 a, Vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
double norm(Vec3 a);

// Where the voxels of a volume lie in the patient's world (mm), as ITK, SimpleITK and MetaImage
// define it:
//   world = origin + D · diag(spacing) · index
// index = (i, j, k) along x (columns), y (rows), z (slices), integer at voxel centres; column c
// of D is the world direction of index axis c. World axes are those of the file: LPS for DICOM,
// MetaImage and ITK (NIfTI's RAS is turned into LPS by ITK on reading and back on writing).
struct VolumeGeometry {
  std::array<int64_t, 3> size{0, 0, 0};          // voxels along x, y, z
  std::array<double, 3> spacing{1.0, 1.0, 1.0};  // mm between voxel centres along x, y, z
  Vec3 origin;                                   // world position of voxel (0, 0, 0)
  std::array<double, 9> direction{1, 0, 0, 0, 1, 0, 0, 0, 1};  // D, row-major: D[3 * row + col]

  size_t voxel_count() const {
    return static_cast<size_t>(size[0]) * static_cast<size_t>(size[1]) *
           static_cast<size_t>(size[2]);
  }
  // Linear offset of voxel (x, y, z) in z, y, x order (x fastest).
  size_t offset(int64_t x, int64_t y, int64_t z) const {
    return (static_cast<size_t>(z) * static_cast<size_t>(size[1]) + static_cast<size_t>(y)) *
               static_cast<size_t>(size[0]) +
           static_cast<size_t>(x);
  }
  bool contains(int64_t x, int64_t y, int64_t z) const {
    return x >= 0 && y >= 0 && z >= 0 && x < size[0] && y < size[1] && z < size[2];
  }

  // Continuous index → world (mm).
  Vec3 index_to_world(Vec3 index) const;
  // World (mm) → continuous index: diag(1/spacing) · D⁻¹ · (world − origin). Round to get the
  // voxel holding the point. Throws VisionError when D is singular (see validate()).
  Vec3 world_to_index(Vec3 world) const;
  // M = D · diag(spacing): the change of world position per unit step of each index axis.
  std::array<double, 9> index_to_world_matrix() const;

  // Throws VisionError naming `what` (a file, usually) when a size is not positive, a spacing is
  // not a positive finite number, or D is singular or not finite.
  void validate(const std::string& what) const;
};

// The inverse of a 3×3 row-major matrix; throws VisionError when |det| < 1e-12.
std::array<double, 9> inverse3(const std::array<double, 9>& m);

}  // namespace r1::vision
