// The workbench itself killed mid-job: a 2-rank r1-nano job runs on two loopback "nodes"
// (tests/fixtures/sshd_fixture.sh); the real r1-workbench binary re-attaches to it at start-up
// (private XDG dirs), stores some steps and is SIGKILLed; the job runs on unwatched; then the
// workbench objects are built as app/main.cpp builds them and re-attach. Rank 0's node-side
// events.jsonl and the run store must then agree: every step once, every log line once, the job
// and the run completed. Screenshot: tests/tmp/workbench_reattach.png.
#include "app/cluster_controller.h"
#include "app/main_window.h"
#include "app/run_store.h"
#include "engine/cluster/launcher.h"
#include "engine/events/event.h"
#include "widgets/cluster_view.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTabWidget>
#include "tests/loopback_nodes.h"

#include <QtTest/QtTest>

#include <signal.h>
#include <unistd.h>

#include <set>
#include <utility>

namespace {

namespace rc = r1::cluster;
namespace ev = r1::events;

using r1::test::free_port;
constexpr int kSteps = 400;



// What rank 0 wrote on its node, as the run store files it.
struct NodeLog {
  std::vector<qint64> steps;  // Step events, in order
  int logs = 0;               // Log, Error and Sample events: a row of the logs table each
  int checkpoints = 0;
  bool finished = false;
};

NodeLog read_node_log(const QString& path) {
  NodeLog out;
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return out;
  for (const QByteArray& l : f.readAll().split('\n')) {
    if (l.isEmpty()) continue;
    const auto d = ev::decode(std::string_view(l.constData(), std::size_t(l.size())));
    if (!d.ok()) continue;
    const auto& p = d.event->payload;
    if (const auto* s = std::get_if<ev::Step>(&p)) out.steps.push_back(s->step);
    out.logs += std::holds_alternative<ev::Log>(p) || std::holds_alternative<ev::Error>(p) ||
                std::holds_alternative<ev::Sample>(p);
    out.checkpoints += std::holds_alternative<ev::Checkpoint>(p);
    out.finished = out.finished || std::holds_alternative<ev::Finish>(p);
  }
  return out;
}

}  // namespace

class TestWorkbenchReattach final : public QObject {
  Q_OBJECT

  // Short: the ssh control sockets live under it (XDG_RUNTIME_DIR/r1-ssh).
  QTemporaryDir tmp_{QStringLiteral("/tmp/r1wbXXXXXX")};
  QString dir_;
  r1::test::LoopbackNodes nodes_{QStringLiteral(R1_SSHD_FIXTURE)};
  rc::Profile profile_;
  QProcessEnvironment env_;  // the workbench's: private XDG dirs

  QString shot(const QString& name) {
    QDir().mkpath(QStringLiteral(R1_TEST_TMP));
    return QStringLiteral(R1_TEST_TMP) + QLatin1Char('/') + name;
  }

  // Step rows of the job's run in the store, read through a read-only connection of its own
  // (a RunStore would mark the live run interrupted).
  int storedSteps(const QString& dbPath, const QString& job) {
    const QString name = QStringLiteral("reattach-probe");
    int n = -1;
    {
      QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
      db.setDatabaseName(dbPath);
      db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=1000"));
      if (db.open()) {
        QSqlQuery q(db);
        q.prepare(QStringLiteral("SELECT COUNT(*) FROM metrics m JOIN runs r ON m.run_id = r.id "
                                 "WHERE r.name = ? AND m.key = 'loss'"));
        q.addBindValue(job);
        if (q.exec() && q.next()) n = q.value(0).toInt();
        db.close();
      }
    }
    QSqlDatabase::removeDatabase(name);
    return n;
  }

 private Q_SLOTS:
  void initTestCase() {
    if (const QString why = r1::test::LoopbackNodes::unavailable(); !why.isEmpty())
      QSKIP(qPrintable(why));
    QVERIFY(tmp_.isValid());
    dir_ = tmp_.path();
    const QString err = nodes_.start(dir_, {QStringLiteral("127.0.0.6"), QStringLiteral("127.0.0.7")});
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QFile corpus(dir_ + QStringLiteral("/corpus.txt"));
    QVERIFY(corpus.open(QIODevice::WriteOnly));
    for (int i = 0; i < 80; ++i)
      corpus.write(QStringLiteral("line %1: the workbench comes back for rank zero. 重连 %1\n")
                       .arg(i % 9)
                       .toUtf8());
    corpus.close();

    // The workbench's places, for the child and (qputenv) for this process alike.
    env_ = QProcessEnvironment::systemEnvironment();
    const std::pair<const char*, const char*> xdg[] = {{"XDG_STATE_HOME", "state"},
                                                       {"XDG_DATA_HOME", "data"},
                                                       {"XDG_CONFIG_HOME", "config"},
                                                       {"XDG_RUNTIME_DIR", "runtime"}};
    for (const auto& [var, sub] : xdg) {
      const QString d = dir_ + QStringLiteral("/xdg/") + QString::fromLatin1(sub);
      QVERIFY(QDir().mkpath(d));
      QFile::setPermissions(d, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
      env_.insert(QString::fromLatin1(var), d);
      qputenv(var, QFile::encodeName(d));
    }
    env_.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env_.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
    env_.remove(QStringLiteral("LANGUAGE"));

    profile_ = nodes_.profile("reattach", R1_WORKER);
    profile_.master_port = free_port();
  }

  void cleanupTestCase() { nodes_.stop(); }

  void killedWorkbenchReattaches() {
    // The job, started headless into the state dir the workbench reads (default_state_dir()).
    rc::Launcher launcher;
    QCOMPARE(QString::fromStdString(launcher.store().dir()),
             dir_ + QStringLiteral("/xdg/state/r1-workbench/jobs"));
    const QString fp = nodes_.host_key_fingerprint();
    launcher.trust(profile_, {}, {fp.toStdString()});
    rc::LaunchRequest req;
    req.profile = profile_;
    req.experiment_path = "reattach experiment";
    req.experiment_toml = QStringLiteral(
        "[run]\nname = \"reattach\"\n[model]\npreset = \"r1-nano\"\nvocab_size = 300\n"
        "[data]\npaths = [\"%1/corpus.txt\"]\nseq_len = 16\nbatch_size = 4\nval_fraction = 0.2\n"
        "cache_dir = \"%1/work/cache\"\n[train]\nsteps = %2\nthreads = 1\nwarmup_steps = 4\n"
        "[eval]\nevery = 50\nbatches = 2\n[checkpoint]\nevery = 100\n")
                              .arg(dir_)
                              .arg(kSteps)
                              .toStdString();
    const rc::JobRecord launched = launcher.launch(req);
    const QString job = QString::fromStdString(launched.id);
    const QString log0 = QString::fromStdString(
        launched.nodes[size_t(launched.rank(0)->node)].job_dir + "/rank0/events.jsonl");

    // The workbench, started while the job runs: it re-attaches by itself and stores steps.
    const QString dataDir = dir_ + QStringLiteral("/xdg/data/R1Workbench/r1-workbench");
    const QString dbPath = dataDir + QStringLiteral("/runs.sqlite");
    QProcess wb;
    wb.setProcessEnvironment(env_);
    wb.setProcessChannelMode(QProcess::MergedChannels);
    wb.start(QStringLiteral(R1_WORKBENCH), {});
    QVERIFY2(wb.waitForStarted(10000), qPrintable(wb.errorString()));
    QTRY_VERIFY2_WITH_TIMEOUT(storedSteps(dbPath, job) >= 20 || wb.state() != QProcess::Running,
                              qPrintable(QString::fromUtf8(wb.readAll())), 60000);
    QVERIFY2(wb.state() == QProcess::Running, qPrintable(QString::fromUtf8(wb.readAll())));
    // Killed the moment its job record moves on (what the next attach starts from): the worst
    // time for a workbench that records lines as delivered before its store has them.
    auto savedLines = [&] {
      try {
        return launcher.store().load(launched.id).rank(0)->lines;
      } catch (const std::exception&) {  // read mid-rename: try again
        return std::int64_t(-1);
      }
    };
    std::int64_t before = -1;
    while (before < 0) before = savedLines();
    QElapsedTimer moved;
    moved.start();
    while (moved.elapsed() < 5000) {
      const std::int64_t now = savedLines();
      if (now > before) break;
      QThread::msleep(1);
    }
    QVERIFY(::kill(pid_t(wb.processId()), SIGKILL) == 0);
    QVERIFY(wb.waitForFinished(10000));
    QCOMPARE(wb.exitStatus(), QProcess::CrashExit);
    const int storedAtKill = storedSteps(dbPath, job);
    const qint64 nodeAtKill = qint64(read_node_log(log0).steps.size());
    qInfo("workbench killed: %d steps stored, %lld on the node", storedAtKill, nodeAtKill);
    QVERIFY2(nodeAtKill < kSteps - 40, "the job must still run well after the kill");

    // The job runs on unwatched: a backlog only the node-side log holds.
    QTRY_VERIFY_WITH_TIMEOUT(qint64(read_node_log(log0).steps.size()) >= nodeAtKill + 60, 60000);

    // Restart: the objects of app/main.cpp, in the same places.
    QCoreApplication::setOrganizationName(QStringLiteral("R1Workbench"));
    QCoreApplication::setApplicationName(QStringLiteral("r1-workbench"));
    QCOMPARE(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation), dataDir);
    r1::app::RunStore store(dbPath);
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    QCOMPARE(store.interruptedOnOpen(), 1);  // the killed workbench's run
    r1::app::ClusterController cluster;
    r1::app::MainWindow w(&store, &cluster);
    w.resize(1400, 880);
    w.show();
    QCOMPARE(cluster.attachRunning(), job);
    // No profile was open: the page shows the job's nodes (its profile), not an empty table.
    QCOMPARE(cluster.profile().nodes.size(), size_t(2));
    auto state = [&] {
      for (const auto& j : cluster.jobRows())
        if (j.id == job) return j.state;
      return QString();
    };
    QTRY_COMPARE_WITH_TIMEOUT(cluster.followedJob(), job, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(
        state() == QLatin1String("completed") || state() == QLatin1String("failed"), 120000);
    QCOMPARE(state(), QStringLiteral("completed"));

    const NodeLog node = read_node_log(log0);
    QVERIFY(node.finished);
    QCOMPARE(qint64(node.steps.size()), qint64(kSteps));
    QString runId;
    for (const auto& info : store.runs())
      if (info.name == job) runId = info.id;
    QVERIFY2(!runId.isEmpty(), "the job has a run in the history");
    QTRY_COMPARE_WITH_TIMEOUT(store.run(runId)->status, QStringLiteral("completed"), 10000);
    store.flush();
    const auto loss = store.metric(runId, QStringLiteral("loss"));
    std::vector<qint64> stored;
    for (const auto& m : loss) stored.push_back(m.step);
    std::vector<qint64> onNode = node.steps;
    std::sort(onNode.begin(), onNode.end());
    QVERIFY2(std::set<qint64>(onNode.begin(), onNode.end()).size() == onNode.size(),
             "rank 0 logged a step twice");
    QVERIFY2(stored == onNode, qPrintable(QStringLiteral("%1 steps stored, %2 on the node (%3 "
                                                         "stored when the workbench was killed)")
                                              .arg(stored.size())
                                              .arg(onNode.size())
                                              .arg(storedAtKill)));
    QCOMPARE(store.logs(runId).size(), node.logs);  // no log line lost or stored twice
    QCOMPARE(store.checkpoints(runId).size(), node.checkpoints);
    QCOMPARE(store.run(runId)->last_step, qint64(kSteps));

    // What the user sees after the restart: the job completed, its ranks, the log.
    auto* view = w.clusterView();
    QVERIFY(view);
    w.findChild<QTabWidget*>()->setCurrentWidget(view);
    view->selectJob(job);
    QCOMPARE(view->ranks()->rowCount(), 2);
    QTest::qWait(300);
    QVERIFY(w.grab().save(shot(QStringLiteral("workbench_reattach.png"))));
    w.findChild<QTabWidget*>()->setCurrentIndex(0);  // Charts
    QTest::qWait(300);
    QVERIFY(w.grab().save(shot(QStringLiteral("workbench_reattach_charts.png"))));

    // The record says so: every rank's log read to its end and acknowledged up to it.
    auto load = [&] { return launcher.store().load(launched.id); };
    QTRY_VERIFY_WITH_TIMEOUT(load().drained, 20000);
    for (const auto& r : load().ranks) {
      QVERIFY(r.end > 0);
      QCOMPARE(r.offset, r.end);
    }
    cluster.detach();
    cluster.waitIdle(30000);
    QCOMPARE(r1::app::ClusterController().attachRunning(), QString());  // nothing to follow

    // A workbench killed after the job ended but before its last lines were stored leaves the
    // record ended and not drained, the acknowledged offsets short of the ends (here: every line
    // unstored, into a store that has none of them). The next workbench follows that job again.
    rc::JobRecord rec = load();
    for (auto& r : rec.ranks) r.offset = r.lines = 0;
    rec.drained = false;
    launcher.store().save(rec);
    r1::app::RunStore fresh(dir_ + QStringLiteral("/runs-after-kill.sqlite"));
    QVERIFY2(fresh.isOpen(), qPrintable(fresh.errorString()));
    r1::app::ClusterController again;
    r1::app::MainWindow w2(&fresh, &again);
    QCOMPARE(again.attachRunning(), job);
    QString runAgain;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          for (const auto& info : fresh.runs())
            if (info.name == job && info.status == QLatin1String("completed")) runAgain = info.id;
          return !runAgain.isEmpty();
        }(),
        60000);
    QTRY_VERIFY_WITH_TIMEOUT(load().drained, 20000);
    fresh.flush();
    std::vector<qint64> storedAgain;
    for (const auto& m : fresh.metric(runAgain, QStringLiteral("loss"))) storedAgain.push_back(m.step);
    QVERIFY2(storedAgain == onNode, qPrintable(QStringLiteral("%1 steps stored after the "
                                                              "re-follow, %2 on the node")
                                                   .arg(storedAgain.size())
                                                   .arg(onNode.size())));
    again.detach();
    again.waitIdle(30000);
  }
};

QTEST_MAIN(TestWorkbenchReattach)
#include "test_workbench_reattach.moc"
