#include "engine/vision/geometry.h"

#include <cmath>
#include <sstream>

#include "engine/vision/vision_error.h"

namespace r1::vision {

double norm(Vec3 a) { return std::sqrt(dot(a, a)); }

std::array<double, 9> inverse3(const std::array<double, 9>& m) {
  const double c00 = m[4] * m[8] - m[5] * m[7];
  const double c01 = m[5] * m[6] - m[3] * m[8];
  const double c02 = m[3] * m[7] - m[4] * m[6];
  const double det = m[0] * c00 + m[1] * c01 + m[2] * c02;
  if (!(std::fabs(det) >= 1e-12)) {
    std::ostringstream s;
    s << "singular 3x3 matrix (determinant " << det << ")";
    throw VisionError(s.str());
  }
  const double r = 1.0 / det;
  return {c00 * r, (m[2] * m[7] - m[1] * m[8]) * r, (m[1] * m[5] - m[2] * m[4]) * r,
          c01 * r, (m[0] * m[8] - m[2] * m[6]) * r, (m[2] * m[3] - m[0] * m[5]) * r,
          c02 * r, (m[1] * m[6] - m[0] * m[7]) * r, (m[0] * m[4] - m[1] * m[3]) * r};
}

std::array<double, 9> VolumeGeometry::index_to_world_matrix() const {
  std::array<double, 9> m{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) m[3 * r + c] = direction[3 * r + c] * spacing[c];
  return m;
}

Vec3 VolumeGeometry::index_to_world(Vec3 index) const {
  const auto m = index_to_world_matrix();
  return {origin.x + m[0] * index.x + m[1] * index.y + m[2] * index.z,
          origin.y + m[3] * index.x + m[4] * index.y + m[5] * index.z,
          origin.z + m[6] * index.x + m[7] * index.y + m[8] * index.z};
}

Vec3 VolumeGeometry::world_to_index(Vec3 world) const {
  const auto inv = inverse3(index_to_world_matrix());
  const Vec3 d = world - origin;
  return {inv[0] * d.x + inv[1] * d.y + inv[2] * d.z, inv[3] * d.x + inv[4] * d.y + inv[5] * d.z,
          inv[6] * d.x + inv[7] * d.y + inv[8] * d.z};
}

void VolumeGeometry::validate(const std::string& what) const {
  static const char* kAxis[3] = {"x", "y", "z"};
  for (int a = 0; a < 3; ++a) {
    if (size[a] <= 0) {
      throw VisionError(what + ": size along " + kAxis[a] + " is " + std::to_string(size[a]) +
                        ", must be positive");
    }
    if (!std::isfinite(spacing[a]) || spacing[a] <= 0) {
      std::ostringstream s;
      s << what << ": spacing along " << kAxis[a] << " is " << spacing[a]
        << ", must be a positive number";
      throw VisionError(s.str());
    }
  }
  if (!std::isfinite(origin.x) || !std::isfinite(origin.y) || !std::isfinite(origin.z)) {
    throw VisionError(what + ": origin is not finite");
  }
  for (double v : direction) {
    if (!std::isfinite(v)) throw VisionError(what + ": direction matrix is not finite");
  }
  try {
    (void)inverse3(direction);
  } catch (const VisionError& e) {
    throw VisionError(what + ": direction matrix is " + e.what());
  }
}

}  // namespace r1::vision
