#pragma once
// The Review page's controller: opens a folder of CT scans (LUNA16 layout or any folder of .mhd)
// with its annotations and a candidate CSV, loads the selected scan's volume on a worker thread,
// keeps the reviewer's decisions (accept, reject, missed nodules, undo) and writes them on every
// change to <folder>/r1-review.csv (atomically), so closing the workbench loses nothing;
// reopening the folder restores them. Metrics (FROC, CPM, mAP@0.5, counts) are recomputed on a
// worker thread after every change, by the rule in docs/IMAGING.md ("Review metrics").
// Results of work for a controller that has gone are dropped (QPointer guard).
#include "engine/vision/luna_csv.h"
#include "engine/vision/volume.h"
#include "widgets/review_view.h"

#include <QObject>
#include <QPointer>
#include <QString>
#include <QThreadPool>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace r1::app {

class ReviewController final : public QObject {
  Q_OBJECT

 public:
  static constexpr const char* kReviewFile = "r1-review.csv";
  static constexpr const char* kDemoCandidates = "r1-demo-candidates.csv";
  // Diameter given to an accepted candidate that matches no annotation when its CSV gives none
  // (the LUNA16 evaluation's size for findings without one).
  static constexpr double kDefaultDiameterMm = 10.0;

  explicit ReviewController(QObject* parent = nullptr);
  ~ReviewController() override;  // cancels the work in flight and waits for it

  // Connects the page's intents to this controller and its answers to the page. Intents that
  // need a dialog (open, export, demo) are left to the window (main_window_review.cpp).
  void bind(widgets::ReviewView* view);

  // Opens `folder` on a worker thread: scans, annotations(.csv, CSVFILES/annotations.csv),
  // annotations_excluded.csv, the candidates (candidatesCsv, else the first of
  // r1-demo-candidates.csv, r1-candidates.csv, submission.csv and any other CSV with a
  // probability column) and the review file. Then shows the first scan.
  void openFolder(const QString& folder, const QString& candidatesCsv = {});
  void openCandidates(const QString& csv);  // reopens the current folder with these candidates
  // Writes `scans` phantom CT scans (write_phantom_set) into `folder` and, as a stand-in
  // detector for the demo only, r1-demo-candidates.csv: the phantoms' known nodules jittered
  // (some left out) plus false positives at random lung positions, with made-up scores. Then
  // opens the folder.
  void generateDemo(const QString& folder, int scans = 4, quint64 seed = 2024);
  // Runs a detector checkpoint (r1-worker detect train) over every scan of the open folder on a
  // worker thread: CUDA when LibTorch has it and a GPU is there, else the CPU; eval mode, no
  // gradients; progress per batch of slices. cancel() stops it within a batch and leaves the
  // review as it was. Its candidates go to <folder>/r1-detections-<checkpoint>.csv (a new name
  // when that exists: no file is overwritten) and are opened as openCandidates does, so the
  // decisions of r1-review.csv stay. Errors name the checkpoint or the scan, and why.
  void runDetector(const QString& checkpoint);
  bool detecting() const { return detecting_; }
  void cancel();
  bool idle() const { return pending_ == 0; }

  void selectScan(int row);
  void selectCandidate(const QString& key);  // "c<id>" or "m<id>"
  void setThreshold(double threshold);
  void accept();
  void reject();  // a missed mark: removes it
  void undo();
  void nextUnreviewed();
  // A nodule the detector missed, centred at voxel (x, y, z) of the current scan.
  void markMissed(double x, double y, double z, double diameterMm);

  bool exportSubmission(const QString& path, QString* error) const;
  bool exportDecisions(const QString& path, QString* error) const;
  bool exportImage(const QString& path, QString* error) const;

  QString folder() const { return folder_; }
  QString reviewFilePath() const;
  QString candidatesFile() const { return candidatesFile_; }
  bool demoCandidates() const { return demo_; }
  int scanCount() const { return static_cast<int>(scans_.size()); }
  int currentScan() const { return currentScan_; }
  int loadedScan() const { return loadedScan_; }  // whose volume the view shows; -1 none
  QString currentKey() const { return currentKey_; }
  double threshold() const { return threshold_; }
  const widgets::ReviewMetrics& metrics() const { return metrics_; }
  QVector<widgets::ScanRow> scanRows() const;
  QVector<widgets::CandidateRow> candidateRows() const;  // the current scan's

 Q_SIGNALS:
  void folderOpened(const QString& folder);
  void volumeLoaded(int row);
  void metricsChanged();
  void decisionsSaved(const QString& path);
  void busyChanged(const QString& what, int done, int total);
  void message(const QString& text, bool error);

 public:
  // ---- internal state (public for the worker jobs of review_controller.cpp) ----
  struct Scan {
    std::string uid, path;
    r1::vision::VolumeGeometry geometry;
    bool ok = false;
    QString problem;
  };
  struct Candidate {
    int id = 0;
    int scan = -1;
    r1::vision::Vec3 world;
    double probability = 0;
    double diameterMm = -1;  // <= 0: unknown
    widgets::ReviewDecision decision = widgets::ReviewDecision::Pending;
    QString at;  // when decided (ISO 8601 UTC)
  };
  struct Missed {
    int id = 0;
    int scan = -1;
    r1::vision::Vec3 world;
    double diameterMm = 6;
    QString at;
  };
  struct FolderData {
    QString folder, candidatesFile, error;
    QStringList warnings;
    bool hasAnnotations = false;
    std::vector<Scan> scans;
    std::vector<r1::vision::LunaAnnotation> annotations, excluded;
    std::vector<Candidate> candidates;
    std::vector<Missed> missed;
  };

 private:
  struct Undo {
    enum class Kind { Decision, AddMissed, RemoveMissed } kind;
    int candidate = -1;  // index into candidates_
    widgets::ReviewDecision previous = widgets::ReviewDecision::Pending;
    QString previousAt;
    Missed missed;
  };
  using Token = std::shared_ptr<std::atomic<bool>>;
  // Runs `work` on the pool; what it returns runs on the GUI thread (dropped if this is gone).
  void runAsync(std::function<std::function<void()>(const Token&)> work);
  void setBusy(const QString& what, int done = 0, int total = 0);
  void applyFolder(FolderData data);
  void refreshView();  // rows, marks, current
  void refreshMarks();
  void applyCurrentToView();
  void requestMetrics();
  void loadVolume(int row);
  bool saveReview();
  std::vector<int> scanOrder(int scan) const;  // candidate indices at the threshold, review order
  int candidateIndex(int id) const;
  int missedIndex(int id) const;
  bool currentIsCandidate(int* index) const;
  void decide(widgets::ReviewDecision d);
  void advanceInScan();
  void setCurrent(const QString& key);
  bool worldToVoxel(int scan, const r1::vision::Vec3& w, double* x, double* y, double* z) const;
  std::string reviewCsv(bool withPending) const;

  QPointer<widgets::ReviewView> view_;
  QThreadPool pool_;
  Token token_ = std::make_shared<std::atomic<bool>>(false);
  int pending_ = 0;
  QString busy_;
  QString folder_, candidatesFile_;
  bool demo_ = false;
  bool hasAnnotations_ = false;
  std::vector<Scan> scans_;
  std::vector<r1::vision::LunaAnnotation> annotations_, excluded_;
  std::vector<Candidate> candidates_;
  std::vector<Missed> missed_;
  int nextMissedId_ = 1;
  std::vector<Undo> undo_;
  int currentScan_ = -1;
  int loadedScan_ = -1;
  QString currentKey_;
  double threshold_ = 0;
  quint64 folderGen_ = 0, volumeGen_ = 0;
  std::map<int, widgets::SliceVolume> cache_;  // a few recent volumes
  std::vector<int> cacheOrder_;
  bool metricsRunning_ = false, metricsDirty_ = false;
  bool detecting_ = false;
  QString openNote_;  // said with the next applyFolder of generation openNoteGen_
  quint64 openNoteGen_ = 0;
  widgets::ReviewMetrics metrics_;
};

}  // namespace r1::app
