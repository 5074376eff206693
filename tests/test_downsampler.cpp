// Min/max downsampling and TensorBoard smoothing (widgets/downsampler.h).
#include "widgets/downsampler.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using r1::widgets::downsample_minmax;
using r1::widgets::ema_debiased;

namespace {

// Random walk with occasional spikes, strictly increasing x with irregular gaps.
std::vector<QPointF> randomSeries(int n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> gap(0.1, 3.0);
    std::normal_distribution<double> noise(0.0, 1.0);
    std::uniform_int_distribution<int> spike(0, 199);
    std::vector<QPointF> xy;
    xy.reserve(size_t(n));
    double x = 0.0, y = 0.0;
    for (int i = 0; i < n; ++i) {
        x += gap(rng);
        y += noise(rng);
        const int s = spike(rng);
        const double v = s == 0 ? y + 1000.0 : s == 1 ? y - 1000.0 : y;
        xy.emplace_back(x, v);
    }
    return xy;
}

bool containsPoint(const std::vector<QPointF>& v, const QPointF& p)
{
    return std::any_of(v.begin(), v.end(),
                       [&p](const QPointF& q) { return q.x() == p.x() && q.y() == p.y(); });
}

}  // namespace

class TestDownsampler : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void keepsExtremaOfEveryBucket_data();
    void keepsExtremaOfEveryBucket();
    void rangeEdges();
    void emptyAndSingle();
    void fewPointsPassThrough();
    void duplicatesCollapse();
    void ema_data();
    void ema();
    void emaSkipsNonFinite();
};

void TestDownsampler::keepsExtremaOfEveryBucket_data()
{
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("buckets");
    QTest::addColumn<double>("from");  // fraction of the data's x extent
    QTest::addColumn<double>("to");
    QTest::addColumn<unsigned>("seed");
    QTest::newRow("small full") << 50 << 7 << 0.0 << 1.0 << 1u;
    QTest::newRow("1k full") << 1000 << 37 << 0.0 << 1.0 << 2u;
    QTest::newRow("10k middle") << 10000 << 100 << 0.3 << 0.6 << 3u;
    QTest::newRow("100k full") << 100000 << 800 << 0.0 << 1.0 << 4u;
    QTest::newRow("100k narrow") << 100000 << 800 << 0.501 << 0.502 << 5u;
    QTest::newRow("100k wide range") << 100000 << 640 << -0.5 << 1.5 << 6u;
    QTest::newRow("300k one bucket") << 300000 << 1 << 0.1 << 0.9 << 7u;
    QTest::newRow("300k 1920") << 300000 << 1920 << 0.0 << 1.0 << 8u;
}

void TestDownsampler::keepsExtremaOfEveryBucket()
{
    QFETCH(int, n);
    QFETCH(int, buckets);
    QFETCH(double, from);
    QFETCH(double, to);
    QFETCH(unsigned, seed);
    const std::vector<QPointF> xy = randomSeries(n, seed);
    const double lo = xy.front().x(), hi = xy.back().x();
    const double x0 = lo + from * (hi - lo), x1 = lo + to * (hi - lo);

    const std::vector<QPointF> out = downsample_minmax(xy, x0, x1, buckets);

    QVERIFY(out.size() <= size_t(4 * buckets + 2));
    QVERIFY(std::is_sorted(out.begin(), out.end(),
                           [](const QPointF& a, const QPointF& b) { return a.x() < b.x(); }));

    // Brute force: per bucket first, min, max, last.
    std::vector<int> first(size_t(buckets), -1), last(size_t(buckets), -1);
    std::vector<int> iMin(size_t(buckets), -1), iMax(size_t(buckets), -1);
    int inRange = 0;
    for (int i = 0; i < n; ++i) {
        const double x = xy[size_t(i)].x();
        if (x < x0 || x > x1)
            continue;
        ++inRange;
        const auto b = size_t(std::min(buckets - 1, int((x - x0) * (buckets / (x1 - x0)))));
        if (first[b] < 0)
            first[b] = i;
        last[b] = i;
        if (iMin[b] < 0 || xy[size_t(i)].y() < xy[size_t(iMin[b])].y())
            iMin[b] = i;
        if (iMax[b] < 0 || xy[size_t(i)].y() > xy[size_t(iMax[b])].y())
            iMax[b] = i;
    }
    QVERIFY(inRange > 0);
    for (size_t b = 0; b < size_t(buckets); ++b) {
        if (first[b] < 0)
            continue;
        for (int i : {first[b], iMin[b], iMax[b], last[b]})
            QVERIFY2(containsPoint(out, xy[size_t(i)]),
                     qPrintable(QStringLiteral("bucket %1 lacks point %2").arg(b).arg(i)));
    }
    // The extrema of the visible data are exactly the extrema of what is drawn.
    double ymin = std::numeric_limits<double>::infinity(), ymax = -ymin;
    for (const QPointF& p : xy)
        if (p.x() >= x0 && p.x() <= x1) {
            ymin = std::min(ymin, p.y());
            ymax = std::max(ymax, p.y());
        }
    double omin = std::numeric_limits<double>::infinity(), omax = -omin;
    for (const QPointF& p : out)
        if (p.x() >= x0 && p.x() <= x1) {
            omin = std::min(omin, p.y());
            omax = std::max(omax, p.y());
        }
    QCOMPARE(omin, ymin);
    QCOMPARE(omax, ymax);
}

void TestDownsampler::rangeEdges()
{
    std::vector<QPointF> xy;
    for (int i = 0; i < 1000; ++i)
        xy.emplace_back(i, i % 7);
    // Range strictly inside: the neighbours just outside are the first and last outputs.
    std::vector<QPointF> out = downsample_minmax(xy, 100.5, 899.5, 10);
    QCOMPARE(out.front(), QPointF(100, 100 % 7));
    QCOMPARE(out.back(), QPointF(900, 900 % 7));
    QCOMPARE(out[1], QPointF(101, 101 % 7));  // first point of the first bucket
    QCOMPARE(out[out.size() - 2], QPointF(899, 899 % 7));

    // Range covering everything: no outside neighbours.
    out = downsample_minmax(xy, -10, 2000, 10);
    QCOMPARE(out.front(), xy.front());
    QCOMPARE(out.back(), xy.back());

    // Range ends exactly on points: those points are inside.
    out = downsample_minmax(xy, 100, 200, 5);
    QCOMPARE(out.front(), QPointF(99, 99 % 7));
    QVERIFY(containsPoint(out, QPointF(100, 100 % 7)));
    QVERIFY(containsPoint(out, QPointF(200, 200 % 7)));
    QCOMPARE(out.back(), QPointF(201, 201 % 7));

    // Range between two points: just the two neighbours, so the line crosses the plot.
    out = downsample_minmax(xy, 10.2, 10.8, 100);
    QCOMPARE(out.size(), size_t(2));
    QCOMPARE(out[0], QPointF(10, 10 % 7));
    QCOMPARE(out[1], QPointF(11, 11 % 7));

    // Range left / right of all data: only the nearest point.
    out = downsample_minmax(xy, -50, -10, 100);
    QCOMPARE(out.size(), size_t(1));
    QCOMPARE(out[0], xy.front());
    out = downsample_minmax(xy, 5000, 6000, 100);
    QCOMPARE(out.size(), size_t(1));
    QCOMPARE(out[0], xy.back());
}

void TestDownsampler::emptyAndSingle()
{
    QVERIFY(downsample_minmax({}, 0, 1, 100).empty());
    const std::vector<QPointF> one{{5.0, 2.0}};
    QCOMPARE(downsample_minmax(one, 0, 10, 100), one);
    QCOMPARE(downsample_minmax(one, 5, 5, 1), one);
    QCOMPARE(downsample_minmax(one, 6, 10, 100), one);  // as the left neighbour
    QVERIFY(downsample_minmax(one, 10, 0, 100).empty());  // reversed range
    QCOMPARE(downsample_minmax(one, 0, 10, 0), one);      // buckets < 1 counts as 1
}

void TestDownsampler::fewPointsPassThrough()
{
    const std::vector<QPointF> xy = randomSeries(300, 11);
    QCOMPARE(downsample_minmax(xy, xy.front().x(), xy.back().x(), 100), xy);
}

void TestDownsampler::duplicatesCollapse()
{
    // A bucket whose first point is also its min and last also its max yields 2 points.
    std::vector<QPointF> xy;
    for (int i = 0; i < 1000; ++i)
        xy.emplace_back(i, i);  // increasing: first = min, last = max in every bucket
    const std::vector<QPointF> out = downsample_minmax(xy, 0, 999, 10);
    QCOMPARE(out.size(), size_t(20));
    for (size_t i = 1; i < out.size(); ++i)
        QVERIFY(out[i].x() > out[i - 1].x());
}

void TestDownsampler::ema_data()
{
    QTest::addColumn<double>("weight");
    QTest::addColumn<QList<double>>("input");
    QTest::addColumn<QList<double>>("expected");
    QTest::newRow("w=0.5") << 0.5 << QList<double>{1, 2, 3}
                           << QList<double>{1.0, 5.0 / 3.0, 17.0 / 7.0};
    QTest::newRow("w=0 identity") << 0.0 << QList<double>{3, -1, 4}
                                  << QList<double>{3, -1, 4};
    // Debiasing: a constant series stays constant from its first value on.
    QTest::newRow("w=0.9 constant") << 0.9 << QList<double>{2, 2, 2, 2}
                                    << QList<double>{2, 2, 2, 2};
    // w=0.6 on [0, 10]: 0; (0.6*0 + 0.4*10) / (1 - 0.36) = 6.25.
    QTest::newRow("w=0.6") << 0.6 << QList<double>{0, 10} << QList<double>{0, 6.25};
    QTest::newRow("empty") << 0.5 << QList<double>{} << QList<double>{};
}

void TestDownsampler::ema()
{
    QFETCH(double, weight);
    QFETCH(QList<double>, input);
    QFETCH(QList<double>, expected);
    const std::vector<double> out =
        ema_debiased(std::vector<double>(input.begin(), input.end()), weight);
    QCOMPARE(out.size(), size_t(expected.size()));
    for (qsizetype i = 0; i < expected.size(); ++i)
        QVERIFY2(std::abs(out[size_t(i)] - expected[i]) < 1e-9,
                 qPrintable(QStringLiteral("%1: %2 vs %3").arg(i).arg(out[size_t(i)])
                                .arg(expected[i])));
    if (weight == 0.5 && input.size() == 3) {  // the values from the brief, to 4 decimals
        QCOMPARE(std::round(out[1] * 1e4) / 1e4, 1.6667);
        QCOMPARE(std::round(out[2] * 1e4) / 1e4, 2.4286);
    }
}

void TestDownsampler::emaSkipsNonFinite()
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<double> out = ema_debiased({1, nan, 2, inf, -inf, 3}, 0.5);
    QCOMPARE(out.size(), size_t(6));
    QVERIFY(std::isnan(out[1]));
    QVERIFY(std::isnan(out[3]));
    QVERIFY(std::isnan(out[4]));
    // The finite values smooth as if the others were not there: [1, 2, 3] -> 1, 1.6667, 2.4286.
    QVERIFY(std::abs(out[0] - 1.0) < 1e-12);
    QVERIFY(std::abs(out[2] - 5.0 / 3.0) < 1e-12);
    QVERIFY(std::abs(out[5] - 17.0 / 7.0) < 1e-12);
    // A leading NaN does not poison anything either.
    const std::vector<double> lead = ema_debiased({nan, 4, 4}, 0.99);
    QVERIFY(std::isnan(lead[0]));
    QVERIFY(std::abs(lead[1] - 4.0) < 1e-12);
    QVERIFY(std::abs(lead[2] - 4.0) < 1e-12);
}

QTEST_APPLESS_MAIN(TestDownsampler)
#include "test_downsampler.moc"
