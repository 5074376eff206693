// chart_bench: MetricChart (min/max downsampled, coalesced redraws) beside plain Qt Charts
// (QLineSeries::replace / append of every point), in one run, same widget size and render hints.
//
//   QT_QPA_PLATFORM=offscreen ./chart_bench [--points 1000000] [--steps 30] [--rate 50000]
//       [--seconds 3] [--preload 0] [--plain-budget 40]
//
// 1. Zoom/pan frame time at --points per series: each step changes the x range, renders the
//    chart synchronously (grab()) and processes events; median and p95 over --steps steps (plain
//    Qt Charts stops early once --plain-budget seconds are spent).
// 2. Event-loop latency while ingesting --rate points/s for --seconds: a 10 ms timer appends the
//    points due, a 5 ms probe timer records how late it fires; p50 / p99 / max of that lateness,
//    and how many points went in.
//    --preload puts that many points in the series first (a long run that is still training).
//    Plain Qt Charts keeps all points in a QList and calls replace(all) per batch (append() of a
//    list adds point by point, each re-mapping the whole series).
#include "widgets/metric_chart.h"

#include <QAbstractScrollArea>
#include <QApplication>
#include <QElapsedTimer>
#include <QPixmap>
#include <QTimer>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>

using r1::widgets::MetricChart;
using r1::widgets::SeriesPoint;

namespace {

struct Options {
    int points = 1000000;
    int steps = 30;
    int rate = 50000;
    double seconds = 3.0;
    int preload = 0;
    double plainBudget = 40.0;
    QString only;  // "ours" or "plain" to run one side (for profiling)
};

double percentile(std::vector<double> v, double q)
{
    if (v.empty())
        return std::nan("");
    std::sort(v.begin(), v.end());
    const double pos = q * double(v.size() - 1);
    const size_t i = size_t(pos);
    const double f = pos - double(i);
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

std::vector<SeriesPoint> makeCurve(int n, int firstStep, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 0.05);
    std::vector<SeriesPoint> pts;
    pts.reserve(size_t(n));
    for (int i = 0; i < n; ++i) {
        const double step = firstStep + i;
        pts.push_back({step, 1.7e9 + 0.01 * step,
                       0.3 + 2.5 * std::exp(-step / 150000.0) + noise(rng)});
    }
    return pts;
}

QList<QPointF> toXY(const std::vector<SeriesPoint>& pts)
{
    QList<QPointF> xy;
    xy.reserve(qsizetype(pts.size()));
    for (const SeriesPoint& p : pts)
        xy.append(QPointF(p.step, p.value));
    return xy;
}

// The x ranges of the zoom/pan steps over [0, n): zoom in, pan right, zoom out.
std::vector<std::pair<double, double>> viewSteps(int steps, double n)
{
    std::vector<std::pair<double, double>> out;
    double center = 0.4 * n, span = n;
    for (int k = 0; k < steps; ++k) {
        const int phase = 3 * k / steps;
        if (phase == 0)
            span *= 0.6;
        else if (phase == 1)
            center += 0.08 * span;
        else
            span = std::min(n, span / 0.6);
        out.emplace_back(center - span / 2, center + span / 2);
    }
    return out;
}

struct FrameResult {
    double loadMs = 0;
    std::vector<double> frameMs;
    int drawnPoints = 0;  // points handed to Qt Charts at full view
};

struct LatencyResult {
    std::vector<double> latenessMs;
    int paints = 0;
    qint64 ingested = 0;
};

class PaintCounter : public QObject {
public:
    int paints = 0;
    bool eventFilter(QObject*, QEvent* e) override
    {
        if (e->type() == QEvent::Paint)
            ++paints;
        return false;
    }
};

// Runs `setRange(x0, x1)` + grab() + processEvents per step until the steps or budget run out.
std::vector<double> timeFrames(QWidget* view, const std::function<void(double, double)>& setRange,
                               const Options& o, double budgetS)
{
    std::vector<double> ms;
    QElapsedTimer total;
    total.start();
    for (const auto& [x0, x1] : viewSteps(o.steps, o.points)) {
        QElapsedTimer t;
        t.start();
        setRange(x0, x1);
        const QPixmap frame = view->grab();
        QCoreApplication::processEvents();
        ms.push_back(t.nsecsElapsed() / 1e6);
        if (frame.isNull() || total.elapsed() > budgetS * 1000.0)
            break;
    }
    return ms;
}

// Ingestion at o.rate points/s for o.seconds; append(batch) is the chart under test.
using AppendFn = std::function<void(const std::vector<SeriesPoint>&)>;

LatencyResult timeIngest(QWidget* view, const AppendFn& append, const Options& o)
{
    LatencyResult r;
    PaintCounter counter;
    view->installEventFilter(&counter);
    if (auto* area = qobject_cast<QAbstractScrollArea*>(view))
        area->viewport()->installEventFilter(&counter);

    // Each 10 ms tick appends what is due at o.rate since the start, so that a late tick
    // catches up instead of lowering the rate.
    QElapsedTimer clock;
    int nextStep = o.preload;
    QTimer feeder;
    feeder.setTimerType(Qt::PreciseTimer);
    feeder.setInterval(10);
    QObject::connect(&feeder, &QTimer::timeout, [&] {
        const qint64 due = qint64(o.rate * (clock.nsecsElapsed() / 1e9)) - r.ingested;
        if (due <= 0)
            return;
        append(makeCurve(int(due), nextStep, unsigned(nextStep)));
        nextStep += int(due);
        r.ingested += due;
    });
    qint64 lastProbe = 0;  // the clock starts with the probe
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(5);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        r.latenessMs.push_back(std::max(0.0, (now - lastProbe) / 1e6 - 5.0));
        lastProbe = now;
    });
    clock.start();
    feeder.start();
    probe.start();
    while (clock.elapsed() < o.seconds * 1000.0)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    feeder.stop();
    probe.stop();
    // A loop blocked until the end still counts as one late probe.
    r.latenessMs.push_back(std::max(0.0, (clock.nsecsElapsed() - lastProbe) / 1e6 - 5.0));
    QCoreApplication::processEvents();
    r.paints = counter.paints;
    view->removeEventFilter(&counter);
    if (auto* area = qobject_cast<QAbstractScrollArea*>(view))
        area->viewport()->removeEventFilter(&counter);
    return r;
}

void printRow(const char* name, const FrameResult& f, const LatencyResult& l)
{
    std::printf("%-28s %7.0f %8d %6zu %8.1f %8.1f %9.2f %8.2f %8.1f %7d %8lld\n", name,
                f.loadMs, f.drawnPoints, f.frameMs.size(), percentile(f.frameMs, 0.5),
                percentile(f.frameMs, 0.95), percentile(l.latenessMs, 0.5),
                percentile(l.latenessMs, 0.99), percentile(l.latenessMs, 1.0), l.paints,
                static_cast<long long>(l.ingested));
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    Options o;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        const QString& k = args[i];
        const QString& v = args[i + 1];
        if (k == QLatin1String("--points"))
            o.points = v.toInt();
        else if (k == QLatin1String("--steps"))
            o.steps = v.toInt();
        else if (k == QLatin1String("--rate"))
            o.rate = v.toInt();
        else if (k == QLatin1String("--seconds"))
            o.seconds = v.toDouble();
        else if (k == QLatin1String("--preload"))
            o.preload = v.toInt();
        else if (k == QLatin1String("--plain-budget"))
            o.plainBudget = v.toDouble();
        else if (k == QLatin1String("--only"))
            o.only = v;
        else {
            std::fprintf(stderr, "unknown option %s\n", qPrintable(k));
            return 2;
        }
    }
    std::printf("command: QT_QPA_PLATFORM=%s %s\n", qgetenv("QT_QPA_PLATFORM").constData(),
                qPrintable(args.join(QLatin1Char(' '))));
    const std::vector<SeriesPoint> curve = makeCurve(o.points, 0, 1);
    const QSize size(1000, 600);

    // (a) MetricChart.
    FrameResult ourFrames;
    LatencyResult ourLatency;
    QSize plotViewSize;
    const bool ours = o.only != QLatin1String("plain");
    const bool plain = o.only != QLatin1String("ours");
    if (ours) {
        MetricChart chart(QStringLiteral("train/loss"));
        chart.resize(size);
        chart.show();
        QCoreApplication::processEvents();
        auto* view = chart.findChild<QChartView*>();
        plotViewSize = view->size();
        QElapsedTimer t;
        t.start();
        chart.appendPoints(QStringLiteral("a"), curve);
        chart.flush();
        view->grab();
        ourFrames.loadMs = t.nsecsElapsed() / 1e6;
        ourFrames.drawnPoints = chart.visiblePointCount();
        ourFrames.frameMs = timeFrames(
            view, [&chart](double x0, double x1) { chart.zoomX(x0, x1); }, o, 1e9);
    }
    if (ours) {
        MetricChart chart(QStringLiteral("train/loss"));
        chart.resize(size);
        chart.show();
        if (o.preload > 0)
            chart.appendPoints(QStringLiteral("a"), makeCurve(o.preload, 0, 2));
        chart.flush();
        QCoreApplication::processEvents();
        const AppendFn append = [&chart](const std::vector<SeriesPoint>& b) {
            chart.appendPoints(QStringLiteral("a"), b);
        };
        ourLatency = timeIngest(chart.findChild<QChartView*>(), append, o);
    }

    // (b) plain Qt Charts: every point in the QLineSeries.
    FrameResult plainFrames;
    LatencyResult plainLatency;
    auto makePlain = [&](QLineSeries*& series, QValueAxis*& ax, QValueAxis*& ay) {
        auto* chart = new QChart;
        chart->setTitle(QStringLiteral("train/loss"));
        series = new QLineSeries;
        chart->addSeries(series);
        ax = new QValueAxis;
        ay = new QValueAxis;
        chart->addAxis(ax, Qt::AlignBottom);
        chart->addAxis(ay, Qt::AlignLeft);
        series->attachAxis(ax);
        series->attachAxis(ay);
        ay->setRange(0.0, 3.0);
        auto view = std::make_unique<QChartView>(chart);
        view->setRenderHint(QPainter::Antialiasing);
        view->resize(plotViewSize);
        view->show();
        QCoreApplication::processEvents();
        return view;
    };
    if (plotViewSize.isEmpty())
        plotViewSize = QSize(1000, 548);
    if (plain) {
        QLineSeries* series;
        QValueAxis *ax, *ay;
        auto view = makePlain(series, ax, ay);
        QElapsedTimer t;
        t.start();
        series->replace(toXY(curve));
        ax->setRange(0.0, o.points - 1.0);
        view->grab();
        plainFrames.loadMs = t.nsecsElapsed() / 1e6;
        plainFrames.drawnPoints = int(series->count());
        plainFrames.frameMs = timeFrames(
            view.get(), [ax](double x0, double x1) { ax->setRange(x0, x1); }, o, o.plainBudget);
    }
    if (plain) {
        QLineSeries* series;
        QValueAxis *ax, *ay;
        auto view = makePlain(series, ax, ay);
        auto all = std::make_shared<QList<QPointF>>();
        if (o.preload > 0)
            *all = toXY(makeCurve(o.preload, 0, 2));
        series->replace(*all);
        ax->setRange(0.0, std::max(1, o.preload));
        QCoreApplication::processEvents();
        const AppendFn append = [all, series, ax](const std::vector<SeriesPoint>& b) {
            all->append(toXY(b));
            series->replace(*all);
            ax->setRange(0.0, b.back().step);
        };
        plainLatency = timeIngest(view.get(), append, o);
    }

    std::printf("\n%d points/series for zoom/pan; ingest %d points/s for %.1f s after %d preloaded"
                "; chart view %dx%d, antialiased, offscreen raster\n",
                o.points, o.rate, o.seconds, o.preload, plotViewSize.width(),
                plotViewSize.height());
    std::printf("%-28s %7s %8s %6s %8s %8s %9s %8s %8s %7s %8s\n", "", "load", "drawn",
                "frames", "frame", "frame", "late p50", "late p99", "late", "paints",
                "ingested");
    std::printf("%-28s %7s %8s %6s %8s %8s %9s %8s %8s %7s %8s\n", "chart", "ms", "points", "",
                "med ms", "p95 ms", "ms", "ms", "max ms", "", "points");
    if (ours)
        printRow("MetricChart (M4, coalesced)", ourFrames, ourLatency);
    if (plain)
        printRow("QLineSeries::replace(all)", plainFrames, plainLatency);
    return 0;
}
