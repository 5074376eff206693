// Evaluation against cases worked out by hand (in the comments), never against the code's own
// output: IoU and all-point AP / mAP@0.5, the LUNA16 FROC protocol (duplicate hits, excluded
// findings, the 100-marks cap, CPM), and the LUNA16 CSV files (round trip, tolerant parsing,
// errors that name file, line and column).
#include <QtTest/QtTest>
#include <cmath>
#include <string>
#include <vector>

#include "engine/vision/eval_froc.h"
#include "engine/vision/eval_map.h"
#include "engine/vision/luna_csv.h"
#include "engine/vision/vision_error.h"

using r1::vision::Box2D;
using r1::vision::DetectedBox;
using r1::vision::FrocOptions;
using r1::vision::FrocResult;
using r1::vision::GroundTruthBox;
using r1::vision::LunaAnnotation;
using r1::vision::LunaDetection;
using r1::vision::VisionError;

namespace {

template <typename F>
QString error_of(F&& f) {
  try {
    f();
  } catch (const VisionError& e) {
    return QString::fromUtf8(e.what());
  }
  return QString();
}

bool near(double a, double b) { return std::fabs(a - b) < 1e-12; }

bool write_bytes(const QString& path, const QByteArray& bytes) {
  QDir().mkpath(QFileInfo(path).path());
  QFile f(path);
  return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

}  // namespace

class TestLunaEval final : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  QString tmp(const QString& name) const { return dir_.filePath(name); }
  std::string path(const QString& name) const { return tmp(name).toStdString(); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QVERIFY(QDir().mkpath(tmp(QStringLiteral("csv"))));
  }

  void iou() {
    // (0,0)-(10,10) and (5,0)-(15,10): intersection 5·10 = 50, union 100 + 100 - 50 = 150.
    QVERIFY(near(r1::vision::box_iou({0, 0, 10, 10}, {5, 0, 15, 10}), 1.0 / 3));
    // Nested: (0,0)-(10,10) and (0,0)-(10,5): 50 / 100.
    QVERIFY(near(r1::vision::box_iou({0, 0, 10, 10}, {0, 0, 10, 5}), 0.5));
    // Touching edges only: no overlap.
    QVERIFY(near(r1::vision::box_iou({0, 0, 10, 10}, {10, 0, 20, 10}), 0.0));
    QVERIFY(near(r1::vision::box_iou({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0));
  }

  void averagePrecision() {
    // Ranked: TP FP TP FP with 2 ground truths → recall .5 .5 1 1, precision 1 .5 .667 .5.
    // Precision made non-increasing from the right: 1 .667 .667 .5. Rises in recall: 0→.5 at
    // precision 1, .5→1 at precision 2/3. AP = .5·1 + .5·2/3 = 5/6.
    QVERIFY(near(r1::vision::average_precision({0.5, 0.5, 1, 1}, {1, 0.5, 2.0 / 3, 0.5}), 5.0 / 6));
    // Nothing found: AP 0. Everything found first: AP 1.
    QVERIFY(near(r1::vision::average_precision({}, {}), 0.0));
    QVERIFY(near(r1::vision::average_precision({0.5, 1}, {1, 1}), 1.0));
  }

  void meanAveragePrecision() {
    std::vector<GroundTruthBox> gt = {
        {"a", 0, {0, 0, 10, 10}},    // g1
        {"a", 0, {20, 20, 30, 30}},  // g2
        {"b", 0, {0, 0, 10, 10}},    // g3
        {"a", 1, {40, 40, 50, 50}}, {"c", 2, {0, 0, 10, 10}},
        {"d", 4, {0, 0, 10, 10}},  // class 4: never detected
    };
    std::vector<DetectedBox> det = {
        // class 0, by score:
        {"a", 0, {1, 0, 11, 10}, 0.8},    // g1 again (IoU 90/110): already matched → FP
        {"a", 0, {0, 0, 10, 10}, 0.9},    // g1, IoU 1 → TP
        {"b", 0, {0, 5, 10, 15}, 0.7},    // g3, IoU 50/150 = 1/3 → FP
        {"a", 0, {20, 20, 30, 30}, 0.6},  // g2 → TP
        {"b", 0, {0, 0, 10, 8}, 0.5},     // g3, IoU 80/100 → TP
        // class 1: the right box in the wrong image first, then the right one.
        {"b", 1, {40, 40, 50, 50}, 0.95},
        {"a", 1, {40, 40, 50, 50}, 0.3},
        // class 2: IoU exactly 0.5 counts (>= 0.5).
        {"c", 2, {0, 0, 10, 5}, 0.4},
        // class 3: no ground truth at all → left out of the mean.
        {"c", 3, {0, 0, 10, 10}, 0.9},
    };
    const auto r = r1::vision::mean_average_precision(gt, det, 0.5);
    // class 0 ranked TP FP FP TP TP: precision 1, 1/2, 1/3, 2/4, 3/5; recall 1/3, 1/3, 1/3, 2/3, 1.
    // Interpolated (max to the right): 1, .6, .6, .6, .6. AP = 1/3·1 + 1/3·.6 + 1/3·.6 = 11/15.
    // class 1 ranked FP TP: precision 0, 1/2; recall 0, 1 → AP = 1·1/2.
    // class 2: AP 1. class 4: AP 0.  mAP = (11/15 + 1/2 + 1 + 0) / 4 = 67/120.
    QCOMPARE(int(r.classes.size()), 4);
    QCOMPARE(r.classes[0].label, 0);
    QCOMPARE(r.classes[0].true_positives, 3);
    QCOMPARE(r.classes[0].detections, 5);
    QCOMPARE(r.classes[0].ground_truths, 3);
    QVERIFY(near(r.classes[0].ap, 11.0 / 15));
    QVERIFY(near(r.classes[1].ap, 0.5));
    QVERIFY(near(r.classes[2].ap, 1.0));
    QCOMPARE(r.classes[3].label, 4);
    QVERIFY(near(r.classes[3].ap, 0.0));
    QVERIFY(near(r.map, 67.0 / 120));
    QCOMPARE(r.unmatched_label_detections, 1);

    // At IoU 0.75 the 0.8 box still meets matched g1 (FP) and class 2's 0.5 overlap fails:
    // class 0 unchanged (its TPs have IoU 1, 1 and 0.8), class 2 → 0. mAP = (11/15 + 1/2) / 4.
    const auto r75 = r1::vision::mean_average_precision(gt, det, 0.75);
    QVERIFY(near(r75.map, (11.0 / 15 + 0.5) / 4));

    QVERIFY(error_of([&] {
              r1::vision::mean_average_precision({{"x", 0, {5, 0, 1, 1}}}, {});
            }).contains(QStringLiteral("image x has x1 < x0")));
    QVERIFY(std::isnan(r1::vision::mean_average_precision({}, det).map));
  }

  void frocByHand() {
    // Scan S1: nodules N1 at (0,0,0) d 10 (r 5) and N2 at (50,0,0) d 6 (r 3); an excluded
    // finding E1 at (0,50,0) with diameter -1 (→ 10 mm, r 5). Scan S2: nodule N3 at (0,0,0) d 8.
    const std::vector<LunaAnnotation> nodules = {
        {"S1", {0, 0, 0}, 10}, {"S1", {50, 0, 0}, 6}, {"S2", {0, 0, 0}, 8}};
    const std::vector<LunaAnnotation> excluded = {{"S1", {0, 50, 0}, -1}};
    const std::vector<LunaDetection> marks = {
        {"S1", {1, 0, 0}, 0.9},      // hits N1 (1 mm from its centre)
        {"S1", {0, 2, 0}, 0.6},      // hits N1 again: a duplicate, neither TP nor FP
        {"S1", {0, 52, 0}, 0.8},     // hits only E1: ignored
        {"S1", {20, 0, 0}, 0.7},     // FP
        {"S2", {0, 0, 4}, 0.5},      // exactly on N3's sphere (distance 4 = r): a hit
        {"S2", {30, 30, 30}, 0.95},  // FP
        {"S2", {0, 0, 9}, 0.3},      // 9 mm from N3 (r 4): FP
        {"S9", {0, 0, 0}, 0.99},     // a scan not evaluated: left out
    };
    const FrocResult r = r1::vision::evaluate_froc({"S1", "S2"}, nodules, excluded, marks);
    // N1's score is max(0.9, 0.6) = 0.9, N3's 0.5, N2 undetected. FP scores 0.95, 0.7, 0.3.
    // 3 nodules, 2 scans. By descending threshold (FPs/scan, sensitivity):
    //   +inf (0, 0) · 0.95 (0.5, 0) · 0.9 (0.5, 1/3) · 0.7 (1, 1/3) · 0.5 (1, 2/3) · 0.3 (1.5, 2/3)
    QCOMPARE(r.scans, 2);
    QCOMPARE(r.nodules, 3);
    QCOMPARE(r.detected_nodules, 2);
    QCOMPARE(r.detections, 7);
    QCOMPARE(r.false_positives, 3);
    QCOMPARE(r.duplicate_hits, 1);
    QCOMPARE(r.ignored_on_excluded, 1);
    QCOMPARE(r.detections_outside_scans, 1);
    const double want[6][3] = {{INFINITY, 0, 0},    {0.95, 0.5, 0},      {0.9, 0.5, 1.0 / 3},
                               {0.7, 1.0, 1.0 / 3}, {0.5, 1.0, 2.0 / 3}, {0.3, 1.5, 2.0 / 3}};
    QCOMPARE(int(r.curve.size()), 6);
    for (int k = 0; k < 6; ++k) {
      QCOMPARE(r.curve[k].threshold, want[k][0]);
      QVERIFY(near(r.curve[k].fps_per_scan, want[k][1]));
      QVERIFY(near(r.curve[k].sensitivity, want[k][2]));
    }
    // Sensitivity at the largest FP count <= the rate: 1/8 → 0, 1/4 → 0, 1/2 → 1/3, 1 → 2/3,
    // 2, 4, 8 → 2/3. CPM = (0 + 0 + 1/3 + 4·2/3) / 7 = 3/7.
    const double sens[7] = {0, 0, 1.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3};
    QCOMPARE(int(r.sensitivities.size()), 7);
    for (int k = 0; k < 7; ++k) QVERIFY(near(r.sensitivities[k], sens[k]));
    QVERIFY(near(r.cpm, 3.0 / 7));

    // Without the excluded list the mark on E1 (0.8) is a false positive:
    //   0.95 (0.5, 0) · 0.9 (0.5, 1/3) · 0.8 (1, 1/3) · 0.7 (1.5, 1/3) · 0.5 (1.5, 2/3) ·
    //   0.3 (2, 2/3)
    // so at 1 FP/scan sensitivity is 1/3, not 2/3: CPM = (0 + 0 + 1/3 + 1/3 + 3·2/3) / 7 = 8/21.
    const FrocResult no_exc = r1::vision::evaluate_froc({"S1", "S2"}, nodules, {}, marks);
    QCOMPARE(no_exc.false_positives, 4);
    QCOMPARE(no_exc.ignored_on_excluded, 0);
    QVERIFY(near(no_exc.sensitivities[3], 1.0 / 3));
    QVERIFY(near(no_exc.cpm, 8.0 / 21));

    // A third, empty scan dilutes the FP rate: 3 FPs over 3 scans → 0.95 (1/3, 0),
    // 0.9 (1/3, 1/3), 0.7 (2/3, 1/3), 0.5 (2/3, 2/3), 0.3 (1, 2/3).
    // At 1/8, 1/4: 0; 1/2: 1/3; 1, 2, 4, 8: 2/3. CPM = (1/3 + 8/3) / 7 = 3/7 again.
    const FrocResult three =
        r1::vision::evaluate_froc({"S1", "S2", "S3"}, nodules, excluded, marks);
    QVERIFY(near(three.sensitivities[2], 1.0 / 3));
    QVERIFY(near(three.curve.back().fps_per_scan, 1.0));
    QVERIFY(near(three.cpm, 3.0 / 7));
  }

  void frocOverlapAndErrors() {
    // Two nodules 4 mm apart (d 10 each): one mark between them hits both; the official script
    // counts both as detected.
    const FrocResult r = r1::vision::evaluate_froc(
        {"A"}, {{"A", {0, 0, 0}, 10}, {"A", {4, 0, 0}, 10}}, {}, {{"A", {2, 0, 0}, 0.5}});
    QCOMPARE(r.detected_nodules, 2);
    QCOMPARE(r.false_positives, 0);
    // No FPs at all: every rate reads the final sensitivity.
    QVERIFY(near(r.cpm, 1.0));
    // No nodules: sensitivity is undefined.
    QVERIFY(std::isnan(r1::vision::evaluate_froc({"A"}, {}, {}, {{"A", {0, 0, 0}, 1}}).cpm));

    QVERIFY(error_of([] {
              r1::vision::evaluate_froc({}, {}, {}, {});
            }).contains(QStringLiteral("no scans")));
    QVERIFY(error_of([] {
              r1::vision::evaluate_froc({"A", "A"}, {}, {}, {});
            }).contains(QStringLiteral("series A is listed twice")));
    QVERIFY(error_of([] {
              r1::vision::evaluate_froc({"A"}, {}, {}, {{"A", {0, 0, 0}, std::nan("")}});
            }).contains(QStringLiteral("non-finite score")));
  }

  void frocCapAt100() {
    // One scan, one nodule (origin, d 10). 100 FPs far away scoring 0.002 ... 0.101 and the only
    // hit scoring 0.001: 101 marks, so the lowest goes and the nodule is missed.
    std::vector<LunaDetection> marks;
    for (int k = 1; k <= 100; ++k) marks.push_back({"A", {100.0 + k, 0, 0}, (k + 1) / 1000.0});
    marks.push_back({"A", {0, 0, 0}, 0.001});
    const std::vector<LunaAnnotation> nod = {{"A", {0, 0, 0}, 10}};
    const FrocResult capped = r1::vision::evaluate_froc({"A"}, nod, {}, marks);
    QCOMPARE(capped.dropped_by_cap, 1);
    QCOMPARE(capped.detections, 100);
    QCOMPARE(capped.detected_nodules, 0);
    QCOMPARE(capped.false_positives, 100);
    QVERIFY(near(capped.curve.back().sensitivity, 0.0));
    // Without the cap the nodule is found at 100 FPs per scan.
    FrocOptions no_cap;
    no_cap.max_marks_per_scan = 0;
    const FrocResult all = r1::vision::evaluate_froc({"A"}, nod, {}, marks, no_cap);
    QCOMPARE(all.detected_nodules, 1);
    QVERIFY(near(all.curve.back().sensitivity, 1.0));
    QVERIFY(near(all.curve.back().fps_per_scan, 100.0));

    // Ties across the cut (as the official script): 98 marks above, then three at 0.5. The
    // 101st highest score is 0.5, only scores > 0.5 stay: 98 marks, 3 dropped.
    std::vector<LunaDetection> tied;
    for (int k = 0; k < 98; ++k) tied.push_back({"A", {200.0 + k, 0, 0}, 0.9 - k / 1000.0});
    for (int k = 0; k < 3; ++k) tied.push_back({"A", {0, 0, double(k)}, 0.5});
    const FrocResult t = r1::vision::evaluate_froc({"A"}, nod, {}, tied);
    QCOMPARE(t.detections, 98);
    QCOMPARE(t.dropped_by_cap, 3);
    QCOMPARE(t.detected_nodules, 0);
    // Exactly 100 marks: nothing dropped.
    tied.pop_back();
    QCOMPARE(r1::vision::evaluate_froc({"A"}, nod, {}, tied).dropped_by_cap, 0);
  }

  void csvRoundTrip() {
    const std::vector<LunaAnnotation> a = {
        {"1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860",
         {-128.6994211, -175.3192718, -298.3875064},
         5.651470635},
        {"uid,with \"comma\"", {0.1, -0.2, 1e-7}, -1}};
    r1::vision::write_luna_annotations(path("csv/annotations.csv"), a);
    const auto b = r1::vision::read_luna_annotations(path("csv/annotations.csv"));
    QCOMPARE(int(b.size()), 2);
    for (int k = 0; k < 2; ++k) {
      QCOMPARE(b[k].seriesuid, a[k].seriesuid);
      QCOMPARE(b[k].center.x, a[k].center.x);
      QCOMPARE(b[k].center.y, a[k].center.y);
      QCOMPARE(b[k].center.z, a[k].center.z);
      QCOMPARE(b[k].diameter_mm, a[k].diameter_mm);
    }
    QFile f(tmp("csv/annotations.csv"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readLine(), QByteArray("seriesuid,coordX,coordY,coordZ,diameter_mm\n"));
    QCOMPARE(f.readLine(),
             QByteArray("1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860,"
                        "-128.6994211,-175.3192718,-298.3875064,5.651470635\n"));
    QCOMPARE(f.readLine(), QByteArray("\"uid,with \"\"comma\"\"\",0.1,-0.2,1e-07,-1\n"));

    r1::vision::write_luna_candidates(path("csv/candidates.csv"),
                                      {{"s1", {1, 2, 3}, 1}, {"s2", {-4.5, 5, 6}, 0}});
    const auto c = r1::vision::read_luna_candidates(path("csv/candidates.csv"));
    QCOMPARE(int(c.size()), 2);
    QCOMPARE(c[0].label, 1);
    QCOMPARE(c[1].label, 0);
    QCOMPARE(c[1].center.x, -4.5);
    r1::vision::write_luna_submission(path("csv/sub.csv"), {{"s1", {1, 2, 3}, 0.875}});
    const auto s = r1::vision::read_luna_submission(path("csv/sub.csv"));
    QCOMPARE(int(s.size()), 1);
    QCOMPARE(s[0].probability, 0.875);
  }

  void csvTolerantReading() {
    // A byte-order mark, CRLF, columns in another order plus an extra one, a quoted field
    // holding a line break, spaces around numbers and a trailing blank line.
    QVERIFY(write_bytes(tmp("csv/odd.csv"),
                        "\xEF\xBB\xBF"
                        "probability,coordZ,seriesuid,coordY,coordX,note\r\n"
                        "0.25, -3.5 ,\"a,b\",2,1,x\r\n"
                        "1,0,s2,0,0,\"two\r\nlines\"\r\n"
                        "0.5,9,s3,8,7,\r\n\r\n"));
    const auto d = r1::vision::read_luna_submission(path("csv/odd.csv"));
    QCOMPARE(int(d.size()), 3);
    QCOMPARE(d[0].seriesuid, std::string("a,b"));
    QCOMPARE(d[0].center.x, 1.0);
    QCOMPARE(d[0].center.y, 2.0);
    QCOMPARE(d[0].center.z, -3.5);
    QCOMPARE(d[0].probability, 0.25);
    QCOMPARE(d[2].seriesuid, std::string("s3"));
    QCOMPARE(d[2].center.x, 7.0);
    // No header: the LUNA16 column order.
    QVERIFY(write_bytes(tmp("csv/plain.csv"), "s1,1,2,3,4.5\ns2,-1,-2,-3,-1\n"));
    const auto p = r1::vision::read_luna_annotations(path("csv/plain.csv"));
    QCOMPARE(int(p.size()), 2);
    QCOMPARE(p[0].diameter_mm, 4.5);
    QCOMPARE(p[1].diameter_mm, -1.0);
    // Only a header: no rows.
    QVERIFY(write_bytes(tmp("csv/empty.csv"), "seriesuid,coordX,coordY,coordZ,class\n"));
    QVERIFY(r1::vision::read_luna_candidates(path("csv/empty.csv")).empty());
  }

  void csvErrors_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("where");
    const QByteArray head = "seriesuid,coordX,coordY,coordZ,diameter_mm\n";
    QTest::newRow("bad number") << "annotations" << head + "s,1,2,3,4\ns,1,2,abc,4\n"
                                << "line 3, column 4 (coordZ): 'abc' is not a number";
    QTest::newRow("missing field") << "annotations" << head + "s,1,2,3\n"
                                   << "line 2, column 5: 4 fields, expected 5 (as the header)";
    QTest::newRow("extra field") << "annotations" << QByteArray("s,1,2,3,4,5\n")
                                 << "line 1, column 6: 6 fields, expected 5 "
                                    "(seriesuid,coordX,coordY,coordZ,diameter_mm)";
    QTest::newRow("empty number") << "annotations" << head + "s,1,,3,4\n"
                                  << "line 2, column 3 (coordY): empty, expected a number";
    QTest::newRow("not finite") << "annotations" << head + "s,1,2,3,nan\n"
                                << "line 2, column 5 (diameter_mm): 'nan' is not a finite number";
    QTest::newRow("empty uid") << "annotations" << head + ",1,2,3,4\n"
                               << "line 2, column 1 (seriesuid): empty seriesuid";
    QTest::newRow("open quote") << "annotations" << head + "s,1,2,3,4\n\"s,1,2,3,4\n"
                                << "line 3, column 1: quoted field is never closed";
    QTest::newRow("after quote") << "annotations" << head + "\"s\"x,1,2,3,4\n"
                                 << "line 2, column 1: text after a closing quote";
    QTest::newRow("line after multi-line field")
        << "annotations" << head + "\"s\n2\",1,2,3,4\ns,1,2,x3,4\n"
        << "line 4, column 4 (coordZ): 'x3' is not a number";
    QTest::newRow("header lacks column")
        << "annotations" << QByteArray("seriesuid,coordX,coordY,diameter_mm\n")
        << "line 1: the header has no 'coordZ' column";
    QTest::newRow("header twice")
        << "annotations" << QByteArray("seriesuid,coordX,coordY,coordZ,coordX,diameter_mm\n")
        << "line 1, column 5: column 'coordX' appears twice in the header";
    QTest::newRow("bad class") << "candidates"
                               << QByteArray("seriesuid,coordX,coordY,coordZ,class\ns,1,2,3,2\n")
                               << "line 2, column 5 (class): '2' is not a class (0 or 1)";
    QTest::newRow("bad probability") << "submission"
                                     << QByteArray(
                                            "seriesuid,coordX,coordY,coordZ,probability\n"
                                            "s,1,2,3,0.5\r\ns,1,2,3,high\r\n")
                                     << "line 3, column 5 (probability): 'high' is not a number";
  }

  void csvErrors() {
    QFETCH(QString, kind);
    QFETCH(QByteArray, text);
    QFETCH(QString, where);
    const QString file = tmp(QStringLiteral("err/%1.csv")
                                 .arg(QString::fromLatin1(QTest::currentDataTag())
                                          .replace(QLatin1Char(' '), QLatin1Char('_'))));
    QVERIFY(write_bytes(file, text));
    const std::string p = file.toStdString();
    const QString e = error_of([&] {
      if (kind == QLatin1String("annotations")) r1::vision::read_luna_annotations(p);
      if (kind == QLatin1String("candidates")) r1::vision::read_luna_candidates(p);
      if (kind == QLatin1String("submission")) r1::vision::read_luna_submission(p);
    });
    QVERIFY2(e.startsWith(kind + QLatin1Char(' ') + file + QLatin1Char(' ') + where),
             qPrintable(e));
  }

  void csvMissingFile() {
    QVERIFY(error_of([&] {
              r1::vision::read_luna_annotations(path("csv/none.csv"));
            }).endsWith(QStringLiteral("none.csv: no such file")));
    QVERIFY(error_of([&] { r1::vision::write_luna_submission(path("nowhere/s.csv"), {}); })
                .endsWith(QStringLiteral("s.csv: folder ") + tmp(QStringLiteral("nowhere")) +
                          QStringLiteral(" does not exist")));
  }
};

QTEST_GUILESS_MAIN(TestLunaEval)
#include "test_luna_eval.moc"
