#include "app/cluster_controller.h"

#include "engine/cluster/hostfile.h"
#include "engine/cluster/job_monitor.h"
#include "engine/cluster/ssh_config.h"
#include "engine/config/config.h"

#include <QCoreApplication>
#include <QMetaMethod>
#include <QPointer>

namespace r1::app {
namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

QString nodeAddress(const r1::cluster::Node& n) {
  QString a = qs(n.host);
  if (!n.user.empty()) a = qs(n.user) + QLatin1Char('@') + a;
  if (n.port > 0) a += QLatin1Char(':') + QString::number(n.port);
  return a;
}

widgets::JobRow jobRow(const r1::cluster::JobRecord& r) {
  widgets::JobRow row;
  row.id = qs(r.id);
  row.state = QString::fromLatin1(r1::cluster::to_string(r.state));
  row.cause = qs(r.cause);
  row.worldSize = r.world_size;
  row.gpu = r.gpu;
  row.created = r.created;
  row.updated = r.updated;
  row.checkpointStep = r.last_checkpoint_step;
  try {
    row.profile = qs(r1::cluster::profile_from_string(r.profile_toml, r.id).name);
  } catch (const std::exception&) {
  }
  return row;
}

qint64 stepsOf(const r1::cluster::JobRecord& r) {
  try {
    return r1::config_from_string(r.experiment_toml, r.id, r.overrides).train.steps;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

ClusterController::ClusterController(r1::cluster::LauncherOptions options, QObject* parent)
    : QObject(parent), launcher_(std::make_shared<r1::cluster::Launcher>(std::move(options))) {
  pool_.setMaxThreadCount(4);
  deliverTimer_.setInterval(50);
  connect(&deliverTimer_, &QTimer::timeout, this, [this] { deliver(); });
  refreshJobs();
}

ClusterController::~ClusterController() {
  deliverTimer_.stop();
  acknowledgeDelivered(true);  // what was stored; the lines still pending are sent again
  monitor_.reset();            // stops following; the job runs on
  pool_.waitForDone();
}

void ClusterController::setBusy(const QString& what) {
  busy_ = what;
  Q_EMIT busyChanged(what);
}

bool ClusterController::waitIdle(int msecs) { return pool_.waitForDone(msecs); }

void ClusterController::runAsync(const QString& what,
                                 std::function<std::function<void()>()> work) {
  setBusy(what);
  QPointer<ClusterController> self(this);
  pool_.start([self, work = std::move(work)] {
    std::function<void()> done;
    try {
      done = work();
    } catch (const std::exception& e) {
      const QString text = QString::fromUtf8(e.what());
      done = [self, text] {
        if (self) Q_EMIT self->message(text, true);
      };
    }
    // The pool is waited for in the destructor, so `self` outlives this call; the queued
    // functor is dropped if the controller goes before it runs.
    if (self)
      QMetaObject::invokeMethod(
          self, [self, done] {
            if (!self) return;
            if (done) done();
            self->setBusy({});
          },
          Qt::QueuedConnection);
  });
}

// ---- profile ------------------------------------------------------------------------------

void ClusterController::setProfile(const r1::cluster::Profile& profile, const QString& path) {
  profile_ = profile;
  profilePath_ = path;
  probed_.clear();
  keys_.clear();
  Q_EMIT nodesChanged();
}

bool ClusterController::loadProfile(const QString& path, QString* error) {
  try {
    setProfile(r1::cluster::load_profile(path.toStdString()), path);
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
}

bool ClusterController::saveProfile(const QString& path, QString* error) {
  try {
    r1::cluster::validate(profile_, path.toStdString());
    r1::cluster::save_profile(profile_, path.toStdString());
    profilePath_ = path;
    Q_EMIT nodesChanged();
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
}

bool ClusterController::importHostfile(const QString& path, QString* error) {
  try {
    auto nodes = r1::cluster::load_hostfile(path.toStdString());
    for (auto& n : nodes) {
      if (profile_.find_node(n.label())) continue;  // already there
      profile_.nodes.push_back(n);
    }
    Q_EMIT nodesChanged();
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
}

QStringList ClusterController::sshHosts(QString* error, const QString& path) const {
  QStringList out;
  try {
    for (const auto& h : path.isEmpty() ? r1::cluster::ssh_config_hosts()
                                        : r1::cluster::ssh_config_hosts(path.toStdString()))
      out << qs(h.alias);
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
  }
  return out;
}

bool ClusterController::addSshHost(const QString& alias, QString* error, const QString& path) {
  try {
    auto hosts = path.isEmpty() ? r1::cluster::ssh_config_hosts()
                                : r1::cluster::ssh_config_hosts(path.toStdString());
    for (const auto& h : hosts) {
      if (qs(h.alias) != alias) continue;
      if (!profile_.find_node(h.alias)) profile_.nodes.push_back(r1::cluster::node_from_ssh_host(h));
      Q_EMIT nodesChanged();
      return true;
    }
    if (error) *error = tr("~/.ssh/config has no Host entry '%1'").arg(alias);
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
  }
  return false;
}

// ---- nodes --------------------------------------------------------------------------------

QVector<widgets::NodeRow> ClusterController::nodeRows() const {
  QVector<widgets::NodeRow> rows;
  for (size_t i = 0; i < profile_.nodes.size(); ++i) {
    const auto& n = profile_.nodes[i];
    widgets::NodeRow r;
    r.label = qs(n.label());
    r.address = nodeAddress(n);
    r.ranks = n.ranks();
    r.gpuRanks = n.gpus > 0;
    if (i < keys_.size()) {
      const auto& k = keys_[i];
      r.hostKey = QString::fromLatin1(r1::cluster::to_string(k.status));
      QStringList fps;
      for (const auto& o : k.offered) fps << qs(o.type + " " + o.fingerprint);
      r.fingerprint = fps.join(QLatin1Char('\n'));
      if (k.status != r1::cluster::HostKeyStatus::Known) r.healthText = qs(k.message);
    }
    if (i < probed_.size()) {
      const auto& p = probed_[i];
      r.latencyMs = p.reachable ? p.latency_ms : -1;
      r.os = qs(p.os);
      r.cpus = p.cpus;
      r.memTotalKb = p.mem_total_kb;
      r.memAvailableKb = p.mem_available_kb;
      if (!p.gpus.empty())
        r.gpus = QStringLiteral("%1 × %2 (%3 GiB)")
                     .arg(p.gpus.size())
                     .arg(qs(p.gpus.front().name))
                     .arg(p.gpus.front().memory_mib / 1024);
      QStringList cuda;
      if (!p.cuda_driver_version.empty()) cuda << tr("driver CUDA %1").arg(qs(p.cuda_driver_version));
      if (!p.nccl_version.empty()) cuda << QStringLiteral("NCCL %1").arg(qs(p.nccl_version));
      r.cuda = cuda.join(QStringLiteral(" · "));
      if (p.worker_found && p.worker_error.empty())
        r.worker = QStringLiteral("%1 · libtorch %2").arg(qs(p.worker_version), qs(p.libtorch_version));
      else if (p.worker_found)
        r.worker = qs(p.worker_error);
      else if (p.reachable)
        r.worker = tr("not found (%1)").arg(qs(profile_.worker));
      if (!p.reachable) {
        r.health = widgets::NodeRow::Health::Down;
        r.healthText = qs(p.error);
      } else if (!p.worker_found || !p.worker_error.empty()) {
        r.health = widgets::NodeRow::Health::Warning;
        r.healthText = p.worker_found ? qs(p.worker_error)
                                      : tr("r1-worker '%1' was not found on the node").arg(qs(profile_.worker));
      } else {
        r.health = widgets::NodeRow::Health::Ok;
      }
    }
    rows << r;
  }
  return rows;
}

std::map<int, QStringList> ClusterController::unknownKeys() const {
  std::map<int, QStringList> out;
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].status != r1::cluster::HostKeyStatus::Unknown) continue;
    QStringList fps;
    for (const auto& o : keys_[i].offered) fps << qs(o.fingerprint);
    out[static_cast<int>(i)] = fps;
  }
  return out;
}

void ClusterController::checkHostKeys() {
  auto launcher = launcher_;
  auto profile = profile_;
  runAsync(tr("Checking host keys…"), [this, launcher, profile] {
    auto keys = launcher->check_host_keys(profile);
    return std::function<void()>([this, keys] {
      keys_ = keys;
      int unknown = 0, changed = 0;
      for (const auto& k : keys_) {
        unknown += k.status == r1::cluster::HostKeyStatus::Unknown;
        changed += k.status == r1::cluster::HostKeyStatus::Changed;
      }
      Q_EMIT nodesChanged();
      Q_EMIT hostKeysChecked();
      if (changed)
        Q_EMIT message(tr("%n node(s) present a host key other than the one in known_hosts: refused. "
                          "Check with the node's administrator before removing the old key.",
                          nullptr, changed),
                       true);
      else if (unknown)
        Q_EMIT message(tr("%n node(s) are not trusted yet: compare the fingerprints, then Trust.",
                          nullptr, unknown),
                       false);
      else
        Q_EMIT message(tr("Every node's host key is known."), false);
    });
  });
}

void ClusterController::trust(const QList<int>& rows, const QStringList& fingerprints) {
  std::vector<std::string> labels, fps;
  for (int r : rows)
    if (r >= 0 && r < static_cast<int>(profile_.nodes.size()))
      labels.push_back(profile_.nodes[static_cast<size_t>(r)].label());
  for (const auto& f : fingerprints) fps.push_back(f.toStdString());
  auto launcher = launcher_;
  auto profile = profile_;
  runAsync(tr("Trusting host keys…"), [this, launcher, profile, labels, fps] {
    launcher->trust(profile, labels, fps);
    auto keys = launcher->check_host_keys(profile);
    return std::function<void()>([this, keys] {
      keys_ = keys;
      Q_EMIT nodesChanged();
      Q_EMIT message(tr("Host keys added to %1.").arg(qs(profile_.known_hosts_path())), false);
    });
  });
}

void ClusterController::probe() {
  auto launcher = launcher_;
  auto profile = profile_;
  runAsync(tr("Probing %n node(s)…", nullptr, static_cast<int>(profile_.nodes.size())),
           [this, launcher, profile] {
             auto infos = launcher->probe(profile);
             return std::function<void()>([this, infos] {
               probed_ = infos;
               int down = 0;
               for (const auto& i : infos) down += !i.reachable;
               Q_EMIT nodesChanged();
               Q_EMIT message(down ? tr("%n node(s) could not be reached: see Health.", nullptr, down)
                                   : tr("Every node answered."),
                              down > 0);
             });
           });
}

// ---- jobs ---------------------------------------------------------------------------------

void ClusterController::refreshJobs() {
  QVector<widgets::JobRow> rows;
  records_.clear();  // a job deleted from the store leaves no stale record behind
  const auto& store = launcher_->store();
  std::vector<std::string> ids;
  try {
    ids = store.list();
  } catch (const std::exception& e) {
    Q_EMIT message(QString::fromUtf8(e.what()), true);
  }
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {  // newest first
    try {
      auto rec = store.load(*it);
      records_[qs(rec.id)] = rec;
      rows << jobRow(rec);
    } catch (const std::exception& e) {
      widgets::JobRow bad;
      bad.id = qs(*it);
      bad.state = tr("unreadable");
      bad.cause = QString::fromUtf8(e.what());
      rows << bad;
    }
  }
  jobRows_ = rows;
  Q_EMIT jobsChanged();
}

qint64 ClusterController::totalSteps(const QString& jobId) const {
  auto it = records_.find(jobId);
  return it == records_.end() ? 0 : stepsOf(it->second);
}

QVector<widgets::RankRow> ClusterController::rankRows(const QString& jobId) const {
  QVector<widgets::RankRow> out;
  auto it = records_.find(jobId);
  if (it == records_.end()) return out;
  const auto& rec = it->second;
  for (const auto& r : rec.ranks) {
    widgets::RankRow row;
    row.rank = r.rank;
    row.localRank = r.local_rank;
    row.node = r.node >= 0 && r.node < static_cast<int>(rec.nodes.size())
                   ? qs(rec.nodes[static_cast<size_t>(r.node)].label)
                   : QString();
    row.pid = r.pid;
    row.alive = r.alive;
    row.finish = qs(r.finish);
    row.exitCode = r.exit_code;
    row.lines = r.lines;
    if (jobId == followed_) {
      auto l = rankLines_.find(r.rank);
      if (l != rankLines_.end()) row.lines = std::max<qint64>(row.lines, l->second);
    }
    row.lastError = qs(r.last_error);
    out << row;
  }
  return out;
}

void ClusterController::launch(const QString& experimentToml, const QStringList& overrides) {
  r1::cluster::LaunchRequest req;
  req.profile = profile_;
  req.profile_path = profilePath_.toStdString();
  req.experiment_toml = experimentToml.toStdString();
  req.experiment_path = "workbench experiment";
  for (const auto& o : overrides) req.overrides.push_back(o.toStdString());
  int64_t steps = 0;
  try {
    std::vector<std::string> ov(req.overrides.begin(), req.overrides.end());
    steps = r1::config_from_string(req.experiment_toml, "experiment", ov).train.steps;
  } catch (const std::exception& e) {
    Q_EMIT message(QString::fromUtf8(e.what()), true);
    return;
  }
  auto launcher = launcher_;
  runAsync(tr("Launching on %n node(s)…", nullptr, static_cast<int>(profile_.nodes.size())),
           [this, launcher, req, steps] {
             auto rec = launcher->launch(req);
             const QString id = qs(rec.id);
             return std::function<void()>([this, id, steps] {
               refreshJobs();
               Q_EMIT message(tr("Job %1 started.").arg(id), false);
               Q_EMIT jobLaunched(id, steps);
               attach(id);
             });
           });
}

void ClusterController::stop(const QString& jobId) {
  if (jobId.isEmpty()) return;
  auto launcher = launcher_;
  auto monitor = jobId == followed_ ? monitor_ : nullptr;
  runAsync(tr("Stopping %1…").arg(jobId), [this, launcher, monitor, jobId] {
    QString summary;
    if (monitor) {
      monitor->stop_job();  // the follower records the stop and its verification
      summary = tr("Stopped %1.").arg(jobId);
    } else {
      auto rep = launcher->stop(jobId.toStdString());
      summary = qs(rep.summary);
    }
    return std::function<void()>([this, summary] {
      refreshJobs();
      Q_EMIT message(summary, false);
    });
  });
}

void ClusterController::detach() {
  deliverTimer_.stop();
  deliver(true);  // and acknowledged; what arrives after is sent again at the next attach
  monitor_.reset();
  followed_.clear();
}

void ClusterController::attach(const QString& jobId) {
  if (jobId.isEmpty()) return;
  detach();
  {
    std::lock_guard<std::mutex> lock(*pendingMu_);
    *pending_ = Pending{};
  }
  rankLines_.clear();
  unacknowledged_.clear();
  uncommitted_ = false;
  unstored_ = false;
  auto launcher = launcher_;
  auto mu = pendingMu_;
  auto pending = pending_;
  QPointer<ClusterController> self(this);
  r1::cluster::MonitorCallbacks cb;
  cb.on_line = [mu, pending](const r1::cluster::RankLine& line) {
    std::lock_guard<std::mutex> lock(*mu);
    ++pending->lines[line.rank];
    pending->delivered[line.rank] = {line.end_offset, line.line};
    if (!line.decoded.ok()) {
      pending->log << QStringLiteral("[rank %1] %2").arg(line.rank).arg(qs(line.error()));
      return;
    }
    const auto& ev = *line.decoded.event;
    if (line.rank == 0) pending->events.push_back(ev);
    else if (auto* l = std::get_if<r1::events::Log>(&ev.payload))
      pending->log << QStringLiteral("[rank %1] [%2] %3")
                          .arg(line.rank)
                          .arg(QString::fromLatin1(r1::events::to_string(l->level)), qs(l->text));
    else if (auto* e = std::get_if<r1::events::Error>(&ev.payload))
      pending->log << QStringLiteral("[rank %1] [error] %2 (%3)")
                          .arg(line.rank)
                          .arg(qs(e->message), qs(e->cause));
    else if (auto* f = std::get_if<r1::events::Finish>(&ev.payload))
      pending->log << QStringLiteral("[rank %1] finished: %2 at step %3")
                          .arg(line.rank)
                          .arg(QString::fromLatin1(r1::events::to_string(f->status)))
                          .arg(f->step);
  };
  cb.on_update = [self, jobId](const r1::cluster::JobUpdate& u) {
    const QString state = QString::fromLatin1(r1::cluster::to_string(u.state));
    const QString msg = qs(u.message);
    const bool warning = u.kind == r1::cluster::JobUpdate::Kind::Warning;
    if (self)
      QMetaObject::invokeMethod(
          self, [self, jobId, state, msg, warning] {
            if (!self) return;
            self->refreshJobs();
            if (warning) {
              Q_EMIT self->jobLog(jobId, {QStringLiteral("[launcher] ") + msg});
            } else {
              Q_EMIT self->jobStateChanged(jobId, state, msg);
              if (!msg.isEmpty()) Q_EMIT self->jobLog(jobId, {QStringLiteral("[launcher] %1: %2").arg(state, msg)});
            }
          },
          Qt::QueuedConnection);
  };
  r1::cluster::MonitorOptions options;
  options.acknowledged = true;  // by deliver(), once the batch is stored
  runAsync(tr("Attaching to %1…").arg(jobId), [this, launcher, jobId, cb, options] {
    std::shared_ptr<r1::cluster::JobMonitor> mon(
        launcher->attach(jobId.toStdString(), cb, options).release());
    return std::function<void()>([this, jobId, mon] {
      monitor_ = mon;
      followed_ = jobId;
      deliverTimer_.start();
      Q_EMIT jobAttached(jobId);
    });
  });
}

QString ClusterController::attachRunning() {
  refreshJobs();
  auto follow = [this](const QString& id) {
    adoptJobProfile(id);
    attach(id);
    return id;
  };
  for (const auto& row : jobRows_) {  // newest first
    if (row.state == QLatin1String("running") || row.state == QLatin1String("launching"))
      return follow(row.id);
  }
  // Else a job that ended while its last lines were on their way to the run store (the
  // workbench killed between delivery and storage): follow it again to store them.
  for (const auto& row : jobRows_) {
    auto it = records_.find(row.id);
    if (it != records_.end() && r1::cluster::needs_draining(it->second))
      return follow(row.id);
  }
  return {};
}

void ClusterController::adoptJobProfile(const QString& jobId) {
  // A restarted workbench has no profile open: show the nodes of the job it follows (from the
  // file the job was launched with, when it is still there, else the copy in the job record).
  if (!profile_.nodes.empty()) return;
  auto it = records_.find(jobId);
  if (it == records_.end()) return;
  const auto& rec = it->second;
  if (!rec.profile_path.empty() && loadProfile(qs(rec.profile_path), nullptr)) return;
  try {
    setProfile(r1::cluster::profile_from_string(rec.profile_toml, "job " + rec.id), QString());
  } catch (const std::exception&) {
    // A record whose profile no longer parses: the page stays empty, the job is still followed.
  }
}

void ClusterController::deliver(bool now) {
  Pending got;
  {
    std::lock_guard<std::mutex> lock(*pendingMu_);
    std::swap(got, *pending_);
  }
  for (const auto& [rank, n] : got.lines) rankLines_[rank] += n;
  if (followed_.isEmpty()) return;
  if (!got.events.isEmpty()) {
    // Nobody stores them (the last window is gone): they and all after them are sent again at
    // the next attach.
    static const QMetaMethod events = QMetaMethod::fromSignal(&ClusterController::jobEvents);
    if (!isSignalConnected(events)) unstored_ = true;
    Q_EMIT jobEvents(followed_, got.events);
  }
  if (!got.log.isEmpty()) Q_EMIT jobLog(followed_, got.log);
  for (const auto& [rank, cursor] : got.delivered) unacknowledged_[rank] = cursor;
  uncommitted_ = uncommitted_ || !got.events.isEmpty();
  acknowledgeDelivered(now);
}

void ClusterController::acknowledgeDelivered(bool now) {
  if (!monitor_ || unacknowledged_.empty() || unstored_) return;
  if (uncommitted_ && commit_) {
    if (!now && sinceCommit_.isValid() && sinceCommit_.elapsed() < kCommitEveryMs) return;
    sinceCommit_.start();
    if (!commit_()) return;  // not stored: acknowledged after a later commit
  }
  for (const auto& [rank, cursor] : unacknowledged_) monitor_->acknowledge(rank, cursor);
  unacknowledged_.clear();
  uncommitted_ = false;
}

void ClusterController::resume(const QString& jobId) {
  if (jobId.isEmpty()) return;
  auto launcher = launcher_;
  runAsync(tr("Resuming %1…").arg(jobId), [this, launcher, jobId] {
    auto rec = launcher->resume(jobId.toStdString());
    const QString id = qs(rec.id);
    const qint64 steps = stepsOf(rec);
    return std::function<void()>([this, id, steps] {
      refreshJobs();
      Q_EMIT message(tr("Job %1 resumed from its last checkpoint.").arg(id), false);
      Q_EMIT jobLaunched(id, steps);
      attach(id);
    });
  });
}

}  // namespace r1::app
