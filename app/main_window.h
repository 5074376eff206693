#pragma once
// The workbench window: experiment form and launch on the left; live charts, logs and run
// history on the right; progress in the status bar. Owns no storage: the RunStore outlives
// it, so the window can be rebuilt (language switch, tests) without losing anything.
#include "engine/events/event.h"
#include "widgets/downsampler.h"

#include <QColor>
#include <QHash>
#include <QMainWindow>
#include <QPointer>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QTableView;
class QSplitter;
class QTabWidget;

namespace r1::widgets {
class ClusterView;
class ExperimentForm;
class MetricChart;
class RunListModel;
}  // namespace r1::widgets

namespace r1::app {

class ClusterController;
class EngineRunner;
class ReviewController;
class ExperimentEditor;
class RunStore;

class MainWindow final : public QMainWindow {
  Q_OBJECT

 public:
  // cluster: the Cluster page's controller (owned by the caller, it outlives the window); null
  // hides the page.
  explicit MainWindow(RunStore* store, ClusterController* cluster = nullptr,
                      QWidget* parent = nullptr);
  ~MainWindow() override;

  EngineRunner* runner() const { return runner_; }
  widgets::MetricChart* chart(const QString& key) const { return charts_.value(key); }
  widgets::RunListModel* runModel() const { return runModel_; }
  widgets::ExperimentForm* form() const { return form_; }
  QAction* launchAction() const { return launch_; }
  widgets::ClusterView* clusterView() const { return clusterView_; }
  QAction* stopAction() const { return stop_; }
  QString currentRunId() const { return liveRun_; }
  void showRun(const QStringList& runIds);  // charts + logs of stored runs, overlaid
  // Makes runId (begun in the store) the live run: clears the charts, logs and progress, then
  // stores and plots what runner()->eventsArrived() delivers. launch() does this for the run
  // it starts; the ingest benchmark for its synthetic one.
  void followRun(const QString& runId, int64_t totalSteps);

 Q_SIGNALS:
  void languageRequested(const QString& locale);  // "en" or "zh_CN"

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  void buildUi();
  void buildMenus();
  QWidget* buildChartsPage();
  QWidget* buildLogsPage();
  QWidget* buildHistoryPage();
  QWidget* buildClusterPage();  // main_window_cluster.cpp
  QWidget* buildReviewPage();   // main_window_review.cpp
  void followClusterJob(const QString& jobId, qint64 totalSteps);
  void refreshClusterPage();
  void launch();
  void onEvents(const QVector<r1::events::Event>& events);
  void onFinished(int status);
  void refreshHistory();
  void refreshLogs();
  // Points of one batch of live events, gathered per chart series.
  struct LiveSeries {
    const char* chart;
    QString series;
    QString label;
    QColor color;
    std::vector<widgets::SeriesPoint> points;
  };
  using LiveBatch = std::vector<LiveSeries>;
  void plotEvent(const QString& runId, const r1::events::Event& ev, LiveBatch& batch);
  void updateStatus(const r1::events::Step& s);
  void exportSelectedCsv();
  void deleteSelected();
  void saveExperiment();
  void openExperiment();
  QStringList selectedRunIds() const;

  RunStore* store_;
  ClusterController* cluster_ = nullptr;
  widgets::ClusterView* clusterView_ = nullptr;
  ReviewController* review_ = nullptr;  // the Review page's (a child of the window)
  QString clusterJob_;  // the cluster job whose rank-0 events feed the live run
  EngineRunner* runner_ = nullptr;
  ExperimentEditor* editor_ = nullptr;
  widgets::ExperimentForm* form_ = nullptr;
  widgets::RunListModel* runModel_ = nullptr;
  QHash<QString, widgets::MetricChart*> charts_;
  QSplitter* split_ = nullptr;  // form | tabs; its sizes are kept in QSettings
  QTabWidget* tabs_ = nullptr;
  QComboBox* target_ = nullptr;
  QAction* launch_ = nullptr;
  QAction* stop_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* statusText_ = nullptr;
  QPlainTextEdit* logView_ = nullptr;
  QComboBox* logLevel_ = nullptr;
  QLineEdit* logSearch_ = nullptr;
  QTableView* history_ = nullptr;
  QString liveRun_;
  QStringList shownRuns_;
  int64_t totalSteps_ = 0;
  qint64 liveStep_ = 0;  // the live run's last reported step: GPU samples are filed under it
  double runStartWall_ = 0;  // the live run's start in the store (unix seconds)
  int colorIndex_ = 0;
};

}  // namespace r1::app
