#pragma once

// Downsampling and smoothing of metric curves for drawing. Pure functions, no widgets.

#include <QPointF>

#include <cstdint>
#include <vector>

namespace r1::widgets {

// One logged value of a metric. wall = unix seconds.
struct SeriesPoint {
    double step;
    double wall;
    double value;
};

// Min/max ("M4") downsampling of a curve for a plot that shows [x0, x1] in `buckets` pixel
// columns. For each non-empty column: its first, min, max and last points in x order (once each),
// plus the nearest point just outside each end of the range so the line reaches the plot edges.
// The input must be sorted by x and free of NaN. Cost: O(log n + points in [x0, x1]).
// The result has at most 4 * buckets + 2 points.
std::vector<QPointF> downsample_minmax(const std::vector<QPointF>& xy_sorted_by_x, double x0,
                                       double x1, int buckets);

// TensorBoard's smoothing, one value at a time: last = last * w + (1 - w) * x, divided by
// (1 - w^k) where k counts the finite values seen so far. A NaN or infinite input gives NaN and
// leaves the state alone, so it does not poison later values. w = 0 is the identity; w is
// clamped to [0, 0.9999].
class EmaDebiased {
public:
    explicit EmaDebiased(double weight = 0.0);
    double push(double x);
    double weight() const { return m_weight; }

private:
    double m_weight;
    double m_last = 0.0;
    double m_weightPow = 1.0;  // w^k
};

// EmaDebiased applied to a whole series.
std::vector<double> ema_debiased(const std::vector<double>& v, double weight);

}  // namespace r1::widgets
