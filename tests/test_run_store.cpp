#include <QtTest/QtTest>

#include <QAbstractItemModelTester>
#include <QColor>
#include <QProcess>
#include <QRandomGenerator>
#include <QSortFilterProxyModel>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>

#include <csignal>
#include <cmath>
#include <limits>
#include <memory>
#include <sys/types.h>

#include "app/run_store.h"
#include "engine/events/event.h"
#include "widgets/run_list_model.h"

namespace ev = r1::events;
using r1::app::RunStore;
using r1::widgets::RunListModel;
using r1::widgets::RunRow;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ev::Event at(double time, ev::Payload payload) {
    ev::Event e;
    e.header.time = time;
    e.header.run = "engine-run";
    e.payload = std::move(payload);
    return e;
}

// Runs fn on a raw SQLite connection of its own (closed and removed afterwards).
template <class Fn>
auto withRawDb(const QString& path, bool readOnly, Fn fn) {
    static int counter = 0;
    const QString name = QStringLiteral("raw_%1").arg(++counter);
    decltype(fn(std::declval<QSqlDatabase&>())) result{};
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        db.setConnectOptions(readOnly ? QStringLiteral("QSQLITE_OPEN_READONLY;"
                                                       "QSQLITE_BUSY_TIMEOUT=2000")
                                      : QStringLiteral("QSQLITE_BUSY_TIMEOUT=2000"));
        if (db.open()) result = fn(db);
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return result;
}

qint64 scalar(QSqlDatabase& db, const QString& sql) {
    QSqlQuery q(db);
    if (!q.exec(sql) || !q.next()) return -1;
    return q.value(0).toLongLong();
}

qint64 metricRows(const QString& path) {
    if (!QFile::exists(path)) return 0;
    return withRawDb(path, true, [](QSqlDatabase& db) {
        return scalar(db, QStringLiteral("SELECT count(*) FROM metrics"));
    });
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

RunRow row(const QString& id, const QString& status, double best, qint64 steps) {
    RunRow r;
    r.id = id;
    r.name = QStringLiteral("name of ") + id;
    r.status = status;
    r.preset = QStringLiteral("r1-nano");
    r.best_val = best;
    r.steps = steps;
    r.started = 1718000000.0;
    r.finished = status == QLatin1String("running") ? 0.0 : 1718003600.0;
    return r;
}

}  // namespace

class TestRunStore : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> dir_;  // made once R1_TEST_TMP exists
    QString file(const QString& name) const { return dir_->filePath(name); }

private Q_SLOTS:
    void initTestCase();
    void ingestsEveryEventAndReopens_data();
    void ingestsEveryEventAndReopens();
    void commitsWithoutFlush_data();
    void commitsWithoutFlush();
    void appendAndReadsNeverWaitForTheWriter();
    void telemetryKeepsEverySample();
    void hostTelemetryAndSmClock();
    void interruptedRunEndsAtItsLastSample();
    void resentStepReplacesRow();
    void killedWriterLeavesInterruptedRun();
    void garbageFileIsRefusedAndUntouched();
    void migratesUnversionedDatabase_data();
    void migratesUnversionedDatabase();
    void migratesV1Telemetry();
    void refusesFutureSchema();
    void refusesForeignDatabase();
    void exportsCsv();
    void runListModelDiffs();
    void runListModelEdits();
    void modelFollowsStore();
    void ingestionRate_data();
    void ingestionRate();
};

void TestRunStore::initTestCase() {
    QVERIFY(QDir().mkpath(QStringLiteral(R1_TEST_TMP)));
    dir_ = std::make_unique<QTemporaryDir>(QStringLiteral(R1_TEST_TMP "/run_storeXXXXXX"));
    QVERIFY(dir_->isValid());
}

void TestRunStore::ingestsEveryEventAndReopens_data() {
    QTest::addColumn<int>("writes");
    QTest::newRow("writer thread") << int(RunStore::Writes::OnWriterThread);
    QTest::newRow("caller thread") << int(RunStore::Writes::OnCallerThread);
}

void TestRunStore::ingestsEveryEventAndReopens() {
    QFETCH(int, writes);
    const QString path = file(QStringLiteral("every-%1.db").arg(writes));
    QString id, other;
    const double t0 = 1718000000.0;
    {
        RunStore store(path, RunStore::Writes(writes));
        QCOMPARE(int(store.writes()), writes);
        QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
        QCOMPARE(store.interruptedOnOpen(), 0);
        QSignalSpy changed(&store, &RunStore::runsChanged);
        id = store.beginRun(QStringLiteral("tiny run"), QStringLiteral("/runs/tiny"));
        other = store.beginRun(QStringLiteral("tiny run"), QStringLiteral("/runs/tiny2"));
        QVERIFY(id.startsWith(QStringLiteral("tiny_run-")));
        QVERIFY(other != id);
        QCOMPARE(changed.count(), 2);

        ev::RunStart rs;
        rs.config = {{"model.preset", "r1-nano"}, {"train.lr", 0.001}};
        rs.device = "cpu";
        rs.params_total = 1000;
        rs.params_active = 400;
        store.append(id, at(t0, rs));
        for (int n = 100; n >= 1; --n) {  // out of order: reads must order by step
            ev::Step s;
            s.step = n;
            s.tokens = n * 1024;
            s.loss = 10.0 - n * 0.05;
            s.loss_main = s.loss - 0.1;
            s.lr = 1e-3;
            s.grad_norm = n == 7 ? kNaN : 1.5;
            s.tokens_per_s = 1e4;
            s.mfu = 0.4;
            s.step_ms = 12.5;
            s.expert_load = {{0.25, 0.25, 0.25, 0.25}, {0.1, 0.2, 0.3, 0.4}};
            store.append(id, at(t0 + n, s));
        }
        store.append(id, at(t0 + 50.5, ev::Eval{50, 3.0, std::exp(3.0), 1.2, 4096}));
        store.append(id, at(t0 + 100.5, ev::Eval{100, 2.5, std::exp(2.5), 1.1, 4096}));
        ev::Gpu gpu;
        gpu.device = 1;
        gpu.util = 97.0;
        gpu.mem_used_mb = 81920.0;
        store.append(id, at(t0 + 101, gpu));
        store.append(id, at(t0 + 1, ev::Log{ev::LogLevel::Debug, "tokenizer loaded"}));
        store.append(id, at(t0 + 2, ev::Log{ev::LogLevel::Info, "训练开始 100%"}));
        store.append(id, at(t0 + 3, ev::Log{ev::LogLevel::Warn, "loss spike at step 42"}));
        store.append(id, at(t0 + 4, ev::Error{"CUDA out of memory", "tried 2 GiB", false}));
        store.append(id, at(t0 + 100.7, ev::Checkpoint{100, "runs/tiny/step_100.pt", 12345, 0.5}));
        store.append(id, at(t0 + 100.8, ev::Sample{100, "1+1=", " 2"}));
        ev::Finish fin;
        fin.status = ev::FinishStatus::Completed;
        fin.step = 100;
        fin.seconds = 102;
        fin.best_val_loss = 2.4;
        store.append(id, at(t0 + 102, fin));
        QVERIFY(store.flush());
        QVERIFY(changed.count() >= 3);

        QVERIFY(store.setTags(id, {QStringLiteral("baseline"), QStringLiteral(" moe "),
                                   QStringLiteral("baseline")}));
        QVERIFY(store.renameRun(id, QStringLiteral("renamed")));
        QVERIFY(!store.renameRun(id, QStringLiteral("  ")));
        QVERIFY(!store.renameRun(QStringLiteral("no-such-run"), QStringLiteral("x")));
        // Events of an id the store never began are dropped, with a warning.
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("unknown run")));
        store.append(QStringLiteral("ghost"), at(t0, ev::Log{ev::LogLevel::Info, "boo"}));
        QVERIFY(store.flush());
    }

    RunStore store(path);
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    QCOMPARE(store.interruptedOnOpen(), 1);  // `other` never finished
    const QVector<r1::app::RunInfo> runs = store.runs();
    QCOMPARE(runs.size(), 2);
    QCOMPARE(store.run(other)->status, QStringLiteral("interrupted"));
    const r1::app::RunInfo info = *store.run(id);
    QCOMPARE(info.name, QStringLiteral("renamed"));
    QCOMPARE(info.status, QStringLiteral("completed"));
    QCOMPARE(info.preset, QStringLiteral("r1-nano"));
    QCOMPARE(info.device, QStringLiteral("cpu"));
    QCOMPARE(info.params_total, 1000);
    QCOMPARE(info.params_active, 400);
    QCOMPARE(info.last_step, 100);
    QCOMPARE(info.best_val, 2.4);
    QCOMPARE(info.finished, t0 + 102);
    QCOMPARE(info.run_dir, QStringLiteral("/runs/tiny"));
    QCOMPARE(info.tags, (QStringList{QStringLiteral("baseline"), QStringLiteral("moe")}));
    const QJsonObject config = QJsonDocument::fromJson(info.config.toUtf8()).object();
    QCOMPARE(config.value(QStringLiteral("train.lr")).toDouble(), 0.001);

    const auto loss = store.metric(id, QStringLiteral("loss"));
    QCOMPARE(int(loss.size()), 100);
    for (int i = 0; i < 100; ++i) {
        QCOMPARE(loss[i].step, i + 1);
        QCOMPARE(loss[i].wall, t0 + i + 1);
        QCOMPARE(loss[i].value, 10.0 - (i + 1) * 0.05);
    }
    const auto grad = store.metric(id, QStringLiteral("grad_norm"));
    QVERIFY(std::isnan(grad[6].value));
    QCOMPARE(grad[7].value, 1.5);
    QCOMPARE(store.metric(id, QStringLiteral("expert_load/1/3"))[0].value, 0.4);
    const auto val = store.metric(id, QStringLiteral("val_loss"));
    QCOMPARE(int(val.size()), 2);
    QCOMPARE(val[1].value, 2.5);
    QCOMPARE(store.metric(id, QStringLiteral("val_bpb"))[0].value, 1.2);
    const auto util = store.metric(id, QStringLiteral("gpu1/util"));
    QCOMPARE(int(util.size()), 1);
    QCOMPARE(util[0].step, 100);
    QCOMPARE(util[0].value, 97.0);

    const QStringList keys = store.metricKeys(id);
    for (const char* k : {"loss", "loss_main", "lr", "grad_norm", "tokens_per_s", "mfu",
                          "tokens", "skipped", "step_ms", "val_loss", "val_ppl", "val_bpb",
                          "expert_load/0/0", "expert_load/1/3", "gpu1/util", "gpu1/mem_used_mb"}) {
        QVERIFY2(keys.contains(QLatin1String(k)), k);
    }
    QVERIFY(!keys.contains(QStringLiteral("loss_scale")));  // optional, never reported
    QVERIFY(!keys.contains(QStringLiteral("gpu1/temp_c")));
    QVERIFY(std::is_sorted(keys.begin(), keys.end()));

    const auto logs = store.logs(id);
    QCOMPARE(logs.size(), 5);
    QCOMPARE(logs[0].level, QStringLiteral("debug"));
    QCOMPARE(logs[1].text, QStringLiteral("训练开始 100%"));
    QCOMPARE(store.logs(id, QStringLiteral("warn")).size(), 2);
    QCOMPARE(store.logs(id, QStringLiteral("error")).size(), 1);
    QVERIFY(store.logs(id, QStringLiteral("error"))[0].text.contains(QStringLiteral("tried 2")));
    QCOMPARE(store.logs(id, QStringLiteral("info")).size(), 4);
    QCOMPARE(store.logs(id, {}, QStringLiteral("cuda")).size(), 1);  // case-insensitive
    QCOMPARE(store.logs(id, {}, QStringLiteral("训练")).size(), 1);
    QCOMPARE(store.logs(id, {}, QStringLiteral("100%")).size(), 1);  // % is literal
    QCOMPARE(store.logs(id, {}, QStringLiteral("sample")).size(), 1);
    QCOMPARE(store.logs(id, QStringLiteral("warn"), QStringLiteral("spike")).size(), 1);
    QCOMPARE(store.logs(id, QStringLiteral("error"), QStringLiteral("spike")).size(), 0);

    const auto ckpts = store.checkpoints(id);
    QCOMPARE(ckpts.size(), 1);
    QCOMPARE(ckpts[0].path, QStringLiteral("runs/tiny/step_100.pt"));
    QCOMPARE(ckpts[0].bytes, 12345);

    QSignalSpy changed(&store, &RunStore::runsChanged);
    QVERIFY(store.deleteRun(id));
    QCOMPARE(changed.count(), 1);
    QVERIFY(!store.run(id));
    QVERIFY(!store.deleteRun(id));
    store.append(id, at(t0 + 200, ev::Log{ev::LogLevel::Info, "late"}));  // dropped
    QVERIFY(store.flush());
    QCOMPARE(store.runs().size(), 1);
    const auto left = withRawDb(path, true, [&](QSqlDatabase& db) {
        qint64 n = 0;
        for (const char* table : {"metrics", "logs", "checkpoints"}) {
            n += scalar(db, QStringLiteral("SELECT count(*) FROM %1 WHERE run_id = '%2'")
                                .arg(QLatin1String(table), id));
        }
        return n + scalar(db, QStringLiteral("SELECT count(*) FROM runs WHERE id = '%1'").arg(id));
    });
    QCOMPARE(left, 0);
    QVERIFY(store.metricKeys(id).isEmpty());
}

void TestRunStore::commitsWithoutFlush_data() {
    QTest::addColumn<int>("writes");
    QTest::newRow("writer thread") << int(RunStore::Writes::OnWriterThread);
    QTest::newRow("caller thread") << int(RunStore::Writes::OnCallerThread);
}

void TestRunStore::commitsWithoutFlush() {
    QFETCH(int, writes);
    RunStore store(file(QStringLiteral("timer-%1.db").arg(writes)), RunStore::Writes(writes));
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    const QString id = store.beginRun(QStringLiteral("t"), {});
    QElapsedTimer clock;
    clock.start();
    store.append(id, ev::make_event(ev::Log{ev::LogLevel::Info, "hello"}));
    if (RunStore::Writes(writes) == RunStore::Writes::OnCallerThread) {
        QCOMPARE(store.logs(id).size(), 0);  // until the timer fires on this thread
    }
    QTRY_COMPARE_WITH_TIMEOUT(store.logs(id).size(), 1, 2000);
    qInfo("committed %lld ms after the append", clock.elapsed());
}

// Another program holds the database's write lock: the writer thread waits for it (busy
// timeout), while append() and reads on this thread go on at once (WAL readers never wait).
void TestRunStore::appendAndReadsNeverWaitForTheWriter() {
    const QString path = file(QStringLiteral("locked.db"));
    RunStore store(path);
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    const QString id = store.beginRun(QStringLiteral("locked"), {});
    const QString lockName = QStringLiteral("locker");
    {
        QSqlDatabase locker = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), lockName);
        locker.setDatabaseName(path);
        QVERIFY(locker.open());
        QSqlQuery q(locker);
        QVERIFY2(q.exec(QStringLiteral("BEGIN IMMEDIATE")), qPrintable(q.lastError().text()));

        QElapsedTimer clock;
        qint64 worstNs = 0;
        for (int n = 1; n <= 2000; ++n) {
            ev::Step s;
            s.step = n;
            s.loss = 1.0 / n;
            clock.start();
            store.append(id, at(1718000000.0 + n, s));
            worstNs = std::max(worstNs, clock.nsecsElapsed());
        }
        // The writer's commit is due meanwhile and gets stuck on the lock (5 s busy timeout);
        // this thread's event loop goes on.
        clock.start();
        QTest::qWait(2 * RunStore::kFlushIntervalMs);
        const qint64 waitedMs = clock.elapsed();
        clock.start();
        const auto runs = store.runs();
        const auto loss = store.metric(id, QStringLiteral("loss"));
        const qint64 readNs = clock.nsecsElapsed();
        qInfo("while the writer waits: slowest append %.3f ms, event loop %lld ms for %d, "
              "reads %.3f ms", worstNs / 1e6, waitedMs, 2 * RunStore::kFlushIntervalMs,
              readNs / 1e6);
        QCOMPARE(runs.size(), 1);
        QCOMPARE(int(loss.size()), 0);  // not committed yet
        // Against 5 s if this thread waited for the lock.
        QVERIFY2(worstNs < 200'000'000, "append() waited for the writer");
        QVERIFY2(waitedMs < 2000, "the event loop waited for the writer");
        QVERIFY2(readNs < 200'000'000, "a read waited for the writer");
        QVERIFY(q.exec(QStringLiteral("COMMIT")));
    }
    QSqlDatabase::removeDatabase(lockName);
    QVERIFY2(store.flush(), qPrintable(store.errorString()));
    QCOMPARE(int(store.metric(id, QStringLiteral("loss")).size()), 2000);
    QCOMPARE(store.run(id)->last_step, 2000);
}

// GPU samples come by time (about one a second), not by step: each is kept with its time and
// the training step reached when it was taken; several can share a step.
void TestRunStore::telemetryKeepsEverySample() {
    const QString path = file(QStringLiteral("telemetry.db"));
    RunStore store(path);
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    const QString id = store.beginRun(QStringLiteral("gpu"), {});
    const double t0 = 1718000000.0;
    auto gpu = [&](double t, double util) {
        ev::Gpu g;
        g.device = 0;
        g.util = util;
        g.temp_c = 40.0 + util / 10.0;
        store.append(id, at(t, g));
    };
    auto step = [&](double t, int n) {
        ev::Step s;
        s.step = n;
        s.loss = 2.0;
        store.append(id, at(t, s));
    };
    gpu(t0 + 0.5, 5.0);  // start-up: before the first step
    gpu(t0 + 1.5, 6.0);
    step(t0 + 2.0, 1);
    gpu(t0 + 2.5, 90.0);
    gpu(t0 + 3.5, 95.0);  // a slow step: two samples in it
    step(t0 + 4.0, 2);
    gpu(t0 + 4.5, 97.0);
    ev::Gpu nothing;  // a sample without a time has nowhere to go
    store.append(id, at(kNaN, nothing));
    QVERIFY(store.flush());

    const auto util = store.metric(id, QStringLiteral("gpu0/util"));
    QCOMPARE(int(util.size()), 5);
    const qint64 steps[] = {0, 0, 1, 1, 2};
    const double values[] = {5.0, 6.0, 90.0, 95.0, 97.0};
    for (int i = 0; i < 5; ++i) {
        QCOMPARE(util[std::size_t(i)].step, steps[i]);
        QCOMPARE(util[std::size_t(i)].value, values[i]);
    }
    QCOMPARE(util[1].wall, t0 + 1.5);
    QCOMPARE(int(store.metric(id, QStringLiteral("gpu0/temp_c")).size()), 5);
    QVERIFY(store.metricKeys(id).contains(QStringLiteral("gpu0/util")));
    QVERIFY(!store.metricKeys(id).contains(QStringLiteral("gpu0/power_w")));

    // CSV has every sample.
    const QString csv = file(QStringLiteral("telemetry.csv"));
    QString error;
    QVERIFY2(store.exportCsv(id, csv, &error), qPrintable(error));
    const QString text = QString::fromUtf8(readAll(csv));
    QCOMPARE(text.count(QStringLiteral(",gpu0/util,")), 5);
    QVERIFY(text.contains(QStringLiteral("1,1718000003.500,gpu0/util,95\n")));

    QVERIFY(store.deleteRun(id));  // its samples go with it
    QCOMPARE(withRawDb(path, true, [](QSqlDatabase& db) {
                 return scalar(db, QStringLiteral("SELECT count(*) FROM telemetry"));
             }),
             0);
}

// Host samples (CPU and RAM, a node without NVML) go to the telemetry table as host/<field>, like
// GPU samples: every sample with its time, filed under the step reached; the SM clock is one
// more GPU field. A reopened store reads them back.
void TestRunStore::hostTelemetryAndSmClock() {
    const QString path = file(QStringLiteral("host.db"));
    const double t0 = 1718000000.0;
    QString id;
    {
        RunStore store(path);
        QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
        id = store.beginRun(QStringLiteral("cpu"), {});
        auto host = [&](double t, double cpu, double ramUsed) {
            ev::Host h;
            h.cpu_util = cpu;
            h.ram_used_mb = ramUsed;
            h.ram_total_mb = 64000.0;
            h.rss_mb = ramUsed / 8;
            h.cpus = 16;
            store.append(id, at(t, h));
        };
        host(t0 + 0.5, 12.5, 8000.0);
        ev::Step s;
        s.step = 1;
        s.loss = 2.0;
        store.append(id, at(t0 + 1.0, s));
        host(t0 + 1.5, 87.5, 8800.0);
        ev::Host partial;  // first sample of a sampler: no utilisation yet; NaN stays NaN
        partial.ram_used_mb = kNaN;
        store.append(id, at(t0 + 2.5, partial));
        store.append(id, at(kNaN, ev::Host{12.0}));  // no time: nowhere to go
        ev::Gpu g;
        g.device = 2;
        g.sm_clock_mhz = 1980.0;
        store.append(id, at(t0 + 3.0, g));
        QVERIFY(store.flush());
    }
    RunStore store(path);
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    const QStringList keys = store.metricKeys(id);
    QVERIFY(keys.contains(QStringLiteral("loss")));
    QCOMPARE(keys.filter(QRegularExpression(QStringLiteral("^(host|gpu)"))),
             (QStringList{"gpu2/sm_clock_mhz", "host/cpu_util", "host/cpus", "host/ram_total_mb",
                          "host/ram_used_mb", "host/rss_mb"}));
    const auto cpu = store.metric(id, QStringLiteral("host/cpu_util"));
    QCOMPARE(int(cpu.size()), 2);
    QCOMPARE(cpu[0].step, qint64(0));
    QCOMPARE(cpu[0].wall, t0 + 0.5);
    QCOMPARE(cpu[0].value, 12.5);
    QCOMPARE(cpu[1].step, qint64(1));
    QCOMPARE(cpu[1].value, 87.5);
    const auto ram = store.metric(id, QStringLiteral("host/ram_used_mb"));
    QCOMPARE(int(ram.size()), 3);
    QCOMPARE(ram[1].value, 8800.0);
    QVERIFY(std::isnan(ram[2].value));
    QCOMPARE(ram[2].wall, t0 + 2.5);
    QCOMPARE(store.metric(id, QStringLiteral("host/rss_mb"))[1].value, 1100.0);
    QCOMPARE(store.metric(id, QStringLiteral("host/cpus"))[0].value, 16.0);
    QCOMPARE(store.metric(id, QStringLiteral("host/ram_total_mb")).size(), std::size_t(2));
    const auto clock = store.metric(id, QStringLiteral("gpu2/sm_clock_mhz"));
    QCOMPARE(int(clock.size()), 1);
    QCOMPARE(clock[0].value, 1980.0);
    QCOMPARE(clock[0].step, qint64(1));
    // Telemetry rows, not metrics rows: the metrics table holds the loss only.
    QCOMPARE(withRawDb(path, true, [&](QSqlDatabase& db) {
                 return scalar(db, QStringLiteral("SELECT count(*) FROM telemetry WHERE "
                                                  "key GLOB 'host/*'"));
             }),
             11);  // 5 + 5 fields, the NaN of the partial one

    const QString csv = file(QStringLiteral("host.csv"));
    QString error;
    QVERIFY2(store.exportCsv(id, csv, &error), qPrintable(error));
    const QString text = QString::fromUtf8(readAll(csv));
    QVERIFY(text.contains(QStringLiteral("1,1718000001.500,host/cpu_util,87.5\n")));
}

void TestRunStore::interruptedRunEndsAtItsLastSample() {
    const QString path = file(QStringLiteral("startup.db"));
    const double now = QDateTime::currentMSecsSinceEpoch() / 1000.0;
    QString id;
    {
        RunStore store(path);
        QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
        id = store.beginRun(QStringLiteral("startup"), {});
        for (double t : {now + 10.0, now + 20.0}) {  // killed while loading: samples, no step
            ev::Gpu g;
            g.mem_used_mb = 1024.0;
            store.append(id, at(t, g));
        }
    }  // no finish event: as if killed after the last commit
    RunStore store(path);
    QCOMPARE(store.interruptedOnOpen(), 1);
    QCOMPARE(store.run(id)->status, QStringLiteral("interrupted"));
    QCOMPARE(store.run(id)->finished, now + 20.0);
}

void TestRunStore::resentStepReplacesRow() {
    RunStore store(file(QStringLiteral("resent.db")));
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    const QString id = store.beginRun(QStringLiteral("resumed"), {});
    for (double loss : {3.0, 2.0}) {  // a resumed run sends steps after its checkpoint again
        for (int n = 1; n <= 3; ++n) {
            ev::Step s;
            s.step = n;
            s.loss = loss + n;
            store.append(id, at(1718000000.0 + n, s));
        }
        QVERIFY(store.flush());
    }
    const auto loss = store.metric(id, QStringLiteral("loss"));
    QCOMPARE(int(loss.size()), 3);
    QCOMPARE(loss[2].value, 5.0);
}

void TestRunStore::killedWriterLeavesInterruptedRun() {
    const QString path = file(QStringLiteral("killed.db"));
    QProcess writer;
    writer.setProgram(QStringLiteral(R1_STORE_WRITER));
    writer.setArguments({path});
    writer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    writer.start();
    QVERIFY2(writer.waitForStarted(10000), qPrintable(writer.errorString()));
    // The helper prints its run id, then "<steps appended> <unix ms>" every 100 ms.
    QByteArray out;
    struct Progress {
        qint64 steps, ms;
    };
    std::vector<Progress> progress;
    auto read = [&] {
        out += writer.readAllStandardOutput();
        progress.clear();
        const QList<QByteArray> lines = out.split('\n');
        for (qsizetype i = 1; i + 1 < lines.size(); ++i) {  // the last one may be partial
            const QList<QByteArray> f = lines[i].split(' ');
            if (f.size() == 2) progress.push_back({f[0].toLongLong(), f[1].toLongLong()});
        }
        return progress.empty() ? 0 : progress.back().ms - progress.front().ms;
    };
    // Let it append for a while (well over a second) and commit some of it.
    QTRY_VERIFY_WITH_TIMEOUT(read() >= 1500 && metricRows(path) >= 200, 30000);
    QCOMPARE(writer.state(), QProcess::Running);
    const qint64 killedAt = QDateTime::currentMSecsSinceEpoch();
    QCOMPARE(::kill(pid_t(writer.processId()), SIGKILL), 0);
    QVERIFY(writer.waitForFinished(10000));
    QCOMPARE(writer.exitStatus(), QProcess::CrashExit);
    read();
    const QString id = QString::fromUtf8(out.left(out.indexOf('\n'))).trimmed();
    QVERIFY(!id.isEmpty());
    // What had been handed over a second before the kill is on disk.
    qint64 mustHave = 0;
    for (const Progress& p : progress) {
        if (p.ms <= killedAt - 1000) mustHave = std::max(mustHave, p.steps);
    }
    QVERIFY(mustHave > 0);

    RunStore store(path);
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    QCOMPARE(store.interruptedOnOpen(), 1);
    const auto runs = store.runs();
    QCOMPARE(runs.size(), 1);
    QCOMPARE(runs[0].id, id);
    QCOMPARE(runs[0].status, QStringLiteral("interrupted"));
    QCOMPARE(runs[0].preset, QStringLiteral("r1-nano"));
    QVERIFY(runs[0].finished >= runs[0].started);
    const auto loss = store.metric(id, QStringLiteral("loss"));
    QVERIFY(loss.size() >= 200 / 7);  // 7 rows per step event
    for (std::size_t i = 0; i < loss.size(); ++i) {  // whole flushes only: no gaps
        QCOMPARE(loss[i].step, qint64(i + 1));
    }
    QCOMPARE(runs[0].last_step, loss.back().step);
    qInfo("killed writer: %d steps readable, %lld were handed over 1 s before the kill, "
          "%lld when last reported, run %s",
          int(loss.size()), mustHave, progress.back().steps, qPrintable(id));
    QVERIFY2(qint64(loss.size()) >= mustHave, "lost more than the last second");

    RunStore again(path);  // nothing left to mark
    QCOMPARE(again.interruptedOnOpen(), 0);
}

void TestRunStore::garbageFileIsRefusedAndUntouched() {
    const QString path = file(QStringLiteral("garbage.db"));
    QByteArray bytes(8192, '\0');
    QRandomGenerator rng(42);
    for (auto& b : bytes) b = char(rng.bounded(256));
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
    }
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("garbage\\.db")));
    RunStore store(path);
    QVERIFY(!store.isOpen());
    QVERIFY2(store.errorString().contains(path), qPrintable(store.errorString()));
    qInfo("%s", qPrintable(store.errorString()));
    QVERIFY(store.runs().isEmpty());
    QVERIFY(store.beginRun(QStringLiteral("x"), {}).isEmpty());
    store.append(QStringLiteral("x"), ev::make_event(ev::Log{}));
    QVERIFY(!store.flush());
    QCOMPARE(readAll(path), bytes);
    QVERIFY(!QFile::exists(path + QStringLiteral("-wal")));
}

void TestRunStore::migratesUnversionedDatabase_data() {
    QTest::addColumn<QString>("kind");
    QTest::newRow("empty database") << QStringLiteral("empty");
    QTest::newRow("zero-byte file") << QStringLiteral("zero");
    QTest::newRow("no file, no folder") << QStringLiteral("none");
}

void TestRunStore::migratesUnversionedDatabase() {
    QFETCH(QString, kind);
    QString path = file(QStringLiteral("v0-%1.db").arg(kind));
    if (kind == QLatin1String("empty")) {
        const bool made = withRawDb(path, false, [](QSqlDatabase& db) {
            QSqlQuery q(db);
            return q.exec(QStringLiteral("CREATE TABLE t(a)")) &&
                   q.exec(QStringLiteral("DROP TABLE t"));
        });
        QVERIFY(made);
        QVERIFY(QFileInfo(path).size() > 0);
    } else if (kind == QLatin1String("zero")) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
    } else {
        path = file(QStringLiteral("sub/dir/new.db"));
    }
    {
        RunStore store(path);
        QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
        QVERIFY(!store.beginRun(QStringLiteral("a"), {}).isEmpty());
    }
    const QStringList tables = withRawDb(path, true, [](QSqlDatabase& db) {
        QStringList names;
        QSqlQuery q(db);
        q.exec(QStringLiteral("SELECT name FROM sqlite_master ORDER BY name"));
        while (q.next()) names << q.value(0).toString();
        QStringList pk;  // the (run_id, key, step) index
        q.exec(QStringLiteral("SELECT ii.name FROM pragma_index_list('metrics') il, "
                              "pragma_index_info(il.name) ii WHERE il.origin = 'pk' "
                              "ORDER BY ii.seqno"));
        while (q.next()) pk << q.value(0).toString();
        names << pk.join(u',');
        names << QString::number(scalar(db, QStringLiteral("PRAGMA user_version")));
        names << QString::number(scalar(db, QStringLiteral("SELECT count(*) FROM runs")));
        return names;
    });
    for (const char* t : {"runs", "metrics", "logs", "checkpoints"}) {
        QVERIFY2(tables.contains(QLatin1String(t)), t);
    }
    QCOMPARE(tables.at(tables.size() - 3), QStringLiteral("run_id,key,step"));
    QCOMPARE(tables.at(tables.size() - 2), QString::number(RunStore::kSchemaVersion));
    QCOMPARE(tables.last(), QStringLiteral("1"));
}

// A version 1 store (one GPU sample per step, in metrics) moves its samples to telemetry.
void TestRunStore::migratesV1Telemetry() {
    const QString path = file(QStringLiteral("v1.db"));
    QVERIFY(withRawDb(path, false, [](QSqlDatabase& db) {
        QSqlQuery q(db);
        for (const char* sql : {
                 "CREATE TABLE runs(id TEXT PRIMARY KEY, name TEXT NOT NULL, preset TEXT NOT NULL "
                 "DEFAULT '', status TEXT NOT NULL, started REAL, finished REAL, last_step "
                 "INTEGER NOT NULL DEFAULT 0, best_val REAL, tags TEXT NOT NULL DEFAULT '[]', "
                 "config TEXT, run_dir TEXT, device TEXT, params_total INTEGER, params_active "
                 "INTEGER)",
                 "CREATE TABLE metrics(run_id TEXT NOT NULL, step INTEGER NOT NULL, wall REAL, "
                 "key TEXT NOT NULL, value REAL, PRIMARY KEY(run_id, key, step)) WITHOUT ROWID",
                 "CREATE TABLE logs(run_id TEXT NOT NULL, wall REAL, level TEXT NOT NULL, text "
                 "TEXT NOT NULL)",
                 "CREATE TABLE checkpoints(run_id TEXT NOT NULL, step INTEGER, path TEXT, bytes "
                 "INTEGER)",
                 "INSERT INTO runs(id, name, status, started, finished, last_step) VALUES "
                 "('old', 'old', 'completed', 100, 200, 20)",
                 "INSERT INTO metrics VALUES ('old', 10, 150, 'loss', 2.5), "
                 "('old', 10, 151, 'gpu0/util', 80), ('old', 20, 199, 'gpu0/util', 85), "
                 "('old', 20, 199, 'gpu12/power_w', 300)",
                 "PRAGMA user_version = 1"}) {
            if (!q.exec(QString::fromLatin1(sql))) return false;
        }
        return true;
    }));
    {
        RunStore store(path);
        QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
        QCOMPARE(store.metricKeys(QStringLiteral("old")),
                 (QStringList{"gpu0/util", "gpu12/power_w", "loss"}));
        const auto util = store.metric(QStringLiteral("old"), QStringLiteral("gpu0/util"));
        QCOMPARE(int(util.size()), 2);
        QCOMPARE(util[1].step, 20);
        QCOMPARE(util[1].wall, 199.0);
        QCOMPARE(util[1].value, 85.0);
        QCOMPARE(store.metric(QStringLiteral("old"), QStringLiteral("loss"))[0].value, 2.5);
    }
    const auto counts = withRawDb(path, true, [](QSqlDatabase& db) {
        return QPair<qint64, qint64>(
            scalar(db, QStringLiteral("SELECT count(*) FROM metrics")),
            scalar(db, QStringLiteral("SELECT count(*) FROM telemetry")));
    });
    QCOMPARE(counts, (QPair<qint64, qint64>(1, 3)));
}

void TestRunStore::refusesFutureSchema() {
    const QString path = file(QStringLiteral("future.db"));
    QVERIFY(withRawDb(path, false, [](QSqlDatabase& db) {
        QSqlQuery q(db);
        return q.exec(QStringLiteral("CREATE TABLE runs(id TEXT)")) &&
               q.exec(QStringLiteral("PRAGMA user_version = 99"));
    }));
    const QByteArray before = readAll(path);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("version 99")));
    RunStore store(path);
    QVERIFY(!store.isOpen());
    qInfo("%s", qPrintable(store.errorString()));
    QVERIFY(store.errorString().contains(path));
    QVERIFY(store.errorString().contains(QStringLiteral("99")));
    QCOMPARE(readAll(path), before);
    QCOMPARE(withRawDb(path, true, [](QSqlDatabase& db) {
                 return scalar(db, QStringLiteral("PRAGMA user_version"));
             }),
             99);
}

void TestRunStore::refusesForeignDatabase() {
    const QString path = file(QStringLiteral("foreign.db"));
    QVERIFY(withRawDb(path, false, [](QSqlDatabase& db) {
        return QSqlQuery(db).exec(QStringLiteral("CREATE TABLE notes(text TEXT)"));
    }));
    const QByteArray before = readAll(path);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("another program")));
    RunStore store(path);
    QVERIFY(!store.isOpen());
    QVERIFY(store.errorString().contains(path));
    QCOMPARE(readAll(path), before);
}

void TestRunStore::exportsCsv() {
    RunStore store(file(QStringLiteral("csv.db")));
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    const QString id = store.beginRun(QStringLiteral("csv"), {});
    for (int n = 1; n <= 20; ++n) {
        ev::Step s;
        s.step = n;
        s.loss = 1.0 / n;
        s.expert_load = {{0.5, 0.5}};
        store.append(id, at(1718000000.0 + n, s));
    }
    store.append(id, at(1718000100.0, ev::Eval{20, 0.1, 1.105, 0.2, 100}));
    const QString out = file(QStringLiteral("run.csv"));
    QString error;
    QVERIFY2(store.exportCsv(id, out, &error), qPrintable(error));  // flushes first

    int expected = 0;
    for (const QString& key : store.metricKeys(id)) expected += int(store.metric(id, key).size());
    QCOMPARE(expected, 20 * 9 + 3);
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList lines = QString::fromUtf8(f.readAll()).split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.first(), QStringLiteral("step,wall,key,value"));
    QCOMPARE(lines.size() - 1, expected);
    int lossRows = 0;
    for (int i = 1; i < lines.size(); ++i) {
        const QStringList cols = lines[i].split(u',');
        QCOMPARE(cols.size(), 4);
        bool ok1 = false, ok2 = false, ok3 = false;
        const qint64 step = cols[0].toLongLong(&ok1);
        cols[1].toDouble(&ok2);
        const double value = cols[3].toDouble(&ok3);
        QVERIFY(ok1 && ok2 && ok3);
        if (cols[2] == QLatin1String("loss")) {
            ++lossRows;
            QCOMPARE(value, 1.0 / step);  // shortest round-trip formatting is exact
        }
    }
    QCOMPARE(lossRows, 20);

    QVERIFY(!store.exportCsv(QStringLiteral("nope"), out, &error));
    QVERIFY(error.contains(QStringLiteral("nope")));
    const QString bad = QStringLiteral("/proc/no/such/dir/run.csv");
    QVERIFY(!store.exportCsv(id, bad, &error));
    QVERIFY2(error.contains(bad), qPrintable(error));
}

void TestRunStore::runListModelDiffs() {
    RunListModel model;
    QAbstractItemModelTester tester(&model,
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserts(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removes(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy changes(&model, &QAbstractItemModel::dataChanged);

    model.setRows({row("a", "running", kNaN, 10), row("b", "completed", 2.5, 100),
                   row("c", "failed", 3.0, 50)});
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.columnCount(), int(RunListModel::ColumnCount));
    QCOMPARE(inserts.count(), 1);
    QCOMPARE(resets.count(), 0);

    // a changed, b removed, d added at the end, e at the front.
    RunRow a2 = row("a", "completed", 2.0, 20);
    model.setRows({row("e", "interrupted", kNaN, 5), a2, row("c", "failed", 3.0, 50),
                   row("d", "stopped", 2.8, 70)});
    QCOMPARE(resets.count(), 0);
    QCOMPARE(removes.count(), 1);
    QCOMPARE(inserts.count(), 3);
    QCOMPARE(changes.count(), 1);
    QCOMPARE(changes.last().at(0).toModelIndex().row(), 1);
    QCOMPARE(model.rowCount(), 4);
    QStringList ids;
    for (int r = 0; r < model.rowCount(); ++r) {
        ids << model.index(r, 0).data(RunListModel::IdRole).toString();
    }
    QCOMPARE(ids, (QStringList{"e", "a", "c", "d"}));
    QCOMPARE(model.rowAt(1).status, QStringLiteral("completed"));
    QCOMPARE(model.rowAt(1).best_val, 2.0);
    QCOMPARE(model.index(1, RunListModel::BestVal).data().toString(), QStringLiteral("2.0000"));
    QCOMPARE(model.index(0, RunListModel::BestVal).data().toString(), QString());
    QCOMPARE(model.index(1, RunListModel::Duration).data().toString(), QStringLiteral("1h 00m"));
    QCOMPARE(model.index(1, RunListModel::Steps).data().toLongLong(), 20);
    QCOMPARE(model.headerData(RunListModel::BestVal, Qt::Horizontal).toString(),
             QStringLiteral("Best val loss"));

    // Same rows again: no signal at all.
    const int before = changes.count() + inserts.count() + removes.count() + resets.count();
    model.setRows(model.rows());
    QCOMPARE(changes.count() + inserts.count() + removes.count() + resets.count(), before);

    // Status decoration colours.
    auto colour = [&](int r) {
        return model.index(r, RunListModel::Status).data(Qt::DecorationRole).value<QColor>();
    };
    QCOMPARE(colour(0), QColor(0xfb, 0x8c, 0x00));  // interrupted: orange
    QCOMPARE(colour(1), QColor(0x43, 0xa0, 0x47));  // completed: green
    QCOMPARE(colour(2), QColor(0xe5, 0x39, 0x35));  // failed: red
    QCOMPARE(colour(3), QColor(0x9e, 0x9e, 0x9e));  // stopped: grey
    QVERIFY(!model.index(0, RunListModel::Name).data(Qt::DecorationRole).isValid());

    // Sorting through a proxy, by raw values; runs without a value last.
    QSortFilterProxyModel proxy;
    QAbstractItemModelTester proxyTester(&proxy,
                                         QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    proxy.setSortRole(RunListModel::SortRole);
    proxy.sort(RunListModel::BestVal, Qt::AscendingOrder);
    QStringList sorted;
    for (int r = 0; r < proxy.rowCount(); ++r) {
        sorted << proxy.index(r, 0).data(RunListModel::IdRole).toString();
    }
    QCOMPARE(sorted, (QStringList{"a", "d", "c", "e"}));
    proxy.sort(RunListModel::Steps, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, 0).data(RunListModel::IdRole).toString(), QStringLiteral("d"));

    // Survivors reordered: a reset is the honest answer.
    model.setRows({row("c", "failed", 3.0, 50), row("d", "stopped", 2.8, 70)});
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(resets.count(), 0);
    model.setRows({row("d", "stopped", 2.8, 70), row("c", "failed", 3.0, 50)});
    QCOMPARE(resets.count(), 1);
    model.setRows({});
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(proxy.rowCount(), 0);
}

void TestRunStore::runListModelEdits() {
    RunListModel model;
    QAbstractItemModelTester tester(&model,
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setRows({row("a", "running", kNaN, 1)});
    QSignalSpy rename(&model, &RunListModel::renameRequested);
    QSignalSpy tags(&model, &RunListModel::tagsRequested);
    const QModelIndex name = model.index(0, RunListModel::Name);
    QVERIFY(model.flags(name) & Qt::ItemIsEditable);
    QVERIFY(model.flags(model.index(0, RunListModel::Tags)) & Qt::ItemIsEditable);
    QVERIFY(!(model.flags(model.index(0, RunListModel::Status)) & Qt::ItemIsEditable));
    QCOMPARE(model.index(0, RunListModel::Status).data().toString(), QStringLiteral("running"));
    QCOMPARE(model.index(0, RunListModel::Status).data(Qt::DecorationRole).value<QColor>(),
             QColor(0x1e, 0x88, 0xe5));  // running: blue

    QVERIFY(model.setData(name, QStringLiteral("  better name ")));
    QCOMPARE(rename.count(), 1);
    QCOMPARE(rename[0][0].toString(), QStringLiteral("a"));
    QCOMPARE(rename[0][1].toString(), QStringLiteral("better name"));
    QCOMPARE(model.rowAt(0).name, QStringLiteral("name of a"));  // storage answers, not us
    QVERIFY(!model.setData(name, QStringLiteral("   ")));
    QVERIFY(!model.setData(name, QStringLiteral("name of a")));
    QCOMPARE(rename.count(), 1);

    QVERIFY(model.setData(model.index(0, RunListModel::Tags), QStringLiteral("x, y,,x ")));
    QCOMPARE(tags.count(), 1);
    QCOMPARE(tags[0][1].toStringList(), (QStringList{"x", "y"}));
    QVERIFY(!model.setData(model.index(0, RunListModel::Steps), 5));
}

void TestRunStore::modelFollowsStore() {
    RunStore store(file(QStringLiteral("model.db")));
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    RunListModel model;
    QAbstractItemModelTester tester(&model,
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    connect(&store, &RunStore::runsChanged, &model,
            [&] { model.setRows(r1::app::toRunRows(store.runs())); });
    connect(&model, &RunListModel::renameRequested, &store, &RunStore::renameRun);
    connect(&model, &RunListModel::tagsRequested, &store, &RunStore::setTags);

    const QString id = store.beginRun(QStringLiteral("first"), {});
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.rowAt(0).status, QStringLiteral("running"));
    QVERIFY(model.setData(model.index(0, RunListModel::Name), QStringLiteral("renamed")));
    QCOMPARE(model.rowAt(0).name, QStringLiteral("renamed"));
    QVERIFY(model.setData(model.index(0, RunListModel::Tags), QStringLiteral("a, b")));
    QCOMPARE(model.rowAt(0).tags, QStringLiteral("a, b"));
    QCOMPARE(store.run(id)->tags, (QStringList{"a", "b"}));
    ev::Finish fin;
    fin.step = 42;
    fin.best_val_loss = 1.25;
    store.append(id, ev::make_event(fin));
    QVERIFY(store.flush());
    QCOMPARE(model.rowAt(0).status, QStringLiteral("completed"));
    QCOMPARE(model.rowAt(0).steps, 42);
    QCOMPARE(model.rowAt(0).best_val, 1.25);
    QVERIFY(store.deleteRun(id));
    QCOMPARE(model.rowCount(), 0);
}

void TestRunStore::ingestionRate_data() {
    QTest::addColumn<bool>("qtBinding");
    QTest::newRow("SQLite C API binding") << false;
    QTest::newRow("QSqlQuery binding") << true;
}

void TestRunStore::ingestionRate() {
    QFETCH(bool, qtBinding);
    qputenv("R1_RUN_STORE_QT_BINDING", qtBinding ? "1" : "0");
    RunStore store(file(QStringLiteral("rate-%1.db").arg(qtBinding)));
    qunsetenv("R1_RUN_STORE_QT_BINDING");
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    QCOMPARE(store.nativeBinding(), !qtBinding);

    auto measure = [&](const char* label, int count, int layers, int experts) {
        const QString id = store.beginRun(QString::fromLatin1(label), {});
        std::vector<ev::Event> events;
        events.reserve(std::size_t(count));
        for (int n = 1; n <= count; ++n) {
            ev::Step s;
            s.step = n;
            s.tokens = qint64(n) * 4096;
            s.loss = 5.0 / std::sqrt(double(n));
            s.loss_main = s.loss * 0.9;
            s.lr = 3e-4;
            s.grad_norm = 1.0;
            s.tokens_per_s = 5e4;
            s.mfu = 0.4;
            s.step_ms = 10.0;
            if (layers > 0) {
                s.expert_load.assign(std::size_t(layers),
                                     std::vector<double>(std::size_t(experts), 1.0 / experts));
            }
            events.push_back(at(1718000000.0 + n * 1e-3, std::move(s)));
        }
        QElapsedTimer timer;
        timer.start();
        for (const auto& e : events) store.append(id, e);
        const qint64 appendNs = timer.nsecsElapsed();
        const bool flushed = store.flush();
        const double seconds = timer.nsecsElapsed() * 1e-9;
        const qint64 rows = qint64(store.metricKeys(id).size()) * count;
        qInfo("ingestion (%s, %s): %d step events, %lld metric rows in %.3f s (append %.3f s): "
              "%.0f events/s, %.0f rows/s",
              store.nativeBinding() ? "C API" : "QSqlQuery", label, count, rows, seconds,
              appendNs * 1e-9, count / seconds, rows / seconds);
        return flushed && int(store.metric(id, QStringLiteral("loss")).size()) == count;
    };
    QVERIFY(measure("dense", 100000, 0, 0));
    QVERIFY(measure("moe-2x8", 50000, 2, 8));
}

QTEST_MAIN(TestRunStore)
#include "test_run_store.moc"
