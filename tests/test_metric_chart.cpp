// MetricChart: downsampled drawing of millions of points, zoom, log y, overlays, screenshot.
#include "widgets/metric_chart.h"

#include <QtCharts/QChartView>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtTest/QtTest>

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QSlider>
#include <QToolButton>
#include <QImage>
#include <QRegularExpression>

#include <cmath>
#include <random>

using r1::widgets::MetricChart;
using r1::widgets::SeriesPoint;

namespace {

constexpr double kWall0 = 1.7e9;  // unix seconds

// A loss-like curve: decaying, noisy, one point every 0.01 s.
std::vector<SeriesPoint> lossCurve(int n, unsigned seed, double scale = 1.0, int firstStep = 0)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 0.05);
    std::vector<SeriesPoint> pts;
    pts.reserve(size_t(n));
    for (int i = 0; i < n; ++i) {
        const int step = firstStep + i;
        const double v = scale * (0.3 + 2.5 * std::exp(-step / (0.15 * n))) + noise(rng);
        pts.push_back({double(step), kWall0 + 0.01 * step, v});
    }
    return pts;
}

QLineSeries* series(const MetricChart& chart, const QString& name)
{
    for (QAbstractSeries* s : chart.findChild<QChartView*>()->chart()->series())
        if (s->objectName() == name)
            return qobject_cast<QLineSeries*>(s);
    return nullptr;
}

struct Extent {
    double ymax = -1e300;
    double xAtMax = 0;
};

Extent visibleExtent(const QLineSeries* s, double x0, double x1)
{
    Extent e;
    for (const QPointF& p : s->points())
        if (p.x() >= x0 && p.x() <= x1 && p.y() > e.ymax) {
            e.ymax = p.y();
            e.xAtMax = p.x();
        }
    return e;
}

QAbstractAxis* shownAxis(const MetricChart& chart, Qt::Orientation orientation)
{
    QAbstractAxis* shown = nullptr;
    for (QAbstractAxis* axis : chart.findChild<QChartView*>()->chart()->axes(orientation)) {
        if (axis->isVisible()) {
            if (shown)
                return nullptr;  // two axes on one side
            shown = axis;
        }
    }
    return shown;
}

QPoint viewportPosOf(MetricChart& chart, double fx, double fy)
{
    auto* view = chart.findChild<QChartView*>();
    const QRectF plot = view->chart()->plotArea();
    const QPointF chartPos(plot.left() + fx * plot.width(), plot.top() + fy * plot.height());
    return view->mapFromScene(view->chart()->mapToScene(chartPos));
}

}  // namespace

class TestMetricChart : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void millionPointsAreDownsampled();
    void zoomRebucketsFromFullResolution();
    void appendsAreCoalesced();
    void smoothingMatchesEma();
    void logYSkipsNonPositive();
    void twoRunsOverlay();
    void xAxisModes();
    void samplesWithinOneStep();
    void mouseAndKeys();
    void toolbar();
    void screenshot();
};

void TestMetricChart::initTestCase() { QDir().mkpath(QStringLiteral(R1_TEST_TMP)); }

void TestMetricChart::millionPointsAreDownsampled()
{
    MetricChart chart(QStringLiteral("train/loss"));
    chart.resize(900, 500);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.setRun(QStringLiteral("a"), QStringLiteral("run a"), Qt::blue);
    chart.appendPoints(QStringLiteral("a"), lossCurve(1000000, 1));
    chart.flush();
    QCOMPARE(chart.pointCount(QStringLiteral("a")), qsizetype(1000000));
    const int columns = chart.plotColumns();
    QVERIFY(columns > 400 && columns < 900);
    QVERIFY(chart.visiblePointCount() > 2 * columns);  // a noisy curve fills its columns
    QVERIFY2(chart.visiblePointCount() <= 4 * columns + 2,
             qPrintable(QStringLiteral("%1 points for %2 columns")
                            .arg(chart.visiblePointCount()).arg(columns)));
    QVERIFY(chart.visiblePointCount() <= 4 * chart.width() + 2);

    // Resizing re-buckets for the new width.
    chart.resize(500, 400);
    QTRY_VERIFY(chart.plotColumns() < columns);
    chart.flush();
    QVERIFY(chart.visiblePointCount() <= 4 * chart.plotColumns() + 2);
}

void TestMetricChart::zoomRebucketsFromFullResolution()
{
    MetricChart chart(QStringLiteral("train/loss"));
    chart.resize(900, 500);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    std::vector<SeriesPoint> pts = lossCurve(1000000, 2);
    pts[600123].value = 50.0;  // inside the zoomed range below
    pts[100000].value = 80.0;  // outside it
    chart.appendPoints(QStringLiteral("a"), pts);
    chart.flush();
    const QLineSeries* raw = series(chart, QStringLiteral("raw:a"));
    QVERIFY(raw);
    QCOMPARE(visibleExtent(raw, 0, 1e6).ymax, 80.0);
    QVERIFY(chart.yRange().second >= 80.0);

    chart.zoomX(600000, 601000);
    QVERIFY(chart.isZoomed());
    QCOMPARE(chart.xRange().first, 600000.0);
    QCOMPARE(chart.xRange().second, 601000.0);
    const Extent e = visibleExtent(raw, 600000, 601000);
    QCOMPARE(e.ymax, 50.0);
    QCOMPARE(e.xAtMax, 600123.0);
    QVERIFY(chart.yRange().second >= 50.0 && chart.yRange().second < 80.0);  // y autoscaled
    // 1001 points in 1000 steps fit the columns: all of them are drawn, plus the 2 edges.
    QCOMPARE(raw->count(), 1003);

    // A wider zoom is bucketed again, from the full data, and still keeps the spike.
    chart.zoomX(500000, 700000);
    QVERIFY(raw->count() <= 4 * chart.plotColumns() + 2);
    QCOMPARE(visibleExtent(raw, 500000, 700000).ymax, 50.0);

    chart.zoomY(0.0, 1.0);
    QCOMPARE(chart.yRange().second, 1.0);
    chart.resetZoom();
    QVERIFY(!chart.isZoomed());
    QCOMPARE(chart.xRange().second, 999999.0);
    QCOMPARE(visibleExtent(raw, 0, 1e6).ymax, 80.0);
}

void TestMetricChart::appendsAreCoalesced()
{
    MetricChart chart(QStringLiteral("live"));
    chart.resize(700, 400);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    const std::vector<SeriesPoint> pts = lossCurve(50000, 3);
    for (size_t i = 0; i < pts.size(); i += 500)
        chart.appendPoints(QStringLiteral("a"),
                           std::vector<SeriesPoint>(pts.begin() + long(i),
                                                    pts.begin() + long(i + 500)));
    QCOMPARE(chart.visiblePointCount(), 0);  // nothing drawn synchronously per batch
    QTRY_VERIFY(chart.visiblePointCount() > 0);
    QCOMPARE(chart.pointCount(QStringLiteral("a")), qsizetype(50000));
    QCOMPARE(chart.xRange().second, 49999.0);

    // A hidden chart keeps the data but draws only once it is shown again.
    chart.hide();
    const int drawn = chart.visiblePointCount();
    chart.appendPoints(QStringLiteral("a"), lossCurve(60000, 3, 1.0, 50000));
    QTest::qWait(150);
    QCOMPARE(chart.visiblePointCount(), drawn);
    QCOMPARE(chart.xRange().second, 49999.0);
    chart.show();
    QTRY_COMPARE(chart.xRange().second, 109999.0);

    // Non-increasing steps (a replay) are dropped.
    chart.appendPoints(QStringLiteral("a"), {{100, kWall0, 1.0}, {109999, kWall0, 1.0}});
    QCOMPARE(chart.pointCount(QStringLiteral("a")), qsizetype(110000));
}

void TestMetricChart::smoothingMatchesEma()
{
    MetricChart chart(QStringLiteral("loss"));
    chart.resize(700, 400);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    std::vector<SeriesPoint> pts = lossCurve(100, 4);
    pts[10].value = std::numeric_limits<double>::quiet_NaN();
    chart.appendPoints(QStringLiteral("a"), pts);
    QSignalSpy spy(&chart, &MetricChart::smoothingChanged);
    chart.setSmoothing(0.6);
    QCOMPARE(spy.count(), 1);
    chart.flush();
    std::vector<double> values;
    for (const SeriesPoint& p : pts)
        values.push_back(p.value);
    const std::vector<double> ema = r1::widgets::ema_debiased(values, 0.6);
    const QList<QPointF> smooth = series(chart, QStringLiteral("smooth:a"))->points();
    QCOMPARE(smooth.size(), qsizetype(99));  // the NaN is not drawn
    for (const QPointF& p : smooth)
        QVERIFY(std::abs(p.y() - ema[size_t(p.x())]) < 1e-12);
    QCOMPARE(series(chart, QStringLiteral("raw:a"))->count(), 99);
    QVERIFY(series(chart, QStringLiteral("smooth:a"))->isVisible());

    // Appends continue the same average.
    std::vector<SeriesPoint> more = lossCurve(200, 4);
    more.erase(more.begin(), more.begin() + 100);
    chart.appendPoints(QStringLiteral("a"), more);
    chart.flush();
    for (size_t i = 100; i < 200; ++i)
        values.push_back(more[i - 100].value);
    const std::vector<double> ema2 = r1::widgets::ema_debiased(values, 0.6);
    for (const QPointF& p : series(chart, QStringLiteral("smooth:a"))->points())
        QVERIFY(std::abs(p.y() - ema2[size_t(p.x())]) < 1e-12);

    chart.setSmoothing(0.0);
    QCOMPARE(series(chart, QStringLiteral("smooth:a"))->count(), 0);
    QVERIFY(!series(chart, QStringLiteral("smooth:a"))->isVisible());
}

void TestMetricChart::logYSkipsNonPositive()
{
    MetricChart chart(QStringLiteral("grad norm"));
    chart.resize(700, 400);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    std::vector<SeriesPoint> pts;
    for (int i = 0; i < 20000; ++i)
        pts.push_back({double(i), kWall0 + i, i % 10 == 0 ? -1.0 : i % 10 == 1 ? 0.0
                                                                    : std::pow(10.0, i % 7 - 3)});
    chart.appendPoints(QStringLiteral("a"), pts);
    chart.setLogY(true);
    QVERIFY(chart.logY());
    chart.flush();
    QLineSeries* raw = series(chart, QStringLiteral("raw:a"));
    QVERIFY(raw->count() > 0);
    for (const QPointF& p : raw->points())
        QVERIFY(p.y() > 0.0);
    QVERIFY(shownAxis(chart, Qt::Vertical));
    QVERIFY(shownAxis(chart, Qt::Vertical)->inherits("QLogValueAxis"));
    QVERIFY(!raw->attachedAxes().isEmpty());
    for (QAbstractAxis* axis : raw->attachedAxes())
        QVERIFY(axis->isVisible());
    QVERIFY(chart.yRange().first > 0.0 && chart.yRange().first <= 1e-3);
    QVERIFY(chart.yRange().second >= 1e3);
    chart.setLogY(false);
    QVERIFY(chart.yRange().first <= -1.0);
    QVERIFY(shownAxis(chart, Qt::Vertical)->inherits("QValueAxis"));
}

void TestMetricChart::twoRunsOverlay()
{
    MetricChart chart(QStringLiteral("loss"));
    chart.resize(800, 450);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.setRun(QStringLiteral("a"), QStringLiteral("baseline"), QColor(0x1f, 0x77, 0xb4));
    chart.setRun(QStringLiteral("b"), QStringLiteral("moe-64"), QColor(0xd6, 0x27, 0x28));
    chart.appendPoints(QStringLiteral("a"), lossCurve(300000, 5));
    chart.appendPoints(QStringLiteral("b"), lossCurve(200000, 6, 0.8));
    chart.flush();
    QCOMPARE(chart.runIds(), (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    QCOMPARE(chart.xRange().second, 299999.0);  // the union of both runs
    const int a = series(chart, QStringLiteral("raw:a"))->count();
    const int b = series(chart, QStringLiteral("raw:b"))->count();
    QVERIFY(a > 0 && b > 0);
    QVERIFY(b < a);  // run b covers 2/3 of the x range
    QCOMPARE(chart.visiblePointCount(), a + b);
    QCOMPARE(series(chart, QStringLiteral("raw:b"))->pen().color(), QColor(0xd6, 0x27, 0x28));
    chart.removeRun(QStringLiteral("a"));
    chart.flush();
    QCOMPARE(chart.runIds(), QStringList{QStringLiteral("b")});
    QCOMPARE(chart.visiblePointCount(), series(chart, QStringLiteral("raw:b"))->count());
    QCOMPARE(chart.xRange().second, 199999.0);
    chart.clear();
    QCOMPARE(chart.visiblePointCount(), 0);
}

void TestMetricChart::xAxisModes()
{
    MetricChart chart(QStringLiteral("loss"));
    chart.resize(700, 400);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.appendPoints(QStringLiteral("a"), lossCurve(10000, 7, 1.0, 500));
    chart.setXAxis(MetricChart::XAxis::RelativeTime);
    chart.flush();
    QCOMPARE(chart.xRange().first, 0.0);
    QVERIFY(std::abs(chart.xRange().second - 99.99) < 1e-6);
    chart.setXAxis(MetricChart::XAxis::WallTime);
    chart.flush();
    QVERIFY(std::abs(chart.xRange().first - (kWall0 + 5.0) * 1000.0) < 1.0);
    QVERIFY(shownAxis(chart, Qt::Horizontal));
    QVERIFY(shownAxis(chart, Qt::Horizontal)->inherits("QDateTimeAxis"));
    QVERIFY(chart.visiblePointCount() > 0);
    chart.setXAxis(MetricChart::XAxis::Step);
    chart.flush();
    QCOMPARE(chart.xRange().first, 500.0);
    QVERIFY(chart.readoutText().contains(QStringLiteral("10499")));
}

// Telemetry is sampled by time, so several samples can fall in one training step: all are
// kept, and every x axis places them; relative time counts from the run's start when given.
void TestMetricChart::samplesWithinOneStep()
{
    MetricChart chart(QStringLiteral("gpu"));
    chart.resize(700, 400);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    const QString id = QStringLiteral("a/gpu0");
    chart.setRunStart(id, kWall0 - 10.0);
    chart.appendPoints(id, {{0, kWall0, 10.0}, {0, kWall0 + 1, 20.0}, {3, kWall0 + 2, 30.0},
                            {3, kWall0 + 3, 40.0}});
    QCOMPARE(chart.pointCount(id), qsizetype(4));
    // Replays: the same step no later in time, an earlier step.
    chart.appendPoints(id, {{3, kWall0 + 3, 41.0}, {3, kWall0 + 2.5, 42.0}, {2, kWall0 + 9, 43.0}});
    QCOMPARE(chart.pointCount(id), qsizetype(4));
    chart.flush();
    QCOMPARE(series(chart, QStringLiteral("raw:") + id)->count(), 4);
    QCOMPARE(chart.xRange(), qMakePair(0.0, 3.0));

    chart.setXAxis(MetricChart::XAxis::RelativeTime);
    chart.flush();
    QCOMPARE(chart.xRange(), qMakePair(10.0, 13.0));
    QCOMPARE(series(chart, QStringLiteral("raw:") + id)->at(1), QPointF(11.0, 20.0));
    chart.setRunStart(id, std::numeric_limits<double>::quiet_NaN());  // its first point
    chart.flush();
    QCOMPARE(chart.xRange(), qMakePair(0.0, 3.0));

    chart.setXAxis(MetricChart::XAxis::WallTime);
    chart.flush();
    QCOMPARE(chart.xRange(), qMakePair(kWall0 * 1000.0, (kWall0 + 3) * 1000.0));
}

void TestMetricChart::mouseAndKeys()
{
    MetricChart chart(QStringLiteral("loss"));
    chart.resize(800, 450);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.setRun(QStringLiteral("a"), QStringLiteral("baseline"), Qt::darkGreen);
    chart.appendPoints(QStringLiteral("a"), lossCurve(100000, 8));
    chart.flush();
    auto* view = chart.findChild<QChartView*>();
    QWidget* vp = view->viewport();
    QSignalSpy ranges(&chart, &MetricChart::xRangeChanged);

    // Hover: the readout names the run and the step under the cursor (middle of the plot).
    QTest::mouseMove(vp, viewportPosOf(chart, 0.5, 0.5));
    QTRY_VERIFY(chart.readoutText().contains(QStringLiteral("baseline")));
    const QRegularExpressionMatch m =
        QRegularExpression(QStringLiteral("step (\\d+)")).match(chart.readoutText());
    QVERIFY2(m.hasMatch(), qPrintable(chart.readoutText()));
    QVERIFY2(std::abs(m.captured(1).toInt() - 50000) < 200, qPrintable(chart.readoutText()));

    // Wheel up at 25 % of the width: x zooms in around that point.
    const QPoint at = viewportPosOf(chart, 0.25, 0.5);
    const double cx = chart.xRange().first + 0.25 * (chart.xRange().second - chart.xRange().first);
    QWheelEvent wheel(at, vp->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(vp, &wheel);
    QVERIFY(chart.isZoomed());
    const auto [z0, z1] = chart.xRange();
    QVERIFY(z1 - z0 < 0.9 * 99999);
    QVERIFY(std::abs((cx - z0) / (z1 - z0) - 0.25) < 0.01);
    QCOMPARE(ranges.count(), 1);

    // Arrow key pans right by a tenth.
    view->setFocus();
    QTest::keyClick(view, Qt::Key_Right);
    QVERIFY(std::abs(chart.xRange().first - (z0 + 0.1 * (z1 - z0))) < 1e-6 * (z1 - z0));

    // Right-drag pans.
    const double before = chart.xRange().first;
    QTest::mousePress(vp, Qt::RightButton, {}, viewportPosOf(chart, 0.5, 0.5));
    QTest::mouseMove(vp, viewportPosOf(chart, 0.4, 0.5));
    QTest::mouseRelease(vp, Qt::RightButton, {}, viewportPosOf(chart, 0.4, 0.5));
    QVERIFY(chart.xRange().first > before);

    // Double-click resets.
    QTest::mouseDClick(vp, Qt::LeftButton, {}, viewportPosOf(chart, 0.5, 0.5));
    QVERIFY(!chart.isZoomed());
    QCOMPARE(chart.xRange().second, 99999.0);

    // Rubber band over the middle fifth, flat: x only.
    QTest::mousePress(vp, Qt::LeftButton, {}, viewportPosOf(chart, 0.4, 0.5));
    QTest::mouseMove(vp, viewportPosOf(chart, 0.5, 0.505));
    QTest::mouseMove(vp, viewportPosOf(chart, 0.6, 0.505));
    QTest::mouseRelease(vp, Qt::LeftButton, {}, viewportPosOf(chart, 0.6, 0.505));
    QVERIFY(std::abs(chart.xRange().first - 0.4 * 99999) < 300);
    QVERIFY(std::abs(chart.xRange().second - 0.6 * 99999) < 300);
    QVERIFY(chart.yRange().second < 1.0);  // y stays on autoscale, fitted to the zoomed part
}

void TestMetricChart::toolbar()
{
    MetricChart chart(QStringLiteral("loss"));
    chart.resize(800, 450);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.appendPoints(QStringLiteral("a"), lossCurve(20000, 11));
    chart.flush();
    QSignalSpy smoothing(&chart, &MetricChart::smoothingChanged);
    auto* slider = chart.findChild<QSlider*>();
    QVERIFY(slider);
    for (int v = 100; v <= 600; v += 100)
        slider->setValue(v);  // a drag: coalesced into few re-smoothings
    QTRY_COMPARE(chart.smoothing(), 0.6);
    QVERIFY(smoothing.count() <= 2);
    QTRY_VERIFY(series(chart, QStringLiteral("smooth:a"))->count() > 0);

    auto* logBox = chart.findChild<QCheckBox*>();
    QVERIFY(logBox);
    QTest::mouseClick(logBox, Qt::LeftButton);
    QVERIFY(chart.logY());

    auto* combo = chart.findChild<QComboBox*>();
    QVERIFY(combo);
    QCOMPARE(combo->count(), 3);
    combo->setCurrentIndex(int(MetricChart::XAxis::RelativeTime));
    QCOMPARE(chart.xAxis(), MetricChart::XAxis::RelativeTime);
    chart.setXAxis(MetricChart::XAxis::WallTime);
    QCOMPARE(combo->currentIndex(), int(MetricChart::XAxis::WallTime));

    chart.zoomX(chart.xRange().first, chart.xRange().first + 1000.0);
    QVERIFY(chart.isZoomed());
    auto* reset = chart.findChild<QToolButton*>();
    QVERIFY(reset);
    QTest::mouseClick(reset, Qt::LeftButton);
    QVERIFY(!chart.isZoomed());
}

void TestMetricChart::screenshot()
{
    MetricChart chart(QStringLiteral("train/loss"));
    chart.resize(900, 520);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.setRun(QStringLiteral("a"), QStringLiteral("r1-small baseline"),
                 QColor(0x1f, 0x77, 0xb4));
    chart.setRun(QStringLiteral("b"), QStringLiteral("r1-small moe-64"), QColor(0xd6, 0x27, 0x28));
    chart.appendPoints(QStringLiteral("a"), lossCurve(1000000, 9));
    chart.appendPoints(QStringLiteral("b"), lossCurve(700000, 10, 0.85));
    chart.setSmoothing(0.9);
    const QString path = QStringLiteral(R1_TEST_TMP "/metric_chart.png");
    QVERIFY(chart.savePng(path));
    const QImage img(path);
    QVERIFY(!img.isNull());
    QCOMPARE(img.size(), chart.size() * chart.devicePixelRatio());
    // Both run colours are on the image.
    int blue = 0, red = 0;
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x) {
            const QColor c = img.pixelColor(x, y);
            if (c == QColor(0x1f, 0x77, 0xb4))
                ++blue;
            else if (c == QColor(0xd6, 0x27, 0x28))
                ++red;
        }
    QVERIFY2(blue > 200 && red > 200, qPrintable(QStringLiteral("%1 %2").arg(blue).arg(red)));

    // The same chart zoomed in, on log y, with the cursor over it (crosshair, markers, readout).
    chart.zoomX(150000, 450000);
    chart.setLogY(true);
    chart.flush();
    QTest::mouseMove(chart.findChild<QChartView*>()->viewport(), viewportPosOf(chart, 0.6, 0.5));
    QTRY_VERIFY(!chart.readoutText().startsWith(tr("Last:")));
    QVERIFY(chart.savePng(QStringLiteral(R1_TEST_TMP "/metric_chart_hover.png")));

    chart.setXAxis(MetricChart::XAxis::WallTime);
    QVERIFY(chart.savePng(QStringLiteral(R1_TEST_TMP "/metric_chart_wall.png")));
}

QTEST_MAIN(TestMetricChart)
#include "test_metric_chart.moc"
