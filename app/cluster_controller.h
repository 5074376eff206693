#pragma once
// The Cluster page's controller: holds the current cluster profile and the SSH launcher
// (engine/cluster), runs every remote operation (host keys, probe, launch, stop, status,
// resume) on its own worker threads, and follows one job at a time through a JobMonitor whose
// lines reach the GUI thread in batches (at most every 50 ms). It outlives the main window (a
// language switch rebuilds the window; the job keeps being followed).
#include "app/event_metatype.h"
#include "engine/cluster/follower.h"
#include "engine/cluster/launcher.h"
#include "engine/events/event.h"
#include "widgets/cluster_models.h"

#include <QElapsedTimer>
#include <QObject>
#include <QStringList>
#include <QThreadPool>
#include <QTimer>
#include <QVector>

#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace r1::cluster {
class JobMonitor;
}

namespace r1::app {

class ClusterController final : public QObject {
  Q_OBJECT

 public:
  explicit ClusterController(r1::cluster::LauncherOptions options = {}, QObject* parent = nullptr);
  ~ClusterController() override;  // stops following (the job keeps running on its nodes)

  // ---- the profile (GUI thread, synchronous: files only) ----
  const r1::cluster::Profile& profile() const { return profile_; }
  QString profilePath() const { return profilePath_; }
  void setProfile(const r1::cluster::Profile& profile, const QString& path);
  bool loadProfile(const QString& path, QString* error);
  bool saveProfile(const QString& path, QString* error);
  bool importHostfile(const QString& path, QString* error);  // adds its nodes
  // Host aliases of ~/.ssh/config (or `path`); adding one makes a node that connects through it.
  QStringList sshHosts(QString* error, const QString& path = {}) const;
  bool addSshHost(const QString& alias, QString* error, const QString& path = {});

  // ---- remote work (asynchronous; busyChanged/message/… report) ----
  void checkHostKeys();
  // Trusts the nodes at `rows` (profile order) whose offered keys have these fingerprints.
  void trust(const QList<int>& rows, const QStringList& fingerprints);
  void probe();
  // Launches `experimentToml` on the profile's nodes, then follows the job (jobLaunched first).
  void launch(const QString& experimentToml, const QStringList& overrides = {});
  void stop(const QString& jobId);
  void attach(const QString& jobId);
  void resume(const QString& jobId);
  void refreshJobs();
  void detach();  // stop following (the job keeps running)
  // At start-up: follows the newest job its record says is running (the workbench was closed
  // or killed while it ran). Returns its id, or "" when there is none.
  QString attachRunning();  // also opens the job's profile when none is open

  // ---- what the page shows ----
  QVector<widgets::NodeRow> nodeRows() const;
  QVector<widgets::JobRow> jobRows() const { return jobRows_; }
  QVector<widgets::RankRow> rankRows(const QString& jobId) const;
  // Fingerprints the last host-key check saw for unknown nodes, by row.
  std::map<int, QStringList> unknownKeys() const;
  QString followedJob() const { return followed_; }
  // train.steps of the job's experiment, overrides included; 0 when unknown.
  qint64 totalSteps(const QString& jobId) const;
  bool busy() const { return !busy_.isEmpty(); }
  // Waits for the remote operations in flight (tests, shutdown); true when none is left.
  bool waitIdle(int msecs);
  // Makes the events jobEvents has handed out durable (the run store's flush()); true once they
  // are. Only then (at most every 250 ms) do their lines count as delivered in the job's record,
  // so a workbench killed before storing them gets them again at the next attach. Without one,
  // lines count as delivered once handed out.
  void setEventsCommit(std::function<bool()> commit) { commit_ = std::move(commit); }

 Q_SIGNALS:
  void busyChanged(const QString& what);  // "" when idle
  void message(const QString& text, bool error);
  void nodesChanged();
  void jobsChanged();
  void hostKeysChecked();
  void jobLaunched(const QString& jobId, qint64 totalSteps);
  void jobAttached(const QString& jobId);
  // Rank 0's events (the run's metrics) of the followed job, in arrival order.
  void jobEvents(const QString& jobId, const QVector<r1::events::Event>& events);
  // Every rank's log, error and bad lines, formatted for the log view.
  void jobLog(const QString& jobId, const QStringList& lines);
  void jobStateChanged(const QString& jobId, const QString& state, const QString& cause);

 private:
  void adoptJobProfile(const QString& jobId);
  // Runs work() on a worker thread, then done(result) on the GUI thread if this still exists.
  void runAsync(const QString& what, std::function<std::function<void()>()> work);
  // Hands the pending lines out, then acknowledgeDelivered(now).
  void deliver(bool now = false);
  // Tells the monitor which lines handed out are stored (commit_ first, at most every
  // kCommitEveryMs unless `now`).
  void acknowledgeDelivered(bool now);
  void setBusy(const QString& what);

  std::shared_ptr<r1::cluster::Launcher> launcher_;
  r1::cluster::Profile profile_;
  QString profilePath_;
  std::vector<r1::cluster::NodeInfo> probed_;  // by node index (may be shorter)
  std::vector<r1::cluster::HostKeyCheck> keys_;
  QVector<widgets::JobRow> jobRows_;
  std::map<QString, r1::cluster::JobRecord> records_;
  QString busy_;
  QThreadPool pool_;

  // The followed job.
  QString followed_;
  std::shared_ptr<r1::cluster::JobMonitor> monitor_;
  struct Pending {
    QVector<r1::events::Event> events;
    QStringList log;
    std::map<int, qint64> lines;  // per rank
    std::map<int, r1::cluster::RankCursor> delivered;  // per rank: past its last line here
  };
  std::shared_ptr<std::mutex> pendingMu_ = std::make_shared<std::mutex>();
  std::shared_ptr<Pending> pending_ = std::make_shared<Pending>();
  std::map<int, qint64> rankLines_;
  QTimer deliverTimer_;
  std::function<bool()> commit_;
  static constexpr int kCommitEveryMs = 250;
  std::map<int, r1::cluster::RankCursor> unacknowledged_;  // delivered, not acknowledged yet
  bool uncommitted_ = false;  // events among them: the commit comes first
  bool unstored_ = false;     // events went out with nobody to store them: no more acknowledging
  QElapsedTimer sinceCommit_;
};

}  // namespace r1::app
