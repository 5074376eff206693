#include "widgets/slice_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace r1::widgets {

namespace {

// Text with a dark halo so that it reads on any gray.
void haloText(QPainter& p, QPointF at, const QString& text, const QColor& color) {
    QPainterPath path;
    path.addText(at, p.font(), text);
    p.save();
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(QColor(0, 0, 0, 220), 3.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    p.setBrush(Qt::NoBrush);
    p.drawPath(path);
    p.setPen(Qt::NoPen);
    p.setBrush(color);
    p.drawPath(path);
    p.restore();
}

}  // namespace

QColor markColor(const SliceMark& m) {
    switch (m.kind) {
    case SliceMark::Kind::Truth: return QColor(255, 212, 0);
    case SliceMark::Kind::Missed: return QColor(255, 80, 255);
    case SliceMark::Kind::Candidate: break;
    }
    switch (m.state) {
    case SliceMark::State::Accepted: return QColor(60, 220, 80);
    case SliceMark::State::Rejected: return QColor(255, 80, 80);
    case SliceMark::State::Pending: break;
    }
    return QColor(0, 208, 255);
}

WindowLevel presetWindow(WindowPreset p) {
    switch (p) {
    case WindowPreset::Lung: return {1500, -600};
    case WindowPreset::Mediastinum: return {400, 40};
    case WindowPreset::Bone: return {2000, 500};
    }
    return {};
}

int windowGray(double hu, const WindowLevel& w) {
    const double width = std::max(1.0, w.width);
    const double g = (hu - (w.level - width / 2)) / width * 255.0;
    if (!(g > 0)) return 0;  // NaN too
    if (g >= 255) return 255;
    return static_cast<int>(std::lround(g));
}

// ---- SliceView ------------------------------------------------------------------------------

SliceView::SliceView(Plane plane, QWidget* parent) : QWidget(parent), plane_(plane) {
    setFocusPolicy(Qt::WheelFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setWindow(presetWindow(WindowPreset::Lung));
}

int SliceView::axisU() const { return plane_ == Plane::Sagittal ? 1 : 0; }
int SliceView::axisV() const { return plane_ == Plane::Axial ? 1 : 2; }
int SliceView::axisN() const {
    return plane_ == Plane::Axial ? 2 : plane_ == Plane::Coronal ? 1 : 0;
}

void SliceView::toPlane(double x, double y, double z, double* u, double* v, double* n) const {
    const double idx[3] = {x, y, z};
    *u = idx[axisU()];
    *v = flipV() ? (volume_.size[axisV()] - 1) - idx[axisV()] : idx[axisV()];
    *n = idx[axisN()];
}

void SliceView::fromPlane(double u, double v, double n, double* x, double* y, double* z) const {
    double idx[3];
    idx[axisU()] = u;
    idx[axisV()] = flipV() ? (volume_.size[axisV()] - 1) - v : v;
    idx[axisN()] = n;
    *x = idx[0];
    *y = idx[1];
    *z = idx[2];
}

int SliceView::sliceCount() const { return volume_.isEmpty() ? 0 : volume_.size[axisN()]; }

void SliceView::setVolume(const SliceVolume& volume) {
    volume_ = volume;
    slice_ = volume_.isEmpty() ? 0 : volume_.size[axisN()] / 2;
    hover_ = false;
    zoom_ = 1.0;
    pan_ = {};
    rebuildImage();
    update();
    Q_EMIT sliceChanged(slice_);
}

void SliceView::clearVolume() { setVolume({}); }

void SliceView::setMarks(const QVector<SliceMark>& marks) {
    marks_ = marks;
    update();
}

void SliceView::setPlaceholder(const QString& text) {
    placeholder_ = text;
    update();
}

void SliceView::setWindow(const WindowLevel& w) {
    const WindowLevel next{std::max(1.0, w.width), w.level};
    if (!lut_.empty() && next.width == window_.width && next.level == window_.level) return;
    window_ = next;
    lut_.resize(65536);
    for (int i = 0; i < 65536; ++i)
        lut_[static_cast<size_t>(i)] = static_cast<uchar>(windowGray(i - 32768, window_));
    rebuildImage();
    update();
    Q_EMIT windowChanged(window_.width, window_.level);
}

void SliceView::setSlice(int slice) {
    const int n = sliceCount();
    const int s = n > 0 ? std::clamp(slice, 0, n - 1) : 0;
    if (s == slice_) return;
    slice_ = s;
    rebuildImage();
    if (hover_) updateHover(mapFromGlobal(QCursor::pos()));
    update();
    Q_EMIT sliceChanged(slice_);
}

void SliceView::setFocus3D(double x, double y, double z) {
    focus_[0] = x;
    focus_[1] = y;
    focus_[2] = z;
    const double idx[3] = {x, y, z};
    setSlice(static_cast<int>(std::lround(idx[axisN()])));
    update();
}

void SliceView::setPickMode(bool on) {
    pick_ = on;
    setCursor(on ? Qt::CrossCursor : Qt::ArrowCursor);
    drag_ = Drag::None;
}

void SliceView::resetView() {
    zoom_ = 1.0;
    pan_ = {};
    update();
}

QRectF SliceView::imageRect() const {
    if (volume_.isEmpty()) return {};
    const double wMm = volume_.size[axisU()] * volume_.spacing[axisU()];
    const double hMm = volume_.size[axisV()] * volume_.spacing[axisV()];
    const double fit = std::min(width() / wMm, height() / hMm);
    const double s = fit * zoom_;
    const QSizeF size(wMm * s, hMm * s);
    const QPointF topLeft = QPointF(width() / 2.0, height() / 2.0) + pan_ -
                            QPointF(size.width() / 2, size.height() / 2);
    return {topLeft, size};
}

QPointF SliceView::voxelToWidget(double x, double y, double z) const {
    const QRectF r = imageRect();
    if (r.isEmpty()) return {};
    double u, v, n;
    toPlane(x, y, z, &u, &v, &n);
    return {r.left() + (u + 0.5) / volume_.size[axisU()] * r.width(),
            r.top() + (v + 0.5) / volume_.size[axisV()] * r.height()};
}

bool SliceView::widgetToVoxel(QPointF p, double* x, double* y, double* z) const {
    const QRectF r = imageRect();
    if (r.isEmpty()) return false;
    const int nu = volume_.size[axisU()], nv = volume_.size[axisV()];
    const double u = (p.x() - r.left()) / r.width() * nu - 0.5;
    const double v = (p.y() - r.top()) / r.height() * nv - 0.5;
    fromPlane(u, v, slice_, x, y, z);
    return u >= -0.5 && v >= -0.5 && u < nu - 0.5 && v < nv - 0.5;
}

void SliceView::rebuildImage() {
    if (volume_.isEmpty()) {
        image_ = {};
        return;
    }
    const int nu = volume_.size[axisU()], nv = volume_.size[axisV()];
    image_ = QImage(nu, nv, QImage::Format_Grayscale8);
    const auto* i16 = volume_.i16 ? volume_.i16->data() : nullptr;
    for (int v = 0; v < nv; ++v) {
        uchar* row = image_.scanLine(v);
        for (int u = 0; u < nu; ++u) {
            double x, y, z;
            fromPlane(u, v, slice_, &x, &y, &z);
            const int xi = static_cast<int>(x), yi = static_cast<int>(y), zi = static_cast<int>(z);
            if (i16) {
                const size_t o = (static_cast<size_t>(zi) * static_cast<size_t>(volume_.size[1]) +
                                  static_cast<size_t>(yi)) * static_cast<size_t>(volume_.size[0]) +
                                 static_cast<size_t>(xi);
                row[u] = lut_[static_cast<size_t>(i16[o] + 32768)];
            } else {
                row[u] = static_cast<uchar>(windowGray(volume_.at(xi, yi, zi), window_));
            }
        }
    }
}

void SliceView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), Qt::black);
    if (volume_.isEmpty()) {
        p.setPen(QColor(170, 170, 170));
        p.drawText(rect().adjusted(16, 16, -16, -16), Qt::AlignCenter | Qt::TextWordWrap,
                   placeholder_);
        return;
    }
    p.setRenderHint(QPainter::SmoothPixmapTransform, zoom_ < 4.0);
    p.drawImage(imageRect(), image_);
    p.setRenderHint(QPainter::Antialiasing);
    drawMarks(p);
    drawOverlayText(p);
    if (hasFocus()) {
        p.setPen(QPen(QColor(0, 140, 255, 160), 2));
        p.setBrush(Qt::NoBrush);
        p.drawRect(QRectF(rect()).adjusted(1, 1, -1, -1));
    }
}

void SliceView::drawMarks(QPainter& p) const {
    const QRectF r = imageRect();
    const double pxPerMm = r.width() / (volume_.size[axisU()] * volume_.spacing[axisU()]);
    const double spN = volume_.spacing[axisN()];
    QFont f = font();
    f.setPointSizeF(std::max(8.0, f.pointSizeF()));
    f.setBold(true);
    p.setFont(f);

    // Crosshair of the coronal and sagittal views: where the focus (and the axial slice) is.
    if (plane_ != Plane::Axial && focus_[0] >= 0) {
        const QPointF c = voxelToWidget(focus_[0], focus_[1], focus_[2]);
        p.setPen(QPen(QColor(255, 160, 0, 150), 1, Qt::DashLine));
        p.drawLine(QPointF(r.left(), c.y()), QPointF(r.right(), c.y()));
        p.drawLine(QPointF(c.x(), r.top()), QPointF(c.x(), r.bottom()));
    }

    // Truth first, then candidates, the current one last (on top).
    QVector<const SliceMark*> order;
    for (const auto& m : marks_)
        if (m.kind != SliceMark::Kind::Candidate) order << &m;
    for (const auto& m : marks_)
        if (m.kind == SliceMark::Kind::Candidate && !m.current) order << &m;
    for (const auto& m : marks_)
        if (m.kind == SliceMark::Kind::Candidate && m.current) order << &m;

    for (const SliceMark* m : order) {
        double u, v, n;
        toPlane(m->x, m->y, m->z, &u, &v, &n);
        const double radius = std::max(0.5, m->diameterMm / 2);
        const double dn = (n - slice_) * spN;
        // Drawn on every slice the sphere cuts, and at least on the slice nearest its centre.
        if (std::abs(dn) > std::max(radius, 0.5 * spN + 1e-9)) continue;
        const double section = std::max(std::sqrt(std::max(0.0, radius * radius - dn * dn)),
                                        0.4 * radius);
        const QPointF c = voxelToWidget(m->x, m->y, m->z);
        const double rpx = section * pxPerMm;
        const QColor color = markColor(*m);
        if (m->kind == SliceMark::Kind::Candidate) {
            const double half = std::max(7.0, rpx + 4);
            QPen pen(color, m->current ? 3.0 : 1.6);
            if (m->state == SliceMark::State::Rejected) pen.setStyle(Qt::DashLine);
            p.setPen(pen);
            p.setBrush(Qt::NoBrush);
            p.drawRect(QRectF(c.x() - half, c.y() - half, 2 * half, 2 * half));
            QString label = QStringLiteral("#%1").arg(m->id);
            if (m->score >= 0) label += QStringLiteral(" %1").arg(m->score, 0, 'f', 2);
            if (m->state == SliceMark::State::Accepted) label += QStringLiteral(" \u2713");
            if (m->state == SliceMark::State::Rejected) label += QStringLiteral(" \u2717");
            haloText(p, QPointF(c.x() - half, c.y() - half - 4), label, color);
        } else {
            const double rr = std::max(5.0, rpx + (m->kind == SliceMark::Kind::Truth ? 1.5 : 0));
            QPen pen(color, m->kind == SliceMark::Kind::Missed && m->current ? 3.0 : 1.6);
            if (m->kind == SliceMark::Kind::Truth) pen.setStyle(Qt::DotLine);
            p.setPen(pen);
            p.setBrush(Qt::NoBrush);
            p.drawEllipse(c, rr, rr);
            const QString label = m->kind == SliceMark::Kind::Truth
                                      ? tr("GT \u2300%1").arg(m->diameterMm, 0, 'f', 1)
                                      : tr("M%1 \u2300%2").arg(m->id).arg(m->diameterMm, 0, 'f', 1);
            const QFontMetricsF fm(p.font());
            haloText(p, QPointF(c.x() - fm.horizontalAdvance(label) / 2, c.y() + rr + fm.ascent() + 2),
                     label, color);
        }
    }
}

void SliceView::drawOverlayText(QPainter& p) const {
    QFont f = font();
    f.setBold(false);
    p.setFont(f);
    const QFontMetricsF fm(f);
    const double lh = fm.height();
    const QString planeName = plane_ == Plane::Axial     ? tr("Axial")
                              : plane_ == Plane::Coronal ? tr("Coronal")
                                                         : tr("Sagittal");
    const QColor text(235, 235, 235);
    haloText(p, QPointF(8, 6 + fm.ascent()),
             tr("%1  %2 / %3").arg(planeName).arg(slice_ + 1).arg(sliceCount()), text);
    haloText(p, QPointF(8, 6 + lh + fm.ascent()),
             tr("W %1  L %2").arg(std::lround(window_.width)).arg(std::lround(window_.level)), text);
    if (std::abs(zoom_ - 1.0) > 1e-3) {
        const QString z = tr("zoom %1%").arg(std::lround(zoom_ * 100));
        haloText(p, QPointF(width() - 8 - fm.horizontalAdvance(z), 6 + fm.ascent()), z, text);
    }
    if (hover_) {
        const QString h = tr("x %1  y %2  z %3   %4 HU")
                              .arg(hoverVoxel_[0])
                              .arg(hoverVoxel_[1])
                              .arg(hoverVoxel_[2])
                              .arg(std::lround(hoverHu_));
        haloText(p, QPointF(8, height() - 8 - fm.descent()), h, text);
    }
    if (pick_) {
        const QString t = tr("Click the centre of the missed nodule (Esc cancels)");
        haloText(p, QPointF((width() - fm.horizontalAdvance(t)) / 2, height() - 8 - lh - fm.descent()),
                 t, QColor(255, 80, 255));
    }
}

void SliceView::resizeEvent(QResizeEvent*) { update(); }

void SliceView::updateHover(QPointF pos) {
    double x, y, z;
    const bool inside = widgetToVoxel(pos, &x, &y, &z);
    const bool was = hover_;
    hover_ = inside;
    if (inside) {
        hoverVoxel_[0] = std::clamp(static_cast<int>(std::lround(x)), 0, volume_.size[0] - 1);
        hoverVoxel_[1] = std::clamp(static_cast<int>(std::lround(y)), 0, volume_.size[1] - 1);
        hoverVoxel_[2] = std::clamp(static_cast<int>(std::lround(z)), 0, volume_.size[2] - 1);
        hoverHu_ = volume_.at(hoverVoxel_[0], hoverVoxel_[1], hoverVoxel_[2]);
    }
    if (inside || was) update();
}

void SliceView::wheelEvent(QWheelEvent* e) {
    if (volume_.isEmpty()) return;
    const double steps = e->angleDelta().y() / 120.0;
    if (e->modifiers() & Qt::ControlModifier) {
        const QRectF before = imageRect();
        const QPointF pos = e->position();
        const QPointF rel((pos.x() - before.left()) / before.width(),
                          (pos.y() - before.top()) / before.height());
        zoom_ = std::clamp(zoom_ * std::pow(1.2, steps), 0.25, 32.0);
        const QRectF after = imageRect();
        const QPointF topLeft(pos.x() - rel.x() * after.width(), pos.y() - rel.y() * after.height());
        pan_ += topLeft - after.topLeft();
        update();
    } else {
        // Scrolling down (negative delta) goes to the next slice, as in PACS viewers.
        const int d = steps < 0 ? std::max(1, static_cast<int>(-steps))
                                : -std::max(1, static_cast<int>(steps));
        if (steps != 0) setSlice(slice_ + d);
    }
    e->accept();
}

void SliceView::mousePressEvent(QMouseEvent* e) {
    setFocus(Qt::MouseFocusReason);
    dragStart_ = e->position();
    if (e->button() == Qt::RightButton && !pick_) {
        drag_ = Drag::Window;
        windowStart_ = window_;
    } else if (e->button() == Qt::MiddleButton || (e->button() == Qt::LeftButton && spaceHeld_)) {
        drag_ = Drag::Pan;
        panStart_ = pan_;
        setCursor(Qt::ClosedHandCursor);
    } else if (e->button() == Qt::LeftButton) {
        drag_ = Drag::Click;
    }
    e->accept();
}

void SliceView::mouseMoveEvent(QMouseEvent* e) {
    const QPointF d = e->position() - dragStart_;
    if (drag_ == Drag::Window) {
        // Right-drag: horizontal widens/narrows the window, vertical moves the level.
        setWindow({windowStart_.width + d.x() * 4.0, windowStart_.level - d.y() * 2.0});
    } else if (drag_ == Drag::Pan) {
        pan_ = panStart_ + d;
        update();
    }
    updateHover(e->position());
}

void SliceView::mouseReleaseEvent(QMouseEvent* e) {
    const QPointF d = e->position() - dragStart_;
    if (drag_ == Drag::Click && e->button() == Qt::LeftButton &&
        std::hypot(d.x(), d.y()) < 5.0) {
        double x, y, z;
        if (widgetToVoxel(e->position(), &x, &y, &z)) Q_EMIT voxelClicked(x, y, z);
    }
    if (drag_ == Drag::Pan) setCursor(pick_ ? Qt::CrossCursor : Qt::ArrowCursor);
    drag_ = Drag::None;
    e->accept();
}

void SliceView::keyPressEvent(QKeyEvent* e) {
    switch (e->key()) {
    case Qt::Key_Up: setSlice(slice_ - 1); break;
    case Qt::Key_Down: setSlice(slice_ + 1); break;
    case Qt::Key_PageUp: setSlice(slice_ - 10); break;
    case Qt::Key_PageDown: setSlice(slice_ + 10); break;
    case Qt::Key_Home: setSlice(0); break;
    case Qt::Key_End: setSlice(sliceCount() - 1); break;
    case Qt::Key_1: setWindow(presetWindow(WindowPreset::Lung)); break;
    case Qt::Key_2: setWindow(presetWindow(WindowPreset::Mediastinum)); break;
    case Qt::Key_3: setWindow(presetWindow(WindowPreset::Bone)); break;
    case Qt::Key_0: resetView(); break;
    case Qt::Key_Space:
        if (!e->isAutoRepeat()) spaceHeld_ = true;
        break;
    default: QWidget::keyPressEvent(e); return;
    }
    e->accept();
}

void SliceView::keyReleaseEvent(QKeyEvent* e) {
    if (e->key() == Qt::Key_Space && !e->isAutoRepeat()) spaceHeld_ = false;
    QWidget::keyReleaseEvent(e);
}

void SliceView::leaveEvent(QEvent*) {
    hover_ = false;
    update();
}

// ---- ZProfileStrip --------------------------------------------------------------------------

ZProfileStrip::ZProfileStrip(QWidget* parent) : QWidget(parent) {
    setToolTip(tr("Where the marks lie along z (head end at the top); click to go there"));
    setCursor(Qt::PointingHandCursor);
}

void ZProfileStrip::setSliceCount(int count) {
    count_ = count;
    update();
}

void ZProfileStrip::setMarks(const QVector<SliceMark>& marks) {
    marks_ = marks;
    update();
}

void ZProfileStrip::setCurrentSlice(int slice) {
    current_ = slice;
    update();
}

double ZProfileStrip::yOf(double slice) const {
    const double top = 6, h = std::max(1, height() - 12);
    if (count_ <= 1) return top + h / 2;
    return top + (count_ - 1 - slice) / (count_ - 1) * h;
}

int ZProfileStrip::sliceAt(double y) const {
    const double top = 6, h = std::max(1, height() - 12);
    if (count_ <= 1) return 0;
    const double s = (count_ - 1) - (y - top) / h * (count_ - 1);
    return std::clamp(static_cast<int>(std::lround(s)), 0, count_ - 1);
}

void ZProfileStrip::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), QColor(24, 24, 24));
    if (count_ <= 0) return;
    const double w = width();
    p.setPen(QPen(QColor(90, 90, 90), 1));
    p.drawLine(QPointF(w / 2, yOf(count_ - 1)), QPointF(w / 2, yOf(0)));
    for (const auto& m : marks_) {
        const double y = yOf(m.z);
        const QColor c = markColor(m);
        if (m.kind == SliceMark::Kind::Candidate) {
            p.setPen(QPen(c, m.current ? 4.0 : 2.0));
            p.drawLine(QPointF(3, y), QPointF(w * 0.62, y));
        } else {
            p.setPen(Qt::NoPen);
            p.setBrush(c);
            const double cx = w * 0.8;
            QPolygonF diamond;
            diamond << QPointF(cx, y - 4) << QPointF(cx + 4, y) << QPointF(cx, y + 4)
                    << QPointF(cx - 4, y);
            p.drawPolygon(diamond);
        }
    }
    const double y = yOf(current_);
    p.setPen(QPen(Qt::white, 1.5));
    p.drawLine(QPointF(0, y), QPointF(w, y));
    p.setBrush(Qt::white);
    p.setPen(Qt::NoPen);
    QPolygonF tri;
    tri << QPointF(0, y - 4) << QPointF(5, y) << QPointF(0, y + 4);
    p.drawPolygon(tri);
}

void ZProfileStrip::mousePressEvent(QMouseEvent* e) {
    if (count_ > 0 && e->button() == Qt::LeftButton) Q_EMIT sliceRequested(sliceAt(e->position().y()));
}

void ZProfileStrip::mouseMoveEvent(QMouseEvent* e) {
    if (count_ > 0 && (e->buttons() & Qt::LeftButton)) Q_EMIT sliceRequested(sliceAt(e->position().y()));
}

}  // namespace r1::widgets
