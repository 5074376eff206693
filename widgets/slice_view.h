#pragma once
// The slice viewer of the review page: one plane (axial, coronal or sagittal) of a CT volume with
// window/level, slice stepping, zoom and pan, and the marks of a review (detector candidates,
// ground truth, nodules the reviewer marked as missed) drawn on the slices they span. Beside it,
// ZProfileStrip shows where the marks lie along z. Views only: the app hands over the voxels and
// the marks in voxel coordinates; user actions come back as signals.
#include <QImage>
#include <QPointF>
#include <QVector>
#include <QWidget>

#include <memory>
#include <vector>

namespace r1::widgets {

// The voxels of one volume, z, y, x order (x fastest), in Hounsfield units. Exactly one of i16
// and f32 is set; shared so that several views show one volume without copies.
struct SliceVolume {
    int size[3] = {0, 0, 0};           // voxels along x, y, z
    double spacing[3] = {1.0, 1.0, 1.0};  // mm between voxel centres along x, y, z
    std::shared_ptr<const std::vector<qint16>> i16;
    std::shared_ptr<const std::vector<float>> f32;

    bool isEmpty() const { return size[0] <= 0 || size[1] <= 0 || size[2] <= 0 || (!i16 && !f32); }
    float at(int x, int y, int z) const {
        const size_t o = (static_cast<size_t>(z) * static_cast<size_t>(size[1]) +
                          static_cast<size_t>(y)) * static_cast<size_t>(size[0]) +
                         static_cast<size_t>(x);
        return i16 ? static_cast<float>((*i16)[o]) : (*f32)[o];
    }
};

// Something drawn over the slices: a sphere of `diameterMm` around (x, y, z), in continuous voxel
// indices (integers at voxel centres). Candidates are boxes with their score, ground truth
// circles, missed nodules (marked by the reviewer) circles in a third colour.
struct SliceMark {
    enum class Kind { Candidate, Truth, Missed };
    enum class State { Pending, Accepted, Rejected };
    Kind kind = Kind::Candidate;
    int id = 0;  // candidate id (or missed-mark id); shown as the label's prefix
    double x = 0, y = 0, z = 0;
    double diameterMm = 10;
    double score = -1;  // candidates; < 0: no score label
    State state = State::Pending;
    bool current = false;  // the candidate under review: drawn thicker
};

// Colours of the marks, shared by the slice views, the z-profile strip and the legend.
QColor markColor(const SliceMark& m);

// Window/level: gray = round((hu - (level - width / 2)) / width * 255), clamped to 0..255 (a plain
// linear ramp; the DICOM "c - 0.5, w - 1" variant differs by under one gray level).
struct WindowLevel {
    double width = 1500, level = -600;
};
enum class WindowPreset { Lung, Mediastinum, Bone };
WindowLevel presetWindow(WindowPreset p);  // lung W1500/L−600, mediastinum W400/L40, bone W2000/L500
int windowGray(double hu, const WindowLevel& w);

class SliceView final : public QWidget {
    Q_OBJECT
public:
    enum class Plane { Axial, Coronal, Sagittal };
    explicit SliceView(Plane plane = Plane::Axial, QWidget* parent = nullptr);

    Plane plane() const { return plane_; }
    // Shows `volume` at its middle slice, fitted to the widget; the window stays.
    void setVolume(const SliceVolume& volume);
    void clearVolume();
    const SliceVolume& volume() const { return volume_; }
    void setMarks(const QVector<SliceMark>& marks);
    void setPlaceholder(const QString& text);  // shown without a volume

    void setWindow(const WindowLevel& w);
    WindowLevel window() const { return window_; }
    void setSlice(int slice);  // clamped
    int slice() const { return slice_; }
    int sliceCount() const;
    // Coronal and sagittal views draw a crosshair at this voxel and cut through it; the axial
    // view only moves to its slice. Continuous voxel indices.
    void setFocus3D(double x, double y, double z);
    // While on, the cursor is a crosshair and a left click only emits voxelClicked (marking a
    // missed nodule); panning and selection are off.
    void setPickMode(bool on);
    bool pickMode() const { return pick_; }
    void resetView();  // fit, no pan
    double zoom() const { return zoom_; }

    // Widget position of voxel (x, y, z) projected on this plane, and back (the third index
    // is the current slice). For tests and for placing things over the view.
    QPointF voxelToWidget(double x, double y, double z) const;
    bool widgetToVoxel(QPointF p, double* x, double* y, double* z) const;

    QSize sizeHint() const override { return {512, 512}; }
    QSize minimumSizeHint() const override { return {160, 160}; }

Q_SIGNALS:
    void sliceChanged(int slice);
    void windowChanged(double width, double level);
    // A left click (not a drag) on the image, in continuous voxel indices.
    void voxelClicked(double x, double y, double z);

protected:
    void paintEvent(QPaintEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;
    void wheelEvent(QWheelEvent* e) override;
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;
    void keyPressEvent(QKeyEvent* e) override;
    void keyReleaseEvent(QKeyEvent* e) override;
    void leaveEvent(QEvent* e) override;

private:
    // Plane axes: u runs left to right, v top to bottom, n through the slices; index axes of the
    // volume (0 x, 1 y, 2 z). Coronal and sagittal views put the last z (head end in LPS scans)
    // at the top.
    int axisU() const;
    int axisV() const;
    int axisN() const;
    bool flipV() const { return plane_ != Plane::Axial; }
    void toPlane(double x, double y, double z, double* u, double* v, double* n) const;
    void fromPlane(double u, double v, double n, double* x, double* y, double* z) const;
    QRectF imageRect() const;  // where the slice image lies in the widget
    void rebuildImage();
    void drawMarks(QPainter& p) const;
    void drawOverlayText(QPainter& p) const;
    void updateHover(QPointF pos);

    Plane plane_;
    SliceVolume volume_;
    QVector<SliceMark> marks_;
    QString placeholder_;
    WindowLevel window_;
    std::vector<uchar> lut_;  // int16 HU + 32768 → gray, for window_
    QImage image_;
    int slice_ = 0;
    double zoom_ = 1.0;
    QPointF pan_;
    double focus_[3] = {-1, -1, -1};
    bool pick_ = false;
    bool spaceHeld_ = false;
    enum class Drag { None, Window, Pan, Click } drag_ = Drag::None;
    QPointF dragStart_;
    QPointF panStart_;
    WindowLevel windowStart_;
    bool hover_ = false;
    int hoverVoxel_[3] = {0, 0, 0};
    float hoverHu_ = 0;
};

// A thin vertical bar beside the axial view: the whole z range (the last slice at the top), a
// tick per candidate (in its decision's colour), a diamond per ground-truth or missed nodule,
// and the current slice. A click or drag moves to that slice.
class ZProfileStrip final : public QWidget {
    Q_OBJECT
public:
    explicit ZProfileStrip(QWidget* parent = nullptr);
    void setSliceCount(int count);
    void setMarks(const QVector<SliceMark>& marks);
    void setCurrentSlice(int slice);
    int sliceAt(double y) const;
    double yOf(double slice) const;
    QSize sizeHint() const override { return {30, 300}; }
    QSize minimumSizeHint() const override { return {30, 60}; }

Q_SIGNALS:
    void sliceRequested(int slice);

protected:
    void paintEvent(QPaintEvent* e) override;
    void mousePressEvent(QMouseEvent* e) override;
    void mouseMoveEvent(QMouseEvent* e) override;

private:
    int count_ = 0;
    int current_ = 0;
    QVector<SliceMark> marks_;
};

}  // namespace r1::widgets
