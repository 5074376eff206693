#pragma once
// The Review page: scans on the left, the axial slice view with its z-profile strip and small
// coronal and sagittal views in the centre, the current scan's candidates, the review keys and
// the metrics (FROC curve, CPM, mAP@0.5, counts) on the right. Keyboard first: A accept,
// R reject, M mark a missed nodule (then click its centre), N next unreviewed, U undo; ↑/↓,
// PgUp/PgDn, Home/End, wheel step slices; 1/2/3 lung/mediastinum/bone window. A view: it emits
// what the user asked for; the app decides, saves and answers through the setters and models.
#include "widgets/review_models.h"
#include "widgets/slice_view.h"

#include <QPointF>
#include <QVector>
#include <QWidget>

#include <limits>

class QAction;
class QChart;
class QChartView;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineSeries;
class QProgressBar;
class QPushButton;
class QSlider;
class QTableView;
class QToolButton;

namespace r1::widgets {

// What the metrics panel shows; the app computes it (the rule is in docs/IMAGING.md).
struct ReviewMetrics {
    static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    int scans = 0;
    int nodules = 0;        // reference nodules: annotated + accepted off the annotations + missed
    int annotated = 0;      // of those, from annotations.csv
    int marks = 0;          // marks kept after review at the threshold
    int detected = 0;       // reference nodules hit by a kept mark
    int falsePositives = 0;  // kept marks hitting no nodule
    int accepted = 0, rejected = 0, missed = 0, pending = 0;
    double cpm = nan, map50 = nan;                  // after review
    double detectorCpm = nan, detectorMap50 = nan;  // every mark at the threshold
    QVector<double> fpRates, sensitivities;         // after review
    QVector<QPointF> curve, detectorCurve;          // (FPs per scan, sensitivity)
    QString note;                                   // e.g. why mAP is missing
};

class ReviewView final : public QWidget {
    Q_OBJECT
public:
    explicit ReviewView(QWidget* parent = nullptr);

    ScanListModel* scans() const { return scans_; }
    CandidateTableModel* candidates() const { return candidates_; }
    SliceView* axial() const { return axial_; }
    SliceView* coronal() const { return coronal_; }
    SliceView* sagittal() const { return sagittal_; }
    ZProfileStrip* strip() const { return strip_; }
    QTableView* scanTable() const { return scanTable_; }
    QTableView* candidateTable() const { return candidateTable_; }
    QSlider* thresholdSlider() const { return threshold_; }
    QComboBox* windowPresets() const { return presets_; }
    QWidget* imageArea() const { return imageArea_; }  // what "Export PNG" saves

    void setVolume(const SliceVolume& volume);
    void clearVolume(const QString& placeholder);
    void setMarks(const QVector<SliceMark>& marks);
    void setCurrentScan(int row);
    // Selects the candidate (key as CandidateTableModel::keyOf) and moves the views to it.
    void setCurrentCandidate(const QString& key, double x, double y, double z);
    QString currentCandidate() const { return currentKey_; }
    void setMetrics(const ReviewMetrics& m);
    // Scores span [lo, hi]; the slider maps onto it in 1000 steps.
    void setThresholdRange(double lo, double hi);
    void setThreshold(double t);  // emits nothing
    double threshold() const;
    double markDiameter() const;
    void setBusy(const QString& what, int done, int total);  // what = "": idle
    void setMessage(const QString& text, bool error);
    void setSource(const QString& text);  // folder and candidate file
    // The demo's stand-in detector: a banner says where its candidates come from.
    void setDemoCandidates(bool demo);
    bool demoBannerVisible() const;
    bool busyVisible() const;  // the busy text, progress bar and Cancel
    bool markingMissed() const;

Q_SIGNALS:
    void openFolderRequested();
    void openCandidatesRequested();
    void runDetectorRequested();
    void generateDemoRequested();
    void exportSubmissionRequested();
    void exportDecisionsRequested();
    void exportImageRequested();
    void cancelRequested();
    void scanSelected(int row);
    void candidateSelected(const QString& key);
    void acceptRequested();
    void rejectRequested();
    void undoRequested();
    void nextUnreviewedRequested();
    void missedMarked(double x, double y, double z, double diameterMm);
    void thresholdChanged(double threshold);

private:
    QWidget* buildToolbar();
    QWidget* buildRightPanel();
    void onAxialClick(double x, double y, double z);
    void startMarking();
    void stopMarking();
    void syncPresetCombo(double width, double level);
    double sliderToScore(int v) const;
    int scoreToSlider(double t) const;

    ScanListModel* scans_;
    CandidateTableModel* candidates_;
    QTableView* scanTable_ = nullptr;
    QTableView* candidateTable_ = nullptr;
    SliceView* axial_ = nullptr;
    SliceView* coronal_ = nullptr;
    SliceView* sagittal_ = nullptr;
    ZProfileStrip* strip_ = nullptr;
    QWidget* imageArea_ = nullptr;
    QComboBox* presets_ = nullptr;
    QSlider* threshold_ = nullptr;
    QLabel* thresholdLabel_ = nullptr;
    QDoubleSpinBox* diameter_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QLabel* busy_ = nullptr;
    QLabel* banner_ = nullptr;
    QLabel* source_ = nullptr;
    QLabel* message_ = nullptr;
    QLabel* metricsText_ = nullptr;
    QChart* chart_ = nullptr;
    QChartView* chartView_ = nullptr;
    QLineSeries* reviewedSeries_ = nullptr;
    QLineSeries* detectorSeries_ = nullptr;
    QList<QAction*> reviewActions_;
    QVector<SliceMark> marks_;
    QString currentKey_;
    double lo_ = 0, hi_ = 1;
    bool updating_ = false;  // a setter is moving a selection: do not echo it as an intent
};

}  // namespace r1::widgets
