#include "app/main_window.h"

#include "app/cluster_controller.h"
#include "app/config_bridge.h"
#include "app/engine_runner.h"
#include "app/run_store.h"
#include "app/tfevents.h"
#include "engine/compat/torch_compat.h"
#include "widgets/experiment_form.h"
#include "widgets/metric_chart.h"
#include "widgets/run_list_model.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

namespace r1::app {
namespace {

namespace ev = r1::events;

const QColor kPalette[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e),
                           QColor(0x2c, 0xa0, 0x2c), QColor(0xd6, 0x27, 0x28),
                           QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                           QColor(0xe3, 0x77, 0xc2), QColor(0x17, 0xbe, 0xcf)};

widgets::SeriesPoint pt(double step, double wall, double v) { return {step, wall, v}; }

constexpr double kMibPerGib = 1024.0;

QString levelName(ev::LogLevel l) { return QString::fromLatin1(ev::to_string(l)); }

}  // namespace

MainWindow::MainWindow(RunStore* store, ClusterController* cluster, QWidget* parent)
    : QMainWindow(parent), store_(store), cluster_(cluster) {
  runner_ = new EngineRunner(this);
  connect(runner_, &EngineRunner::eventsArrived, this, &MainWindow::onEvents);
  connect(runner_, &EngineRunner::finished, this, &MainWindow::onFinished);
  buildUi();
  buildMenus();
  refreshHistory();
  QSettings s;
  restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(s.value(QStringLiteral("window/state")).toByteArray());
  split_->restoreState(s.value(QStringLiteral("window/split")).toByteArray());
}

MainWindow::~MainWindow() = default;

void MainWindow::closeEvent(QCloseEvent* e) {
  QSettings s;
  s.setValue(QStringLiteral("window/geometry"), saveGeometry());
  s.setValue(QStringLiteral("window/state"), saveState());
  s.setValue(QStringLiteral("window/split"), split_->saveState());
  if (runner_->isRunning()) {
    runner_->stop();  // the trainer checkpoints at the next step boundary
    runner_->wait();
  }
  store_->flush();
  if (cluster_) cluster_->disconnect(this);  // a rebuilt window takes over the followed job
  e->accept();
}

void MainWindow::buildUi() {
  setWindowTitle(tr("R1 Workbench"));
  auto* split = split_ = new QSplitter(this);

  // Left: target + experiment form + launch / stop.
  auto* left = new QWidget(split);
  auto* lv = new QVBoxLayout(left);
  auto* targetRow = new QHBoxLayout;
  targetRow->addWidget(new QLabel(tr("Target:"), left));
  target_ = new QComboBox(left);
  target_->addItem(tr("Local — CPU"), QStringLiteral("cpu"));
  if (r1::compat::cuda_available()) {
    for (int i = 0; i < static_cast<int>(torch::cuda::device_count()); ++i)
      target_->addItem(tr("Local — CUDA GPU %1").arg(i), QStringLiteral("cuda:%1").arg(i));
  }
  targetRow->addWidget(target_, 1);
  lv->addLayout(targetRow);
  form_ = new widgets::ExperimentForm(left);
  lv->addWidget(form_, 1);
  editor_ = new ExperimentEditor(form_, this);
  QSettings settings;
  const QString last = settings.value(QStringLiteral("experiment/last")).toString();
  QString err;
  if (last.isEmpty() || !editor_->loadToml(last, &err)) {
    r1::Config def = r1::default_config();
    def.train.threads = 1;
    // Runs started from the GUI live beside its history, not wherever it was started from.
    def.run.dir = (QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
                   QStringLiteral("/runs")).toStdString();
    loadIntoForm(def, *form_);
  }
  auto* buttons = new QHBoxLayout;
  auto* launchBtn = new QPushButton(tr("Launch"), left);
  auto* stopBtn = new QPushButton(tr("Stop"), left);
  buttons->addWidget(launchBtn);
  buttons->addWidget(stopBtn);
  lv->addLayout(buttons);

  launch_ = new QAction(tr("&Launch"), this);
  launch_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
  stop_ = new QAction(tr("&Stop"), this);
  stop_->setEnabled(false);
  connect(launch_, &QAction::triggered, this, &MainWindow::launch);
  connect(stop_, &QAction::triggered, this, [this] {
    runner_->stop();
    statusText_->setText(tr("Stopping at the next step…"));
  });
  connect(launchBtn, &QPushButton::clicked, launch_, &QAction::trigger);
  connect(stopBtn, &QPushButton::clicked, stop_, &QAction::trigger);
  connect(launch_, &QAction::changed, launchBtn, [=] { launchBtn->setEnabled(launch_->isEnabled()); });
  connect(stop_, &QAction::changed, stopBtn, [=] { stopBtn->setEnabled(stop_->isEnabled()); });
  stopBtn->setEnabled(false);
  connect(editor_, &ExperimentEditor::validityChanged, this,
          [this](bool ok) { launch_->setEnabled(ok && !runner_->isRunning()); });

  // Right: charts, logs, history.
  tabs_ = new QTabWidget(split);
  tabs_->addTab(buildChartsPage(), tr("Charts"));
  tabs_->addTab(buildLogsPage(), tr("Logs"));
  tabs_->addTab(buildHistoryPage(), tr("History"));
  if (cluster_) tabs_->addTab(buildClusterPage(), tr("Cluster"));
  tabs_->addTab(buildReviewPage(), tr("Review"));
  split->addWidget(left);
  split->addWidget(tabs_);
  // The form keeps room for its fields (below ~40 characters they were cut to "def", "/tm":
  // the splitter gave all the window's growth to the tabs), and cannot be collapsed away.
  left->setMinimumWidth(left->fontMetrics().averageCharWidth() * 40);
  split->setCollapsible(0, false);
  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 1);
  split->setSizes({380, 1100});
  setCentralWidget(split);

  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(260);
  progress_->setTextVisible(true);
  statusText_ = new QLabel(tr("Ready"), this);
  statusBar()->addWidget(statusText_, 1);
  statusBar()->addPermanentWidget(progress_);
  resize(1480, 900);
}

QWidget* MainWindow::buildChartsPage() {
  auto* page = new QWidget;
  auto* grid = new QGridLayout(page);
  const std::pair<const char*, QString> defs[] = {
      {"loss", tr("Loss (train, validation)")}, {"lr", tr("Learning rate")},
      {"tokens_per_s", tr("Tokens / s")},      {"grad_norm", tr("Gradient norm")},
      {"expert_load", tr("Expert load (max / mean per MoE layer)")},
      {"mfu", tr("MFU")},                        {"loss_scale", tr("Loss scale")},
      {"gpu_util", tr("GPU utilization (%)")},   {"gpu_mem", tr("GPU memory (MB)")},
      {"gpu_temp", tr("GPU temperature (°C)")},  {"gpu_power", tr("GPU power (W)")},
      {"gpu_clock", tr("GPU SM clock (MHz)")},   {"cpu_util", tr("CPU utilization (%)")},
      {"ram", tr("RAM used (GiB)")}};
  int i = 0;
  for (const auto& [key, title] : defs) {
    auto* c = new widgets::MetricChart(title, page);
    c->setMinimumSize(320, 240);
    // Charts that only some runs have (MFU on GPUs, fp16 loss scale, MoE, GPU and host
    // telemetry) show up with their first point.
    const QString k = QString::fromLatin1(key);
    if (k != QLatin1String("loss") && k != QLatin1String("lr") &&
        k != QLatin1String("tokens_per_s") && k != QLatin1String("grad_norm"))
      c->hide();
    charts_.insert(QString::fromLatin1(key), c);
    grid->addWidget(c, i / 2, i % 2);
    ++i;
  }
  auto* scroll = new QScrollArea;
  scroll->setWidgetResizable(true);
  scroll->setWidget(page);
  return scroll;
}

QWidget* MainWindow::buildLogsPage() {
  auto* page = new QWidget;
  auto* v = new QVBoxLayout(page);
  auto* row = new QHBoxLayout;
  logLevel_ = new QComboBox(page);
  logLevel_->addItem(tr("All levels"), QString());
  logLevel_->addItem(tr("Info and above"), QStringLiteral("info"));
  logLevel_->addItem(tr("Warnings and errors"), QStringLiteral("warn"));
  logLevel_->addItem(tr("Errors"), QStringLiteral("error"));
  logSearch_ = new QLineEdit(page);
  logSearch_->setPlaceholderText(tr("Search logs"));
  auto* copy = new QPushButton(tr("Copy"), page);
  row->addWidget(logLevel_);
  row->addWidget(logSearch_, 1);
  row->addWidget(copy);
  v->addLayout(row);
  logView_ = new QPlainTextEdit(page);
  logView_->setReadOnly(true);
  logView_->setMaximumBlockCount(100000);
  v->addWidget(logView_, 1);
  connect(logLevel_, &QComboBox::currentIndexChanged, this, &MainWindow::refreshLogs);
  connect(logSearch_, &QLineEdit::textChanged, this, &MainWindow::refreshLogs);
  connect(copy, &QPushButton::clicked, this,
          [this] { QApplication::clipboard()->setText(logView_->toPlainText()); });
  return page;
}

QWidget* MainWindow::buildHistoryPage() {
  auto* page = new QWidget;
  auto* v = new QVBoxLayout(page);
  runModel_ = new widgets::RunListModel(page);
  auto* proxy = new QSortFilterProxyModel(page);
  proxy->setSourceModel(runModel_);
  history_ = new QTableView(page);
  history_->setModel(proxy);
  history_->setSortingEnabled(true);
  history_->setSelectionBehavior(QAbstractItemView::SelectRows);
  history_->horizontalHeader()->setStretchLastSection(true);
  history_->verticalHeader()->hide();
  v->addWidget(history_, 1);
  auto* row = new QHBoxLayout;
  auto* open = new QPushButton(tr("Show / compare selected"), page);
  auto* csv = new QPushButton(tr("Export CSV…"), page);
  auto* tfe = new QPushButton(tr("Export TensorBoard…"), page);
  auto* del = new QPushButton(tr("Delete"), page);
  row->addWidget(open);
  row->addWidget(csv);
  row->addWidget(tfe);
  row->addStretch(1);
  row->addWidget(del);
  v->addLayout(row);
  connect(open, &QPushButton::clicked, this, [this] {
    showRun(selectedRunIds());
    tabs_->setCurrentIndex(0);
  });
  connect(history_, &QTableView::doubleClicked, this, [this] {
    showRun(selectedRunIds());
    tabs_->setCurrentIndex(0);
  });
  connect(csv, &QPushButton::clicked, this, &MainWindow::exportSelectedCsv);
  connect(tfe, &QPushButton::clicked, this, [this] {
    const QStringList ids = selectedRunIds();
    if (ids.isEmpty()) return;
    const QString dir = QFileDialog::getExistingDirectory(this, tr("TensorBoard log folder"));
    if (dir.isEmpty()) return;
    store_->flush();
    for (const auto& id : ids) {
      QString path, err;  // one subfolder per run, as tensorboard --logdir expects
      if (!exportTfEvents(*store_, id, dir + QLatin1Char('/') + id, &path, &err)) {
        QMessageBox::warning(this, tr("Export failed"), err);
        return;
      }
    }
    statusText_->setText(tr("Exported %n run(s) to %1", nullptr, int(ids.size())).arg(dir));
  });
  connect(del, &QPushButton::clicked, this, &MainWindow::deleteSelected);
  connect(runModel_, &widgets::RunListModel::renameRequested, this,
          [this](const QString& id, const QString& name) { store_->renameRun(id, name); });
  connect(runModel_, &widgets::RunListModel::tagsRequested, this,
          [this](const QString& id, const QStringList& tags) { store_->setTags(id, tags); });
  connect(store_, &RunStore::runsChanged, this, &MainWindow::refreshHistory);
  return page;
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open experiment…"), QKeySequence::Open, this,
                  &MainWindow::openExperiment);
  file->addAction(tr("&Save experiment as…"), QKeySequence::Save, this,
                  &MainWindow::saveExperiment);
  file->addAction(tr("Export charts as PNG…"), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Export charts as PNG"));
    if (dir.isEmpty()) return;
    QStringList failed;
    for (auto it = charts_.cbegin(); it != charts_.cend(); ++it)
      if (!it.value()->isHidden() && !it.value()->savePng(dir + QLatin1Char('/') + it.key() +
                                                           QStringLiteral(".png")))
        failed << it.key();
    if (!failed.isEmpty())
      QMessageBox::warning(this, tr("Export failed"),
                           tr("Cannot write: %1").arg(failed.join(QStringLiteral(", "))));
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
  auto* run = menuBar()->addMenu(tr("&Run"));
  run->addAction(launch_);
  run->addAction(stop_);
  auto* lang = menuBar()->addMenu(tr("&Language"));
  lang->addAction(QStringLiteral("English"), this,
                  [this] { Q_EMIT languageRequested(QStringLiteral("en")); });
  lang->addAction(QStringLiteral("简体中文"), this,
                  [this] { Q_EMIT languageRequested(QStringLiteral("zh_CN")); });
}

void MainWindow::launch() {
  if (runner_->isRunning()) return;
  FormResult r = readForm(*form_);
  if (!r.ok()) {
    statusText_->setText(tr("Fix the highlighted fields first."));
    return;
  }
  r1::Config cfg = r.config;
  cfg.train.device = target_->currentData().toString().toStdString();
  const QString runId = store_->beginRun(QString::fromStdString(cfg.run.name),
                                         QString::fromStdString(cfg.run.dir));
  if (runId.isEmpty()) {
    QMessageBox::warning(this, tr("Cannot launch"), store_->errorString());
    return;
  }
  cfg.run.name = runId.toStdString();  // a fresh folder per run: nothing is overwritten
  followRun(runId, cfg.train.steps);
  launch_->setEnabled(false);
  stop_->setEnabled(true);
  statusText_->setText(tr("Starting %1…").arg(runId));
  runner_->start(cfg);
}

void MainWindow::followRun(const QString& runId, int64_t totalSteps) {
  liveRun_ = runId;
  liveStep_ = 0;
  totalSteps_ = totalSteps;
  const auto info = store_->run(runId);
  runStartWall_ = info ? info->started : QDateTime::currentMSecsSinceEpoch() / 1000.0;
  for (auto* c : std::as_const(charts_)) c->clear();
  shownRuns_ = {runId};
  logView_->clear();
  colorIndex_ = 0;
  progress_->setRange(0, static_cast<int>(std::min<int64_t>(totalSteps_, INT32_MAX)));
  progress_->setValue(0);
}

void MainWindow::onEvents(const QVector<r1::events::Event>& events) {
  if (liveRun_.isEmpty()) return;
  store_->append(liveRun_, events);  // hands the batch to the store's writer thread
  // One append per chart series and one status update per batch, not per event.
  LiveBatch batch;
  const ev::Step* last = nullptr;
  for (const auto& e : events) {
    plotEvent(liveRun_, e, batch);
    if (const auto n = progressStep(e)) liveStep_ = std::max(liveStep_, *n);
    if (auto* s = std::get_if<ev::Step>(&e.payload)) last = s;
    if (auto* l = std::get_if<ev::Log>(&e.payload))
      logView_->appendPlainText(QStringLiteral("[%1] %2").arg(levelName(l->level),
                                                              QString::fromStdString(l->text)));
    if (auto* er = std::get_if<ev::Error>(&e.payload))
      logView_->appendPlainText(QStringLiteral("[error] %1 (%2)").arg(
          QString::fromStdString(er->message), QString::fromStdString(er->cause)));
  }
  for (const LiveSeries& s : batch) {
    auto* chart = charts_.value(QString::fromLatin1(s.chart));
    if (!chart) continue;
    if (chart->isHidden()) chart->show();
    chart->setRun(s.series, s.label, s.color);
    chart->setRunStart(s.series, runStartWall_);
    chart->appendPoints(s.series, s.points);
  }
  if (last) updateStatus(*last);
}

void MainWindow::updateStatus(const r1::events::Step& s) {
  progress_->setValue(static_cast<int>(std::min<int64_t>(s.step, INT32_MAX)));
  const double el = QDateTime::currentMSecsSinceEpoch() / 1000.0 - runStartWall_;
  const double eta = s.step > 0 ? el / double(s.step) * double(totalSteps_ - s.step) : 0;
  statusText_->setText(tr("%1 · step %2 / %3 · loss %4 · %5 tokens/s · ETA %6:%7")
                           .arg(liveRun_)
                           .arg(s.step)
                           .arg(totalSteps_)
                           .arg(s.loss, 0, 'f', 4)
                           .arg(s.tokens_per_s, 0, 'f', 0)
                           .arg(int(eta) / 60)
                           .arg(int(eta) % 60, 2, 10, QLatin1Char('0')));
}

void MainWindow::plotEvent(const QString& runId, const r1::events::Event& e, LiveBatch& batch) {
  const QColor color = kPalette[colorIndex_ % 8];
  const double wall = e.header.time;
  // label() is called once per series and batch, not per event.
  auto add = [&](const char* key, const QString& series, const auto& label, double step,
                 double v, const QColor& c) {
    if (!std::isfinite(v)) return;
    auto it = std::find_if(batch.begin(), batch.end(), [&](const LiveSeries& s) {
      return qstrcmp(s.chart, key) == 0 && s.series == series;
    });
    if (it == batch.end()) it = batch.insert(batch.end(), LiveSeries{key, series, label(), c, {}});
    it->points.push_back(pt(step, wall, v));
  };
  auto plain = [&] { return runId; };
  if (auto* s = std::get_if<ev::Step>(&e.payload)) {
    const double st = static_cast<double>(s->step);
    add("loss", runId, [&] { return tr("%1 train").arg(runId); }, st, s->loss, color);
    add("lr", runId, plain, st, s->lr, color);
    add("tokens_per_s", runId, plain, st, s->tokens_per_s, color);
    add("grad_norm", runId, plain, st, s->grad_norm, color);
    if (s->mfu) add("mfu", runId, plain, st, *s->mfu, color);
    if (s->loss_scale) add("loss_scale", runId, plain, st, *s->loss_scale, color);
    for (size_t l = 0; l < s->expert_load.size(); ++l) {
      const auto& load = s->expert_load[l];
      if (load.empty()) continue;
      double mx = 0, sum = 0;
      for (double x : load) {
        mx = std::max(mx, x);
        sum += x;
      }
      const double mean = sum / static_cast<double>(load.size());
      if (mean > 0)
        add("expert_load", runId + QStringLiteral("/L%1").arg(l),
            [&] { return tr("%1 layer %2").arg(runId).arg(l); }, st, mx / mean,
            kPalette[(colorIndex_ + l) % 8]);
    }
  } else if (auto* v = std::get_if<ev::Eval>(&e.payload)) {
    add("loss", runId + QStringLiteral("/val"), [&] { return tr("%1 validation").arg(runId); },
        static_cast<double>(v->step), v->loss, color.darker(150));
  } else if (auto* g = std::get_if<ev::Gpu>(&e.payload)) {
    // Filed, like the store files it, under the last training step reported before it.
    const QString gpu = QStringLiteral("gpu%1").arg(std::max(0, g->device));
    const QString series = runId + QLatin1Char('/') + gpu;
    auto label = [&] { return runId + QLatin1Char(' ') + gpu; };
    const double step = static_cast<double>(liveStep_);
    if (g->util) add("gpu_util", series, label, step, *g->util, color);
    if (g->mem_used_mb) add("gpu_mem", series, label, step, *g->mem_used_mb, color);
    if (g->temp_c) add("gpu_temp", series, label, step, *g->temp_c, color);
    if (g->power_w) add("gpu_power", series, label, step, *g->power_w, color);
    if (g->sm_clock_mhz) add("gpu_clock", series, label, step, *g->sm_clock_mhz, color);
  } else if (auto* h = std::get_if<ev::Host>(&e.payload)) {
    // CPU and RAM of the machine, filed like GPU samples. The process's own resident memory
    // (rss_mb) is in the store and its exports, not charted: a second series per run would
    // crowd the chart's readout.
    const double step = static_cast<double>(liveStep_);
    const QString host = runId + QStringLiteral("/host");
    if (h->cpu_util) add("cpu_util", host, plain, step, *h->cpu_util, color);
    if (h->ram_used_mb) add("ram", host, plain, step, *h->ram_used_mb / kMibPerGib, color);
  }
}

void MainWindow::onFinished(int status) {
  store_->flush();
  launch_->setEnabled(!form_->hasErrors());
  stop_->setEnabled(false);
  static const char* const names[] = {QT_TR_NOOP("completed"), QT_TR_NOOP("stopped"),
                                      QT_TR_NOOP("failed")};
  statusText_->setText(tr("%1 %2").arg(liveRun_, tr(names[std::clamp(status, 0, 2)])));
  refreshHistory();
}

void MainWindow::refreshHistory() {
  const auto rows = toRunRows(store_->runs());
  runModel_->setRows(rows);
}

void MainWindow::showRun(const QStringList& ids) {
  if (ids.isEmpty()) return;
  store_->flush();  // a run still being written shows everything it has sent so far
  for (auto* c : std::as_const(charts_)) c->clear();
  shownRuns_ = ids;
  colorIndex_ = 0;
  for (const QString& id : ids) {
    const QColor color = kPalette[colorIndex_ % 8];
    const auto info = store_->run(id);
    const double start = info ? info->started : std::nan("");
    auto load = [&](const char* chartKey, const QString& metricKey, const QString& series,
                    const QString& label, const QColor& c, double scale = 1.0) {
      auto rows = store_->metric(id, metricKey);
      if (rows.empty()) return;
      std::vector<widgets::SeriesPoint> pts;
      pts.reserve(rows.size());
      for (const auto& m : rows) pts.push_back(pt(double(m.step), m.wall, m.value * scale));
      auto* chart = charts_.value(QString::fromLatin1(chartKey));
      if (chart->isHidden()) chart->show();
      chart->setRun(series, label, c);
      chart->setRunStart(series, start);
      chart->appendPoints(series, pts);
    };
    load("loss", QStringLiteral("loss"), id, tr("%1 train").arg(id), color);
    load("loss", QStringLiteral("val_loss"), id + QStringLiteral("/val"),
         tr("%1 validation").arg(id), color.darker(150));
    load("lr", QStringLiteral("lr"), id, id, color);
    load("tokens_per_s", QStringLiteral("tokens_per_s"), id, id, color);
    load("grad_norm", QStringLiteral("grad_norm"), id, id, color);
    load("mfu", QStringLiteral("mfu"), id, id, color);
    load("loss_scale", QStringLiteral("loss_scale"), id, id, color);
    for (const QString& key : store_->metricKeys(id)) {  // gpu<N>/util, gpu<N>/temp_c, ...
      if (!key.startsWith(QLatin1String("gpu"))) continue;
      const QString gpu = key.section(QLatin1Char('/'), 0, 0), what = key.section(QLatin1Char('/'), 1);
      const char* chart = what == QLatin1String("util")          ? "gpu_util"
                          : what == QLatin1String("mem_used_mb") ? "gpu_mem"
                          : what == QLatin1String("temp_c")      ? "gpu_temp"
                          : what == QLatin1String("power_w")     ? "gpu_power"
                          : what == QLatin1String("sm_clock_mhz") ? "gpu_clock"
                                                                 : nullptr;
      if (chart) load(chart, key, id + QLatin1Char('/') + gpu, id + QLatin1Char(' ') + gpu, color);
    }
    load("cpu_util", QStringLiteral("host/cpu_util"), id + QStringLiteral("/host"), id, color);
    load("ram", QStringLiteral("host/ram_used_mb"), id + QStringLiteral("/host"), id, color,
         1.0 / kMibPerGib);
    ++colorIndex_;
  }
  refreshLogs();
}

void MainWindow::refreshLogs() {
  if (runner_->isRunning() || shownRuns_.isEmpty()) return;
  logView_->clear();
  for (const auto& id : std::as_const(shownRuns_)) {
    for (const auto& l : store_->logs(id, logLevel_->currentData().toString(), logSearch_->text()))
      logView_->appendPlainText(QStringLiteral("%1 [%2] %3").arg(
          QDateTime::fromMSecsSinceEpoch(qint64(l.wall * 1000)).toString(Qt::ISODate), l.level,
          l.text));
  }
}

QStringList MainWindow::selectedRunIds() const {
  QStringList ids;
  for (const auto& idx : history_->selectionModel()->selectedRows())
    ids << idx.data(Qt::UserRole).toString();
  return ids;
}

void MainWindow::exportSelectedCsv() {
  const QStringList ids = selectedRunIds();
  if (ids.isEmpty()) return;
  const QString path = QFileDialog::getSaveFileName(this, tr("Export metrics"),
                                                    ids.first() + QStringLiteral(".csv"),
                                                    tr("CSV files (*.csv)"));
  if (path.isEmpty()) return;
  QString err;
  if (!store_->exportCsv(ids.first(), path, &err))
    QMessageBox::warning(this, tr("Export failed"), err);
}

void MainWindow::deleteSelected() {
  const QStringList ids = selectedRunIds();
  if (ids.isEmpty()) return;
  if (ids.contains(liveRun_) && runner_->isRunning()) return;
  if (QMessageBox::question(this, tr("Delete runs"),
                            tr("Delete %n run(s) from the history? Their folders on disk stay.",
                               nullptr, int(ids.size()))) != QMessageBox::Yes)
    return;
  for (const auto& id : ids) store_->deleteRun(id);
}

void MainWindow::saveExperiment() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Save experiment"), QString(),
                                                    tr("Experiments (*.toml)"));
  if (path.isEmpty()) return;
  QString err;
  if (!editor_->saveToml(path, &err)) QMessageBox::warning(this, tr("Save failed"), err);
  else QSettings().setValue(QStringLiteral("experiment/last"), path);
}

void MainWindow::openExperiment() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open experiment"), QString(),
                                                    tr("Experiments (*.toml)"));
  if (path.isEmpty()) return;
  QString err;
  if (!editor_->loadToml(path, &err)) QMessageBox::warning(this, tr("Cannot open"), err);
  else QSettings().setValue(QStringLiteral("experiment/last"), path);
}

}  // namespace r1::app
