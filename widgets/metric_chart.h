#pragma once

// One metric (e.g. "train/loss") for several runs, drawn like TensorBoard: a faint raw line and a
// bold smoothed line per run. Keeps every point at full resolution but hands Qt Charts only a
// min/max downsampled copy of what is visible, so millions of points stay interactive.

#include "widgets/downsampler.h"

#include <QColor>
#include <QHash>
#include <QImage>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <memory>
#include <vector>

class QAbstractAxis;
class QCheckBox;
class QComboBox;
class QDateTimeAxis;
class QGraphicsEllipseItem;
class QGraphicsLineItem;
class QLabel;
class QLineSeries;
class QLogValueAxis;
class QRubberBand;
class QSlider;
class QToolButton;
class QValueAxis;
class QChart;
class QChartView;

namespace r1::widgets {

class MetricChart final : public QWidget {
    Q_OBJECT

public:
    enum class XAxis { Step, RelativeTime, WallTime };
    Q_ENUM(XAxis)

    explicit MetricChart(const QString& title, QWidget* parent = nullptr);
    ~MetricChart() override;

    QString title() const;

    // Runs. appendPoints() creates a run it does not know with a default colour.
    void setRun(const QString& runId, const QString& label, const QColor& color);
    // Where relative time counts from for the run (unix seconds), e.g. the run's start, so that
    // every chart of a run shares one zero; NaN (the default): its first point.
    void setRunStart(const QString& runId, double wall);
    void removeRun(const QString& runId);
    void clear();
    QStringList runIds() const;

    // Append-only: a point must come after the run's last one, at a higher step or at the same
    // step and a later wall time (telemetry sampled several times in one training step); others
    // (a replay) are dropped. The drawing is updated at most ~30 times a second, less often when
    // redraws get expensive, and not while the chart is hidden or scrolled away (flush() redraws
    // at once).
    void appendPoints(const QString& runId, const std::vector<SeriesPoint>& pts);
    qsizetype pointCount(const QString& runId) const;

    void setXAxis(XAxis axis);
    XAxis xAxis() const { return m_xAxis; }
    void setSmoothing(double weight);  // 0 .. 0.999; 0 draws the raw line only
    double smoothing() const { return m_smoothing; }
    void setLogY(bool on);  // non-positive values are not drawn
    bool logY() const { return m_logY; }

    // View. x is in the units of the x axis: step, seconds since the run's start (see
    // setRunStart()), or milliseconds since the epoch for wall time. zoomX keeps y autoscaled
    // unless zoomY was set.
    void zoomX(double x0, double x1);
    void zoomY(double y0, double y1);
    void resetZoom();
    bool isZoomed() const { return m_zoomX || m_zoomY; }
    QPair<double, double> xRange() const { return {m_x0, m_x1}; }
    QPair<double, double> yRange() const { return {m_y0, m_y1}; }

    // Points currently handed to Qt Charts, over all series (for tests and benchmarks).
    int visiblePointCount() const;
    // Width of the plot area in device pixels: the number of downsampling columns.
    int plotColumns() const;
    // What the readout line shows: the nearest point of each run to the cursor, or the last
    // point of each run when the cursor is not over the plot.
    QString readoutText() const;

    QImage snapshot();  // the whole widget (toolbar, chart, readout) as it is drawn now
    bool savePng(const QString& path);

public Q_SLOTS:
    void flush();  // apply pending appends and redraw now

Q_SIGNALS:
    void smoothingChanged(double weight);
    void logYChanged(bool on);
    void xAxisChanged(r1::widgets::MetricChart::XAxis axis);
    // The visible x range changed by zoom, pan or reset (for linking the x of several charts).
    void xRangeChanged(double x0, double x1);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void changeEvent(QEvent* event) override;
    void showEvent(QShowEvent* event) override;
    void hideEvent(QHideEvent* event) override;

private:
    struct Run;

    Run& ensureRun(const QString& runId);
    void rebuildCaches(Run& run) const;
    void extendCaches(Run& run, size_t from) const;
    void scheduleRefresh(int delayMs);
    void setRefreshCost(double ms);
    void refresh();
    void applyAxisKinds();
    void applyRunStyle(Run& run);
    void updateAxes();
    void setViewX(double x0, double x1, bool user);
    void retranslate();

    // Mapping between chart coordinates and values in the current view.
    QRectF plotRect() const;
    double xToPos(double x) const;
    double yToPos(double y) const;
    double posToX(double px) const;
    double posToY(double py) const;

    void hoverAt(const QPointF& chartPos);
    void hideHover();
    void updateReadout();
    QString formatX(double x) const;

    bool handleMouse(QEvent* event);
    void zoomAround(double factorX, double factorY, const QPointF& chartPos);
    void panBy(double dxPixels, double dyPixels);

    QString m_title;
    QChart* m_chart = nullptr;
    QChartView* m_view = nullptr;
    QValueAxis* m_axisXValue = nullptr;
    QDateTimeAxis* m_axisXTime = nullptr;
    QValueAxis* m_axisYValue = nullptr;
    QLogValueAxis* m_axisYLog = nullptr;
    QAbstractAxis* m_axisX = nullptr;  // the attached ones
    QAbstractAxis* m_axisY = nullptr;

    QLabel* m_smoothingLabel = nullptr;
    QSlider* m_smoothingSlider = nullptr;
    QLabel* m_smoothingValue = nullptr;
    QCheckBox* m_logYBox = nullptr;
    QLabel* m_xAxisLabel = nullptr;
    QComboBox* m_xAxisCombo = nullptr;
    QToolButton* m_resetButton = nullptr;
    QLabel* m_readout = nullptr;
    QString m_readoutPlain;
    QRubberBand* m_rubberBand = nullptr;
    QGraphicsLineItem* m_crosshair = nullptr;

    std::vector<std::unique_ptr<Run>> m_runs;
    QHash<QString, Run*> m_runById;

    XAxis m_xAxis = XAxis::Step;
    double m_smoothing = 0.0;
    bool m_logY = false;

    bool m_zoomX = false;
    bool m_zoomY = false;
    double m_x0 = 0.0, m_x1 = 1.0;
    double m_y0 = 0.0, m_y1 = 1.0;

    QTimer m_refreshTimer;
    QTimer m_smoothingTimer;
    bool m_dirty = false;
    int m_bucketedColumns = 0;
    double m_lastRefreshMs = 0.0;

    // Mouse interaction state.
    enum class Drag { None, Zoom, Pan };
    Drag m_drag = Drag::None;
    QPoint m_dragStart;
    QPoint m_dragLast;
    bool m_hovering = false;
    double m_hoverX = 0.0;
};

}  // namespace r1::widgets
