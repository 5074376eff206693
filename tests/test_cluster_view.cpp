// The Cluster page's models and view without SSH: what a node row says for each probe and
// host-key outcome, job rows keeping their place, and which buttons a job's state allows.
#include "widgets/cluster_models.h"
#include "widgets/cluster_view.h"

#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest/QtTest>

using namespace r1::widgets;

class TestClusterView final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void nodeRowsSayWhatWasFound() {
        NodeTableModel m;
        NodeRow ok;
        ok.label = QStringLiteral("gpu1");
        ok.address = QStringLiteral("alice@10.0.0.5:2222");
        ok.ranks = 8;
        ok.gpuRanks = true;
        ok.hostKey = QStringLiteral("known");
        ok.health = NodeRow::Health::Ok;
        ok.latencyMs = 1.25;
        ok.memTotalKb = 64ll * 1024 * 1024;
        ok.memAvailableKb = 32ll * 1024 * 1024;
        NodeRow down = ok;
        down.label = QStringLiteral("gpu2");
        down.hostKey = QStringLiteral("changed");
        down.fingerprint = QStringLiteral("ssh-ed25519 SHA256:abc");
        down.health = NodeRow::Health::Down;
        down.healthText = QStringLiteral("node 'gpu2': connection refused");
        down.latencyMs = -1;
        NodeRow cpu;
        cpu.label = QStringLiteral("cpu1");
        cpu.ranks = 2;
        m.setRows({ok, down, cpu});
        QCOMPARE(m.rowCount(), 3);
        auto text = [&](int r, int c) { return m.data(m.index(r, c)).toString(); };
        QCOMPARE(text(0, NodeTableModel::Ranks), QStringLiteral("8 GPU(s)"));
        QCOMPARE(text(2, NodeTableModel::Ranks), QStringLiteral("2 CPU slot(s)"));
        QCOMPARE(text(0, NodeTableModel::HostKey), QStringLiteral("trusted"));
        QCOMPARE(text(1, NodeTableModel::HostKey), QStringLiteral("CHANGED"));
        QCOMPARE(text(2, NodeTableModel::HostKey), QStringLiteral("not checked"));
        QCOMPARE(text(0, NodeTableModel::Health), QStringLiteral("ready"));
        QCOMPARE(text(1, NodeTableModel::Health), QStringLiteral("unreachable"));
        QCOMPARE(text(2, NodeTableModel::Health), QStringLiteral("not probed"));
        QCOMPARE(text(0, NodeTableModel::Latency), QStringLiteral("1.3 ms"));
        QVERIFY(text(1, NodeTableModel::Latency).isEmpty());
        QCOMPARE(text(0, NodeTableModel::Memory), QStringLiteral("64.0 GiB (32.0 free)"));
        // Why a node is down, and the fingerprint of a changed key, are one hover away.
        QCOMPARE(m.data(m.index(1, NodeTableModel::Health), Qt::ToolTipRole).toString(), down.healthText);
        QCOMPARE(m.data(m.index(1, NodeTableModel::HostKey), Qt::ToolTipRole).toString(), down.fingerprint);
        QVERIFY(m.data(m.index(1, NodeTableModel::HostKey), Qt::ForegroundRole).isValid());
    }

    void jobRowsKeepTheirPlaceAndButtonsFollowTheState() {
        ClusterView v;
        v.resize(1000, 700);
        QVERIFY(!v.probeButton()->isEnabled());  // no nodes yet
        NodeRow n;
        n.label = QStringLiteral("n1");
        n.ranks = 1;
        v.nodes()->setRows({n});
        QVERIFY(v.probeButton()->isEnabled());
        QVERIFY(v.launchButton()->isEnabled());

        JobRow a, b;
        a.id = QStringLiteral("c-1");
        a.state = QStringLiteral("running");
        a.worldSize = 2;
        b.id = QStringLiteral("c-0");
        b.state = QStringLiteral("failed");
        b.cause = QStringLiteral("rank 1 on n1 exited with code 137 without a finish event");
        v.jobs()->setRows({a, b});
        QSignalSpy selected(&v, &ClusterView::jobSelected);
        v.selectJob(QStringLiteral("c-1"));
        QCOMPARE(selected.count(), 1);
        QCOMPARE(v.selectedJob(), QStringLiteral("c-1"));
        QVERIFY(v.stopButton()->isEnabled());  // a running job can be stopped

        // An update of the same jobs keeps the selection (no reset under the user's cursor).
        a.state = QStringLiteral("stopped");
        QSignalSpy reset(v.jobs(), &QAbstractItemModel::modelReset);
        v.jobs()->setRows({a, b});
        QCOMPARE(reset.count(), 0);
        QCOMPARE(v.selectedJob(), QStringLiteral("c-1"));
        QVERIFY(!v.stopButton()->isEnabled());  // nothing left to stop

        QSignalSpy stop(&v, &ClusterView::stopRequested);
        v.selectJob(QStringLiteral("c-0"));
        QCOMPARE(v.jobs()->data(v.jobs()->index(1, JobTableModel::Cause)).toString(), b.cause);

        // Busy: every remote action waits for the one in flight.
        v.setBusy(QStringLiteral("Probing 1 node…"));
        QVERIFY(!v.probeButton()->isEnabled());
        QVERIFY(!v.launchButton()->isEnabled());
        v.setBusy({});
        QVERIFY(v.probeButton()->isEnabled());
        QCOMPARE(stop.count(), 0);
    }

    void rankStatusText() {
        RankRow r;
        r.alive = true;
        QCOMPARE(RankTableModel::statusText(r), QStringLiteral("running"));
        r.alive = false;
        r.exitCode = 137;
        QCOMPARE(RankTableModel::statusText(r), QStringLiteral("exited (137)"));
        r.finish = QStringLiteral("completed");
        QCOMPARE(RankTableModel::statusText(r), QStringLiteral("completed"));
    }
};

QTEST_MAIN(TestClusterView)
#include "test_cluster_view.moc"
