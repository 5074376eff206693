// The Review page end to end, offscreen: a two-scan phantom folder with a candidate CSV of known
// hits and misses, opened through the controller; the review keys (A, R, U, N, M + click) on the
// real view; the review file after each decision and after reopening; FROC/CPM/mAP against values
// worked by hand below; window/level presets on pixels; slice stepping; exports read back;
// screenshots in English and Chinese. The detector run from the page: a tiny checkpoint trained
// for a few steps at test time, run over a phantom folder, cancelled, and given bad files.
#include "app/language.h"
#include "app/review_controller.h"
#include "engine/compat/torch_compat.h"
#include "engine/events/sink.h"
#include "engine/train/checkpoint.h"
#include "engine/vision/csv.h"
#include "engine/vision/detect_infer.h"
#include "engine/vision/detect_trainer.h"
#include "engine/vision/luna_csv.h"
#include "engine/vision/metaimage.h"
#include "engine/vision/phantom.h"
#include "engine/vision/volume_io.h"
#include "widgets/review_view.h"
#include "widgets/slice_view.h"

#include <QtTest/QtTest>

#include <QElapsedTimer>
#include <QImage>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <clocale>
#include <cmath>

using r1::app::ReviewController;
using r1::vision::Vec3;
using r1::widgets::ReviewView;
using r1::widgets::SliceView;
using r1::widgets::SliceVolume;
using r1::widgets::WindowLevel;
using r1::widgets::WindowPreset;

namespace {

QString tmp() {
  QDir().mkpath(QStringLiteral(R1_TEST_TMP));
  return QStringLiteral(R1_TEST_TMP);
}

struct Row {
  std::string seriesuid, decision, candidate;
  Vec3 world;
};

// The review file's data rows (header checked).
std::vector<Row> readReview(const QString& path) {
  const auto records = r1::vision::read_csv(path.toStdString(), "review");
  std::vector<Row> rows;
  if (records.empty()) return rows;
  const std::vector<std::string> header{"seriesuid", "coordX", "coordY", "coordZ", "diameter_mm",
                                        "probability", "decision", "candidate", "reviewed_at"};
  if (records[0].fields != header) return rows;
  for (size_t i = 1; i < records.size(); ++i) {
    const auto& f = records[i].fields;
    rows.push_back({f[0], f[6], f[7], {std::stod(f[1]), std::stod(f[2]), std::stod(f[3])}});
  }
  return rows;
}

const Row* findRow(const std::vector<Row>& rows, const std::string& candidate) {
  for (const auto& r : rows)
    if (r.candidate == candidate) return &r;
  return nullptr;
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// The gray of the widget's pixel at (x, y).
int grayAt(QWidget& w, int x, int y) { return qGray(w.grab().toImage().pixel(x, y)); }

}  // namespace

class TestReview final : public QObject {
  Q_OBJECT

  QString dir_;
  std::vector<r1::vision::PhantomSetEntry> scans_;  // in the page's order (by series UID)
  std::vector<r1::vision::VolumeGeometry> geometry_;
  Vec3 a_, b_;          // the nodule of scan 0 and of scan 1
  double da_ = 0, db_ = 0;
  Vec3 fp1_, fp2_, fp4_;  // false-positive candidates

  void waitIdle(ReviewController& c) { QTRY_VERIFY_WITH_TIMEOUT(c.idle(), 20000); }

  // The detector cases: two small phantoms with a candidate CSV of two rows, and a checkpoint of
  // a tiny network after three training steps (its detections are near random; only the
  // plumbing is under test). Decoding keeps at most 3 candidates a scan.
  QString detDir_, ckpt_;
  std::vector<r1::vision::PhantomSetEntry> detScans_;

  bool ensureDetector() {
    if (!ckpt_.isEmpty()) return true;
    detDir_ = tmp() + QStringLiteral("/review-detect");
    const QString runs = tmp() + QStringLiteral("/review-detect-runs");
    QDir(detDir_).removeRecursively();
    QDir(runs).removeRecursively();
    r1::vision::PhantomOptions o;
    o.size_xy_min = o.size_xy_max = 96;
    o.slices_min = o.slices_max = 32;
    o.nodules_min = o.nodules_max = 1;
    o.diameter_min_mm = 10;
    o.diameter_max_mm = 14;
    o.vessel_targets = 40;
    detScans_ = r1::vision::write_phantom_set(detDir_.toStdString(), 2, 5, o);
    std::sort(detScans_.begin(), detScans_.end(), [](auto& x, auto& y) { return x.seriesuid < y.seriesuid; });
    const auto g = r1::vision::read_metaimage_header(detScans_[0].path).geometry;
    using r1::vision::csv_number;
    const Vec3 a = detScans_[0].nodules[0].center, fp = g.index_to_world({10, 10, 5});
    r1::vision::write_text_file(
        (detDir_ + QStringLiteral("/submission.csv")).toStdString(),
        "seriesuid,coordX,coordY,coordZ,probability\n" + detScans_[0].seriesuid + ',' + csv_number(a.x) +
            ',' + csv_number(a.y) + ',' + csv_number(a.z) + ",0.9\n" + detScans_[0].seriesuid + ',' +
            csv_number(fp.x) + ',' + csv_number(fp.y) + ',' + csv_number(fp.z) + ",0.5\n",
        "test");

    r1::vision::DetectConfig c;
    c.data.root = detDir_.toStdString();
    c.data.val_scans = 0;
    c.model.channels = {8, 16, 32, 64};
    c.model.fpn_channels = 32;
    c.model.groups = 4;
    c.train.steps = 3;
    c.train.batch_size = 2;
    c.train.warmup_steps = 1;
    c.train.sizes = {64};
    c.train.resize_at = {};
    c.train.eval_every = 0;
    c.train.checkpoint_every = 0;
    c.train.out_dir = runs.toStdString();
    c.train.run_name = "tiny";
    c.train.threads = 1;
    c.train.resume = false;
    c.decode.score_threshold = 0.001;  // an untrained heatmap scores about 0.01
    c.decode.top_k = 2;
    c.decode.max_candidates = 3;
    try {
      r1::vision::DetectTrainer trainer(c, std::make_shared<r1::events::CallbackSink>([](const r1::events::Event&) {}));
      trainer.setup();
      for (int i = 0; i < 3; ++i) trainer.train_step();
      ckpt_ = QString::fromStdString(trainer.save_checkpoint());
    } catch (const std::exception& e) {
      qWarning("training the tiny detector: %s", e.what());
      return false;
    }
    return QFileInfo::exists(ckpt_);
  }

  // The last error the controller reported since `spy` started.
  static QString lastError(const QSignalSpy& spy) {
    for (auto i = spy.size() - 1; i >= 0; --i)
      if (spy.at(i).at(1).toBool()) return spy.at(i).at(0).toString();
    return {};
  }

 private Q_SLOTS:
  void initTestCase() {
    std::setlocale(LC_NUMERIC, "C");
    dir_ = tmp() + QStringLiteral("/review");
    QDir(dir_).removeRecursively();
    QVERIFY(QDir().mkpath(dir_));

    r1::vision::PhantomOptions o;
    o.size_xy_min = o.size_xy_max = 128;
    o.slices_min = o.slices_max = 48;
    o.nodules_min = o.nodules_max = 1;
    o.diameter_min_mm = 8;
    o.diameter_max_mm = 14;
    o.vessel_targets = 60;
    scans_ = r1::vision::write_phantom_set(dir_.toStdString(), 2, 7, o);
    QCOMPARE(scans_.size(), size_t(2));
    std::sort(scans_.begin(), scans_.end(), [](auto& x, auto& y) { return x.seriesuid < y.seriesuid; });
    for (const auto& s : scans_) geometry_.push_back(r1::vision::read_metaimage_header(s.path).geometry);
    a_ = scans_[0].nodules[0].center;
    da_ = scans_[0].nodules[0].diameter_mm;
    b_ = scans_[1].nodules[0].center;
    db_ = scans_[1].nodules[0].diameter_mm;
    // False positives near the corners of the field of view: far from any nodule.
    fp1_ = geometry_[0].index_to_world({12, 12, 10});
    fp2_ = geometry_[1].index_to_world({115, 12, 30});
    fp4_ = geometry_[1].index_to_world({12, 115, 40});
    QVERIFY(r1::vision::norm(fp1_ - a_) > 20);
    QVERIFY(r1::vision::norm(fp2_ - b_) > 20 && r1::vision::norm(fp4_ - b_) > 20);

    // Candidate ids are the data rows: 0 hits A, 3 hits B (exact centre and size, so their
    // axial boxes coincide with the nodules'); 1, 2 and 4 are false positives.
    using r1::vision::csv_number;
    std::string csv = "seriesuid,coordX,coordY,coordZ,probability,diameter_mm\n";
    auto add = [&](int scan, Vec3 w, double p, double d) {
      csv += scans_[static_cast<size_t>(scan)].seriesuid + ',' + csv_number(w.x) + ',' + csv_number(w.y) +
             ',' + csv_number(w.z) + ',' + csv_number(p) + ',' + csv_number(d) + '\n';
    };
    add(0, a_, 0.9, da_);
    add(0, fp1_, 0.8, 6);
    add(1, fp2_, 0.7, 6);
    add(1, b_, 0.6, db_);
    add(1, fp4_, 0.3, 6);
    r1::vision::write_text_file((dir_ + QStringLiteral("/submission.csv")).toStdString(), csv, "test");
  }

  void windowPresets_data() {
    QTest::addColumn<int>("preset");
    QTest::addColumn<bool>("asFloat");
    QTest::addColumn<int>("grayLung");  // of the -850 HU band
    QTest::addColumn<int>("graySoft");  // of the 0 HU band
    QTest::addColumn<int>("grayBone");  // of the 300 HU band
    // gray = round((HU - (L - W/2)) / W * 255), clamped:
    //  lung W1500 L-600: lo -1350: -850 -> 500/1500*255 = 85; 0 -> 229.5 -> 230; 300 -> 255
    //  mediastinum W400 L40: lo -160: -850 -> 0; 0 -> 160/400*255 = 102; 300 -> 255
    //  bone W2000 L500: lo -500: -850 -> 0; 0 -> 63.75 -> 64; 300 -> 800/2000*255 = 102
    QTest::newRow("lung int16") << int(WindowPreset::Lung) << false << 85 << 230 << 255;
    QTest::newRow("lung float") << int(WindowPreset::Lung) << true << 85 << 230 << 255;
    QTest::newRow("mediastinum") << int(WindowPreset::Mediastinum) << false << 0 << 102 << 255;
    QTest::newRow("bone") << int(WindowPreset::Bone) << true << 0 << 64 << 102;
  }

  void windowPresets() {
    QFETCH(int, preset);
    QFETCH(bool, asFloat);
    QFETCH(int, grayLung);
    QFETCH(int, graySoft);
    QFETCH(int, grayBone);
    const WindowLevel w = r1::widgets::presetWindow(static_cast<WindowPreset>(preset));
    QCOMPARE(r1::widgets::windowGray(-850, w), grayLung);
    QCOMPARE(r1::widgets::windowGray(0, w), graySoft);
    QCOMPARE(r1::widgets::windowGray(300, w), grayBone);

    // A 30 x 10 x 1 volume of three bands, shown 1:1 at 10 px per voxel.
    SliceVolume v;
    v.size[0] = 30;
    v.size[1] = 10;
    v.size[2] = 1;
    std::vector<qint16> i16(300);
    std::vector<float> f32(300);
    for (int y = 0; y < 10; ++y)
      for (int x = 0; x < 30; ++x) {
        const int hu = x < 10 ? -850 : x < 20 ? 0 : 300;
        i16[static_cast<size_t>(y * 30 + x)] = static_cast<qint16>(hu);
        f32[static_cast<size_t>(y * 30 + x)] = static_cast<float>(hu);
      }
    if (asFloat) v.f32 = std::make_shared<const std::vector<float>>(f32);
    else v.i16 = std::make_shared<const std::vector<qint16>>(i16);
    SliceView view;
    view.resize(300, 100);
    view.setVolume(v);
    view.setWindow(w);
    QCOMPARE(grayAt(view, 50, 75), grayLung);
    QCOMPARE(grayAt(view, 150, 75), graySoft);
    QCOMPARE(grayAt(view, 250, 75), grayBone);
  }

  void sliceNavigation() {
    SliceVolume v;
    v.size[0] = v.size[1] = 20;
    v.size[2] = 30;
    v.spacing[2] = 2.5;
    v.i16 = std::make_shared<const std::vector<qint16>>(std::vector<qint16>(20 * 20 * 30, -1000));
    SliceView view;
    view.resize(200, 200);
    view.setVolume(v);
    QCOMPARE(view.slice(), 15);
    QCOMPARE(view.sliceCount(), 30);
    QTest::keyClick(&view, Qt::Key_Down);
    QCOMPARE(view.slice(), 16);
    QTest::keyClick(&view, Qt::Key_Up);
    QCOMPARE(view.slice(), 15);
    QTest::keyClick(&view, Qt::Key_PageDown);
    QCOMPARE(view.slice(), 25);
    QTest::keyClick(&view, Qt::Key_PageDown);
    QCOMPARE(view.slice(), 29);  // clamped
    QTest::keyClick(&view, Qt::Key_PageUp);
    QCOMPARE(view.slice(), 19);
    QTest::keyClick(&view, Qt::Key_Home);
    QCOMPARE(view.slice(), 0);
    QTest::keyClick(&view, Qt::Key_End);
    QCOMPARE(view.slice(), 29);
    QTest::keyClick(&view, Qt::Key_2);
    QCOMPARE(view.window().width, 400.0);
    QCOMPARE(view.window().level, 40.0);

    const QPointF c(100, 100);
    QWheelEvent down(c, view.mapToGlobal(c), {}, QPoint(0, -120), Qt::NoButton, Qt::NoModifier,
                     Qt::NoScrollPhase, false);
    QApplication::sendEvent(&view, &down);
    QCOMPARE(view.slice(), 29);  // already last
    QWheelEvent up(c, view.mapToGlobal(c), {}, QPoint(0, 240), Qt::NoButton, Qt::NoModifier,
                   Qt::NoScrollPhase, false);
    QApplication::sendEvent(&view, &up);
    QCOMPARE(view.slice(), 27);
    // Ctrl+wheel zooms around the cursor: the voxel under it stays under it.
    double x0, y0, z0, x1, y1, z1;
    const QPointF at(60, 140);
    QVERIFY(view.widgetToVoxel(at, &x0, &y0, &z0));
    QWheelEvent zoom(at, view.mapToGlobal(at), {}, QPoint(0, 120), Qt::NoButton, Qt::ControlModifier,
                     Qt::NoScrollPhase, false);
    QApplication::sendEvent(&view, &zoom);
    QVERIFY(view.zoom() > 1.1);
    QCOMPARE(view.slice(), 27);
    QVERIFY(view.widgetToVoxel(at, &x1, &y1, &z1));
    QVERIFY(std::abs(x1 - x0) < 1e-6 && std::abs(y1 - y0) < 1e-6);

    // Right-drag changes the window: 25 px right widens by 100 HU, 10 px up raises the level 20.
    const WindowLevel before = view.window();
    QTest::mousePress(&view, Qt::RightButton, {}, QPoint(100, 100));
    QMouseEvent move(QEvent::MouseMove, QPointF(125, 90), view.mapToGlobal(QPointF(125, 90)),
                     Qt::NoButton, Qt::RightButton, Qt::NoModifier);
    QApplication::sendEvent(&view, &move);
    QTest::mouseRelease(&view, Qt::RightButton, {}, QPoint(125, 90));
    QCOMPARE(view.window().width, before.width + 100);
    QCOMPARE(view.window().level, before.level + 20);

    // Aspect from spacing: a 20 x 20 voxel coronal slice is 20 mm wide and 75 mm tall.
    SliceView coronal(SliceView::Plane::Coronal);
    coronal.resize(300, 300);
    coronal.setVolume(v);
    const QPointF top = coronal.voxelToWidget(0, 10, 29), bottom = coronal.voxelToWidget(0, 10, 0);
    const QPointF left = coronal.voxelToWidget(0, 10, 0), right = coronal.voxelToWidget(19, 10, 0);
    QVERIFY(top.y() < bottom.y());  // head end up
    QCOMPARE(std::lround((bottom.y() - top.y()) / (right.x() - left.x()) * 100), std::lround(29 * 2.5 / 19 * 100));
  }

  void newestCandidateFileOpens() {
    // A folder with submission.csv and a later detector run's r1-detections-*.csv opens the
    // newer of the two; an export with a probability column does not take over from them.
    const QString sub = dir_ + QStringLiteral("/submission.csv");
    const QString det = dir_ + QStringLiteral("/r1-detections-run-ckpt-00000007.csv");
    const QString exported = dir_ + QStringLiteral("/submission-reviewed.csv");
    struct Cleanup {
      QStringList files;
      ~Cleanup() {
        for (const auto& f : files) QFile::remove(f);
      }
    } cleanup{{det, exported}};
    const QByteArray rows = readAll(sub);
    QVERIFY(!rows.isEmpty());
    const QList<QByteArray> lines = rows.split('\n');
    r1::vision::write_text_file(det.toStdString(),
                                (lines[0] + '\n' + lines[1] + '\n').toStdString(), "test");
    r1::vision::write_text_file(exported.toStdString(), rows.toStdString(), "test");
    namespace fs = std::filesystem;
    const auto now = fs::file_time_type::clock::now();
    auto age = [&](const QString& f, int seconds) {
      fs::last_write_time(f.toStdString(), now - std::chrono::seconds(seconds));
    };
    age(sub, 100);
    age(det, 50);
    age(exported, 0);  // the newest, but an export: not a candidate source while others exist
    auto open = [&] {
      ReviewView view;
      ReviewController ctl;
      ctl.bind(&view);
      ctl.openFolder(dir_);
      const bool loaded = QTest::qWaitFor([&] { return ctl.loadedScan() == 0 && ctl.idle(); }, 20000);
      if (!loaded) return QString("(the folder did not finish loading)");
      return ctl.candidatesFile();
    };
    QCOMPARE(open(), det);
    age(sub, 10);  // the submission edited after the run
    QCOMPARE(open(), sub);
  }

  void reviewFlow() {
    const QString reviewFile = dir_ + QStringLiteral("/r1-review.csv");
    QFile::remove(reviewFile);
    ReviewView view;
    view.resize(1600, 1000);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&view));
    ReviewController ctl;
    ctl.bind(&view);
    ctl.openFolder(dir_);
    QTRY_VERIFY_WITH_TIMEOUT(ctl.loadedScan() == 0, 20000);
    waitIdle(ctl);

    QCOMPARE(ctl.candidatesFile(), dir_ + QStringLiteral("/submission.csv"));
    QVERIFY(!view.demoBannerVisible());
    QCOMPARE(view.scans()->rowCount(), 2);
    QCOMPARE(view.scans()->rows()[0].id, QString::fromStdString(scans_[0].seriesuid));
    QCOMPARE(view.scans()->rows()[0].candidates, 2);
    QCOMPARE(view.scans()->rows()[0].nodules, 1);
    QCOMPARE(view.scans()->rows()[1].candidates, 3);
    QCOMPARE(view.candidates()->rowCount(), 2);
    QCOMPARE(ctl.currentKey(), QStringLiteral("c0"));
    // The view went to the slice of candidate 0 (nodule A's centre).
    const Vec3 ia = geometry_[0].world_to_index(a_);
    QCOMPARE(view.axial()->slice(), static_cast<int>(std::lround(ia.z)));

    // Nothing decided: both sets are the detector's. Sorted marks: 0.9 TP(A), 0.8 FP, 0.7 FP,
    // 0.6 TP(B), 0.3 FP over 2 scans and 2 nodules -> (FPs/scan, sensitivity) steps
    // (0, .5) (.5, .5) (1, .5) (1, 1) (1.5, 1). Sensitivity at 1/8, 1/4, 1/2 = .5; at 1..8 = 1.
    // CPM = (3 * .5 + 4 * 1) / 7 = 5.5 / 7. mAP (one box per mark; precision 1 at recall .5,
    // then 2/4 at recall 1) = .5 * 1 + .5 * .5 = .75.
    auto m = ctl.metrics();
    QCOMPARE(m.nodules, 2);
    QCOMPARE(m.falsePositives, 3);
    QVERIFY(qFuzzyCompare(m.cpm, 5.5 / 7));
    QVERIFY(qFuzzyCompare(m.detectorCpm, 5.5 / 7));
    QVERIFY(qFuzzyCompare(m.map50, 0.75));

    view.axial()->setFocus();
    // A: candidate 0 accepted, saved at once; the next pending candidate of the scan is current.
    QTest::keyClick(view.axial(), Qt::Key_A);
    auto rows = readReview(reviewFile);
    QCOMPARE(rows.size(), size_t(1));
    QCOMPARE(rows[0].decision, std::string("accepted"));
    QCOMPARE(rows[0].candidate, std::string("0"));
    QCOMPARE(rows[0].seriesuid, scans_[0].seriesuid);
    QCOMPARE(ctl.currentKey(), QStringLiteral("c1"));

    // R: candidate 1 (the 0.8 false positive) rejected -> left out of the kept marks:
    // 0.9 TP, 0.7 FP (.5/scan), 0.6 TP, 0.3 FP (1/scan): sensitivity .5 at 1/8 and 1/4, 1 from
    // 1/2 on: CPM 6/7; mAP .5 * 1 + .5 * 2/3 = 5/6. The detector keeps every mark: 5.5/7, .75.
    QTest::keyClick(view.axial(), Qt::Key_R);
    rows = readReview(reviewFile);
    QCOMPARE(rows.size(), size_t(2));
    QCOMPARE(findRow(rows, "1")->decision, std::string("rejected"));
    waitIdle(ctl);
    m = ctl.metrics();
    QVERIFY(qFuzzyCompare(m.cpm, 6.0 / 7));
    QVERIFY(qFuzzyCompare(m.detectorCpm, 5.5 / 7));
    QVERIFY(qFuzzyCompare(m.map50, 5.0 / 6));
    QVERIFY(qFuzzyCompare(m.detectorMap50, 0.75));
    QCOMPARE(view.scans()->rows()[0].reviewed, 2);

    // U: the rejection undone, in the file too.
    QTest::keyClick(view.axial(), Qt::Key_U);
    rows = readReview(reviewFile);
    QCOMPARE(rows.size(), size_t(1));
    QCOMPARE(ctl.currentKey(), QStringLiteral("c1"));
    waitIdle(ctl);
    QVERIFY(qFuzzyCompare(ctl.metrics().cpm, 5.5 / 7));
    QTest::keyClick(view.axial(), Qt::Key_R);
    QCOMPARE(readReview(reviewFile).size(), size_t(2));

    // N: scan 0 is done; the next unreviewed candidate is scan 1's best, candidate 2.
    QTest::keyClick(view.axial(), Qt::Key_N);
    QCOMPARE(ctl.currentKey(), QStringLiteral("c2"));
    QCOMPARE(ctl.currentScan(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(ctl.loadedScan() == 1, 20000);
    QCOMPARE(view.scanTable()->currentIndex().row(), 1);
    const Vec3 i2 = geometry_[1].world_to_index(fp2_);
    QCOMPARE(view.axial()->slice(), static_cast<int>(std::lround(i2.z)));

    // The z strip moves the axial view.
    view.strip()->resize(30, 400);
    QTest::mouseClick(view.strip(), Qt::LeftButton, {}, QPoint(15, static_cast<int>(view.strip()->yOf(3))));
    QCOMPARE(view.axial()->slice(), 3);
    view.axial()->setSlice(static_cast<int>(std::lround(i2.z)));

    // M, then a click: a missed nodule (6 mm, the default) where nothing is.
    markMissed(view, ctl, reviewFile);

    // Three reference nodules now (A, B, the missed one), none of the marks on the new one.
    // Kept: 0.9 TP, 0.7 FP, 0.6 TP, 0.3 FP -> sensitivity 1/3 at 1/8 and 1/4, 2/3 from 1/2 on:
    // CPM (2/3 + 10/3) / 7 = 4/7; mAP 1/3 * 1 + 1/3 * 2/3 = 5/9. Detector: 0.9 TP, 0.8 FP,
    // 0.7 FP, 0.6 TP (at 1 FP/scan), 0.3 FP: 1/3 up to 1/2, 2/3 from 1 on: CPM (1 + 8/3) / 7 =
    // 11/21; mAP 1/3 + 1/3 * 2/4 = 1/2.
    waitIdle(ctl);
    m = ctl.metrics();
    QCOMPARE(m.nodules, 3);
    QCOMPARE(m.annotated, 2);
    QCOMPARE(m.accepted, 1);
    QCOMPARE(m.rejected, 1);
    QCOMPARE(m.missed, 1);
    QCOMPARE(m.pending, 3);
    QVERIFY(qFuzzyCompare(m.cpm, 4.0 / 7));
    QVERIFY(qFuzzyCompare(m.detectorCpm, 11.0 / 21));
    QVERIFY(qFuzzyCompare(m.map50, 5.0 / 9));
    QVERIFY(qFuzzyCompare(m.detectorMap50, 0.5));
    const QVector<double> sens{1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3};
    QCOMPARE(m.sensitivities.size(), sens.size());
    for (int i = 0; i < sens.size(); ++i) QVERIFY(qFuzzyCompare(m.sensitivities[i], sens[i]));

    // Threshold 0.65: candidates 3 (the hit on B) and 4 drop out. Detector: 0.9 TP, 0.8 FP,
    // 0.7 FP; kept: 0.9 TP, 0.7 FP: sensitivity 1/3 everywhere, CPM 1/3 for both.
    view.thresholdSlider()->setValue(650);
    QCOMPARE(ctl.threshold(), 0.65);
    QCOMPARE(view.scans()->rows()[1].candidates, 1);
    waitIdle(ctl);
    QVERIFY(qFuzzyCompare(ctl.metrics().cpm, 1.0 / 3));
    QVERIFY(qFuzzyCompare(ctl.metrics().detectorCpm, 1.0 / 3));
    view.thresholdSlider()->setValue(0);
    waitIdle(ctl);
    QVERIFY(qFuzzyCompare(ctl.metrics().cpm, 4.0 / 7));

    // U takes the missed mark back; marking it again leaves the state for the reopen test.
    QTest::keyClick(view.axial(), Qt::Key_U);
    QCOMPARE(readReview(reviewFile).size(), size_t(2));
    markMissed(view, ctl, reviewFile);
  }

  void reopenRestores() {
    ReviewView view;
    view.resize(1600, 1000);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    ReviewController ctl;
    ctl.bind(&view);
    ctl.openFolder(dir_);
    QTRY_VERIFY_WITH_TIMEOUT(ctl.loadedScan() == 0, 20000);
    waitIdle(ctl);
    const auto& s = view.scans()->rows();
    QCOMPARE(s[0].accepted, 1);
    QCOMPARE(s[0].rejected, 1);
    QCOMPARE(s[0].reviewed, 2);
    QCOMPARE(s[1].missed, 1);
    QCOMPARE(s[1].reviewed, 0);
    QCOMPARE(view.candidates()->rows()[0].decision, r1::widgets::ReviewDecision::Accepted);
    QCOMPARE(view.candidates()->rows()[1].decision, r1::widgets::ReviewDecision::Rejected);
    QVERIFY(qFuzzyCompare(ctl.metrics().cpm, 4.0 / 7));
    QVERIFY(qFuzzyCompare(ctl.metrics().detectorCpm, 11.0 / 21));

    // Exports read back.
    const QString sub = tmp() + QStringLiteral("/review-submission.csv");
    const QString dec = tmp() + QStringLiteral("/review-decisions.csv");
    const QString png = tmp() + QStringLiteral("/review-export.png");
    QString err;
    QVERIFY2(ctl.exportSubmission(sub, &err), qPrintable(err));
    const auto detections = r1::vision::read_luna_submission(sub.toStdString());
    std::vector<double> probs;
    for (const auto& d : detections) probs.push_back(d.probability);
    std::sort(probs.begin(), probs.end());
    QCOMPARE(probs, (std::vector<double>{0.3, 0.6, 0.7, 0.9}));  // the rejected 0.8 is gone
    QVERIFY2(ctl.exportDecisions(dec, &err), qPrintable(err));
    const auto all = readReview(dec);
    QCOMPARE(all.size(), size_t(6));
    int pending = 0, missed = 0;
    for (const auto& r : all) {
      pending += r.decision == "pending";
      missed += r.decision == "missed" && r.candidate == "M2";  // M1 was undone
    }
    QCOMPARE(pending, 3);
    QCOMPARE(missed, 1);
    QVERIFY2(ctl.exportImage(png, &err), qPrintable(err));
    const QImage img(png);
    QCOMPARE(img.size(), view.imageArea()->size());
    // The lung window shows the phantom's outside air (-1000 HU) at about 60 of 255.
    QVERIFY(std::abs(qGray(img.pixel(view.axial()->voxelToWidget(3, 64, 0).toPoint())) - 60) < 12);

    shot(view, ctl, QStringLiteral("review_en.png"));
  }

  void screenshotChinese() {
    QVERIFY(r1::app::installLanguage(QStringLiteral("zh_CN")));
    {
      ReviewView view;
      view.resize(1600, 1000);
      view.show();
      QVERIFY(QTest::qWaitForWindowExposed(&view));
      ReviewController ctl;
      ctl.bind(&view);
      ctl.openFolder(dir_);
      QTRY_VERIFY_WITH_TIMEOUT(ctl.loadedScan() == 0, 20000);
      waitIdle(ctl);
      shot(view, ctl, QStringLiteral("review_zh_CN.png"));
    }
    r1::app::installLanguage(QStringLiteral("en"));
  }

  void demoData() {
    // The stand-in detector's candidates: every row names a scan of the set, its true nodules
    // are among them (most of them), and the banner says what they are.
    const QString demo = tmp() + QStringLiteral("/review-demo");
    QDir(demo).removeRecursively();
    ReviewView view;
    ReviewController ctl;
    ctl.bind(&view);
    ctl.generateDemo(demo, 2, 11);
    QTRY_VERIFY_WITH_TIMEOUT(ctl.loadedScan() == 0, 30000);
    waitIdle(ctl);
    QVERIFY(ctl.demoCandidates());
    QVERIFY(view.demoBannerVisible());
    QCOMPARE(ctl.scanCount(), 2);
    const auto rows = r1::vision::read_luna_submission((demo + QStringLiteral("/r1-demo-candidates.csv")).toStdString());
    const auto truth = r1::vision::read_luna_annotations((demo + QStringLiteral("/annotations.csv")).toStdString());
    QVERIFY(rows.size() >= 6);
    int hit = 0;
    for (const auto& t : truth)
      for (const auto& r : rows) hit += r.seriesuid == t.seriesuid && r1::vision::norm(r.center - t.center) <= t.diameter_mm / 2;
    QVERIFY(hit >= 1);
    QVERIFY(ctl.metrics().detected >= 1);
    QVERIFY(ctl.metrics().falsePositives >= 6);
  }

  void detectorRun() {
    QVERIFY(ensureDetector());
    const QString reviewFile = detDir_ + QStringLiteral("/r1-review.csv");
    QFile::remove(reviewFile);
    ReviewView view;
    view.resize(1600, 1000);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    ReviewController ctl;
    ctl.bind(&view);
    ctl.openFolder(detDir_);
    QTRY_VERIFY_WITH_TIMEOUT(ctl.loadedScan() == 0, 20000);
    waitIdle(ctl);
    QCOMPARE(ctl.candidatesFile(), detDir_ + QStringLiteral("/submission.csv"));
    // A decision on the submission's candidate 0 before the run: it must survive it.
    ctl.selectCandidate(QStringLiteral("c0"));
    ctl.accept();
    QCOMPARE(readReview(reviewFile).size(), size_t(1));

    QSignalSpy busy(&ctl, &ReviewController::busyChanged);
    QSignalSpy messages(&ctl, &ReviewController::message);
    ctl.runDetector(ckpt_);
    QVERIFY(ctl.detecting());
    QTRY_VERIFY_WITH_TIMEOUT(!ctl.detecting() && ctl.idle() && ctl.loadedScan() == 0, 60000);
    const QString csv = ctl.candidatesFile();
    QVERIFY2(lastError(messages).isEmpty(), qPrintable(lastError(messages)));
    QCOMPARE(QFileInfo(csv).fileName(), QStringLiteral("r1-detections-tiny-ckpt-00000003.csv"));
    QCOMPARE(QFileInfo(csv).absolutePath(), QFileInfo(detDir_).absoluteFilePath());
    QVERIFY(!view.demoBannerVisible());
    QVERIFY(messages.last().at(0).toString().contains(QFileInfo(csv).fileName()));

    // Progress within each scan: "scan i of 2", percent of its slices, 200 in all.
    bool within = false;
    for (const auto& b : busy)
      within = within || (b.at(0).toString().contains(QStringLiteral("scan 2 of 2")) &&
                          b.at(2).toInt() == 200 && b.at(1).toInt() > 100 && b.at(1).toInt() < 200);
    QVERIFY(within);

    // The CSV reads back with the engine's reader: one row per detection of the same checkpoint
    // run by the engine directly, in scan order.
    const auto rows = r1::vision::read_luna_submission(csv.toStdString());
    // The same device and batch as the page's run (app/review_detect.cpp): CUDA where there is
    // one, else the CPU with 4 slices per pass; the same computation gives the same rows.
    const bool cuda = r1::compat::kTorchHasCuda && r1::compat::cuda_available();
    auto det = r1::vision::Detector::load(
        ckpt_.toStdString(), cuda ? "cuda" : "cpu",
        cuda ? std::vector<std::string>{} : std::vector<std::string>{"decode.batch=4"});
    std::vector<r1::vision::LunaDetection> expect;
    for (const auto& sc : detScans_)
      for (const auto& c : det.detect(r1::vision::read_volume(sc.path)))
        expect.push_back({sc.seriesuid, c.world, c.score});
    QVERIFY(!expect.empty());
    QCOMPARE(rows.size(), expect.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      QCOMPARE(rows[i].seriesuid, expect[i].seriesuid);
      QVERIFY(r1::vision::norm(rows[i].center - expect[i].center) < 1e-6);
      QVERIFY(std::abs(rows[i].probability - expect[i].probability) < 1e-9);
    }

    // The scan list counts them, plus the accepted candidate of the old CSV (kept from the
    // review file); nothing decided was lost.
    waitIdle(ctl);
    int listed = 0;
    for (const auto& r : view.scans()->rows()) listed += r.candidates;
    QCOMPARE(listed, int(rows.size()) + 1);
    QCOMPARE(view.scans()->rows()[0].accepted, 1);
    QCOMPARE(ctl.metrics().accepted, 1);
    QCOMPARE(readReview(reviewFile).size(), size_t(1));

    ctl.selectCandidate(QStringLiteral("c0"));
    QCoreApplication::processEvents();
    QVERIFY(view.grab().save(tmp() + QStringLiteral("/review_detector_en.png")));

    // Again: a new file beside the first, which stays as it was.
    const QByteArray first = readAll(csv);
    ctl.runDetector(ckpt_);
    QTRY_VERIFY_WITH_TIMEOUT(!ctl.detecting() && ctl.idle() && ctl.loadedScan() == 0, 60000);
    QCOMPARE(QFileInfo(ctl.candidatesFile()).fileName(), QStringLiteral("r1-detections-tiny-ckpt-00000003-2.csv"));
    QCOMPARE(readAll(csv), first);
    QCOMPARE(readAll(ctl.candidatesFile()), first);
    QCOMPARE(ctl.metrics().accepted, 1);
  }

  void detectorCancel() {
    QVERIFY(ensureDetector());
    ReviewView view;
    view.resize(1600, 1000);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    ReviewController ctl;
    ctl.bind(&view);
    ctl.openFolder(detDir_);
    QTRY_VERIFY_WITH_TIMEOUT(ctl.loadedScan() == 0, 20000);
    waitIdle(ctl);
    const QString candidates = ctl.candidatesFile();
    const auto before = view.scans()->rows();
    const QStringList files = QDir(detDir_).entryList(QDir::Files, QDir::Name);
    const QByteArray review = readAll(detDir_ + QStringLiteral("/r1-review.csv"));

    // Cancel at the first progress inside a scan, as the Cancel button does; the page shows the
    // progress and the button at that moment.
    bool cancelled = false, cancelShown = false;
    QElapsedTimer sinceCancel;
    connect(&ctl, &ReviewController::busyChanged, &ctl, [&](const QString& what, int done, int total) {
      if (cancelled || total <= 0 || done <= 0) return;
      for (auto* b : view.findChildren<QPushButton*>())
        cancelShown = cancelShown || (b->text() == QStringLiteral("Cancel") && b->isVisible());
      view.grab().save(tmp() + QStringLiteral("/review_detector_busy.png"));
      cancelled = true;
      sinceCancel.start();
      Q_EMIT view.cancelRequested();
    });
    ctl.runDetector(ckpt_);
    QTRY_VERIFY_WITH_TIMEOUT(cancelled, 30000);
    QVERIFY(cancelShown);
    QTRY_VERIFY_WITH_TIMEOUT(ctl.idle(), 5000);
    const qint64 ms = sinceCancel.elapsed();
    QVERIFY2(ms < 1500, qPrintable(QStringLiteral("stopped %1 ms after Cancel").arg(ms)));
    QVERIFY(!ctl.detecting());
    QTest::qWait(100);  // nothing arrives late

    QCOMPARE(ctl.candidatesFile(), candidates);
    QCOMPARE(QDir(detDir_).entryList(QDir::Files, QDir::Name), files);
    QCOMPARE(readAll(detDir_ + QStringLiteral("/r1-review.csv")), review);
    const auto after = view.scans()->rows();
    QCOMPARE(after.size(), before.size());
    for (int i = 0; i < after.size(); ++i) {
      QCOMPARE(after[i].candidates, before[i].candidates);
      QCOMPARE(after[i].accepted, before[i].accepted);
      QCOMPARE(after[i].reviewed, before[i].reviewed);
    }
    QVERIFY(!view.busyVisible());
  }

  void detectorErrors_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("reason");  // a part of the message after the file's name
    QTest::newRow("not a checkpoint") << "text" << "not an R1 checkpoint";
    QTest::newRow("corrupted") << "corrupt" << "checksum mismatch";
    QTest::newRow("not a detector") << "lm" << "not a detector checkpoint";
    QTest::newRow("wrong input channels") << "channels" << "does not match this model";
    QTest::newRow("unreadable scan") << "scan" << "The detector stopped at scan";
  }

  void detectorErrors() {
    QFETCH(QString, kind);
    QFETCH(QString, reason);
    QVERIFY(ensureDetector());
    QString folder = detDir_, checkpoint = ckpt_, named;
    const std::string path = (tmp() + QStringLiteral("/detector-") + kind + QStringLiteral(".r1ckpt")).toStdString();
    r1::train::CheckpointReader good(ckpt_.toStdString());
    const auto cfg = r1::vision::detect_config_from_string(good.meta().config_toml, "test");
    if (kind == QLatin1String("text")) {
      r1::vision::write_text_file(path, "seriesuid,coordX\n", "test");
    } else if (kind == QLatin1String("corrupt")) {
      QFile::remove(QString::fromStdString(path));
      QVERIFY(QFile::copy(ckpt_, QString::fromStdString(path)));
      QFile f(QString::fromStdString(path));
      QVERIFY(f.open(QIODevice::ReadWrite));
      f.seek(f.size() / 2);
      char byte = 0;
      f.getChar(&byte);
      f.seek(f.size() / 2);
      f.putChar(static_cast<char>(byte ^ 0x5a));
    } else if (kind == QLatin1String("lm") || kind == QLatin1String("channels")) {
      // An LM's fingerprint; or the detector's config with a stem for 5 input slices.
      r1::vision::DetectorNet net(cfg.model, kind == QLatin1String("lm") ? 3 : 5);
      r1::train::CheckpointMeta m;
      m.config_toml = good.meta().config_toml;
      m.data_fingerprint = kind == QLatin1String("lm") ? "tokens v1" : good.meta().data_fingerprint;
      r1::train::save_checkpoint(path, *net, nullptr, m);
    } else {
      // A scan whose header reads but whose voxels are cut short.
      folder = tmp() + QStringLiteral("/review-detect-bad");
      QDir(folder).removeRecursively();
      r1::vision::PhantomOptions o;
      o.size_xy_min = o.size_xy_max = 64;
      o.slices_min = o.slices_max = 16;
      o.vessel_targets = 20;
      const auto set = r1::vision::write_phantom_set(folder.toStdString(), 1, 3, o);
      const QFileInfo mhd(QString::fromStdString(set[0].path));
      for (const auto& f : mhd.dir().entryInfoList({mhd.completeBaseName() + QStringLiteral(".*")}, QDir::Files))
        if (f.suffix() != QLatin1String("mhd")) QVERIFY(QFile::resize(f.filePath(), 100));
      named = mhd.fileName();
    }
    if (kind != QLatin1String("scan")) {
      checkpoint = QString::fromStdString(path);
      named = QFileInfo(checkpoint).fileName();
    }

    ReviewView view;
    ReviewController ctl;
    ctl.bind(&view);
    ctl.openFolder(folder);
    QTRY_VERIFY_WITH_TIMEOUT(ctl.scanCount() > 0, 20000);
    waitIdle(ctl);
    const QString candidates = ctl.candidatesFile();
    QSignalSpy messages(&ctl, &ReviewController::message);
    ctl.runDetector(checkpoint);
    QTRY_VERIFY_WITH_TIMEOUT(!ctl.detecting() && ctl.idle(), 30000);
    const QString error = lastError(messages);
    QVERIFY2(error.contains(named) && error.contains(reason), qPrintable(error));
    QCOMPARE(ctl.candidatesFile(), candidates);
  }

 private:
  void markMissed(ReviewView& view, ReviewController& ctl, const QString& reviewFile) {
    const int slice = view.axial()->slice();
    QTest::keyClick(view.axial(), Qt::Key_M);
    QVERIFY(view.markingMissed());
    const QPoint at = view.axial()->voxelToWidget(20, 100, slice).toPoint();
    QTest::mouseClick(view.axial(), Qt::LeftButton, {}, at);
    QVERIFY(!view.markingMissed());
    const auto rows = readReview(reviewFile);
    QCOMPARE(rows.size(), size_t(3));
    const Row* missed = nullptr;
    for (const auto& r : rows)
      if (r.decision == "missed") missed = &r;
    QVERIFY(missed);
    QCOMPARE(missed->seriesuid, scans_[1].seriesuid);
    const Vec3 expect = geometry_[1].index_to_world({20, 100, double(slice)});
    QVERIFY2(r1::vision::norm(missed->world - expect) < 1.0, "the missed mark lies where it was clicked");
    QVERIFY(r1::vision::norm(missed->world - b_) > 3 + 3);  // apart from nodule B and its hit
    QVERIFY(ctl.currentKey().startsWith(QLatin1Char('m')));
  }

  void shot(ReviewView& view, ReviewController& ctl, const QString& name) {
    // Candidate 0 over nodule A: the candidate box, the ground-truth circle and labels.
    ctl.selectCandidate(QStringLiteral("c1"));
    ctl.selectCandidate(QStringLiteral("c0"));
    QCoreApplication::processEvents();
    QVERIFY(view.grab().save(tmp() + QLatin1Char('/') + name));
  }
};

QTEST_MAIN(TestReview)
#include "test_review.moc"
