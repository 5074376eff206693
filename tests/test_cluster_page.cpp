// The Cluster page end to end against a real sshd on two loopback "nodes" (tests/fixtures/
// sshd_fixture.sh): host keys unknown → trusted by fingerprint, probe, launch of a 2-rank
// data-parallel r1-nano job from the window, rank 0's events in the run store and on the charts,
// the job completed. Screenshots of the page go to tests/tmp (cluster_page_*.png).
#include "app/cluster_controller.h"
#include "app/main_window.h"
#include "app/run_store.h"
#include "engine/cluster/profile.h"
#include "widgets/cluster_view.h"
#include "widgets/metric_chart.h"

#include <QTabWidget>
#include "tests/loopback_nodes.h"

#include <QtTest/QtTest>

#include <unistd.h>

namespace {

using r1::test::free_port;



}  // namespace

class TestClusterPage final : public QObject {
  Q_OBJECT

  QTemporaryDir tmp_{QDir::tempPath() + QStringLiteral("/r1-cluster-page-XXXXXX")};
  QString dir_;
  r1::test::LoopbackNodes nodes_{QStringLiteral(R1_SSHD_FIXTURE)};

  QString shot(const QString& name) {
    QDir().mkpath(QStringLiteral(R1_TEST_TMP));
    return QStringLiteral(R1_TEST_TMP) + QLatin1Char('/') + name;
  }

 private Q_SLOTS:
  void initTestCase() {
    if (const QString why = r1::test::LoopbackNodes::unavailable(); !why.isEmpty())
      QSKIP(qPrintable(why));
    QVERIFY(tmp_.isValid());
    dir_ = tmp_.path();
    const QString err = nodes_.start(dir_, {QStringLiteral("127.0.0.4"), QStringLiteral("127.0.0.5")});
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QFile corpus(dir_ + QStringLiteral("/corpus.txt"));
    QVERIFY(corpus.open(QIODevice::WriteOnly));
    for (int i = 0; i < 80; ++i)
      corpus.write(QStringLiteral("line %1: the cluster page follows rank zero. 集群 %1\n").arg(i % 9).toUtf8());
  }

  void cleanupTestCase() { nodes_.stop(); }

  void trustProbeLaunchFollow() {
    r1::cluster::Profile profile = nodes_.profile("loopback", R1_WORKER);

    r1::cluster::LauncherOptions lo;
    lo.state_dir = (dir_ + QStringLiteral("/state")).toStdString();
    lo.control_dir = (dir_ + QStringLiteral("/ctl")).toStdString();
    lo.stop_grace = std::chrono::seconds(5);
    r1::app::ClusterController cluster(lo);
    cluster.setProfile(profile, {});
    r1::app::RunStore store(dir_ + QStringLiteral("/runs.sqlite"));
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    r1::app::MainWindow w(&store, &cluster);
    w.resize(1400, 880);
    w.show();
    auto* view = w.clusterView();
    QVERIFY(view);
    w.findChild<QTabWidget*>()->setCurrentWidget(view);
    QCOMPARE(view->nodes()->rowCount(), 2);
    auto cell = [&](int row, int col) { return view->nodes()->data(view->nodes()->index(row, col)).toString(); };

    // Unknown keys are shown by fingerprint and not used until trusted.
    cluster.checkHostKeys();
    QTRY_VERIFY_WITH_TIMEOUT(!cluster.busy(), 60000);
    QCOMPARE(cell(0, r1::widgets::NodeTableModel::HostKey), QStringLiteral("not trusted yet"));
    const QString expected = nodes_.host_key_fingerprint();
    const auto unknown = cluster.unknownKeys();
    QCOMPARE(int(unknown.size()), 2);
    QVERIFY(unknown.at(0).contains(expected));
    cluster.probe();  // refused while untrusted: the health column says why
    QTRY_VERIFY_WITH_TIMEOUT(!cluster.busy(), 60000);
    QCOMPARE(cell(0, r1::widgets::NodeTableModel::Health), QStringLiteral("unreachable"));

    cluster.trust({0, 1}, {expected});
    QTRY_VERIFY_WITH_TIMEOUT(!cluster.busy(), 60000);
    QCOMPARE(cell(0, r1::widgets::NodeTableModel::HostKey), QStringLiteral("trusted"));
    QCOMPARE(cell(1, r1::widgets::NodeTableModel::HostKey), QStringLiteral("trusted"));

    cluster.probe();
    QTRY_VERIFY_WITH_TIMEOUT(!cluster.busy(), 60000);
    for (int r = 0; r < 2; ++r) {
      QCOMPARE(cell(r, r1::widgets::NodeTableModel::Health), QStringLiteral("ready"));
      QCOMPARE(cell(r, r1::widgets::NodeTableModel::Cpus).toInt(), QThread::idealThreadCount());
      QVERIFY(cell(r, r1::widgets::NodeTableModel::Worker).startsWith(QStringLiteral("0.1.0")));
    }
    QTest::qWait(100);
    QVERIFY(w.grab().save(shot(QStringLiteral("cluster_page_probed.png"))));

    // Launch: 2 ranks (one per node) of a small r1-nano run; rank 0's events feed the store.
    const QString toml = QStringLiteral(
        "[run]\nname = \"page\"\n[model]\npreset = \"r1-nano\"\nvocab_size = 300\n"
        "[data]\npaths = [\"%1/corpus.txt\"]\nseq_len = 16\nbatch_size = 4\nval_fraction = 0.2\n"
        "cache_dir = \"%1/work/cache\"\n[train]\nsteps = 40\nthreads = 1\nwarmup_steps = 4\n"
        "[eval]\nevery = 20\nbatches = 2\n[checkpoint]\nevery = 20\n").arg(dir_);
    QSignalSpy launched(&cluster, &r1::app::ClusterController::jobLaunched);
    cluster.launch(toml);
    QTRY_COMPARE_WITH_TIMEOUT(launched.count(), 1, 60000);
    const QString job = launched.at(0).at(0).toString();
    QCOMPARE(launched.at(0).at(1).toLongLong(), 40);
    auto state = [&] {
      for (const auto& j : cluster.jobRows())
        if (j.id == job) return j.state;
      return QString();
    };
    QTRY_VERIFY_WITH_TIMEOUT(state() == QLatin1String("completed") || state() == QLatin1String("failed"), 180000);
    QCOMPARE(state(), QStringLiteral("completed"));
    store.flush();
    QString runId;
    for (const auto& info : store.runs())
      if (info.name == job) runId = info.id;
    QVERIFY2(!runId.isEmpty(), "the job has a run in the history");
    QTRY_COMPARE_WITH_TIMEOUT(store.metric(runId, QStringLiteral("loss")).size(), size_t(40), 30000);
    QVERIFY(!store.metric(runId, QStringLiteral("val_loss")).empty());
    auto* tabs = w.findChild<QTabWidget*>();
    tabs->setCurrentIndex(0);  // Charts: the job's curves, as for a local run
    QTRY_VERIFY_WITH_TIMEOUT(w.chart(QStringLiteral("loss"))->visiblePointCount() > 0, 10000);
    QTest::qWait(200);
    QVERIFY(w.grab().save(shot(QStringLiteral("cluster_page_charts.png"))));
    tabs->setCurrentWidget(view);
    view->selectJob(job);
    QCOMPARE(view->ranks()->rowCount(), 2);
    QTest::qWait(200);
    QVERIFY(w.grab().save(shot(QStringLiteral("cluster_page_job.png"))));
    cluster.detach();
    cluster.waitIdle(30000);
  }
};

QTEST_MAIN(TestClusterPage)
#include "test_cluster_page.moc"
