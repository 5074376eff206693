#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/vision/volume.h"

namespace r1::vision {

// A synthetic chest CT with nodules at known places, standing in for LUNA16 in tests, demos and
// training when no real data is at hand. Anatomy (scaled to the field of view): air (-1000 HU)
// around an elliptic body of soft tissue (+40) under a fat layer (-100), a vertebra (+400,
// cortex +900), two lungs (about lung_hu, denser towards the back) holding branching, tapering
// vessels (+40), then nodules, then Gaussian noise. Edges are partial-volume blended.
// Everything follows from the seed through our own generator (xoshiro256**), so a seed gives the
// same scan with any standard library; only libm's last-bit differences between platforms could
// move a rare voxel by 1 HU.
enum class NoduleKind { Solid, PartSolid, GroundGlass };
const char* to_string(NoduleKind k);

struct PhantomNodule {
  Vec3 center;  // world mm
  double diameter_mm = 0;
  NoduleKind kind = NoduleKind::Solid;
  double density_hu = 0;     // Solid: the nodule; GroundGlass and PartSolid: the ground glass
  double core_hu = 0;        // PartSolid only: the solid core
  double core_fraction = 0;  // PartSolid only: core radius / nodule radius
};

struct PhantomOptions {
  int size_xy_min = 256, size_xy_max = 256;  // in-plane voxels (square slices)
  int slices_min = 100, slices_max = 140;
  double spacing_xy_min = 0.6, spacing_xy_max = 0.9;  // mm
  double spacing_z_min = 1.0, spacing_z_max = 2.5;    // mm
  int nodules_min = 1, nodules_max = 3;
  double diameter_min_mm = 3.0, diameter_max_mm = 30.0;    // drawn log-uniformly
  double solid_fraction = 0.6, part_solid_fraction = 0.2;  // the rest is ground glass
  double lung_hu = -850;
  double noise_sigma_hu = 20;
  int vessel_targets = 250;  // per lung: points its vessel tree reaches (0: no vessels)
  // Direction cosines (row-major, columns = index axes in world). Identity as in most LUNA16
  // scans; anything orthonormal works (the anatomy is laid out in world space).
  std::array<double, 9> direction{1, 0, 0, 0, 1, 0, 0, 0, 1};
};

struct Phantom {
  std::string seriesuid;  // 2.25.<decimal>, from the seed
  Volume volume;          // int16 HU
  std::vector<PhantomNodule> nodules;
};

// Throws VisionError on inconsistent options (a min above its max, spacing <= 0, ...).
Phantom make_phantom(const PhantomOptions& options, uint64_t seed);

struct PhantomSetEntry {
  std::string seriesuid;
  std::string path;  // <out>/subsetN/<seriesuid>.mhd
  int subset = 0;
  std::vector<PhantomNodule> nodules;
};

// Writes `count` phantoms as a LUNA16 folder: <out>/subset<i % subsets>/<seriesuid>.mhd + .raw
// and <out>/annotations.csv (seriesuid,coordX,coordY,coordZ,diameter_mm). Scan i is
// make_phantom(options, phantom_seed(seed, i)).
std::vector<PhantomSetEntry> write_phantom_set(const std::string& out_dir, int count, uint64_t seed,
                                               const PhantomOptions& options = {}, int subsets = 1);
uint64_t phantom_seed(uint64_t set_seed, int index);

}  // namespace r1::vision
