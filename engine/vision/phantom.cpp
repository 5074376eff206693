#include "engine/vision/phantom.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "engine/vision/csv.h"
#include "engine/vision/luna_csv.h"
#include "engine/vision/metaimage.h"
#include "engine/vision/vision_error.h"

namespace r1::vision {

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kAirHu = -1000, kFatHu = -100, kSoftHu = 40, kVesselHu = 40;
constexpr double kMarrowHu = 400, kCortexHu = 900;

uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& w : s_) w = splitmix(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  int integer(int lo, int hi) {
    return lo + static_cast<int>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  // Two independent standard normal samples (Box-Muller).
  void normal2(double& a, double& b) {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    a = r * std::cos(2 * kPi * u2);
    b = r * std::sin(2 * kPi * u2);
  }
  Vec3 unit_vector() {
    const double z = uniform(-1, 1), phi = uniform(0, 2 * kPi);
    const double r = std::sqrt(std::max(0.0, 1 - z * z));
    return {r * std::cos(phi), r * std::sin(phi), z};
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

Vec3 normalized(Vec3 v) { return (1.0 / norm(v)) * v; }

double clamp01(double v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

// An ellipse (centre, semi-axes a, b) that tells what fraction of a voxel of width h lies inside
// it, from the distance to its edge along the ray from its centre (partial volume).
struct Ellipse {
  Ellipse(double x, double y, double a, double b, double width) : cx(x), cy(y), h(width) {
    if (a <= 0 || b <= 0) return;
    ia2 = 1 / (a * a);
    ib2 = 1 / (b * b);
    const double band = 2 * h / std::min(a, b);
    q_out = (1 + band) * (1 + band);
    q_in = band < 1 ? (1 - band) * (1 - band) : -1;
  }
  double cover(double px, double py) const {
    const double dx = px - cx, dy = py - cy;
    const double q = dx * dx * ia2 + dy * dy * ib2;
    if (q >= q_out) return 0;
    if (q <= q_in) return 1;
    const double rho = std::sqrt(q);
    if (rho == 0) return 1;
    const double d = std::sqrt(dx * dx + dy * dy) * (1 - 1 / rho);  // > 0 outside
    return clamp01(0.5 - d / h);
  }
  double cx, cy, h;
  double ia2 = 0, ib2 = 0, q_out = 0, q_in = -1;  // an empty ellipse covers nothing
};

// Cross-section scale of a lung at relative height t in [-1, 1] (1 = apex): round apex, broad
// base.
double lung_factor(double t) {
  if (t <= -1 || t >= 1) return 0;
  if (t > 0) return std::sqrt(1 - t * t);
  const double t2 = t * t, t4 = t2 * t2;
  return std::sqrt(1 - t4 * t4);
}

// The diaphragm domes up into the base of each lung: at relative height t a voxel whose
// normalised distance from the lung's axis is rho2 (0 on the axis, 1 at full width) is lung only
// when t > -1 + kDome * (1 - rho2).
constexpr double kDome = 0.3;

struct Lung {
  double x, y, ax, ay;  // centre (world mm) and semi-axes at full width
};

struct Anatomy {
  Vec3 c;  // body centre
  double a = 0, b = 0, fat = 0;
  Lung lung[2];
  double lung_z = 0, lung_az = 0;
  double vx = 0, vy = 0, vr = 0, cortex = 1.5;

  double height(double wz) const { return (wz - lung_z) / lung_az; }
  bool in_lung(const Lung& l, Vec3 p) const {
    const double t = height(p.z), f = lung_factor(t);
    if (f <= 0) return false;
    const double nx = (p.x - l.x) / l.ax, ny = (p.y - l.y) / l.ay;
    const double rho2 = nx * nx + ny * ny;
    return rho2 <= f * f && t > -1 + kDome * (1 - rho2);
  }
};

struct Segment {
  Vec3 a, b;
  double ra = 0, rb = 0;
};

// A vessel tree filling a lung: targets spread through the lung, each reached from the nearest
// point of the tree so far by a few jittered segments that taper as they go.
void build_vessels(Rng& rng, const Anatomy& an, const Lung& l, Vec3 hilum, double r0, double step,
                   int targets, std::vector<Segment>& out) {
  struct Node {
    Vec3 p;
    double r;
  };
  std::vector<Node> nodes{{hilum, r0}};
  std::vector<Vec3> goals;
  for (int tries = 0; static_cast<int>(goals.size()) < targets && tries < targets * 50; ++tries) {
    const Vec3 p{l.x + rng.uniform(-1, 1) * l.ax, l.y + rng.uniform(-1, 1) * l.ay,
                 an.lung_z + rng.uniform(-1, 1) * an.lung_az};
    if (an.in_lung(l, p)) goals.push_back(p);
  }
  std::sort(goals.begin(), goals.end(),
            [&](Vec3 a, Vec3 b) { return norm(a - hilum) < norm(b - hilum); });
  for (const Vec3& goal : goals) {
    size_t best = 0;
    for (size_t k = 1; k < nodes.size(); ++k) {
      if (norm(nodes[k].p - goal) < norm(nodes[best].p - goal)) best = k;
    }
    Vec3 pos = nodes[best].p;
    double r = nodes[best].r;
    for (int hop = 0; hop < 12; ++hop) {
      const double left = norm(goal - pos);
      if (left < 1.0) break;
      const Vec3 dir = normalized((1.0 / left) * (goal - pos) + 0.25 * rng.unit_vector());
      const Vec3 next = pos + std::min(left, step * rng.uniform(0.6, 1.0)) * dir;
      const double r_next = std::max(0.4, r * 0.9);
      out.push_back({pos, next, r, r_next});
      nodes.push_back({next, r_next});
      pos = next;
      r = r_next;
    }
  }
}

// Index-space box (inclusive, clamped) around a world-space box.
bool index_box(const VolumeGeometry& g, Vec3 lo, Vec3 hi, int64_t b0[3], int64_t b1[3]) {
  double mn[3] = {1e300, 1e300, 1e300}, mx[3] = {-1e300, -1e300, -1e300};
  for (int c = 0; c < 8; ++c) {
    const Vec3 p{c & 1 ? hi.x : lo.x, c & 2 ? hi.y : lo.y, c & 4 ? hi.z : lo.z};
    const Vec3 i = g.world_to_index(p);
    const double v[3] = {i.x, i.y, i.z};
    for (int a = 0; a < 3; ++a) {
      mn[a] = std::min(mn[a], v[a]);
      mx[a] = std::max(mx[a], v[a]);
    }
  }
  for (int a = 0; a < 3; ++a) {
    b0[a] = std::max<int64_t>(0, static_cast<int64_t>(std::floor(mn[a])));
    b1[a] = std::min<int64_t>(g.size[a] - 1, static_cast<int64_t>(std::ceil(mx[a])));
    if (b0[a] > b1[a]) return false;
  }
  return true;
}

// Width of a voxel along the world direction u (unit).
double voxel_extent(const std::array<double, 9>& m, Vec3 u) {
  return std::fabs(u.x * m[0] + u.y * m[3] + u.z * m[6]) +
         std::fabs(u.x * m[1] + u.y * m[4] + u.z * m[7]) +
         std::fabs(u.x * m[2] + u.y * m[5] + u.z * m[8]);
}

void paint_vessel(const VolumeGeometry& g, const Segment& s, std::vector<float>& hu,
                  const std::vector<uint8_t>& is_lung, double h) {
  const double pad = std::max(s.ra, s.rb) + h;
  const Vec3 lo{std::min(s.a.x, s.b.x) - pad, std::min(s.a.y, s.b.y) - pad,
                std::min(s.a.z, s.b.z) - pad};
  const Vec3 hi{std::max(s.a.x, s.b.x) + pad, std::max(s.a.y, s.b.y) + pad,
                std::max(s.a.z, s.b.z) + pad};
  int64_t b0[3], b1[3];
  if (!index_box(g, lo, hi, b0, b1)) return;
  const Vec3 ab = s.b - s.a;
  const double len2 = dot(ab, ab);
  for (int64_t z = b0[2]; z <= b1[2]; ++z)
    for (int64_t y = b0[1]; y <= b1[1]; ++y)
      for (int64_t x = b0[0]; x <= b1[0]; ++x) {
        const size_t o = g.offset(x, y, z);
        if (!is_lung[o]) continue;
        const Vec3 p = g.index_to_world({double(x), double(y), double(z)});
        const double t = len2 > 0 ? std::clamp(dot(p - s.a, ab) / len2, 0.0, 1.0) : 0.0;
        const double d = norm(p - (s.a + t * ab));
        const double r = s.ra + t * (s.rb - s.ra);
        const double cover = clamp01((r - d) / h + 0.5);
        if (cover > 0) hu[o] += static_cast<float>(cover * (kVesselHu - hu[o]));
      }
}

// Lobulated sphere: radius along unit direction u is r · (1 + shape(u)), shape a sum of
// zero-mean Legendre terms (P2: elongation, P3: lobulation), |shape| <= 0.24.
struct NoduleShape {
  Vec3 axis[4];
  double amp[4] = {0, 0, 0, 0};
  double at(Vec3 u) const {
    double s = 0;
    for (int m = 0; m < 3; ++m) {
      const double c = dot(u, axis[m]);
      s += amp[m] * (1.5 * c * c - 0.5);
    }
    const double c = dot(u, axis[3]);
    return s + amp[3] * (2.5 * c * c * c - 1.5 * c);
  }
};

void paint_nodule(const VolumeGeometry& g, const std::array<double, 9>& m, const PhantomNodule& n,
                  const NoduleShape& shape, std::vector<float>& hu) {
  const double r = n.diameter_mm / 2;
  const double pad = r * 1.25 + 3.0;
  int64_t b0[3], b1[3];
  const Vec3 lo = n.center - Vec3{pad, pad, pad}, hi = n.center + Vec3{pad, pad, pad};
  if (!index_box(g, lo, hi, b0, b1)) return;
  for (int64_t z = b0[2]; z <= b1[2]; ++z)
    for (int64_t y = b0[1]; y <= b1[1]; ++y)
      for (int64_t x = b0[0]; x <= b1[0]; ++x) {
        const Vec3 p = g.index_to_world({double(x), double(y), double(z)});
        const Vec3 v = p - n.center;
        const double d = norm(v);
        const Vec3 u = d > 0 ? (1.0 / d) * v : Vec3{0, 0, 1};
        const double h = voxel_extent(m, u);
        const double radius = r * (1 + shape.at(u));
        const size_t o = g.offset(x, y, z);
        double cover = clamp01((radius - d) / h + 0.5);
        if (cover > 0) hu[o] += static_cast<float>(cover * (n.density_hu - hu[o]));
        if (n.kind == NoduleKind::PartSolid) {
          cover = clamp01((radius * n.core_fraction - d) / h + 0.5);
          if (cover > 0) hu[o] += static_cast<float>(cover * (n.core_hu - hu[o]));
        }
      }
}

void check_options(const PhantomOptions& o) {
  auto need = [](bool ok, const std::string& why) {
    if (!ok) throw VisionError("phantom options: " + why);
  };
  need(o.size_xy_min >= 32 && o.size_xy_min <= o.size_xy_max && o.size_xy_max <= 4096,
       "size_xy_min/max must satisfy 32 <= min <= max <= 4096");
  need(o.slices_min >= 8 && o.slices_min <= o.slices_max && o.slices_max <= 4096,
       "slices_min/max must satisfy 8 <= min <= max <= 4096");
  need(o.spacing_xy_min > 0 && o.spacing_xy_min <= o.spacing_xy_max,
       "spacing_xy_min/max must satisfy 0 < min <= max");
  need(o.spacing_z_min > 0 && o.spacing_z_min <= o.spacing_z_max,
       "spacing_z_min/max must satisfy 0 < min <= max");
  need(o.nodules_min >= 0 && o.nodules_min <= o.nodules_max && o.nodules_max <= 64,
       "nodules_min/max must satisfy 0 <= min <= max <= 64");
  need(o.diameter_min_mm > 0 && o.diameter_min_mm <= o.diameter_max_mm,
       "diameter_min/max_mm must satisfy 0 < min <= max");
  need(o.solid_fraction >= 0 && o.part_solid_fraction >= 0 &&
           o.solid_fraction + o.part_solid_fraction <= 1 + 1e-12,
       "solid_fraction and part_solid_fraction must be >= 0 with a sum <= 1");
  need(o.noise_sigma_hu >= 0, "noise_sigma_hu must be >= 0");
  need(o.vessel_targets >= 0 && o.vessel_targets <= 1000, "vessel_targets must be in 0..1000");
  const auto& d = o.direction;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      const double p = d[a] * d[b] + d[3 + a] * d[3 + b] + d[6 + a] * d[6 + b];
      need(std::fabs(p - (a == b ? 1.0 : 0.0)) < 1e-6, "direction must be orthonormal");
    }
}

std::string uid_from(uint64_t seed) {
  uint64_t x = seed ^ 0x5EED0F0DD1CEULL;
  const uint64_t hi = splitmix(x) >> 6, lo = splitmix(x);
  unsigned __int128 v = (static_cast<unsigned __int128>(hi) << 64) | lo;
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  std::reverse(digits.begin(), digits.end());
  return "2.25." + digits;
}

}  // namespace

const char* to_string(NoduleKind k) {
  switch (k) {
    case NoduleKind::Solid:
      return "solid";
    case NoduleKind::PartSolid:
      return "part-solid";
    case NoduleKind::GroundGlass:
      return "ground-glass";
  }
  return "?";
}

uint64_t phantom_seed(uint64_t set_seed, int index) {
  uint64_t x = set_seed + 0xA24BAED4963EE407ULL * static_cast<uint64_t>(index + 1);
  return splitmix(x);
}

Phantom make_phantom(const PhantomOptions& o, uint64_t seed) {
  check_options(o);
  Rng rng(seed);
  Phantom ph;
  ph.seriesuid = uid_from(seed);

  // Geometry.
  VolumeGeometry g;
  const int n = rng.integer(o.size_xy_min, o.size_xy_max);
  const int nz = rng.integer(o.slices_min, o.slices_max);
  const double sxy = rng.uniform(o.spacing_xy_min, o.spacing_xy_max);
  const double sz = rng.uniform(o.spacing_z_min, o.spacing_z_max);
  g.size = {n, n, nz};
  g.spacing = {sxy, sxy, sz};
  g.direction = o.direction;
  Anatomy an;
  an.c = {rng.uniform(-20, 20), rng.uniform(-20, 20), rng.uniform(-250, -100)};
  {
    const auto m = g.index_to_world_matrix();
    const double h[3] = {(n - 1) / 2.0, (n - 1) / 2.0, (nz - 1) / 2.0};
    g.origin = {an.c.x - (m[0] * h[0] + m[1] * h[1] + m[2] * h[2]),
                an.c.y - (m[3] * h[0] + m[4] * h[1] + m[5] * h[2]),
                an.c.z - (m[6] * h[0] + m[7] * h[1] + m[8] * h[2])};
  }
  const auto m = g.index_to_world_matrix();

  // Anatomy, scaled to the field of view.
  const double fov = n * sxy, zext = nz * sz;
  an.a = 0.44 * fov * rng.uniform(0.95, 1.05);
  an.b = 0.31 * fov * rng.uniform(0.95, 1.05);
  an.fat = 0.035 * fov * rng.uniform(0.7, 1.3);
  for (int s = 0; s < 2; ++s) {
    const double side = s == 0 ? -1 : 1;  // LPS: +x is the patient's left (heart side: smaller)
    an.lung[s] = {an.c.x + side * 0.42 * an.a, an.c.y - 0.02 * an.b,
                  0.30 * an.a * rng.uniform(0.95, 1.05) * (s == 1 ? 0.92 : 1.0),
                  0.70 * an.b * rng.uniform(0.95, 1.05)};
  }
  an.lung_z = an.c.z + 0.02 * zext;
  an.lung_az = 0.45 * zext;
  an.vx = an.c.x;
  an.vy = an.c.y + 0.62 * an.b;
  an.vr = 0.16 * an.b;

  // Tissue classes, slice by slice.
  const size_t count = g.voxel_count();
  std::vector<float> hu(count);
  std::vector<uint8_t> is_lung(count, 0);
  const double h = sxy;
  const Vec3 step_x{m[0], m[3], m[6]}, step_y{m[1], m[4], m[7]}, step_z{m[2], m[5], m[8]};
  const Ellipse body(an.c.x, an.c.y, an.a, an.b, h);
  const Ellipse inner(an.c.x, an.c.y, an.a - an.fat, an.b - an.fat, h);
  const Ellipse bone(an.vx, an.vy, an.vr, an.vr, h);
  const Ellipse marrow(an.vx, an.vy, an.vr - an.cortex, an.vr - an.cortex, h);
  auto lungs_at = [&](double wz, int s) {
    const double f = lung_factor((wz - an.lung_z) / an.lung_az);
    const Lung& l = an.lung[s];
    return Ellipse(l.x, l.y, l.ax * f, l.ay * f, h);
  };
  const bool flat_rows = step_x.z == 0;  // a row keeps its height: lungs once per row
  for (int64_t z = 0; z < nz; ++z) {
    for (int64_t y = 0; y < n; ++y) {
      Vec3 p = g.origin + static_cast<double>(y) * step_y + static_cast<double>(z) * step_z;
      Ellipse lung0 = lungs_at(p.z, 0), lung1 = lungs_at(p.z, 1);
      size_t off = g.offset(0, y, z);
      for (int64_t x = 0; x < n; ++x, ++off, p = p + step_x) {
        double v = kAirHu;
        const double cb = body.cover(p.x, p.y);
        if (cb > 0) {
          v += cb * (kFatHu - v);
          const double ci = inner.cover(p.x, p.y);
          if (ci > 0) v += ci * (kSoftHu - v);
          if (!flat_rows) {
            lung0 = lungs_at(p.z, 0);
            lung1 = lungs_at(p.z, 1);
          }
          for (int s = 0; s < 2; ++s) {
            double c = (s == 0 ? lung0 : lung1).cover(p.x, p.y);
            if (c <= 0) continue;
            const Lung& l = an.lung[s];
            const double t = an.height(p.z);
            if (t < -1 + kDome) {
              const double nx = (p.x - l.x) / l.ax, ny = (p.y - l.y) / l.ay;
              if (t <= -1 + kDome * (1 - nx * nx - ny * ny)) c = 0;
            }
            if (c <= 0) continue;
            // Denser towards the back (+y in LPS), as in a supine patient.
            const double lv = o.lung_hu + 25 * std::clamp((p.y - l.y) / l.ay, -1.0, 1.0);
            v += c * (lv - v);
            if (c >= 0.5) is_lung[off] = 1;
          }
          const double cc = bone.cover(p.x, p.y);
          if (cc > 0) {
            v += cc * (kCortexHu - v);
            v += marrow.cover(p.x, p.y) * (kMarrowHu - v);
            if (cc >= 0.5) is_lung[off] = 0;
          }
        }
        hu[off] = static_cast<float>(v);
      }
    }
  }

  // Vessel trees, one per lung from its hilum.
  std::vector<Segment> segments;
  const double scale = fov / 200.0;
  for (const Lung& l : an.lung) {
    if (o.vessel_targets == 0) break;
    const double side = l.x > an.c.x ? 1 : -1;
    const Vec3 hilum{l.x - side * 0.6 * l.ax, l.y + rng.uniform(-0.1, 0.1) * l.ay,
                     an.lung_z + 0.1 * an.lung_az};
    build_vessels(rng, an, l, hilum, rng.uniform(2.5, 3.5) * scale, 12.0 * scale, o.vessel_targets,
                  segments);
  }
  for (const auto& s : segments) paint_vessel(g, s, hu, is_lung, h);

  // Nodules inside the lungs, apart from each other and from the lung's edge.
  const int wanted = rng.integer(o.nodules_min, o.nodules_max);
  for (int k = 0; k < wanted; ++k) {
    PhantomNodule nod;
    const double pick = rng.uniform();
    nod.kind = pick < o.solid_fraction                           ? NoduleKind::Solid
               : pick < o.solid_fraction + o.part_solid_fraction ? NoduleKind::PartSolid
                                                                 : NoduleKind::GroundGlass;
    switch (nod.kind) {
      case NoduleKind::Solid:
        nod.density_hu = rng.uniform(20, 80);
        break;
      case NoduleKind::PartSolid:
        nod.density_hu = rng.uniform(-600, -400);
        nod.core_hu = rng.uniform(0, 60);
        nod.core_fraction = rng.uniform(0.3, 0.6);
        break;
      case NoduleKind::GroundGlass:
        nod.density_hu = rng.uniform(-600, -400);
        break;
    }
    NoduleShape shape;
    for (int t = 0; t < 4; ++t) {
      shape.axis[t] = rng.unit_vector();
      shape.amp[t] = rng.uniform(0, 0.06);
    }
    double diameter =
        std::exp(rng.uniform(std::log(o.diameter_min_mm), std::log(o.diameter_max_mm)));
    bool placed = false;
    for (int attempt = 0; attempt < 400 && !placed; ++attempt) {
      if (attempt > 0 && attempt % 100 == 0) {
        diameter = std::max(o.diameter_min_mm, diameter * 0.8);  // too big for these lungs
      }
      const double reach = diameter / 2 * 1.25 + 2.0;  // lobulation + a margin of lung
      const Lung& l = an.lung[rng.integer(0, 1)];
      const double t = rng.uniform(-0.9, 0.9);
      const double pz = an.lung_z + t * an.lung_az;
      double u, w;
      do {
        u = rng.uniform(-1, 1);
        w = rng.uniform(-1, 1);
      } while (u * u + w * w > 1);
      const double f0 = lung_factor(t);
      const Vec3 c{l.x + u * l.ax * f0, l.y + w * l.ay * f0, pz};
      // The sphere of radius `reach` must lie in this lung: test 64 points spread over it.
      bool inside = true;
      for (int q = 0; q < 64 && inside; ++q) {
        const double qz = 1 - (2 * q + 1) / 64.0, qr = std::sqrt(1 - qz * qz);
        const double phi = q * 2.399963229728653;  // golden angle
        const Vec3 p = c + reach * Vec3{qr * std::cos(phi), qr * std::sin(phi), qz};
        inside = an.in_lung(l, p);
      }
      const Vec3 ci = g.world_to_index(c);
      const double ii[3] = {ci.x, ci.y, ci.z};
      for (int a = 0; a < 3 && inside; ++a) {
        const double margin = reach / g.spacing[a] + 1;
        inside = ii[a] >= margin && ii[a] <= g.size[a] - 1 - margin;
      }
      for (const auto& other : ph.nodules) {
        if (!inside) break;
        inside = norm(other.center - c) > reach + other.diameter_mm / 2 * 1.25 + 2.0;
      }
      if (!inside) continue;
      nod.center = c;
      nod.diameter_mm = diameter;
      paint_nodule(g, m, nod, shape, hu);
      ph.nodules.push_back(nod);
      placed = true;
    }
  }

  // Noise and quantisation to a 12-bit CT range. The noise draws from a table of 65536
  // Gaussian samples made for this scan (fast: no transcendental function per voxel).
  std::vector<int16_t> out(count);
  std::vector<float> gauss(1 << 16);
  for (size_t i = 0; i < gauss.size(); i += 2) {
    double a, b;
    rng.normal2(a, b);
    gauss[i] = static_cast<float>(o.noise_sigma_hu * a);
    gauss[i + 1] = static_cast<float>(o.noise_sigma_hu * b);
  }
  uint64_t bits = 0;
  for (size_t i = 0; i < count; ++i) {
    if ((i & 3) == 0) bits = rng.next();
    const double v = hu[i] + gauss[bits & 0xFFFF];
    bits >>= 16;
    const double r = std::floor(v + 0.5);
    out[i] = static_cast<int16_t>(r < -1024 ? -1024 : (r > 3071 ? 3071 : r));
  }
  ph.volume.geometry = g;
  ph.volume.voxels = std::move(out);
  return ph;
}

std::vector<PhantomSetEntry> write_phantom_set(const std::string& out_dir, int count, uint64_t seed,
                                               const PhantomOptions& options, int subsets) {
  if (count < 0) throw VisionError("phantom set " + out_dir + ": negative scan count");
  if (subsets < 1) throw VisionError("phantom set " + out_dir + ": subsets must be >= 1");
  std::error_code ec;
  std::vector<PhantomSetEntry> entries;
  std::vector<LunaAnnotation> annotations;
  std::string uids;
  for (int i = 0; i < count; ++i) {
    Phantom ph = make_phantom(options, phantom_seed(seed, i));
    PhantomSetEntry e;
    e.seriesuid = ph.seriesuid;
    e.subset = i % subsets;
    const fs::path dir = fs::path(out_dir) / ("subset" + std::to_string(e.subset));
    fs::create_directories(dir, ec);
    if (ec) {
      throw VisionError("phantom set " + out_dir + ": cannot create " + dir.string() + ": " +
                        ec.message());
    }
    e.path = (dir / (ph.seriesuid + ".mhd")).string();
    write_metaimage(ph.volume, e.path);
    for (const auto& nod : ph.nodules) {
      annotations.push_back({ph.seriesuid, nod.center, nod.diameter_mm});
    }
    e.nodules = std::move(ph.nodules);
    uids += e.seriesuid + "\n";
    entries.push_back(std::move(e));
  }
  fs::create_directories(out_dir, ec);
  write_luna_annotations((fs::path(out_dir) / "annotations.csv").string(), annotations);
  // As in LUNA16's evaluationScript/annotations/seriesuids.csv: the scans to evaluate.
  write_text_file((fs::path(out_dir) / "seriesuids.csv").string(), uids, "series list");
  return entries;
}

}  // namespace r1::vision
