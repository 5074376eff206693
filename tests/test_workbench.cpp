// End to end through the GUI: launch an r1-nano run on Local, watch points arrive on the loss
// chart, stop it, find it in the history of a re-created window over the same store; and a
// screenshot of the window during a run, in English and in Chinese.
#include "app/engine_runner.h"
#include "app/language.h"
#include "app/main_window.h"
#include "app/run_store.h"
#include "widgets/experiment_form.h"
#include "widgets/metric_chart.h"
#include "widgets/run_list_model.h"

#include <QtTest/QtTest>

#include <QApplication>
#include <QGraphicsTextItem>
#include <QGraphicsView>
#include <QTranslator>

#include <clocale>
#include <cmath>

namespace {

QString tmp() {
  QDir().mkpath(QStringLiteral(R1_TEST_TMP));
  return QStringLiteral(R1_TEST_TMP);
}

void writeCorpus(const QString& path) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  for (int i = 0; i < 200; ++i)
    f.write(QStringLiteral("%1: the latent attention routes every token. 春眠不觉晓，处处闻啼鸟。\n")
                .arg(i % 13).toUtf8());
}

void setupExperiment(r1::widgets::ExperimentForm* form, const QString& dir, int steps) {
  form->setValue(QStringLiteral("data.paths"), dir + QStringLiteral("/corpus.txt"));
  form->setValue(QStringLiteral("data.cache_dir"), dir + QStringLiteral("/cache"));
  form->setValue(QStringLiteral("run.dir"), dir + QStringLiteral("/runs"));
  form->setValue(QStringLiteral("run.name"), QStringLiteral("gui"));
  form->setValue(QStringLiteral("model.vocab_size"), 300);
  form->setValue(QStringLiteral("data.seq_len"), 32);
  form->setValue(QStringLiteral("train.steps"), steps);
  form->setValue(QStringLiteral("train.threads"), 1);
  form->setValue(QStringLiteral("eval.every"), 20);
  form->setValue(QStringLiteral("eval.batches"), 2);
}

}  // namespace

class TestWorkbench final : public QObject {
  Q_OBJECT
  QTemporaryDir dir_{tmp() + QStringLiteral("/wbXXXXXX")};

 private Q_SLOTS:
  void initTestCase() {
    std::setlocale(LC_NUMERIC, "C");
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    writeCorpus(dir_.filePath(QStringLiteral("corpus.txt")));
  }

  void launchWatchStopReopen() {
    const QString db = dir_.filePath(QStringLiteral("runs.sqlite"));
    QString runId;
    {
      r1::app::RunStore store(db);
      QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
      auto* w = new r1::app::MainWindow(&store);
      w->resize(1400, 880);
      w->show();
      setupExperiment(w->form(), dir_.path(), 100000);
      QSignalSpy finished(w->runner(), &r1::app::EngineRunner::finished);
      QVERIFY(w->launchAction()->isEnabled());
      w->launchAction()->trigger();
      QVERIFY(w->runner()->isRunning());
      QVERIFY(!w->launchAction()->isEnabled());
      runId = w->currentRunId();
      // Points arrive on the loss chart while the GUI thread stays free.
      QTRY_VERIFY_WITH_TIMEOUT(w->chart(QStringLiteral("loss"))->visiblePointCount() >= 30, 120000);
      QTRY_VERIFY_WITH_TIMEOUT(w->chart(QStringLiteral("loss"))->visiblePointCount() >= 60, 120000);
      QTest::qWait(300);
      QVERIFY(w->grab().save(tmp() + QStringLiteral("/workbench_en.png")));
      w->stopAction()->trigger();
      QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
      QCOMPARE(finished.at(0).at(0).toInt(), int(r1::events::FinishStatus::Stopped));
      QVERIFY(w->launchAction()->isEnabled());
      w->close();
      delete w;
      // The stop wrote a checkpoint into the run's own folder.
      QDir ck(dir_.filePath(QStringLiteral("runs/") + runId + QStringLiteral("/checkpoints")));
      QVERIFY(!ck.entryList({QStringLiteral("*.r1ckpt")}, QDir::Files).isEmpty());
    }
    // A new store and a new window over the same file: the run is in the history.
    r1::app::RunStore store(db);
    QVERIFY(store.isOpen());
    QCOMPARE(store.interruptedOnOpen(), 0);
    r1::app::MainWindow w(&store);
    auto* model = w.runModel();
    QCOMPARE(model->rowCount(), 1);
    auto row = model->rowAt(0);
    QCOMPARE(row.id, runId);
    QCOMPARE(row.status, QStringLiteral("stopped"));
    QVERIFY(row.steps > 0);
    w.resize(1400, 880);
    w.show();
    QVERIFY(store.metric(runId, QStringLiteral("loss")).size() >= 60);
    w.showRun({runId});
    QTRY_VERIFY(w.chart(QStringLiteral("loss"))->visiblePointCount() > 0);
  }

  // GPU samples come about once a second, not once a step: live and reopened from the store,
  // the GPU charts show every sample at the same place on each x axis (step reached when it was
  // taken, time since the run's start, wall time).
  void gpuChartsSameLiveAndReopened() {
    r1::app::RunStore store(dir_.filePath(QStringLiteral("gpu.sqlite")));
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    r1::app::MainWindow w(&store);
    w.resize(1400, 880);
    w.show();
    const QString id = store.beginRun(QStringLiteral("gpu"), {});
    const double t0 = store.run(id)->started;
    w.followRun(id, 10);
    auto at = [&](double dt, r1::events::Payload p) {
      r1::events::Event e;
      e.header.time = t0 + dt;
      e.payload = std::move(p);
      return e;
    };
    auto gpu = [&](double dt, double util) {
      r1::events::Gpu g;
      g.util = util;
      g.power_w = 3 * util;
      return at(dt, g);
    };
    auto step = [&](double dt, int n) {
      r1::events::Step s;
      s.step = n;
      s.loss = 3.0 / n;
      return at(dt, s);
    };
    // Two deliveries, as EngineRunner batches them: a sample before the first step, two in step
    // 1, one after step 2.
    Q_EMIT w.runner()->eventsArrived({gpu(0.5, 10), step(1.0, 1), gpu(1.5, 80)});
    Q_EMIT w.runner()->eventsArrived({gpu(1.7, 85), step(2.0, 2), gpu(2.5, 90)});

    auto* util = w.chart(QStringLiteral("gpu_util"));
    const QString series = id + QStringLiteral("/gpu0");
    using XAxis = r1::widgets::MetricChart::XAxis;
    auto ranges = [&] {
      QList<QPair<double, double>> out;
      for (XAxis axis : {XAxis::Step, XAxis::RelativeTime, XAxis::WallTime}) {
        util->setXAxis(axis);
        util->flush();
        out << util->xRange();
      }
      util->setXAxis(XAxis::Step);
      return out;
    };
    QTRY_VERIFY(util->isVisible());
    QCOMPARE(util->pointCount(series), qsizetype(4));
    const auto live = ranges();
    QCOMPARE(live[0], qMakePair(0.0, 2.0));
    QCOMPARE(live[1], qMakePair(0.5, 2.5));
    QCOMPARE(live[2], qMakePair((t0 + 0.5) * 1000.0, (t0 + 2.5) * 1000.0));

    w.showRun({id});  // flushes the store, then reads the run back
    QCOMPARE(util->pointCount(series), qsizetype(4));
    QCOMPARE(ranges(), live);
    QCOMPARE(w.chart(QStringLiteral("gpu_power"))->pointCount(series), qsizetype(4));
  }

  // A node without NVML reports host samples (CPU and RAM) instead: the CPU and RAM charts show
  // them live and again when the run is reopened from the store; no GPU chart appears.
  void hostChartsLiveAndReopened() {
    r1::app::RunStore store(dir_.filePath(QStringLiteral("host.sqlite")));
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    r1::app::MainWindow w(&store);
    w.resize(1400, 880);
    w.show();
    const QString id = store.beginRun(QStringLiteral("cpu"), {});
    const double t0 = store.run(id)->started;
    w.followRun(id, 40);
    auto at = [&](double dt, r1::events::Payload p) {
      r1::events::Event e;
      e.header.time = t0 + dt;
      e.payload = std::move(p);
      return e;
    };
    QVector<r1::events::Event> events;
    for (int i = 1; i <= 40; ++i) {
      r1::events::Step s;
      s.step = i;
      s.loss = 5.5 * std::exp(-i / 15.0) + 1.0;
      s.lr = 1e-3 * std::min(1.0, i / 10.0);
      s.grad_norm = 2.0 / std::sqrt(double(i));
      s.tokens_per_s = 5200 + 300 * std::sin(i / 3.0);
      events << at(i - 0.1, s);
      r1::events::Host h;
      if (i > 1) h.cpu_util = 78 + 14 * std::sin(i / 2.5);  // none on a sampler's first call
      h.ram_used_mb = 9000 + 150.0 * i;
      h.ram_total_mb = 31900;
      h.rss_mb = 1400 + 40.0 * i;
      h.cpus = 8;
      events << at(i + 0.4, h);
    }
    Q_EMIT w.runner()->eventsArrived(events.mid(0, 40));  // two deliveries, as EngineRunner does
    Q_EMIT w.runner()->eventsArrived(events.mid(40));

    auto* cpu = w.chart(QStringLiteral("cpu_util"));
    auto* ram = w.chart(QStringLiteral("ram"));
    QTRY_VERIFY(cpu->isVisible() && ram->isVisible());
    QVERIFY(!w.chart(QStringLiteral("gpu_util"))->isVisible());
    QVERIFY(!w.chart(QStringLiteral("gpu_mem"))->isVisible());
    QCOMPARE(cpu->title(), QStringLiteral("CPU utilization (%)"));
    QCOMPARE(ram->title(), QStringLiteral("RAM used (GiB)"));
    const QString host = id + QStringLiteral("/host");
    QCOMPARE(cpu->pointCount(host), qsizetype(39));
    QCOMPARE(ram->pointCount(host), qsizetype(40));
    QCOMPARE(ram->runIds(), QStringList{host});
    ram->flush();
    // RAM in GiB: 9150 MiB .. 15000 MiB of the machine.
    QVERIFY(ram->yRange().first <= 9150 / 1024.0 && ram->yRange().second >= 15000 / 1024.0);
    QVERIFY(ram->yRange().first > 5.0 && ram->yRange().second < 20.0);
    QVERIFY(ram->readoutText().contains(QStringLiteral("14.648")));  // 15000 / 1024
    const QString liveReadout = ram->readoutText();
    QTest::qWait(300);
    QVERIFY(w.grab().save(tmp() + QStringLiteral("/workbench_host.png")));
    QVERIFY(cpu->savePng(tmp() + QStringLiteral("/workbench_host_cpu.png")));

    w.showRun({id});  // flushes the store, then reads the run back
    QCOMPARE(cpu->pointCount(host), qsizetype(39));
    QCOMPARE(ram->pointCount(host), qsizetype(40));
    QVERIFY(!w.chart(QStringLiteral("gpu_util"))->isVisible());
    ram->flush();
    QCOMPARE(ram->readoutText(), liveReadout);
    QVERIFY(cpu->isVisible() && ram->isVisible());
  }

  void chineseScreenshotDuringRun() {
    QVERIFY(r1::app::installLanguage(QStringLiteral("zh_CN")));
    r1::app::RunStore store(dir_.filePath(QStringLiteral("zh.sqlite")));
    r1::app::MainWindow w(&store);
    w.resize(1400, 880);
    w.show();
    QCOMPARE(w.windowTitle(), QStringLiteral("R1 工作台"));
    // The config form's labels and help come from the second catalogue.
    QCOMPARE(QCoreApplication::translate("ConfigBridge", "Hidden size"), QStringLiteral("隐藏层维度"));
    QCOMPARE(QCoreApplication::translate("ConfigHelp", "Optimizer steps"), QStringLiteral("优化器步数"));
    setupExperiment(w.form(), dir_.path(), 100000);
    QSignalSpy finished(w.runner(), &r1::app::EngineRunner::finished);
    w.launchAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(w.chart(QStringLiteral("loss"))->visiblePointCount() >= 60, 120000);
    QTest::qWait(300);
    QVERIFY(w.grab().save(tmp() + QStringLiteral("/workbench_zh_CN.png")));
    // Every vertical axis title reads in full: Qt Charts cut "数值" to "⋮" beside one-digit
    // labels (loss "0", "5"; gradient norm "2").
    for (const char* key : {"loss", "lr", "tokens_per_s", "grad_norm"}) {
      int titles = 0;
      for (auto* view : w.chart(QString::fromLatin1(key))->findChildren<QGraphicsView*>())
        for (QGraphicsItem* item : view->scene()->items()) {
          auto* text = dynamic_cast<QGraphicsTextItem*>(item);
          if (!text || !text->isVisible() || text->rotation() != 270.0) continue;
          ++titles;
          QVERIFY2(text->toPlainText() == QStringLiteral("数值"),
                   qPrintable(QString::fromLatin1(key) + ": y axis title '" +
                              text->toPlainText() + "'"));
        }
      QVERIFY2(titles >= 1, key);
    }
    w.stopAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    r1::app::installLanguage(QStringLiteral("en"));
  }
};

QTEST_MAIN(TestWorkbench)
#include "test_workbench.moc"
