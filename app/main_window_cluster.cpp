// The Cluster tab of the main window: connects the ClusterView's intents to the
// ClusterController (with the dialogs they need) and feeds a followed job's rank-0 events into
// the run store and the live charts, like a local run.
#include "app/cluster_controller.h"
#include "app/config_bridge.h"
#include "app/main_window.h"
#include "app/run_store.h"
#include "widgets/cluster_view.h"
#include "widgets/experiment_form.h"

#include <QAbstractButton>
#include <QFileDialog>
#include <QPushButton>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QPointer>
#include <QProgressBar>
#include <QStandardPaths>

namespace r1::app {

QWidget* MainWindow::buildClusterPage() {
  auto* view = new widgets::ClusterView(this);
  clusterView_ = view;
  auto* c = cluster_;

  connect(c, &ClusterController::busyChanged, view, &widgets::ClusterView::setBusy);
  connect(c, &ClusterController::message, view, &widgets::ClusterView::setMessage);
  connect(c, &ClusterController::nodesChanged, this, &MainWindow::refreshClusterPage);
  connect(c, &ClusterController::jobsChanged, this, &MainWindow::refreshClusterPage);
  connect(c, &ClusterController::jobLaunched, this, &MainWindow::followClusterJob);
  connect(c, &ClusterController::jobAttached, this, [this](const QString& job) {
    if (job != clusterJob_) followClusterJob(job, cluster_->totalSteps(job));
    clusterView_->selectJob(job);
  });
  // A job's lines count as delivered once their events are in the store: a workbench killed
  // before that gets them again when it re-attaches.
  c->setEventsCommit([store = QPointer<RunStore>(store_)] { return store && store->flush(); });
  connect(c, &ClusterController::jobEvents, this,
          [this](const QString& job, const QVector<r1::events::Event>& events) {
            if (job == clusterJob_) onEvents(events);
          });
  connect(c, &ClusterController::jobLog, this, [this](const QString& job, const QStringList& lines) {
    if (job != clusterView_->selectedJob() && job != clusterJob_) return;
    for (const auto& l : lines) clusterView_->appendLog(l);
  });
  connect(c, &ClusterController::jobStateChanged, this,
          [this](const QString& job, const QString& state, const QString& cause) {
            if (job != clusterJob_) return;
            statusText_->setText(cause.isEmpty() ? tr("Job %1: %2").arg(job, state)
                                                 : tr("Job %1: %2 — %3").arg(job, state, cause));
            if (state != QLatin1String("running") && state != QLatin1String("launching")) {
              store_->flush();
              refreshHistory();
            }
          });

  connect(view, &widgets::ClusterView::openProfileRequested, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open cluster profile"), {},
                                                      tr("Cluster profiles (*.toml);;All files (*)"));
    if (path.isEmpty()) return;
    QString err;
    if (!cluster_->loadProfile(path, &err)) QMessageBox::warning(this, tr("Cannot open profile"), err);
  });
  connect(view, &widgets::ClusterView::saveProfileRequested, this, [this] {
    QString path = cluster_->profilePath();
    path = QFileDialog::getSaveFileName(this, tr("Save cluster profile"), path,
                                        tr("Cluster profiles (*.toml)"));
    if (path.isEmpty()) return;
    QString err;
    if (!cluster_->saveProfile(path, &err)) QMessageBox::warning(this, tr("Cannot save profile"), err);
  });
  connect(view, &widgets::ClusterView::importHostfileRequested, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Import hostfile"), {},
                                                      tr("Hostfiles (*);;All files (*)"));
    if (path.isEmpty()) return;
    QString err;
    if (!cluster_->importHostfile(path, &err)) QMessageBox::warning(this, tr("Cannot import hostfile"), err);
  });
  connect(view, &widgets::ClusterView::addSshHostRequested, this, [this] {
    QString err;
    const QStringList hosts = cluster_->sshHosts(&err);
    if (!err.isEmpty()) {
      QMessageBox::warning(this, tr("Cannot read ~/.ssh/config"), err);
      return;
    }
    if (hosts.isEmpty()) {
      QMessageBox::information(this, tr("Add SSH host"), tr("~/.ssh/config has no Host entries without wildcards."));
      return;
    }
    bool ok = false;
    const QString alias = QInputDialog::getItem(this, tr("Add SSH host"), tr("Host entry of ~/.ssh/config:"),
                                                hosts, 0, false, &ok);
    if (ok && !cluster_->addSshHost(alias, &err)) QMessageBox::warning(this, tr("Cannot add host"), err);
  });
  connect(view, &widgets::ClusterView::checkHostKeysRequested, c, &ClusterController::checkHostKeys);
  connect(view, &widgets::ClusterView::probeRequested, c, &ClusterController::probe);
  connect(view, &widgets::ClusterView::trustRequested, this, [this](const QList<int>& rows) {
    // Trust only what the user saw: the fingerprints of the last check, node by node.
    const auto unknown = cluster_->unknownKeys();
    QStringList lines, fps;
    QList<int> chosen;
    const auto& nodes = cluster_->profile().nodes;
    for (int r : rows) {
      auto it = unknown.find(r);
      if (it == unknown.end() || r >= static_cast<int>(nodes.size())) continue;
      chosen << r;
      fps << it->second;
      lines << QStringLiteral("%1\n    %2").arg(QString::fromStdString(nodes[static_cast<size_t>(r)].label()),
                                               it->second.join(QStringLiteral("\n    ")));
    }
    if (chosen.isEmpty()) {
      QMessageBox::information(this, tr("Trust host keys"),
                               tr("No selected node has an unknown host key. Run \"Check host keys\" first."));
      return;
    }
    QMessageBox box(QMessageBox::Question, tr("Trust host keys"),
                    tr("Trust these host keys? Compare each fingerprint with the one the node's "
                       "administrator gave you (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub)."),
                    QMessageBox::Cancel, this);
    box.setInformativeText(lines.join(QLatin1Char('\n')));
    auto* trust = box.addButton(tr("Trust"), QMessageBox::AcceptRole);
    box.setDefaultButton(QMessageBox::Cancel);
    box.exec();
    if (box.clickedButton() == static_cast<QAbstractButton*>(trust)) cluster_->trust(chosen, fps);
  });
  connect(view, &widgets::ClusterView::launchRequested, this, [this] {
    FormResult r = readForm(*form_);
    if (!r.ok()) {
      clusterView_->setMessage(tr("Fix the highlighted fields of the experiment first."), true);
      return;
    }
    // The launcher sets train.device for every rank from the profile (GPU or CPU nodes).
    cluster_->launch(QString::fromStdString(r1::to_toml(r.config)));
  });
  connect(view, &widgets::ClusterView::stopRequested, c, &ClusterController::stop);
  connect(view, &widgets::ClusterView::attachRequested, c, &ClusterController::attach);
  connect(view, &widgets::ClusterView::resumeRequested, c, &ClusterController::resume);
  connect(view, &widgets::ClusterView::jobSelected, this, [this](const QString&) { refreshClusterPage(); });

  refreshClusterPage();
  if (!c->followedJob().isEmpty())  // a rebuilt window
    followClusterJob(c->followedJob(), c->totalSteps(c->followedJob()));
  return view;
}

void MainWindow::refreshClusterPage() {
  if (!clusterView_) return;
  const auto& p = cluster_->profile();
  if (!p.nodes.empty())
    clusterView_->setProfileTitle(
        cluster_->profilePath().isEmpty()
            ? tr("%1 — %n node(s), not saved", nullptr, static_cast<int>(p.nodes.size())).arg(QString::fromStdString(p.name))
            : tr("%1 — %2").arg(QString::fromStdString(p.name), cluster_->profilePath()));
  clusterView_->nodes()->setRows(cluster_->nodeRows());
  const QString selected = clusterView_->selectedJob();
  clusterView_->jobs()->setRows(cluster_->jobRows());
  if (!selected.isEmpty()) clusterView_->selectJob(selected);
  clusterView_->ranks()->setRows(cluster_->rankRows(clusterView_->selectedJob()));
}

void MainWindow::followClusterJob(const QString& jobId, qint64 totalSteps) {
  // One run in the store per job: a re-attached job continues the run it started.
  QString runId;
  for (const auto& info : store_->runs())
    if (info.name == jobId) runId = info.id;
  const bool existing = !runId.isEmpty();
  if (!existing) runId = store_->beginRun(jobId, tr("cluster job %1").arg(jobId));
  if (runId.isEmpty()) {
    clusterView_->setMessage(store_->errorString(), true);
    return;
  }
  clusterJob_ = jobId;
  followRun(runId, totalSteps > 0 ? totalSteps : 0);
  if (existing) {
    showRun({runId});  // what was stored before the workbench closed
    liveRun_ = runId;
  }
  clusterView_->clearLog();
  statusText_->setText(tr("Following cluster job %1").arg(jobId));
}

}  // namespace r1::app
