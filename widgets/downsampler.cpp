#include "widgets/downsampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace r1::widgets {

namespace {

bool lessX(const QPointF& p, double x) { return p.x() < x; }
bool xLess(double x, const QPointF& p) { return x < p.x(); }

}  // namespace

std::vector<QPointF> downsample_minmax(const std::vector<QPointF>& xy, double x0, double x1,
                                       int buckets)
{
    std::vector<QPointF> out;
    if (xy.empty() || !(x1 >= x0))
        return out;
    buckets = std::max(1, buckets);

    const auto first = std::lower_bound(xy.begin(), xy.end(), x0, lessX);
    const auto last = std::upper_bound(first, xy.end(), x1, xLess);
    const size_t lo = size_t(first - xy.begin());
    const size_t hi = size_t(last - xy.begin());

    out.reserve(std::min<size_t>(hi - lo, 4 * size_t(buckets)) + 2);
    if (lo > 0)
        out.push_back(xy[lo - 1]);

    if (hi - lo <= 4 * size_t(buckets)) {
        // Few enough points: every one is some bucket's first, min, max or last anyway.
        out.insert(out.end(), first, last);
    } else {
        const double scale = x1 > x0 ? buckets / (x1 - x0) : 0.0;
        auto bucketOf = [&](double x) {
            return std::min(buckets - 1, std::max(0, int((x - x0) * scale)));
        };
        size_t i = lo;
        while (i < hi) {
            const int b = bucketOf(xy[i].x());
            const size_t start = i;
            size_t iMin = i, iMax = i;
            for (++i; i < hi && bucketOf(xy[i].x()) == b; ++i) {
                const double y = xy[i].y();
                if (y < xy[iMin].y())
                    iMin = i;
                if (y > xy[iMax].y())
                    iMax = i;
            }
            size_t idx[4] = {start, iMin, iMax, i - 1};
            std::sort(idx, idx + 4);
            for (int k = 0; k < 4; ++k)
                if (k == 0 || idx[k] != idx[k - 1])
                    out.push_back(xy[idx[k]]);
        }
    }

    if (hi < xy.size())
        out.push_back(xy[hi]);
    return out;
}

EmaDebiased::EmaDebiased(double weight) : m_weight(std::clamp(weight, 0.0, 0.9999)) {}

double EmaDebiased::push(double x)
{
    if (!std::isfinite(x))
        return std::numeric_limits<double>::quiet_NaN();
    if (m_weight <= 0.0)
        return x;
    m_last = m_last * m_weight + (1.0 - m_weight) * x;
    m_weightPow *= m_weight;
    return m_last / (1.0 - m_weightPow);
}

std::vector<double> ema_debiased(const std::vector<double>& v, double weight)
{
    if (!(weight > 0.0))
        return v;
    EmaDebiased ema(weight);
    std::vector<double> out;
    out.reserve(v.size());
    for (double x : v)
        out.push_back(ema.push(x));
    return out;
}

}  // namespace r1::widgets
