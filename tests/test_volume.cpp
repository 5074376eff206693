// Volumes: MetaImage write → read (ours, and against ITK's MetaImageIO both ways), world ↔ voxel
// against numbers worked by hand, a real CT slice (pydicom's CT_small.dcm) checked against its
// own header bytes, DICOM series written by us and re-sorted by position, NIfTI round trips, PNG
// and JPEG slices written here with OpenCV and read back (values, stack order, sidecar), and
// clear errors for bad files.
#include <QtTest/QtTest>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/vision/luna_folder.h"
#include "engine/vision/metaimage.h"
#include "engine/vision/phantom.h"
#include "engine/vision/vision_error.h"
#include "engine/vision/volume_image.h"
#include "engine/vision/volume_io.h"
#include "engine/vision/volume_itk.h"

#ifdef R1_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#endif

using r1::vision::Vec3;
using r1::vision::VisionError;
using r1::vision::Volume;
using r1::vision::VolumeGeometry;
using r1::vision::VoxelType;

namespace {

const char* const kCtSmall = "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm";

template <typename F>
QString error_of(F&& f) {
  try {
    f();
  } catch (const VisionError& e) {
    return QString::fromUtf8(e.what());
  }
  return QString();
}

QByteArray read_bytes(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll();
}

bool write_bytes(const QString& path, const QByteArray& bytes) {
  QDir().mkpath(QFileInfo(path).path());
  QFile f(path);
  return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

// A small phantom, optionally with a rotated, non-symmetric direction.
Volume small_phantom(uint64_t seed,
                     const std::array<double, 9>& direction = {1, 0, 0, 0, 1, 0, 0, 0, 1}) {
  r1::vision::PhantomOptions o;
  o.size_xy_min = o.size_xy_max = 48;
  o.slices_min = o.slices_max = 10;
  o.nodules_min = o.nodules_max = 0;  // the lungs of a 48² phantom are too small for them
  o.direction = direction;
  return r1::vision::make_phantom(o, seed).volume;
}

// Rotation by 30° about the axis (1, 2, 2)/3: orthonormal, not symmetric, no zero entry.
std::array<double, 9> oblique_direction() {
  const double c = std::cos(M_PI / 6), s = std::sin(M_PI / 6), t = 1 - c;
  const double x = 1 / 3.0, y = 2 / 3.0, z = 2 / 3.0;
  return {t * x * x + c,     t * x * y - s * z, t * x * z + s * y, t * x * y + s * z, t * y * y + c,
          t * y * z - s * x, t * x * z - s * y, t * y * z + s * x, t * z * z + c};
}

void compare_geometry(const VolumeGeometry& a, const VolumeGeometry& b, double tol) {
  for (int i = 0; i < 3; ++i) {
    QCOMPARE(a.size[i], b.size[i]);
    QVERIFY2(std::fabs(a.spacing[i] - b.spacing[i]) <= tol, qPrintable(QString::number(i)));
  }
  QVERIFY(std::fabs(a.origin.x - b.origin.x) <= tol);
  QVERIFY(std::fabs(a.origin.y - b.origin.y) <= tol);
  QVERIFY(std::fabs(a.origin.z - b.origin.z) <= tol);
  for (int i = 0; i < 9; ++i) {
    QVERIFY2(std::fabs(a.direction[i] - b.direction[i]) <= tol,
             qPrintable(QStringLiteral("direction[%1]: %2 vs %3")
                            .arg(i)
                            .arg(a.direction[i], 0, 'g', 17)
                            .arg(b.direction[i], 0, 'g', 17)));
  }
}

void compare_voxels(const Volume& a, const Volume& b) {
  QCOMPARE(a.voxel_count(), b.voxel_count());
  const auto& g = a.geometry;
  for (int64_t z = 0; z < g.size[2]; ++z)
    for (int64_t y = 0; y < g.size[1]; ++y)
      for (int64_t x = 0; x < g.size[0]; ++x) {
        if (a.at(x, y, z) != b.at(x, y, z)) {
          QFAIL(qPrintable(QStringLiteral("voxel (%1,%2,%3): %4 vs %5")
                               .arg(x)
                               .arg(y)
                               .arg(z)
                               .arg(a.at(x, y, z))
                               .arg(b.at(x, y, z))));
        }
      }
}

// Every voxel of `a`, taken to world space and back into `b`, lands on a voxel centre of `b`
// holding the same value: the same image whatever the index order.
void compare_in_world(const Volume& a, const Volume& b, double tol_index) {
  QCOMPARE(a.voxel_count(), b.voxel_count());
  const auto& g = a.geometry;
  for (int64_t z = 0; z < g.size[2]; ++z)
    for (int64_t y = 0; y < g.size[1]; ++y)
      for (int64_t x = 0; x < g.size[0]; ++x) {
        const Vec3 w = g.index_to_world({double(x), double(y), double(z)});
        const Vec3 i = b.geometry.world_to_index(w);
        const double r[3] = {std::round(i.x), std::round(i.y), std::round(i.z)};
        QVERIFY(std::fabs(i.x - r[0]) < tol_index && std::fabs(i.y - r[1]) < tol_index &&
                std::fabs(i.z - r[2]) < tol_index);
        QVERIFY(b.geometry.contains(int64_t(r[0]), int64_t(r[1]), int64_t(r[2])));
        if (a.at(x, y, z) != b.at(int64_t(r[0]), int64_t(r[1]), int64_t(r[2]))) {
          QFAIL(qPrintable(QStringLiteral("voxel (%1,%2,%3) differs").arg(x).arg(y).arg(z)));
        }
      }
}

// The value of one element of a little-endian DICOM file, found by its tag bytes — explicit VR
// (2- or 4-byte length) or implicit VR — written independently of GDCM for the checks below.
// `last` finds the last occurrence (pixel data sits at the end).
QByteArray dicom_element(const QByteArray& file, quint16 group, quint16 element,
                         bool last = false) {
  QByteArray tag(4, '\0');
  tag[0] = char(group & 0xFF);
  tag[1] = char(group >> 8);
  tag[2] = char(element & 0xFF);
  tag[3] = char(element >> 8);
  int at = last ? file.lastIndexOf(tag) : file.indexOf(tag, 132);
  if (at < 0) return {};
  at += 4;
  auto u16 = [&](int p) { return quint32(quint8(file[p])) | quint32(quint8(file[p + 1])) << 8; };
  auto u32 = [&](int p) { return u16(p) | u16(p + 2) << 16; };
  const QByteArray vr = file.mid(at, 2);
  const bool explicit_vr =
      vr.size() == 2 && std::isupper(uchar(vr[0])) && std::isupper(uchar(vr[1]));
  if (!explicit_vr) return file.mid(at + 4, int(u32(at)));
  if (vr == "OB" || vr == "OW" || vr == "OF" || vr == "SQ" || vr == "UT" || vr == "UN") {
    return file.mid(at + 8, int(u32(at + 4)));
  }
  return file.mid(at + 4, int(u16(at + 2)));
}

double dicom_number(const QByteArray& file, quint16 group, quint16 element) {
  bool ok = false;
  const double v = QString::fromLatin1(dicom_element(file, group, element)).trimmed().toDouble(&ok);
  return ok ? v : std::nan("");
}

#ifdef R1_HAVE_OPENCV
// The known pattern of slice z: every value of the depth's range turns up across a few slices.
int pattern(int x, int y, int z, bool sixteen) {
  return sixteen ? (x * 977 + y * 331 + z * 4099) % 65536 : (x * 7 + y * 13 + z * 29) % 256;
}

cv::Mat pattern_image(int w, int h, int z, bool sixteen) {
  cv::Mat m(h, w, sixteen ? CV_16UC1 : CV_8UC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      if (sixteen)
        m.at<uint16_t>(y, x) = static_cast<uint16_t>(pattern(x, y, z, true));
      else
        m.at<uint8_t>(y, x) = static_cast<uint8_t>(pattern(x, y, z, false));
    }
  return m;
}

bool write_image(const QString& path, const cv::Mat& m, const std::vector<int>& params = {}) {
  QDir().mkpath(QFileInfo(path).path());
  return cv::imwrite(path.toStdString(), m, params);
}
#endif

}  // namespace

class TestVolume final : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  QString tmp(const QString& name) const { return dir_.filePath(name); }
  std::string path(const QString& name) const { return tmp(name).toStdString(); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    for (const char* sub : {"rt", "bytes", "itk", "n", "bad"}) {
      QVERIFY(QDir().mkpath(tmp(QString::fromLatin1(sub))));
    }
  }

  void worldVoxelByHand() {
    // Columns of D (index axes in world): c0 = (0, 0.6, 0.8), c1 = (-1, 0, 0),
    // c2 = (0, -0.8, 0.6) — orthonormal, not symmetric; spacing (0.5, 0.8, 2); origin (10, -20,
    // 30).
    VolumeGeometry g;
    g.size = {10, 10, 10};
    g.spacing = {0.5, 0.8, 2.0};
    g.origin = {10, -20, 30};
    g.direction = {0, -1, 0, 0.6, 0, -0.8, 0.8, 0, 0.6};
    // index (2, 3, 4): c0·(0.5·2) + c1·(0.8·3) + c2·(2·4)
    //   = (0, 0.6, 0.8) + (-2.4, 0, 0) + (0, -6.4, 4.8) = (-2.4, -5.8, 5.6)
    //   → world (7.6, -25.8, 35.6)
    Vec3 w = g.index_to_world({2, 3, 4});
    QVERIFY(std::fabs(w.x - 7.6) < 1e-12 && std::fabs(w.y + 25.8) < 1e-12 &&
            std::fabs(w.z - 35.6) < 1e-12);
    Vec3 i = g.world_to_index({7.6, -25.8, 35.6});
    QVERIFY(std::fabs(i.x - 2) < 1e-12 && std::fabs(i.y - 3) < 1e-12 && std::fabs(i.z - 4) < 1e-12);
    // continuous index (0.5, -1.25, 1.5): c0·0.25 + c1·(-1) + c2·3
    //   = (0, 0.15, 0.2) + (1, 0, 0) + (0, -2.4, 1.8) = (1, -2.25, 2) → world (11, -22.25, 32)
    w = g.index_to_world({0.5, -1.25, 1.5});
    QVERIFY(std::fabs(w.x - 11) < 1e-12 && std::fabs(w.y + 22.25) < 1e-12 &&
            std::fabs(w.z - 32) < 1e-12);
    i = g.world_to_index({11, -22.25, 32});
    QVERIFY(std::fabs(i.x - 0.5) < 1e-12 && std::fabs(i.y + 1.25) < 1e-12 &&
            std::fabs(i.z - 1.5) < 1e-12);

    // Round trips through an oblique, anisotropic geometry.
    g.direction = oblique_direction();
    g.spacing = {0.7, 0.65, 2.5};
    for (const Vec3 p : {Vec3{0, 0, 0}, Vec3{3.25, -7.5, 11.125}, Vec3{511, 511, 300}}) {
      const Vec3 q = g.world_to_index(g.index_to_world(p));
      QVERIFY(std::fabs(q.x - p.x) < 1e-9 && std::fabs(q.y - p.y) < 1e-9 &&
              std::fabs(q.z - p.z) < 1e-9);
    }

    g.direction = {1, 0, 0, 0, 1, 0, 1, 0, 0};  // third column repeats the first
    QVERIFY(error_of([&] { g.world_to_index({0, 0, 0}); }).contains(QStringLiteral("singular")));
    QVERIFY(error_of([&] {
              g.validate("scan.mhd");
            }).contains(QStringLiteral("scan.mhd: direction matrix is singular")));
  }

  void metaImageRoundTrip() {
    const Volume v = small_phantom(11, oblique_direction());
    QCOMPARE(v.type(), VoxelType::Int16);
    r1::vision::write_metaimage(v, path("rt/a.mhd"));
    QVERIFY(QFile::exists(tmp("rt/a.raw")));
    QCOMPARE(QFileInfo(tmp("rt/a.raw")).size(), qint64(v.voxel_count() * 2));
    const Volume r = r1::vision::read_volume(path("rt/a.mhd"));
    QCOMPARE(r.type(), VoxelType::Int16);
    compare_geometry(r.geometry, v.geometry, 0.0);  // shortest exact decimals: bit-equal
    compare_voxels(r, v);

    // Compressed (.zraw) and single-file (.mha) forms.
    r1::vision::write_metaimage(v, path("rt/z.mhd"), true);
    QVERIFY(QFile::exists(tmp("rt/z.zraw")));
    QVERIFY(QFileInfo(tmp("rt/z.zraw")).size() < qint64(v.voxel_count() * 2));
    compare_voxels(r1::vision::read_metaimage(path("rt/z.mhd")), v);
    r1::vision::write_metaimage(v, path("rt/l.mha"));
    const Volume l = r1::vision::read_volume(path("rt/l.mha"));
    compare_geometry(l.geometry, v.geometry, 0.0);
    compare_voxels(l, v);

    // Float voxels stay float.
    Volume f = Volume::zeros(v.geometry, VoxelType::Float32);
    for (size_t k = 0; k < f.voxel_count(); ++k) f.float32()[k] = float(k) * 0.25f - 100.125f;
    r1::vision::write_metaimage(f, path("rt/f.mhd"));
    const Volume fr = r1::vision::read_metaimage(path("rt/f.mhd"));
    QCOMPARE(fr.type(), VoxelType::Float32);
    compare_voxels(fr, f);
  }

  void metaImageBytesByHand() {
    // A 3x2x2 volume: the header's fields and the .raw bytes, checked against the format itself.
    VolumeGeometry g;
    g.size = {3, 2, 2};
    g.spacing = {0.75, 0.5, 2.5};
    g.origin = {-10.5, 4, 100};
    g.direction = {0, -1, 0, 1, 0, 0, 0, 0, 1};  // index x → world +y, index y → world -x
    Volume v = Volume::zeros(g, VoxelType::Int16);
    for (size_t k = 0; k < 12; ++k) v.int16()[k] = int16_t(100 * int(k) - 1000);
    r1::vision::write_metaimage(v, path("bytes/v.mhd"));
    const QString header = QString::fromLatin1(read_bytes(tmp("bytes/v.mhd")));
    QVERIFY(header.contains(QStringLiteral("NDims = 3\n")));
    QVERIFY(header.contains(QStringLiteral("DimSize = 3 2 2\n")));
    QVERIFY(header.contains(QStringLiteral("ElementSpacing = 0.75 0.5 2.5\n")));
    QVERIFY(header.contains(QStringLiteral("Offset = -10.5 4 100\n")));
    // Axis 0's direction (0, 1, 0) first, then axis 1's (-1, 0, 0), then axis 2's.
    QVERIFY(header.contains(QStringLiteral("TransformMatrix = 0 1 0 -1 0 0 0 0 1\n")));
    QVERIFY(header.contains(QStringLiteral("ElementType = MET_SHORT\n")));
    QVERIFY(header.endsWith(QStringLiteral("ElementDataFile = v.raw\n")));
    const QByteArray raw = read_bytes(tmp("bytes/v.raw"));
    QCOMPARE(raw.size(), 24);
    // voxel (x=1, y=1, z=1) is at offset (1*2 + 1)*3 + 1 = 10: value 100*10 - 1000 = 0;
    // voxel (2, 0, 0) at offset 2: -800 = 0xFCE0 little-endian E0 FC.
    QCOMPARE(quint8(raw[20]), quint8(0));
    QCOMPARE(quint8(raw[21]), quint8(0));
    QCOMPARE(quint8(raw[4]), quint8(0xE0));
    QCOMPARE(quint8(raw[5]), quint8(0xFC));
    const Volume r = r1::vision::read_metaimage(path("bytes/v.mhd"));
    QCOMPARE(r.at(2, 0, 0), -800.f);
    QCOMPARE(r.at(1, 1, 1), 0.f);
    // World position of voxel (2, 1, 1): origin + 2·0.75·(0,1,0) + 1·0.5·(-1,0,0) + 1·2.5·(0,0,1)
    //   = (-10.5 - 0.5, 4 + 1.5, 100 + 2.5)
    const Vec3 w = r.geometry.index_to_world({2, 1, 1});
    QCOMPARE(w.x, -11.0);
    QCOMPARE(w.y, 5.5);
    QCOMPARE(w.z, 102.5);

    // A hand-written LUNA16-style header (big-endian data, ElementSize instead of spacing).
    QByteArray be;
    for (int16_t s : {int16_t(-1024), int16_t(40), int16_t(-850), int16_t(3071)}) {
      be.append(char(uint16_t(s) >> 8));
      be.append(char(uint16_t(s) & 0xFF));
    }
    QVERIFY(write_bytes(tmp("bytes/be.raw"), be));
    QVERIFY(
        write_bytes(tmp("bytes/be.mhd"),
                    "ObjectType = Image\r\nNDims = 2\r\nBinaryData = True\r\n"
                    "BinaryDataByteOrderMSB = True\r\nElementSize = 0.7 0.8\r\n"
                    "DimSize = 2 2\r\nElementType = MET_SHORT\r\nElementDataFile = be.raw\r\n"));
    const Volume b = r1::vision::read_volume(path("bytes/be.mhd"));
    QCOMPARE(b.geometry.size[2], int64_t(1));
    QCOMPARE(b.geometry.spacing[1], 0.8);
    QCOMPARE(b.at(0, 0, 0), -1024.f);
    QCOMPARE(b.at(1, 0, 0), 40.f);
    QCOMPARE(b.at(0, 1, 0), -850.f);
    QCOMPARE(b.at(1, 1, 0), 3071.f);
  }

  void metaImageAgainstItk() {
    if (!r1::vision::itk_available()) QSKIP("built without ITK");
    // Our writer → ITK's MetaImageIO: proves the TransformMatrix order with a non-symmetric D.
    const Volume v = small_phantom(12, oblique_direction());
    r1::vision::write_metaimage(v, path("itk/ours.mhd"));
    const Volume by_itk = r1::vision::itk_read_file(path("itk/ours.mhd"));
    compare_geometry(by_itk.geometry, v.geometry, 1e-12);
    compare_voxels(by_itk, v);
    // ITK's writer → our reader.
    r1::vision::itk_write_file(v, path("itk/theirs.mhd"));
    const Volume ours = r1::vision::read_metaimage(path("itk/theirs.mhd"));
    compare_geometry(ours.geometry, v.geometry, 1e-12);
    compare_voxels(ours, v);
  }

  void ctSmallDicom() {
    if (!r1::vision::itk_available()) QSKIP("built without ITK");
    if (!QFile::exists(QString::fromLatin1(kCtSmall))) {
      QFAIL("CT_small.dcm is missing: install python3-pydicom (setup.sh does)");
    }
    QCOMPARE(r1::vision::detect_volume_format(kCtSmall), r1::vision::VolumeFormat::DicomFile);
    const Volume v = r1::vision::read_volume(kCtSmall);
    const QByteArray file = read_bytes(QString::fromLatin1(kCtSmall));

    // Geometry as its header states: Rows/Columns 128, PixelSpacing 0.661468\0.661468,
    // ImagePositionPatient -158.135803\-179.035797\-75.699997, ImageOrientationPatient 1\0\0\0\1\0.
    QCOMPARE(v.geometry.size[0], int64_t(128));
    QCOMPARE(v.geometry.size[1], int64_t(128));
    QCOMPARE(v.geometry.size[2], int64_t(1));
    QVERIFY(std::fabs(v.geometry.spacing[0] - 0.661468) < 1e-6);
    QVERIFY(std::fabs(v.geometry.spacing[1] - 0.661468) < 1e-6);
    QVERIFY(std::fabs(v.geometry.origin.x + 158.135803) < 1e-5);
    QVERIFY(std::fabs(v.geometry.origin.y + 179.035797) < 1e-5);
    QVERIFY(std::fabs(v.geometry.origin.z + 75.699997) < 1e-5);
    for (int k = 0; k < 9; ++k) QCOMPARE(v.geometry.direction[k], k % 4 == 0 ? 1.0 : 0.0);

    // HU = stored × slope + intercept, read from the file's own bytes: (0028,1052) "-1024",
    // (0028,1053) "1", (0028,0010/0011) 128, (7FE0,0010) 32768 bytes of signed 16-bit values.
    const double intercept = dicom_number(file, 0x0028, 0x1052);
    const double slope = dicom_number(file, 0x0028, 0x1053);
    QCOMPARE(intercept, -1024.0);
    QCOMPARE(slope, 1.0);
    const QByteArray pixels = dicom_element(file, 0x7FE0, 0x0010, true);
    QCOMPARE(pixels.size(), 128 * 128 * 2);
    double lo = 1e9, hi = -1e9;
    for (int row = 0; row < 128; ++row)
      for (int col = 0; col < 128; ++col) {
        const int at = 2 * (row * 128 + col);
        const auto stored =
            int16_t(quint16(quint8(pixels[at])) | quint16(quint8(pixels[at + 1])) << 8);
        const double hu = stored * slope + intercept;
        if (v.at(col, row, 0) != float(hu)) {
          QFAIL(qPrintable(QStringLiteral("(%1,%2): %3 vs %4")
                               .arg(col)
                               .arg(row)
                               .arg(v.at(col, row, 0))
                               .arg(hu)));
        }
        lo = std::min(lo, hu);
        hi = std::max(hi, hu);
      }
    // A few voxels worked out from the stored values pydicom shows (pixel_array[row, col]):
    // [0, 0] = 175 → -849 HU, [64, 64] = 1928 → 904 HU, [10, 20] = 185 → -839 HU;
    // stored range 128..2191 → HU -896..1167 (lung-like air to bone).
    QCOMPARE(v.at(0, 0, 0), -849.f);
    QCOMPARE(v.at(64, 64, 0), 904.f);
    QCOMPARE(v.at(20, 10, 0), -839.f);
    QCOMPARE(lo, -896.0);
    QCOMPARE(hi, 1167.0);
    QCOMPARE(v.type(), VoxelType::Int16);
  }

  void dicomSeries() {
    if (!r1::vision::itk_available()) QSKIP("built without ITK");
    // In-plane axes turned 90° (index x → world +y, index y → world -x), right-handed.
    Volume v = small_phantom(13, {0, -1, 0, 1, 0, 0, 0, 0, 1});
    r1::vision::DicomSeriesWriteOptions opt;
    opt.series_uid = "2.25.1234567890";
    r1::vision::write_dicom_series(v, path("dcm/a"), opt);
    // Rename the files so that their names sort in reverse: the reader must order by position.
    QDir a(tmp("dcm/a"));
    const QStringList names = a.entryList({QStringLiteral("*.dcm")}, QDir::Files, QDir::Name);
    QCOMPARE(names.size(), 10);
    for (int k = 0; k < names.size(); ++k) {
      QVERIFY(a.rename(names[k], QStringLiteral("im%1").arg(99 - k)));
    }
    QCOMPARE(r1::vision::detect_volume_format(path("dcm/a")),
             r1::vision::VolumeFormat::DicomFolder);
    const Volume r = r1::vision::read_volume(path("dcm/a"));
    QVERIFY(r.warnings.empty());
    compare_geometry(r.geometry, v.geometry, 1e-6);
    compare_voxels(r, v);

    // The stored values carry the rescale: stored = HU - (-1024), read from a file's bytes.
    const QByteArray f0 = read_bytes(a.filePath(QStringLiteral("im99")));  // slice 0
    QCOMPARE(dicom_number(f0, 0x0028, 0x1052), -1024.0);
    QCOMPARE(dicom_number(f0, 0x0028, 0x1053), 1.0);
    const QByteArray px = dicom_element(f0, 0x7FE0, 0x0010, true);
    QCOMPARE(px.size(), 48 * 48 * 2);
    for (int k : {0, 1000, 2303}) {
      const auto stored = int(quint16(quint8(px[2 * k])) | quint16(quint8(px[2 * k + 1])) << 8);
      QCOMPARE(double(stored) - 1024.0, double(v.at(k % 48, k / 48, 0)));
    }

    // Slices stacked downwards (D's third column (0, 0, -1)): the reader orders by position
    // along the normal, so indices come back reversed but every voxel sits at the same place.
    Volume down = small_phantom(14, {1, 0, 0, 0, -1, 0, 0, 0, -1});
    r1::vision::write_dicom_series(down, path("dcm/down"));
    const Volume rd = r1::vision::read_volume(path("dcm/down"));
    QVERIFY(std::fabs(rd.geometry.spacing[2] - down.geometry.spacing[2]) < 1e-6);
    compare_in_world(down, rd, 1e-5);

    // A missing slice is reported.
    QVERIFY(QFile::remove(a.filePath(QStringLiteral("im95"))));
    const Volume gap = r1::vision::read_volume(path("dcm/a"));
    QCOMPARE(gap.geometry.size[2], int64_t(9));
    QVERIFY(!gap.warnings.empty());
    QVERIFY(QString::fromStdString(gap.warnings[0]).contains(QStringLiteral("non-uniform")));

    // Two series in one folder: the error lists them; naming one reads it.
    r1::vision::DicomSeriesWriteOptions opt2;
    opt2.series_uid = "2.25.987654321";
    r1::vision::write_dicom_series(down, path("dcm/b"), opt2);
    QDir b(tmp("dcm/b"));
    for (const QString& n : b.entryList(QDir::Files)) {
      QVERIFY(QFile::rename(b.filePath(n), a.filePath(QStringLiteral("b_") + n)));
    }
    const QString two = error_of([&] { r1::vision::read_volume(path("dcm/a")); });
    QVERIFY2(two.contains(QStringLiteral("holds 2 series")) &&
                 two.contains(QStringLiteral("2.25.1234567890")) &&
                 two.contains(QStringLiteral("2.25.987654321")),
             qPrintable(two));
    r1::vision::VolumeReadOptions pick;
    pick.dicom_series_uid = "2.25.987654321";
    compare_in_world(down, r1::vision::read_volume(path("dcm/a"), pick), 1e-5);
  }

  void niftiRoundTrip() {
    if (!r1::vision::itk_available()) QSKIP("built without ITK");
    const Volume v = small_phantom(15, oblique_direction());
    for (const char* name : {"n/a.nii", "n/a.nii.gz"}) {
      r1::vision::write_volume(v, path(QString::fromLatin1(name)));
      const Volume r = r1::vision::read_volume(path(QString::fromLatin1(name)));
      QCOMPARE(r.type(), VoxelType::Int16);
      compare_geometry(r.geometry, v.geometry, 1e-4);  // NIfTI keeps its matrix in float32
      compare_voxels(r, v);
    }
    Volume f = Volume::zeros(v.geometry, VoxelType::Float32);
    for (size_t k = 0; k < f.voxel_count(); ++k) f.float32()[k] = float(k % 97) * 0.5f - 20.25f;
    r1::vision::write_volume(f, path("n/f.nii.gz"));
    const Volume fr = r1::vision::read_volume(path("n/f.nii.gz"));
    QCOMPARE(fr.type(), VoxelType::Float32);
    compare_voxels(fr, f);
  }

  void naturalOrder() {
    using r1::vision::natural_less;
    QVERIFY(natural_less("slice_2.png", "slice_10.png"));
    QVERIFY(!natural_less("slice_10.png", "slice_2.png"));
    QVERIFY(natural_less("img9b", "img10a"));
    QVERIFY(natural_less("a", "a1"));
    QVERIFY(!natural_less("a1", "a"));
    QVERIFY(!natural_less("x7", "x7"));
    // Zero padding: equal as numbers, ordered (strictly, one way) by a final plain comparison.
    QVERIFY(natural_less("s02", "s2") != natural_less("s2", "s02"));
    QVERIFY(natural_less("s002", "s3") && natural_less("s3", "s010"));
  }

  void imagePng8And16Bit() {
#ifndef R1_HAVE_OPENCV
    QVERIFY(!r1::vision::opencv_available());
    QVERIFY(write_bytes(tmp("img/x.png"), "not decoded anyway"));
    const QString e = error_of([&] { r1::vision::read_volume(path("img/x.png")); });
    QVERIFY2(e.contains(tmp("img/x.png")) && e.contains(QStringLiteral("built without OpenCV")),
             qPrintable(e));
    QSKIP("built without OpenCV: PNG/JPEG cases skipped");
#else
    QVERIFY(r1::vision::opencv_available());
    const int w = 37, h = 23;
    // 8-bit: kept as stored, int16.
    QVERIFY(write_image(tmp("img/p8.png"), pattern_image(w, h, 3, false)));
    QCOMPARE(r1::vision::detect_volume_format(path("img/p8.png")), r1::vision::VolumeFormat::Image);
    Volume v = r1::vision::read_volume(path("img/p8.png"));
    QCOMPARE(v.type(), VoxelType::Int16);
    VolumeGeometry g;
    g.size = {w, h, 1};
    compare_geometry(v.geometry, g, 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) QCOMPARE(int(v.at(x, y, 0)), pattern(x, y, 3, false));
    QVERIFY(v.warnings.empty());

    // 16-bit over the whole range: float32, exact (integers below 2^24).
    QVERIFY(write_image(tmp("img/p16.png"), pattern_image(w, h, 5, true)));
    v = r1::vision::read_volume(path("img/p16.png"));
    QCOMPARE(v.type(), VoxelType::Float32);
    float top = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        QCOMPARE(double(v.at(x, y, 0)), double(pattern(x, y, 5, true)));
        top = std::max(top, v.at(x, y, 0));
      }
    QVERIFY(top > 32767);  // the pattern does reach past int16
    // The same file as HU + 32768 through a sidecar: int16, exact; spacing and origin from it.
    QVERIFY(write_bytes(tmp("img/p16.png.txt"),
                        "# slices saved as HU + 32768\n"
                        "ElementSpacing = 0.7 0.8 2.5\nOffset = -10 20.5 3\n"
                        "RescaleIntercept = -32768\n"));
    v = r1::vision::read_volume(path("img/p16.png"));
    QCOMPARE(v.type(), VoxelType::Int16);
    g.spacing = {0.7, 0.8, 2.5};
    g.origin = {-10, 20.5, 3};
    compare_geometry(v.geometry, g, 0);
    compare_geometry(r1::vision::read_volume_geometry(path("img/p16.png")), g, 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) QCOMPARE(int(v.at(x, y, 0)), pattern(x, y, 5, true) - 32768);
    // Options win over the sidecar; a fractional slope gives float32.
    r1::vision::VolumeReadOptions o;
    o.image.rescale_slope = 0.5;
    o.image.rescale_intercept = 0;
    o.image.spacing = std::array<double, 3>{1.5, 1.5, 1.5};
    v = r1::vision::read_volume(path("img/p16.png"), o);
    QCOMPARE(v.type(), VoxelType::Float32);
    QCOMPARE(v.geometry.spacing[0], 1.5);
    QCOMPARE(double(v.at(4, 6, 0)), 0.5 * pattern(4, 6, 5, true));
    // A bad sidecar names its file, line and key.
    QVERIFY(write_bytes(tmp("img/p8.png.txt"), "ElementSpacing = 1 1\nRescaleSlope = x\n"));
    QString e = error_of([&] { r1::vision::read_volume(path("img/p8.png")); });
    QVERIFY2(e.contains(tmp("img/p8.png.txt") + QStringLiteral(" line 2 (RescaleSlope)")),
             qPrintable(e));
    QVERIFY(QFile::remove(tmp("img/p8.png.txt")));

    // Colour: gray = 0.299 R + 0.587 G + 0.114 B, rounded (OpenCV stores B, G, R), with a warning.
    cv::Mat bgr(4, 5, CV_8UC3, cv::Scalar(10, 200, 50));
    bgr.at<cv::Vec3b>(1, 2) = cv::Vec3b(255, 255, 255);
    QVERIFY(write_image(tmp("img/colour.png"), bgr));
    v = r1::vision::read_volume(path("img/colour.png"));
    QCOMPARE(int(v.at(0, 0, 0)), 133);  // (114·10 + 587·200 + 299·50) / 1000 = 133.49
    QCOMPARE(int(v.at(2, 1, 0)), 255);
    QCOMPARE(v.warnings.size(), size_t(1));
    QVERIFY(QString::fromStdString(v.warnings[0]).contains(QStringLiteral("converted to gray")));
#endif
  }

  void imageJpeg() {
#ifndef R1_HAVE_OPENCV
    QSKIP("built without OpenCV: PNG/JPEG cases skipped");
#else
    // A smooth ramp at quality 95: JPEG's error stays within a few levels.
    const int w = 64, h = 48;
    cv::Mat m(h, w, CV_8UC1);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) m.at<uint8_t>(y, x) = static_cast<uint8_t>(40 + 2 * x + y);
    QVERIFY(write_image(tmp("img/ramp.JPEG"), m, {cv::IMWRITE_JPEG_QUALITY, 95}));
    QVERIFY(write_image(tmp("img/ramp.jpg"), m, {cv::IMWRITE_JPEG_QUALITY, 95}));
    for (const char* name : {"img/ramp.JPEG", "img/ramp.jpg"}) {
      QCOMPARE(r1::vision::detect_volume_format(path(QString::fromLatin1(name))),
               r1::vision::VolumeFormat::Image);
      const Volume v = r1::vision::read_volume(path(QString::fromLatin1(name)));
      QCOMPARE(v.geometry.size[0], int64_t(w));
      QCOMPARE(v.geometry.size[1], int64_t(h));
      QCOMPARE(v.type(), VoxelType::Int16);
      double worst = 0, sum = 0;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const double d = std::fabs(v.at(x, y, 0) - (40 + 2 * x + y));
          worst = std::max(worst, d);
          sum += d;
        }
      QVERIFY2(worst <= 4 && sum / (w * h) <= 1.0,
               qPrintable(QStringLiteral("worst %1, mean %2").arg(worst).arg(sum / (w * h))));
    }
#endif
  }

  void imageStackOrder() {
#ifndef R1_HAVE_OPENCV
    QSKIP("built without OpenCV: PNG/JPEG cases skipped");
#else
    // slice_1 .. slice_12, unpadded: plain name order would put slice_10 after slice_1.
    const int w = 9, h = 7;
    for (int n : {7, 12, 1, 10, 3, 2, 11, 4, 9, 5, 8, 6}) {
      QVERIFY(write_image(tmp("stack/ct_a/slice_%1.png").arg(n), pattern_image(w, h, n, false)));
    }
    QVERIFY(write_bytes(tmp("stack/ct_a/notes.txt"), "exported from the viewer"));
    QVERIFY(write_bytes(tmp("stack/ct_a/volume.txt"),
                        "ElementSpacing = 0.5 0.5 1.25\nRescaleIntercept = -1024\n"));
    const auto files = r1::vision::list_image_files(path("stack/ct_a"));
    QCOMPARE(files.size(), size_t(12));
    for (int i = 0; i < 12; ++i) {
      QCOMPARE(QString::fromStdString(files[size_t(i)]),
               tmp(QStringLiteral("stack/ct_a/slice_%1.png").arg(i + 1)));
    }
    QVERIFY(r1::vision::is_image_folder(path("stack/ct_a")));
    QCOMPARE(r1::vision::detect_volume_format(path("stack/ct_a")),
             r1::vision::VolumeFormat::ImageFolder);
    const Volume v = r1::vision::read_volume(path("stack/ct_a"));
    QCOMPARE(v.geometry.size[2], int64_t(12));
    QCOMPARE(v.geometry.spacing[2], 1.25);
    QCOMPARE(v.type(), VoxelType::Int16);
    for (int z = 0; z < 12; ++z)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          QCOMPARE(int(v.at(x, y, z)), pattern(x, y, z + 1, false) - 1024);
    compare_geometry(r1::vision::read_volume_geometry(path("stack/ct_a")), v.geometry, 0);
    // An ordered list keeps its order (no sidecar).
    const std::vector<std::string> reversed(files.rbegin(), files.rend());
    const Volume r = r1::vision::read_image_stack(reversed);
    for (int z = 0; z < 12; ++z) QCOMPARE(int(r.at(3, 2, z)), pattern(3, 2, 12 - z, false));
    // A LUNA-style root counts the folder as one scan named after it.
    const auto scans = r1::vision::find_luna_scans(path("stack"));
    QCOMPARE(scans.size(), size_t(1));
    QCOMPARE(QString::fromStdString(scans[0].seriesuid), QStringLiteral("ct_a"));
    QCOMPARE(QString::fromStdString(scans[0].path), tmp("stack/ct_a"));
    // DICOM stays DICOM: a preview image beside .dcm files, or beside DICM-preamble files.
    QVERIFY(write_image(tmp("stack/dcm1/preview.png"), pattern_image(w, h, 0, false)));
    QVERIFY(write_bytes(tmp("stack/dcm1/0001.dcm"), QByteArray(200, '\0')));
    QByteArray dicm(200, '\0');
    dicm.replace(128, 4, "DICM");
    QVERIFY(write_image(tmp("stack/dcm2/preview.png"), pattern_image(w, h, 0, false)));
    QVERIFY(write_bytes(tmp("stack/dcm2/IM0001"), dicm));
    for (const char* d : {"stack/dcm1", "stack/dcm2"}) {
      QVERIFY(!r1::vision::is_image_folder(path(QString::fromLatin1(d))));
      QCOMPARE(r1::vision::detect_volume_format(path(QString::fromLatin1(d))),
               r1::vision::VolumeFormat::DicomFolder);
    }
#endif
  }

  void imageErrors() {
#ifndef R1_HAVE_OPENCV
    QSKIP("built without OpenCV: PNG/JPEG cases skipped");
#else
    // Slices of two sizes: both files and both sizes named.
    QVERIFY(write_image(tmp("imgbad/mixed/a_1.png"), pattern_image(10, 8, 1, false)));
    QVERIFY(write_image(tmp("imgbad/mixed/a_2.png"), pattern_image(12, 8, 2, false)));
    QString e = error_of([&] { r1::vision::read_volume(path("imgbad/mixed")); });
    QVERIFY2(e.contains(tmp("imgbad/mixed/a_1.png")) && e.contains(tmp("imgbad/mixed/a_2.png")) &&
                 e.contains(QStringLiteral("12x8")) && e.contains(QStringLiteral("10x8")),
             qPrintable(e));
    // Slices of two bit depths.
    QVERIFY(write_image(tmp("imgbad/depth/b_1.png"), pattern_image(10, 8, 1, false)));
    QVERIFY(write_image(tmp("imgbad/depth/b_2.png"), pattern_image(10, 8, 2, true)));
    e = error_of([&] { r1::vision::read_volume(path("imgbad/depth")); });
    QVERIFY2(e.contains(tmp("imgbad/depth/b_1.png")) && e.contains(tmp("imgbad/depth/b_2.png")) &&
                 e.contains(QStringLiteral("16-bit")),
             qPrintable(e));
    // Garbage bytes in a .png, an empty .png, a missing one.
    QVERIFY(write_bytes(tmp("imgbad/garbage.png"), QByteArray("\x89PNG but not really")));
    e = error_of([&] { r1::vision::read_volume(path("imgbad/garbage.png")); });
    QVERIFY2(e.contains(tmp("imgbad/garbage.png")) && e.contains(QStringLiteral("cannot decode")),
             qPrintable(e));
    QVERIFY(write_bytes(tmp("imgbad/empty.png"), QByteArray()));
    e = error_of([&] { r1::vision::read_volume(path("imgbad/empty.png")); });
    QVERIFY2(e.contains(tmp("imgbad/empty.png")) && e.contains(QStringLiteral("empty file")),
             qPrintable(e));
    e = error_of([&] { r1::vision::read_image(path("imgbad/none.png")); });
    QVERIFY2(e.contains(tmp("imgbad/none.png")) && e.contains(QStringLiteral("no such file")),
             qPrintable(e));
    // A folder without slices.
    QVERIFY(QDir().mkpath(tmp("imgbad/empty_dir")));
    e = error_of([&] { r1::vision::read_image_folder(path("imgbad/empty_dir")); });
    QVERIFY2(e.contains(tmp("imgbad/empty_dir")) && e.contains(QStringLiteral("empty")),
             qPrintable(e));
    // A float image under a .png name (OpenCV decodes by content): unsupported depth.
    if (cv::haveImageWriter("x.tiff")) {
      QVERIFY(write_image(tmp("imgbad/float.tiff"), cv::Mat(4, 4, CV_32FC1, cv::Scalar(0.5))));
      QVERIFY(QFile::rename(tmp("imgbad/float.tiff"), tmp("imgbad/float.png")));
      e = error_of([&] { r1::vision::read_volume(path("imgbad/float.png")); });
      QVERIFY2(e.contains(tmp("imgbad/float.png")) &&
                   e.contains(QStringLiteral("unsupported depth")),
               qPrintable(e));
    }
#endif
  }

  void badFiles() {
    const Volume v = small_phantom(16);
    r1::vision::write_metaimage(v, path("bad/ok.mhd"));
    const QByteArray header = read_bytes(tmp("bad/ok.mhd"));
    auto expect = [&](const QString& name, const QByteArray& mhd, const QString& reason) {
      QVERIFY(write_bytes(tmp(name), mhd));
      const QString e = error_of([&] { r1::vision::read_volume(path(name)); });
      QVERIFY2(e.contains(tmp(name)) && e.contains(reason),
               qPrintable(QStringLiteral("%1 → '%2'").arg(name, e)));
    };

    // Missing data file.
    expect(QStringLiteral("bad/missing.mhd"), QByteArray(header).replace("ok.raw", "gone.raw"),
           QStringLiteral("is missing"));
    // Truncated data file.
    QVERIFY(write_bytes(tmp("bad/short.raw"), read_bytes(tmp("bad/ok.raw")).left(1000)));
    expect(QStringLiteral("bad/short.mhd"), QByteArray(header).replace("ok.raw", "short.raw"),
           QStringLiteral("has the wrong size: 1000 bytes of voxel data, DimSize 48x48x10 of "
                          "MET_SHORT needs 46080"));
    // Unsupported pixel type, dimensions, malformed numbers, no data line.
    expect(QStringLiteral("bad/type.mhd"), QByteArray(header).replace("MET_SHORT", "MET_LONG_LONG"),
           QStringLiteral("(ElementType): unsupported pixel type 'MET_LONG_LONG'"));
    expect(QStringLiteral("bad/rgb.mhd"),
           QByteArray(header).replace("ElementType", "ElementNumberOfChannels = 3\nElementType"),
           QStringLiteral("3 channels per voxel are not supported"));
    expect(QStringLiteral("bad/4d.mhd"), QByteArray(header).replace("NDims = 3", "NDims = 4"),
           QStringLiteral("4 dimensions are not supported"));
    expect(QStringLiteral("bad/dims.mhd"),
           QByteArray(header).replace("DimSize = 48 48 10", "DimSize = 48 x 10"),
           QStringLiteral("line 10 (DimSize): 'x' is not a number"));
    expect(QStringLiteral("bad/nodata.mhd"), "NDims = 3\nDimSize = 2 2 2\n",
           QStringLiteral("no ElementDataFile line"));
    expect(QStringLiteral("bad/garbage.mhd"), "\x89PNG\r\n\x1a\n binary",
           QStringLiteral("expected 'Key = Value'"));
    // Corrupt compressed data.
    r1::vision::write_metaimage(v, path("bad/z.mhd"), true);
    QByteArray z = read_bytes(tmp("bad/z.zraw"));
    for (int k = 100; k < 200; ++k) z[k] = char(k * 7);
    QVERIFY(write_bytes(tmp("bad/z.zraw"), z));
    const QString ez = error_of([&] { r1::vision::read_volume(path("bad/z.mhd")); });
    QVERIFY2(ez.contains(tmp("bad/z.mhd")) && ez.contains(QStringLiteral("compressed data")),
             qPrintable(ez));

    // Unknown format, nothing there, unwritable format.
    QVERIFY(write_bytes(tmp("bad/notes.txt"), "hello"));
    QVERIFY(error_of([&] {
              r1::vision::read_volume(path("bad/notes.txt"));
            }).contains(QStringLiteral("notes.txt: unknown format")));
    QVERIFY(error_of([&] {
              r1::vision::read_volume(path("bad/nothing.mhd"));
            }).contains(QStringLiteral("nothing.mhd: no such file")));
    QVERIFY(error_of([&] {
              r1::vision::write_volume(v, path("bad/out.png"));
            }).contains(QStringLiteral("cannot write this format")));
    QVERIFY(error_of([&] { r1::vision::write_volume(v, path("bad/no/such/dir/v.mhd")); })
                .contains(QStringLiteral("v.mhd: folder ") +
                          tmp(QStringLiteral("bad/no/such/dir")) +
                          QStringLiteral(" does not exist")));

    if (!r1::vision::itk_available()) {
      QVERIFY(error_of([&] {
                r1::vision::read_volume(path("bad"));
              }).contains(QStringLiteral("this build has no ITK")));
      return;
    }
    // DICOM folders: empty, or holding no DICOM.
    QDir().mkpath(tmp("bad/empty"));
    QVERIFY(error_of([&] {
              r1::vision::read_volume(path("bad/empty"));
            }).contains(QStringLiteral("bad/empty: empty folder")));
    QVERIFY(write_bytes(tmp("bad/notdicom/a.txt"), "not a dicom file"));
    QVERIFY(error_of([&] {
              r1::vision::read_volume(path("bad/notdicom"));
            }).contains(QStringLiteral("none of its 1 files is a DICOM image")));
    // A NIfTI file that is not one.
    QVERIFY(write_bytes(tmp("bad/x.nii"), QByteArray(400, 'x')));
    const QString en = error_of([&] { r1::vision::read_volume(path("bad/x.nii")); });
    QVERIFY2(en.contains(tmp("bad/x.nii")) && en.contains(QStringLiteral("NIfTI")), qPrintable(en));
  }
};

QTEST_GUILESS_MAIN(TestVolume)
#include "test_volume.moc"
