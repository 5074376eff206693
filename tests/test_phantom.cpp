// The CT phantom: nodules are in the image where annotations.csv puts them (mean HU inside the
// sphere against the lung around it, also through a rotated direction), lungs sit around their
// HU, the same seed gives the same bytes, spacing and size vary within their ranges, and a
// LUNA16-shaped folder comes out.
#include <QtTest/QtTest>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <vector>

#include "engine/vision/luna_csv.h"
#include "engine/vision/luna_folder.h"
#include "engine/vision/phantom.h"
#include "engine/vision/vision_error.h"
#include "engine/vision/volume_io.h"

using r1::vision::NoduleKind;
using r1::vision::PhantomNodule;
using r1::vision::PhantomOptions;
using r1::vision::Vec3;
using r1::vision::VisionError;
using r1::vision::Volume;

namespace {

// Voxel values whose centres lie at a world distance in [r0, r1) from `c`.
std::vector<float> values_between(const Volume& v, Vec3 c, double r0, double r1) {
  const auto& g = v.geometry;
  const Vec3 i = g.world_to_index(c);
  const double ctr[3] = {i.x, i.y, i.z};
  int64_t lo[3], hi[3];
  for (int a = 0; a < 3; ++a) {
    // |index step| along any world direction is at least min spacing: this box holds the sphere.
    const double reach = r1 / std::min({g.spacing[0], g.spacing[1], g.spacing[2]}) + 1;
    lo[a] = std::max<int64_t>(0, int64_t(std::floor(ctr[a] - reach)));
    hi[a] = std::min<int64_t>(g.size[a] - 1, int64_t(std::ceil(ctr[a] + reach)));
  }
  std::vector<float> out;
  for (int64_t z = lo[2]; z <= hi[2]; ++z)
    for (int64_t y = lo[1]; y <= hi[1]; ++y)
      for (int64_t x = lo[0]; x <= hi[0]; ++x) {
        const Vec3 w = g.index_to_world({double(x), double(y), double(z)});
        const Vec3 d = w - c;
        const double r = std::sqrt(r1::vision::dot(d, d));
        if (r >= r0 && r < r1) out.push_back(v.at(x, y, z));
      }
  return out;
}

double mean(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return v.empty() ? std::nan("") : s / double(v.size());
}

double median(std::vector<float> v) {
  if (v.empty()) return std::nan("");
  std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
  return v[v.size() / 2];
}

QByteArray read_bytes(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll();
}

// Checks one nodule against the image: inside its inner half (clear of partial volume and of
// the ±24 % lobulation) the mean is its density within noise; the lung just outside it
// (1.3 r + 1 mm .. + 4 mm) has a median near the lung's HU.
void check_nodule(const Volume& v, const PhantomNodule& n, double lung_hu) {
  const double r = n.diameter_mm / 2;
  const std::vector<float> in = values_between(v, n.center, 0, 0.5 * r);
  QVERIFY2(in.size() >= 3, qPrintable(QStringLiteral("%1 voxels inside").arg(in.size())));
  const double inside = mean(in);
  const double around = median(values_between(v, n.center, 1.3 * r + 1, 1.3 * r + 4));
  const QString what =
      QStringLiteral(
          "%1 nodule (%8 HU) d=%2 at (%3, %4, %5): inside %6, "
          "around %7")
          .arg(QString::fromLatin1(r1::vision::to_string(n.kind)))
          .arg(n.diameter_mm)
          .arg(n.center.x)
          .arg(n.center.y)
          .arg(n.center.z)
          .arg(inside)
          .arg(around)
          .arg(n.kind == NoduleKind::PartSolid ? QStringLiteral("%1 / core %2")
                                                     .arg(n.density_hu, 0, 'f', 0)
                                                     .arg(n.core_hu, 0, 'f', 0)
                                               : QString::number(n.density_hu, 'f', 0));
  qInfo("%s", qPrintable(what));
  QVERIFY2(std::fabs(around - lung_hu) < 60, qPrintable(what));
  switch (n.kind) {
    case NoduleKind::Solid:
    case NoduleKind::GroundGlass:
      // Noise sigma 20 HU averaged over >= 3 voxels, plus a little partial volume: 25 HU.
      QVERIFY2(std::fabs(inside - n.density_hu) < 25, qPrintable(what));
      break;
    case NoduleKind::PartSolid:
      // The inner half mixes the solid core (30-60 % of the radius) and ground glass.
      QVERIFY2(inside > n.density_hu + 30 && inside < n.core_hu + 25, qPrintable(what));
      break;
  }
  QVERIFY2(inside - around > 250, qPrintable(what));
}

}  // namespace

class TestPhantom final : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  QString tmp(const QString& name) const { return dir_.filePath(name); }

 private Q_SLOTS:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  void lunaFolderWithNodulesWhereAnnotated() {
    PhantomOptions o;
    o.size_xy_min = 224;
    o.size_xy_max = 288;
    o.slices_min = 90;
    o.slices_max = 120;
    o.nodules_min = 2;
    o.nodules_max = 3;
    o.diameter_min_mm = 8;  // at least 1.6 slice spacings across: a measurable inside
    o.solid_fraction = 0.4;
    o.part_solid_fraction = 0.3;
    const auto entries = r1::vision::write_phantom_set(tmp("luna").toStdString(), 4, 2024, o, 2);
    QCOMPARE(int(entries.size()), 4);

    // The layout of a LUNA16 folder.
    const auto scans = r1::vision::find_luna_scans(tmp("luna").toStdString());
    QCOMPARE(int(scans.size()), 4);
    std::map<std::string, int> subset_of;
    for (const auto& s : scans) {
      subset_of[s.seriesuid] = s.subset;
      QVERIFY(QFile::exists(QString::fromStdString(s.path)));
      QVERIFY(QFile::exists(
          QString::fromStdString(s.path).replace(QStringLiteral(".mhd"), QStringLiteral(".raw"))));
    }
    for (size_t k = 0; k < entries.size(); ++k) {
      QCOMPARE(subset_of[entries[k].seriesuid], int(k % 2));
      QCOMPARE(QString::fromStdString(entries[k].path),
               tmp(QStringLiteral("luna/subset%1/%2.mhd")
                       .arg(k % 2)
                       .arg(QString::fromStdString(entries[k].seriesuid))));
    }
    const QStringList uids = QString::fromLatin1(read_bytes(tmp("luna/seriesuids.csv")))
                                 .split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(uids.size(), 4);

    // annotations.csv lists every nodule; each one is in the image where the row says.
    const auto ann = r1::vision::read_luna_annotations(tmp("luna/annotations.csv").toStdString());
    int nodules = 0;
    for (const auto& e : entries) nodules += int(e.nodules.size());
    QCOMPARE(int(ann.size()), nodules);
    QVERIFY(nodules >= 6);
    std::map<std::string, Volume> volumes;
    for (const auto& e : entries) volumes[e.seriesuid] = r1::vision::read_volume(e.path);
    std::map<NoduleKind, int> kinds;
    size_t row = 0;
    for (const auto& e : entries) {
      for (const auto& n : e.nodules) {
        const auto& a = ann[row++];
        QCOMPARE(a.seriesuid, e.seriesuid);
        QCOMPARE(a.diameter_mm, n.diameter_mm);
        QVERIFY(a.diameter_mm >= 8 * 0.8 && a.diameter_mm <= 30);
        PhantomNodule at_row = n;
        at_row.center = a.center;  // the CSV's coordinates, not the generator's structs
        check_nodule(volumes[e.seriesuid], at_row, o.lung_hu);
        ++kinds[n.kind];
      }
    }
    QVERIFY(kinds.size() >= 2);
  }

  void rotatedDirection() {
    // Index axes turned 90° in-plane and stacked downwards: the anatomy and the annotations are
    // in world space, so nodules still sit at their world centres.
    PhantomOptions o;
    o.nodules_min = o.nodules_max = 3;
    o.diameter_min_mm = 8;
    o.direction = {0, 1, 0, -1, 0, 0, 0, 0, -1};
    const auto p = r1::vision::make_phantom(o, 99);
    QCOMPARE(p.volume.geometry.direction[1], 1.0);
    QVERIFY(!p.nodules.empty());
    for (const auto& n : p.nodules) check_nodule(p.volume, n, o.lung_hu);
  }

  void lungsAroundTheirHu_data() {
    QTest::addColumn<double>("lung_hu");
    QTest::newRow("-850") << -850.0;
    QTest::newRow("-800") << -800.0;
  }

  void lungsAroundTheirHu() {
    QFETCH(double, lung_hu);
    PhantomOptions o;
    o.lung_hu = lung_hu;
    const auto p = r1::vision::make_phantom(o, 5);
    const auto& vox = p.volume.int16();
    // Lung voxels are the ones between air (-1000 ± noise) and soft tissue: take -960..-650.
    std::vector<float> lung;
    for (int16_t v : vox)
      if (v > -960 && v < -650) lung.push_back(v);
    const double share = double(lung.size()) / double(vox.size());
    QVERIFY2(share > 0.05 && share < 0.4, qPrintable(QString::number(share)));
    QVERIFY2(std::fabs(median(lung) - lung_hu) < 20, qPrintable(QString::number(median(lung))));
    // Air in a corner of the first slice: -1000 on average (noise is zero-mean).
    std::vector<float> air;
    for (int64_t y = 0; y < 12; ++y)
      for (int64_t x = 0; x < 12; ++x) air.push_back(p.volume.at(x, y, 0));
    QVERIFY(std::fabs(mean(air) + 1000) < 8);
  }

  void deterministic() {
    PhantomOptions o;
    o.size_xy_min = o.size_xy_max = 128;
    o.slices_min = o.slices_max = 40;
    const auto a = r1::vision::make_phantom(o, 7);
    const auto b = r1::vision::make_phantom(o, 7);
    const auto c = r1::vision::make_phantom(o, 8);
    QCOMPARE(a.seriesuid, b.seriesuid);
    QVERIFY(a.seriesuid != c.seriesuid);
    QVERIFY(QString::fromStdString(a.seriesuid).startsWith(QStringLiteral("2.25.")));
    QVERIFY(a.volume.int16() == b.volume.int16());
    QVERIFY(a.volume.int16() != c.volume.int16());
    QCOMPARE(a.nodules.size(), b.nodules.size());
    for (size_t k = 0; k < a.nodules.size(); ++k) {
      QCOMPARE(a.nodules[k].center.x, b.nodules[k].center.x);
      QCOMPARE(a.nodules[k].diameter_mm, b.nodules[k].diameter_mm);
    }
    // Whole folders: byte-identical.
    r1::vision::write_phantom_set(tmp("det1").toStdString(), 2, 31, o);
    r1::vision::write_phantom_set(tmp("det2").toStdString(), 2, 31, o);
    for (const QString& rel : QDir(tmp("det1/subset0")).entryList(QDir::Files)) {
      QVERIFY(read_bytes(tmp("det1/subset0/") + rel) == read_bytes(tmp("det2/subset0/") + rel));
    }
    QCOMPARE(QDir(tmp("det1/subset0")).entryList(QDir::Files).size(), 4);
    QVERIFY(read_bytes(tmp("det1/annotations.csv")) == read_bytes(tmp("det2/annotations.csv")));
  }

  void spacingAndSizeVary() {
    PhantomOptions o;
    o.size_xy_min = 96;
    o.size_xy_max = 160;
    o.slices_min = 30;
    o.slices_max = 60;
    o.nodules_min = o.nodules_max = 0;
    std::vector<double> sxy, sz;
    std::vector<int64_t> n;
    for (uint64_t seed = 1; seed <= 8; ++seed) {
      const auto g = r1::vision::make_phantom(o, seed).volume.geometry;
      QCOMPARE(g.spacing[0], g.spacing[1]);
      QVERIFY(g.spacing[0] >= 0.6 && g.spacing[0] <= 0.9);
      QVERIFY(g.spacing[2] >= 1.0 && g.spacing[2] <= 2.5);
      QVERIFY(g.size[0] >= 96 && g.size[0] <= 160 && g.size[0] == g.size[1]);
      QVERIFY(g.size[2] >= 30 && g.size[2] <= 60);
      sxy.push_back(g.spacing[0]);
      sz.push_back(g.spacing[2]);
      n.push_back(g.size[2]);
    }
    std::sort(sxy.begin(), sxy.end());
    std::sort(sz.begin(), sz.end());
    QVERIFY(sxy.back() - sxy.front() > 0.1);
    QVERIFY(sz.back() - sz.front() > 0.5);
    QVERIFY(*std::max_element(n.begin(), n.end()) > *std::min_element(n.begin(), n.end()));
    // Fixed values when min == max.
    o.spacing_xy_min = o.spacing_xy_max = 0.703125;
    o.spacing_z_min = o.spacing_z_max = 1.25;
    const auto g = r1::vision::make_phantom(o, 3).volume.geometry;
    QCOMPARE(g.spacing[0], 0.703125);
    QCOMPARE(g.spacing[2], 1.25);
  }

  void fast() {
    PhantomOptions o;
    o.slices_min = o.slices_max = 120;  // 256 x 256 x 120
    const auto t0 = std::chrono::steady_clock::now();
    const auto p = r1::vision::make_phantom(o, 1);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    qInfo("256x256x120 phantom with %d nodules in %.3f s", int(p.nodules.size()), s);
    QVERIFY2(s < 3.0, qPrintable(QString::number(s)));  // ~0.2 s here; loose for loaded CI
  }

  void badOptions() {
    PhantomOptions o;
    o.spacing_z_min = 3;
    o.spacing_z_max = 2;
    try {
      r1::vision::make_phantom(o, 1);
      QFAIL("no error");
    } catch (const VisionError& e) {
      QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("spacing_z_min/max")));
    }
    o = PhantomOptions{};
    o.direction = {1, 0, 0, 0, 1, 0, 0, 0, 2};
    QVERIFY_THROWS_EXCEPTION(VisionError, r1::vision::make_phantom(o, 1));
  }
};

QTEST_GUILESS_MAIN(TestPhantom)
#include "test_phantom.moc"
