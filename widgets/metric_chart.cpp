#include "widgets/metric_chart.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QElapsedTimer>
#include <QEvent>
#include <QGraphicsEllipseItem>
#include <QGraphicsLayout>
#include <QGraphicsLineItem>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QMouseEvent>
#include <QPixmap>
#include <QRubberBand>
#include <QSlider>
#include <QToolButton>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace r1::widgets {

namespace {

// Streaming data is redrawn at most ~30 times a second, and less often when one redraw is
// expensive (many runs, many charts), so that redraws never take over the GUI thread.
constexpr int kRefreshIntervalMs = 33;
constexpr int kMaxRefreshIntervalMs = 1000;
// Sum over all charts of the cost of their last refresh (GUI thread only): the redraw interval
// grows with it, so that ten busy charts do not take ten times the GUI thread of one.
double g_refreshCostSumMs = 0.0;

constexpr int kSliderSteps = 999;  // smoothing slider: 0 .. 0.999
constexpr double kInf = std::numeric_limits<double>::infinity();

// 1, 2 or 5 times a power of ten, at least `raw`.
double niceStep(double raw)
{
    if (!(raw > 0.0) || !std::isfinite(raw))
        return 1.0;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / p;
    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * p;
}

QString labelFormatFor(double interval, double magnitude)
{
    if (magnitude >= 1e7 || (magnitude > 0 && magnitude < 1e-4))
        return QStringLiteral("%.4g");
    // Single-digit labels get one decimal: Qt Charts keeps the vertical axis title only as wide
    // as its labels plus "...", and a title taller than one digit is wide (a CJK "数值" became
    // "⋮" beside labels "0" and "5").
    const int decimals = std::clamp(int(-std::floor(std::log10(interval) + 1e-9)), 0, 8);
    const int shown = decimals == 0 && magnitude < 10 ? 1 : decimals;
    return QStringLiteral("%.") + QString::number(shown) + QStringLiteral("f");
}

QString formatValue(double y) { return QString::number(y, 'g', 5); }

// Nearest point to x in a curve sorted by x, or -1 when empty.
qsizetype nearestIndex(const std::vector<QPointF>& xy, double x)
{
    if (xy.empty())
        return -1;
    const auto it = std::lower_bound(xy.begin(), xy.end(), x,
                                     [](const QPointF& p, double v) { return p.x() < v; });
    qsizetype i = it - xy.begin();
    if (i == qsizetype(xy.size()))
        return i - 1;
    if (i > 0 && x - xy[size_t(i - 1)].x() <= xy[size_t(i)].x() - x)
        return i - 1;
    return i;
}

const QColor kDefaultColors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e),
                                 QColor(0x2c, 0xa0, 0x2c), QColor(0xd6, 0x27, 0x28),
                                 QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                                 QColor(0xe3, 0x77, 0xc2), QColor(0x17, 0xbe, 0xcf)};

}  // namespace

struct MetricChart::Run {
    QString id;
    QString label;
    QColor color;
    std::vector<SeriesPoint> pts;  // full resolution, as received
    double start = std::numeric_limits<double>::quiet_NaN();  // relative time's zero (unix s)
    // Drawable curves in the current x unit, without non-finite (or, on log y, non-positive)
    // values; x is made non-decreasing so time axes survive clock steps.
    std::vector<QPointF> rawXY;
    std::vector<QPointF> smoothXY;  // empty while smoothing is off
    EmaDebiased ema;
    double lastX = -kInf;
    QLineSeries* raw = nullptr;
    QLineSeries* smooth = nullptr;
    QGraphicsEllipseItem* dot = nullptr;  // hover marker
};

MetricChart::MetricChart(const QString& title, QWidget* parent) : QWidget(parent), m_title(title)
{
    m_chart = new QChart;
    m_chart->setTitle(title);
    QFont titleFont = m_chart->titleFont();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.15);
    m_chart->setTitleFont(titleFont);
    m_chart->setMargins(QMargins(4, 2, 8, 2));
    m_chart->setBackgroundRoundness(0);
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->layout()->setContentsMargins(0, 0, 0, 0);

    m_axisXValue = new QValueAxis(this);
    m_axisXTime = new QDateTimeAxis(this);
    m_axisYValue = new QValueAxis(this);
    m_axisYLog = new QLogValueAxis(this);
    m_axisYLog->setBase(10.0);
    m_axisYLog->setLabelFormat(QStringLiteral("%g"));
    m_axisYLog->setMinorTickCount(-1);
    m_axisYLog->setRange(0.1, 10.0);
    for (QAbstractAxis* axis : {static_cast<QAbstractAxis*>(m_axisXValue),
                                static_cast<QAbstractAxis*>(m_axisXTime),
                                static_cast<QAbstractAxis*>(m_axisYValue),
                                static_cast<QAbstractAxis*>(m_axisYLog)}) {
        axis->setGridLineColor(QColor(0, 0, 0, 28));
        axis->setMinorGridLineColor(QColor(0, 0, 0, 12));
    }
    for (QValueAxis* axis : {m_axisXValue, m_axisYValue}) {
        axis->setRange(0.0, 1.0);
        axis->setTickInterval(0.2);
        axis->setTickAnchor(0.0);
        axis->setTickType(QValueAxis::TicksDynamic);
    }

    m_view = new QChartView(m_chart, this);
    m_view->setRenderHint(QPainter::Antialiasing);
    m_view->setFocusPolicy(Qt::StrongFocus);
    m_view->setMinimumSize(240, 160);
    m_view->viewport()->setMouseTracking(true);
    m_view->viewport()->installEventFilter(this);
    m_view->installEventFilter(this);
    m_rubberBand = new QRubberBand(QRubberBand::Rectangle, m_view->viewport());
    m_crosshair = new QGraphicsLineItem;
    m_crosshair->setPen(QPen(QColor(0, 0, 0, 110), 1.0, Qt::DashLine));
    m_crosshair->setZValue(100);
    m_crosshair->hide();
    m_view->scene()->addItem(m_crosshair);

    m_smoothingLabel = new QLabel(this);
    m_smoothingSlider = new QSlider(Qt::Horizontal, this);
    m_smoothingSlider->setRange(0, kSliderSteps);
    m_smoothingSlider->setMinimumWidth(60);  // gives way first when two charts share a row
    m_smoothingSlider->setMaximumWidth(140);
    m_smoothingValue = new QLabel(this);
    m_smoothingValue->setMinimumWidth(
        m_smoothingValue->fontMetrics().horizontalAdvance(QStringLiteral("0.000")));
    m_logYBox = new QCheckBox(this);
    m_xAxisLabel = new QLabel(this);
    m_xAxisCombo = new QComboBox(this);
    m_xAxisCombo->addItems({QString(), QString(), QString()});
    m_resetButton = new QToolButton(this);
    m_readout = new QLabel(this);
    m_readout->setTextFormat(Qt::RichText);
    m_readout->setMinimumHeight(m_readout->fontMetrics().height() + 4);
    m_readout->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(6, 4, 6, 0);
    bar->addWidget(m_smoothingLabel);
    bar->addWidget(m_smoothingSlider, 1);  // up to its 140 px before the stretch takes the rest
    bar->addWidget(m_smoothingValue);
    bar->addSpacing(12);
    bar->addWidget(m_logYBox);
    bar->addSpacing(12);
    bar->addWidget(m_xAxisLabel);
    bar->addWidget(m_xAxisCombo);
    bar->addStretch(1);
    bar->addWidget(m_resetButton);
    auto* column = new QVBoxLayout(this);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(2);
    column->addLayout(bar);
    column->addWidget(m_view, 1);
    auto* readoutRow = new QHBoxLayout;
    readoutRow->setContentsMargins(8, 0, 8, 4);
    readoutRow->addWidget(m_readout);
    column->addLayout(readoutRow);

    // Re-smoothing touches every point of every run: follow a dragged slider at most ~25 times
    // a second.
    m_smoothingTimer.setSingleShot(true);
    m_smoothingTimer.setInterval(40);
    connect(&m_smoothingTimer, &QTimer::timeout, this,
            [this] { setSmoothing(m_smoothingSlider->value() / 1000.0); });
    connect(m_smoothingSlider, &QSlider::valueChanged, this, [this](int v) {
        m_smoothingValue->setText(QString::number(v / 1000.0, 'f', 3));
        if (!m_smoothingTimer.isActive())
            m_smoothingTimer.start();
    });
    connect(m_logYBox, &QCheckBox::toggled, this, &MetricChart::setLogY);
    connect(m_xAxisCombo, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this](int i) { setXAxis(XAxis(i)); });
    connect(m_resetButton, &QToolButton::clicked, this, &MetricChart::resetZoom);

    m_refreshTimer.setSingleShot(true);
    connect(&m_refreshTimer, &QTimer::timeout, this, [this] {
        // Charts that nobody sees (hidden tab, scrolled away) wait until they are shown.
        if (isVisible() && !visibleRegion().isEmpty())
            refresh();
    });
    connect(m_chart, &QChart::plotAreaChanged, this, [this] {
        if (m_hovering)  // move the marks to the new geometry
            hoverAt(QPointF(xToPos(m_hoverX), plotRect().center().y()));
        if (plotColumns() != m_bucketedColumns)
            scheduleRefresh(0);
    });

    m_chart->addAxis(m_axisXValue, Qt::AlignBottom);
    m_chart->addAxis(m_axisXTime, Qt::AlignBottom);
    m_chart->addAxis(m_axisYValue, Qt::AlignLeft);
    m_chart->addAxis(m_axisYLog, Qt::AlignLeft);
    m_axisXTime->setVisible(false);
    m_axisYLog->setVisible(false);
    m_axisX = m_axisXValue;
    m_axisY = m_axisYValue;
    retranslate();
    refresh();
}

MetricChart::~MetricChart() { setRefreshCost(0.0); }

void MetricChart::setRefreshCost(double ms)
{
    g_refreshCostSumMs = std::max(0.0, g_refreshCostSumMs + ms - m_lastRefreshMs);
    m_lastRefreshMs = ms;
}

QString MetricChart::title() const { return m_title; }

void MetricChart::retranslate()
{
    m_smoothingLabel->setText(tr("Smoothing"));
    m_smoothingSlider->setToolTip(
        tr("Exponential moving average with debiasing, as in TensorBoard. 0 = off."));
    m_smoothingValue->setText(QString::number(m_smoothing, 'f', 3));
    m_logYBox->setText(tr("Log y"));
    m_logYBox->setToolTip(tr("Logarithmic y axis; values at or below zero are not drawn."));
    m_xAxisLabel->setText(tr("X axis"));
    m_xAxisCombo->setItemText(int(XAxis::Step), tr("Step"));
    m_xAxisCombo->setItemText(int(XAxis::RelativeTime), tr("Relative time"));
    m_xAxisCombo->setItemText(int(XAxis::WallTime), tr("Wall time"));
    m_resetButton->setText(tr("Reset zoom"));
    m_resetButton->setToolTip(
        tr("Show all data (or double-click the chart). On the chart: drag to zoom to a box (a "
           "flat box zooms x only), wheel to zoom x around the cursor, Ctrl+wheel to zoom y, "
           "right or middle drag or arrow keys to pan."));
    m_axisXValue->setTitleText(m_xAxis == XAxis::Step ? tr("Step") : tr("Relative time (s)"));
    m_axisXTime->setTitleText(tr("Wall time"));
    m_axisYValue->setTitleText(tr("Value"));
    m_axisYLog->setTitleText(tr("Value (log scale)"));
    updateReadout();
}

void MetricChart::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    if (m_dirty)
        scheduleRefresh(0);
}

void MetricChart::hideEvent(QHideEvent* event)
{
    setRefreshCost(0.0);
    QWidget::hideEvent(event);
}

void MetricChart::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::LanguageChange)
        retranslate();
    QWidget::changeEvent(event);
}

// ---- runs and data -----------------------------------------------------------------------------

MetricChart::Run& MetricChart::ensureRun(const QString& runId)
{
    if (Run* run = m_runById.value(runId))
        return *run;
    auto run = std::make_unique<Run>();
    run->id = runId;
    run->label = runId;
    run->color = kDefaultColors[m_runs.size() % std::size(kDefaultColors)];
    run->ema = EmaDebiased(m_smoothing);
    run->raw = new QLineSeries;
    run->smooth = new QLineSeries;
    run->raw->setObjectName(QStringLiteral("raw:") + runId);
    run->smooth->setObjectName(QStringLiteral("smooth:") + runId);
    for (QLineSeries* s : {run->raw, run->smooth}) {
        m_chart->addSeries(s);
        s->attachAxis(m_axisX);
        s->attachAxis(m_axisY);
    }
    run->dot = new QGraphicsEllipseItem(-5.0, -5.0, 10.0, 10.0);
    run->dot->setZValue(101);
    run->dot->hide();
    m_view->scene()->addItem(run->dot);
    Run& ref = *run;
    m_runById.insert(runId, run.get());
    m_runs.push_back(std::move(run));
    applyRunStyle(ref);
    return ref;
}

void MetricChart::setRun(const QString& runId, const QString& label, const QColor& color)
{
    Run& run = ensureRun(runId);
    if (run.label == label && run.color == color)
        return;  // callers may repeat this with every batch
    run.label = label;
    run.color = color;
    applyRunStyle(run);
    updateReadout();
}

void MetricChart::setRunStart(const QString& runId, double wall)
{
    Run& run = ensureRun(runId);
    if (run.start == wall || (std::isnan(run.start) && std::isnan(wall)))
        return;
    run.start = wall;
    if (m_xAxis != XAxis::RelativeTime)
        return;
    rebuildCaches(run);
    scheduleRefresh(0);
}

void MetricChart::removeRun(const QString& runId)
{
    Run* run = m_runById.take(runId);
    if (!run)
        return;
    for (QLineSeries* s : {run->raw, run->smooth}) {
        m_chart->removeSeries(s);
        delete s;
    }
    delete run->dot;
    m_runs.erase(std::find_if(m_runs.begin(), m_runs.end(),
                              [run](const std::unique_ptr<Run>& r) { return r.get() == run; }));
    scheduleRefresh(0);
}

void MetricChart::clear()
{
    const QStringList ids = runIds();
    for (const QString& id : ids)
        removeRun(id);
    m_zoomX = m_zoomY = false;
    refresh();
}

QStringList MetricChart::runIds() const
{
    QStringList ids;
    for (const auto& run : m_runs)
        ids << run->id;
    return ids;
}

qsizetype MetricChart::pointCount(const QString& runId) const
{
    const Run* run = m_runById.value(runId);
    return run ? qsizetype(run->pts.size()) : 0;
}

void MetricChart::appendPoints(const QString& runId, const std::vector<SeriesPoint>& pts)
{
    Run& run = ensureRun(runId);
    const size_t from = run.pts.size();
    double lastStep = run.pts.empty() ? -kInf : run.pts.back().step;
    double lastWall = run.pts.empty() ? -kInf : run.pts.back().wall;
    if (run.pts.capacity() < from + pts.size())  // grow geometrically: appends come in batches
        run.pts.reserve(std::max(from + pts.size(), 2 * run.pts.capacity()));
    for (const SeriesPoint& p : pts) {
        if (p.step > lastStep || (p.step == lastStep && p.wall > lastWall)) {
            run.pts.push_back(p);
            lastStep = p.step;
            lastWall = p.wall;
        }
    }
    extendCaches(run, from);
    // Painting costs about twice the refresh before it: with 8x the cost of all charts, redraws
    // stay under ~40 % of the GUI thread however many charts stream.
    scheduleRefresh(std::clamp(int(8.0 * g_refreshCostSumMs), kRefreshIntervalMs,
                               kMaxRefreshIntervalMs));
}

void MetricChart::extendCaches(Run& run, size_t from) const
{
    const bool smoothing = m_smoothing > 0.0;
    const double wall0 = std::isfinite(run.start) ? run.start
                         : run.pts.empty()        ? 0.0
                                                  : run.pts.front().wall;
    for (size_t i = from; i < run.pts.size(); ++i) {
        const SeriesPoint& p = run.pts[i];
        double x = p.step;
        if (m_xAxis == XAxis::RelativeTime)
            x = p.wall - wall0;
        else if (m_xAxis == XAxis::WallTime)
            x = p.wall * 1000.0;
        if (!std::isfinite(x))
            continue;
        x = std::max(x, run.lastX);
        run.lastX = x;
        auto drawable = [this](double y) { return std::isfinite(y) && (!m_logY || y > 0.0); };
        if (drawable(p.value))
            run.rawXY.emplace_back(x, p.value);
        if (smoothing) {
            const double s = run.ema.push(p.value);
            if (drawable(s))
                run.smoothXY.emplace_back(x, s);
        }
    }
}

void MetricChart::rebuildCaches(Run& run) const
{
    run.rawXY.clear();
    run.smoothXY.clear();
    run.rawXY.shrink_to_fit();
    run.smoothXY.shrink_to_fit();
    run.ema = EmaDebiased(m_smoothing);
    run.lastX = -kInf;
    run.rawXY.reserve(run.pts.size());
    if (m_smoothing > 0.0)
        run.smoothXY.reserve(run.pts.size());
    extendCaches(run, 0);
}

// ---- options -----------------------------------------------------------------------------------

void MetricChart::setXAxis(XAxis axis)
{
    if (axis == m_xAxis)
        return;
    m_xAxis = axis;
    {
        const QSignalBlocker block(m_xAxisCombo);
        m_xAxisCombo->setCurrentIndex(int(axis));
    }
    for (auto& run : m_runs) {
        rebuildCaches(*run);
        run->raw->clear();
        run->smooth->clear();
    }
    applyAxisKinds();
    retranslate();
    m_zoomX = m_zoomY = false;
    refresh();
    Q_EMIT xAxisChanged(axis);
    Q_EMIT xRangeChanged(m_x0, m_x1);
}

void MetricChart::setSmoothing(double weight)
{
    weight = std::clamp(std::isfinite(weight) ? weight : 0.0, 0.0, 0.999);
    if (weight == m_smoothing)
        return;
    m_smoothing = weight;
    {
        const QSignalBlocker block(m_smoothingSlider);
        m_smoothingSlider->setValue(int(std::lround(weight * 1000.0)));
    }
    m_smoothingValue->setText(QString::number(weight, 'f', 3));
    for (auto& run : m_runs) {
        rebuildCaches(*run);
        applyRunStyle(*run);
    }
    refresh();
    Q_EMIT smoothingChanged(weight);
}

void MetricChart::setLogY(bool on)
{
    if (on == m_logY)
        return;
    m_logY = on;
    {
        const QSignalBlocker block(m_logYBox);
        m_logYBox->setChecked(on);
    }
    for (auto& run : m_runs) {
        rebuildCaches(*run);
        run->raw->clear();
        run->smooth->clear();
    }
    m_zoomY = false;
    applyAxisKinds();
    refresh();
    Q_EMIT logYChanged(on);
}

void MetricChart::applyAxisKinds()
{
    QAbstractAxis* wantX = m_xAxis == XAxis::WallTime ? static_cast<QAbstractAxis*>(m_axisXTime)
                                                       : static_cast<QAbstractAxis*>(m_axisXValue);
    QAbstractAxis* wantY = m_logY ? static_cast<QAbstractAxis*>(m_axisYLog)
                                  : static_cast<QAbstractAxis*>(m_axisYValue);
    // All four axes stay in the chart; the unused ones are hidden and have no series. (Removing
    // an axis leaves its labels on screen until a deferred delete runs.)
    auto swap = [this](QAbstractAxis*& current, QAbstractAxis* want) {
        if (current == want)
            return;
        const QList<QAbstractSeries*> series = m_chart->series();
        for (QAbstractSeries* s : series)
            s->detachAxis(current);
        current->setVisible(false);
        want->setVisible(true);
        for (QAbstractSeries* s : series)
            s->attachAxis(want);
        current = want;
    };
    swap(m_axisX, wantX);
    swap(m_axisY, wantY);
}

void MetricChart::applyRunStyle(Run& run)
{
    const bool smoothing = m_smoothing > 0.0;
    QColor faint = run.color;
    faint.setAlphaF(0.28);
    run.raw->setPen(QPen(smoothing ? faint : run.color, 1.0));
    run.smooth->setPen(QPen(run.color, 2.0));
    run.raw->setName(run.label);
    run.smooth->setName(run.label);
    run.smooth->setVisible(smoothing);
    // One legend entry per run, in the run's full colour.
    for (QLegendMarker* m : m_chart->legend()->markers(run.raw))
        m->setVisible(!smoothing);
    for (QLegendMarker* m : m_chart->legend()->markers(run.smooth))
        m->setVisible(smoothing);
    run.dot->setBrush(run.color);
    run.dot->setPen(QPen(Qt::white, 2.0));
}

// ---- drawing -----------------------------------------------------------------------------------

int MetricChart::plotColumns() const
{
    const double width = m_chart->plotArea().width();
    if (width < 2.0)
        return 600;  // not laid out yet
    return std::max(1, int(std::ceil(width * devicePixelRatioF())));
}

void MetricChart::scheduleRefresh(int delayMs)
{
    m_dirty = true;
    if (m_refreshTimer.isActive() && m_refreshTimer.remainingTime() <= delayMs)
        return;
    m_refreshTimer.start(delayMs);
}

void MetricChart::flush()
{
    // New axis ranges change the label widths and so the plot area: lay out again until the
    // bucketing matches the final width (usually one extra round).
    for (int round = 0; round < 3; ++round) {
        m_chart->layout()->activate();
        refresh();
        m_chart->layout()->activate();
        if (plotColumns() == m_bucketedColumns)
            break;
    }
}

void MetricChart::refresh()
{
    QElapsedTimer cost;
    cost.start();
    m_refreshTimer.stop();
    m_dirty = false;
    const int columns = plotColumns();
    m_bucketedColumns = columns;

    if (!m_zoomX) {
        double lo = kInf, hi = -kInf;
        for (const auto& run : m_runs) {
            if (!run->rawXY.empty()) {
                lo = std::min(lo, run->rawXY.front().x());
                hi = std::max(hi, run->rawXY.back().x());
            }
            if (!run->smoothXY.empty()) {
                lo = std::min(lo, run->smoothXY.front().x());
                hi = std::max(hi, run->smoothXY.back().x());
            }
        }
        if (lo > hi) {  // no data yet: the last hour, or [0, 1]
            hi = m_xAxis == XAxis::WallTime ? double(QDateTime::currentMSecsSinceEpoch()) : 1.0;
            lo = m_xAxis == XAxis::WallTime ? hi - 3600e3 : 0.0;
        } else if (lo == hi) {
            const double pad = m_xAxis == XAxis::WallTime ? 30e3 : 0.5;
            lo -= pad;
            hi += pad;
        }
        m_x0 = lo;
        m_x1 = hi;
    }

    double ylo = kInf, yhi = -kInf;  // visible points inside [x0, x1]
    double alo = kInf, ahi = -kInf;  // any handed-over point, for a view between two points
    const bool smoothing = m_smoothing > 0.0;
    std::vector<std::pair<QLineSeries*, QList<QPointF>>> updates;
    auto feed = [&](QLineSeries* series, const std::vector<QPointF>& xy) {
        const std::vector<QPointF> pts = downsample_minmax(xy, m_x0, m_x1, columns);
        for (const QPointF& p : pts) {
            alo = std::min(alo, p.y());
            ahi = std::max(ahi, p.y());
            if (p.x() >= m_x0 && p.x() <= m_x1) {
                ylo = std::min(ylo, p.y());
                yhi = std::max(yhi, p.y());
            }
        }
        updates.emplace_back(series, QList<QPointF>(pts.begin(), pts.end()));
    };
    for (auto& run : m_runs) {
        feed(run->raw, run->rawXY);
        feed(run->smooth, smoothing ? run->smoothXY : std::vector<QPointF>());
    }
    // Qt Charts maps every point again on each axis change: empty the series first so that
    // the points are mapped once, by replace() below.
    for (auto& [series, pts] : updates)
        if (series->count() > 0)
            series->clear();

    if (!m_zoomY) {
        if (ylo > yhi) {
            ylo = alo;
            yhi = ahi;
        }
        if (m_logY) {
            double l0 = ylo > yhi ? -1.0 : std::log10(ylo);
            double l1 = ylo > yhi ? 1.0 : std::log10(yhi);
            const double pad = std::max(0.04 * (l1 - l0), 0.05);
            m_y0 = std::pow(10.0, l0 - pad);
            m_y1 = std::pow(10.0, l1 + pad);
        } else if (ylo > yhi) {
            m_y0 = 0.0;
            m_y1 = 1.0;
        } else {
            const double span = yhi - ylo;
            const double pad = span > 0.0 ? 0.05 * span : std::max(std::abs(yhi) * 0.05, 0.5);
            m_y0 = ylo - pad;
            m_y1 = yhi + pad;
        }
    }

    updateAxes();
    for (auto& [series, pts] : updates)
        if (!pts.isEmpty())
            series->replace(pts);

    if (m_hovering)
        hoverAt(QPointF(xToPos(m_hoverX), plotRect().center().y()));
    else
        updateReadout();
    setRefreshCost(cost.nsecsElapsed() / 1e6);
}

void MetricChart::updateAxes()
{
    // Range and tick interval change together; the order keeps the tick count small in between
    // (Qt Charts would otherwise lay out e.g. 10^7 ticks for a moment).
    auto apply = [](QValueAxis* axis, double lo, double hi, double interval) {
        const QString format = labelFormatFor(interval, std::max(std::abs(lo), std::abs(hi)));
        if (interval >= axis->tickInterval()) {
            axis->setTickInterval(interval);
            axis->setRange(lo, hi);
        } else {
            axis->setRange(lo, hi);
            axis->setTickInterval(interval);
        }
        axis->setLabelFormat(format);
    };
    const QRectF plot = plotRect();
    const double width = plot.width() > 2.0 ? plot.width() : 600.0;
    const double height = plot.height() > 2.0 ? plot.height() : 300.0;
    if (m_xAxis == XAxis::WallTime) {
        m_axisXTime->setRange(QDateTime::fromMSecsSinceEpoch(qint64(std::floor(m_x0))),
                              QDateTime::fromMSecsSinceEpoch(qint64(std::ceil(m_x1))));
        m_axisXTime->setTickCount(std::clamp(int(width / 140.0) + 1, 2, 12));
        const double spanMs = m_x1 - m_x0;
        m_axisXTime->setFormat(spanMs < 10e3          ? QStringLiteral("hh:mm:ss.zzz")
                               : spanMs < 600e3       ? QStringLiteral("hh:mm:ss")
                               : spanMs < 2 * 86400e3 ? QStringLiteral("hh:mm")
                                                      : QStringLiteral("MM-dd hh:mm"));
    } else {
        apply(m_axisXValue, m_x0, m_x1,
              niceStep((m_x1 - m_x0) / std::max(2.0, width / 110.0)));
    }
    if (m_logY) {
        // Powers of 10 give too few labels over a decade or two: use powers of 2 there.
        m_axisYLog->setBase(std::log10(m_y1 / m_y0) >= 2.5 ? 10.0 : 2.0);
        m_axisYLog->setRange(m_y0, m_y1);
    } else
        apply(m_axisYValue, m_y0, m_y1, niceStep((m_y1 - m_y0) / std::max(2.0, height / 45.0)));
}

int MetricChart::visiblePointCount() const
{
    int n = 0;
    for (const auto& run : m_runs)
        n += int(run->raw->count() + run->smooth->count());
    return n;
}

QImage MetricChart::snapshot()
{
    flush();
    return grab().toImage();
}

bool MetricChart::savePng(const QString& path) { return snapshot().save(path, "PNG"); }

// ---- view --------------------------------------------------------------------------------------

void MetricChart::setViewX(double x0, double x1, bool user)
{
    if (!(x1 > x0) || !std::isfinite(x0) || !std::isfinite(x1))
        return;
    // Keep at least a few representable doubles between the ends.
    if (x1 - x0 < 1e-12 * std::max(std::abs(x0), std::abs(x1)))
        return;
    m_zoomX = true;
    m_x0 = x0;
    m_x1 = x1;
    refresh();
    if (user)
        Q_EMIT xRangeChanged(m_x0, m_x1);
}

void MetricChart::zoomX(double x0, double x1)
{
    setViewX(std::min(x0, x1), std::max(x0, x1), true);
}

void MetricChart::zoomY(double y0, double y1)
{
    if (y0 > y1)
        std::swap(y0, y1);
    if (!(y1 > y0) || !std::isfinite(y0) || !std::isfinite(y1) || (m_logY && y0 <= 0.0))
        return;
    m_zoomY = true;
    m_y0 = y0;
    m_y1 = y1;
    refresh();
}

void MetricChart::resetZoom()
{
    m_zoomX = m_zoomY = false;
    refresh();
    Q_EMIT xRangeChanged(m_x0, m_x1);
}

QRectF MetricChart::plotRect() const { return m_chart->plotArea(); }

double MetricChart::xToPos(double x) const
{
    const QRectF r = plotRect();
    return r.left() + (x - m_x0) / (m_x1 - m_x0) * r.width();
}

double MetricChart::posToX(double px) const
{
    const QRectF r = plotRect();
    return m_x0 + (px - r.left()) / r.width() * (m_x1 - m_x0);
}

double MetricChart::yToPos(double y) const
{
    const QRectF r = plotRect();
    const double f = m_logY ? std::log(y / m_y0) / std::log(m_y1 / m_y0)
                            : (y - m_y0) / (m_y1 - m_y0);
    return r.bottom() - f * r.height();
}

double MetricChart::posToY(double py) const
{
    const QRectF r = plotRect();
    const double f = (r.bottom() - py) / r.height();
    return m_logY ? m_y0 * std::pow(m_y1 / m_y0, f) : m_y0 + f * (m_y1 - m_y0);
}

void MetricChart::zoomAround(double factorX, double factorY, const QPointF& chartPos)
{
    if (factorY != 1.0) {
        const double cy = posToY(chartPos.y());
        if (m_logY)
            zoomY(cy * std::pow(m_y0 / cy, factorY), cy * std::pow(m_y1 / cy, factorY));
        else
            zoomY(cy - (cy - m_y0) * factorY, cy + (m_y1 - cy) * factorY);
    }
    if (factorX != 1.0) {
        const double cx = posToX(chartPos.x());
        setViewX(cx - (cx - m_x0) * factorX, cx + (m_x1 - cx) * factorX, true);
    }
}

void MetricChart::panBy(double dxPixels, double dyPixels)
{
    const QRectF r = plotRect();
    if (r.width() < 2.0 || r.height() < 2.0)
        return;
    if (dyPixels != 0.0) {
        const double f = dyPixels / r.height();
        if (m_logY) {
            const double k = std::pow(m_y1 / m_y0, f);
            zoomY(m_y0 * k, m_y1 * k);
        } else {
            const double d = f * (m_y1 - m_y0);
            zoomY(m_y0 + d, m_y1 + d);
        }
    }
    if (dxPixels != 0.0) {
        const double d = -dxPixels / r.width() * (m_x1 - m_x0);
        setViewX(m_x0 + d, m_x1 + d, true);
    }
}

// ---- interaction -------------------------------------------------------------------------------

bool MetricChart::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_view && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        const QRectF r = plotRect();
        switch (key->key()) {
        case Qt::Key_Left: panBy(r.width() * 0.1, 0.0); return true;
        case Qt::Key_Right: panBy(-r.width() * 0.1, 0.0); return true;
        case Qt::Key_Up: panBy(0.0, -r.height() * 0.1); return true;
        case Qt::Key_Down: panBy(0.0, r.height() * 0.1); return true;
        case Qt::Key_Plus:
        case Qt::Key_Equal: zoomAround(0.8, 1.0, r.center()); return true;
        case Qt::Key_Minus: zoomAround(1.25, 1.0, r.center()); return true;
        case Qt::Key_Home:
        case Qt::Key_0: resetZoom(); return true;
        case Qt::Key_Escape:
            if (m_drag == Drag::None)
                return false;
            m_drag = Drag::None;
            m_rubberBand->hide();
            return true;
        default: break;
        }
        return false;
    }
    if (watched == m_view->viewport()) {
        if (event->type() == QEvent::Paint && m_dirty && !m_refreshTimer.isActive())
            scheduleRefresh(0);  // waited while scrolled away
        return handleMouse(event);
    }
    return QWidget::eventFilter(watched, event);
}

bool MetricChart::handleMouse(QEvent* event)
{
    auto toChart = [this](const QPoint& viewportPos) {
        return m_chart->mapFromScene(m_view->mapToScene(viewportPos));
    };
    switch (event->type()) {
    case QEvent::MouseButtonPress: {
        auto* e = static_cast<QMouseEvent*>(event);
        const QPoint pos = e->position().toPoint();
        if (!plotRect().contains(toChart(pos)))
            return false;  // legend, title: let Qt Charts have it
        m_view->setFocus(Qt::MouseFocusReason);
        m_dragStart = m_dragLast = pos;
        if (e->button() == Qt::LeftButton) {
            m_drag = Drag::Zoom;
            m_rubberBand->setGeometry(QRect(pos, QSize()));
            m_rubberBand->show();
        } else if (e->button() == Qt::RightButton || e->button() == Qt::MiddleButton) {
            m_drag = Drag::Pan;
            m_view->viewport()->setCursor(Qt::ClosedHandCursor);
        }
        return true;
    }
    case QEvent::MouseMove: {
        auto* e = static_cast<QMouseEvent*>(event);
        const QPoint pos = e->position().toPoint();
        if (m_drag == Drag::Zoom) {
            m_rubberBand->setGeometry(QRect(m_dragStart, pos).normalized());
        } else if (m_drag == Drag::Pan) {
            const QPoint d = pos - m_dragLast;
            m_dragLast = pos;
            // y follows the drag only once the user has taken y off autoscale.
            panBy(d.x(), m_zoomY ? d.y() : 0.0);
        }
        hoverAt(toChart(pos));
        return m_drag != Drag::None;
    }
    case QEvent::MouseButtonRelease: {
        auto* e = static_cast<QMouseEvent*>(event);
        const Drag drag = m_drag;
        m_drag = Drag::None;
        m_rubberBand->hide();
        m_view->viewport()->unsetCursor();
        if (drag == Drag::Zoom) {
            const QRectF r = plotRect();
            QPointF a = toChart(m_dragStart);
            QPointF b = toChart(e->position().toPoint());
            auto clampTo = [&r](QPointF p) {
                return QPointF(std::clamp(p.x(), r.left(), r.right()),
                               std::clamp(p.y(), r.top(), r.bottom()));
            };
            a = clampTo(a);
            b = clampTo(b);
            if (std::abs(b.x() - a.x()) < 4.0)
                return true;  // a click, not a box
            if (std::abs(b.y() - a.y()) >= 10.0)
                zoomY(posToY(std::max(a.y(), b.y())), posToY(std::min(a.y(), b.y())));
            setViewX(posToX(std::min(a.x(), b.x())), posToX(std::max(a.x(), b.x())), true);
        }
        return drag != Drag::None;
    }
    case QEvent::MouseButtonDblClick: {
        auto* e = static_cast<QMouseEvent*>(event);
        if (!plotRect().contains(toChart(e->position().toPoint())))
            return false;
        m_drag = Drag::None;
        m_rubberBand->hide();
        resetZoom();
        return true;
    }
    case QEvent::Wheel: {
        auto* e = static_cast<QWheelEvent*>(event);
        const QPointF pos = toChart(e->position().toPoint());
        if (!plotRect().contains(pos))
            return false;
        const double steps = e->angleDelta().y() / 120.0;
        if (steps == 0.0)
            return true;
        const double factor = std::pow(0.85, steps);
        if (e->modifiers() & Qt::ControlModifier)
            zoomAround(1.0, factor, pos);
        else
            zoomAround(factor, 1.0, pos);
        return true;
    }
    case QEvent::Leave:
        hideHover();
        return false;
    default: return false;
    }
}

void MetricChart::hoverAt(const QPointF& chartPos)
{
    const QRectF r = plotRect();
    if (!r.contains(chartPos) || m_runs.empty()) {
        hideHover();
        return;
    }
    m_hovering = true;
    m_hoverX = posToX(chartPos.x());
    const QPointF top = m_chart->mapToScene(QPointF(chartPos.x(), r.top()));
    const QPointF bottom = m_chart->mapToScene(QPointF(chartPos.x(), r.bottom()));
    m_crosshair->setLine(QLineF(top, bottom));
    m_crosshair->show();
    const bool smoothing = m_smoothing > 0.0;
    for (auto& run : m_runs) {
        const std::vector<QPointF>& xy = smoothing ? run->smoothXY : run->rawXY;
        const qsizetype i = nearestIndex(xy, m_hoverX);
        if (i < 0) {
            run->dot->hide();
            continue;
        }
        const QPointF p = xy[size_t(i)];
        const QPointF pos(xToPos(p.x()), yToPos(p.y()));
        run->dot->setPos(m_chart->mapToScene(pos));
        run->dot->setVisible(r.adjusted(-1, -1, 1, 1).contains(pos));
    }
    updateReadout();
}

void MetricChart::hideHover()
{
    if (!m_hovering && !m_crosshair->isVisible())
        return;
    m_hovering = false;
    m_crosshair->hide();
    for (auto& run : m_runs)
        run->dot->hide();
    updateReadout();
}

QString MetricChart::formatX(double x) const
{
    switch (m_xAxis) {
    case XAxis::Step: return tr("step %1").arg(qint64(std::llround(x)));
    case XAxis::RelativeTime: {
        const double s = std::max(0.0, x);
        if (s < 60.0)
            return tr("%1 s").arg(QString::number(s, 'f', s < 10.0 ? 2 : 1));
        const qint64 total = std::llround(s);
        const qint64 h = total / 3600, m = (total % 3600) / 60, sec = total % 60;
        if (h == 0)
            return tr("%1 min %2 s").arg(m).arg(sec);
        return tr("%1 h %2 min %3 s").arg(h).arg(m).arg(sec);
    }
    case XAxis::WallTime:
        return QDateTime::fromMSecsSinceEpoch(qint64(std::llround(x)))
            .toString(QStringLiteral("yyyy-MM-dd hh:mm:ss"));
    }
    return QString();
}

QString MetricChart::readoutText() const { return m_readoutPlain; }

void MetricChart::updateReadout()
{
    if (!m_readout)
        return;
    const bool smoothing = m_smoothing > 0.0;
    QStringList parts;
    QStringList plain;
    for (const auto& run : m_runs) {
        const qsizetype i = m_hovering ? nearestIndex(run->rawXY, m_hoverX)
                                       : qsizetype(run->rawXY.size()) - 1;
        if (i < 0)
            continue;
        const QPointF p = run->rawXY[size_t(i)];
        QString value = formatValue(p.y());
        if (smoothing) {
            const qsizetype j = nearestIndex(run->smoothXY, p.x());
            if (j >= 0)
                value = tr("%1 (raw %2)")
                            .arg(formatValue(run->smoothXY[size_t(j)].y()), value);
        }
        const QString where = tr("%1 at %2").arg(value, formatX(p.x()));
        parts << QStringLiteral("<span style=\"color:%1\">&#9679;</span> <b>%2</b> %3")
                     .arg(run->color.name(), run->label.toHtmlEscaped(), where.toHtmlEscaped());
        plain << run->label + QStringLiteral(": ") + where;
    }
    QString text = parts.join(QStringLiteral("&nbsp;&nbsp;&nbsp;"));
    m_readoutPlain = plain.join(QStringLiteral("; "));
    if (!parts.isEmpty() && !m_hovering) {
        text = tr("Last:") + QStringLiteral(" ") + text;
        m_readoutPlain = tr("Last:") + QStringLiteral(" ") + m_readoutPlain;
    }
    m_readout->setText(text);
}

}  // namespace r1::widgets
