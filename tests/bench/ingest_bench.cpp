// ingest_bench: how late the workbench's GUI thread gets while a run streams 50,000 step
// events/s, with the run store writing on the GUI thread (before: a 250 ms timer there) and on
// its writer thread (after), in one run.
//
//   QT_QPA_PLATFORM=offscreen ./ingest_bench [--rate 50000] [--seconds 10]
//       [--only before|after]
//
// Each side gets a fresh store in a temporary folder and a real MainWindow (1400x880, shown)
// that follows a run begun in that store. A producer thread makes the engine's Step events
// (the dense r1-nano fields: 9 metric rows each) and one GPU sample a second, and hands them to
// the GUI thread the way EngineRunner does: a queue, one delivery per 50 ms window, emitted as
// EngineRunner::eventsArrived, which MainWindow stores and plots. A 5 ms probe timer on the GUI
// thread records how late it fires: p50 / p99 / max of that lateness.
// After --seconds: events made, step events committed by then (counted in the database through
// a connection of its own), the backlog that flush() then drains and how long that takes; all
// step events must be in the database at the end.
#include "app/engine_runner.h"
#include "app/main_window.h"
#include "app/run_store.h"
#include "engine/events/event.h"
#include "widgets/metric_chart.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <clocale>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace {

namespace ev = r1::events;
using r1::app::MainWindow;
using r1::app::RunStore;

struct Options {
    int rate = 50000;
    double seconds = 10.0;
    QString only;  // "before" or "after": one side
};

struct Result {
    qint64 made = 0;         // step events the producer made
    double windowS = 0;      // until the GUI thread heard that the producer was done
    qint64 plotted = 0;      // points on the loss chart at the end
    qint64 committed = 0;    // step events in the database at the end of the window
    double drainMs = 0;      // delivering the last batch and flush() after the window
    qint64 stored = 0;       // step events in the database after it
    std::vector<double> latenessMs;
    double guiCpuS = 0;      // CPU time of the GUI thread during the window
    double processCpuS = 0;  // of the whole process (GUI, producer, writer)
};

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    const double pos = q * double(v.size() - 1);
    const size_t i = size_t(pos);
    const double f = pos - double(i);
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

double cpuSeconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return double(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

qint64 committedSteps(const QString& path, const QString& runId) {
    const QString name = QStringLiteral("ingest_bench_count");
    qint64 n = -1;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=5000"));
        if (db.open()) {
            QSqlQuery q(db);
            q.prepare(QStringLiteral(
                "SELECT count(*) FROM metrics WHERE run_id = ? AND key = 'loss'"));
            q.addBindValue(runId);
            if (q.exec() && q.next()) n = q.value(0).toLongLong();
        }
        if (n < 0) {
            std::fprintf(stderr, "cannot count rows: %s\n", qPrintable(db.lastError().text()));
        }
    }
    QSqlDatabase::removeDatabase(name);
    return n;
}

// Makes events at o.rate/s on its own thread and delivers them to the window as EngineRunner
// does (EngineRunner::post / deliver): queued under a mutex, one delivery per 50 ms window.
class Producer {
public:
    Producer(MainWindow& window, const Options& o) : window_(window), o_(o) {}
    ~Producer() { stop(); }

    // Makes events for o.seconds, then calls done() on the GUI thread.
    void start(std::function<void()> done) {
        done_ = std::move(done);
        thread_ = std::thread([this] { run(); });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    qint64 made() const { return made_; }
    // Hands over what is still queued (after stop()).
    void deliverRest() { deliver(); }

private:
    void run() {
        using Clock = std::chrono::steady_clock;
        const auto t0 = Clock::now();
        const qint64 total = qint64(o_.rate * o_.seconds);
        double nextGpu = 0.0;
        while (!stop_ && made_ < total) {
            const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
            const qint64 due = std::min(qint64(o_.rate * elapsed), total) - made_;
            for (qint64 i = 0; i < due; ++i) {
                const std::int64_t n = made_ + 1;
                ev::Step s;
                s.step = n;
                s.tokens = n * 1024;
                s.loss = 0.3 + 5.0 / std::sqrt(double(n));
                s.loss_main = s.loss * 0.95;
                s.lr = 3e-4;
                s.grad_norm = 1.0 + 0.1 * std::sin(n * 1e-3);
                s.tokens_per_s = 1024.0 * o_.rate;
                s.mfu = 0.01;
                s.step_ms = 1000.0 / o_.rate;
                post(ev::make_event(std::move(s)));
                made_ = n;
            }
            if (elapsed >= nextGpu) {  // the engine samples NVML once a second
                ev::Gpu g;
                g.util = 90.0 + 5.0 * std::sin(elapsed);
                g.mem_used_mb = 30000.0;
                g.mem_total_mb = 141000.0;
                g.temp_c = 60.0;
                g.power_w = 450.0;
                post(ev::make_event(g));
                nextGpu += 1.0;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        QMetaObject::invokeMethod(&window_, done_, Qt::QueuedConnection);
    }

    void post(const ev::Event& e) {
        std::lock_guard<std::mutex> lock(mu_);
        pending_.push_back(e);
        if (scheduled_) return;
        scheduled_ = true;
        QMetaObject::invokeMethod(
            &window_, [this] { QTimer::singleShot(50, &window_, [this] { deliver(); }); },
            Qt::QueuedConnection);
    }

    void deliver() {
        QVector<ev::Event> batch;
        {
            std::lock_guard<std::mutex> lock(mu_);
            batch.swap(pending_);
            scheduled_ = false;
        }
        if (!batch.isEmpty()) Q_EMIT window_.runner()->eventsArrived(batch);
    }

    MainWindow& window_;
    const Options o_;
    std::function<void()> done_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<qint64> made_{0};
    std::mutex mu_;
    QVector<ev::Event> pending_;
    bool scheduled_ = false;
};

Result measure(RunStore::Writes writes, const Options& o) {
    Result r;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    RunStore store(path, writes);
    if (!store.isOpen()) {
        std::fprintf(stderr, "%s\n", qPrintable(store.errorString()));
        std::exit(1);
    }
    MainWindow window(&store);
    window.resize(1400, 880);
    window.show();
    const QString runId = store.beginRun(QStringLiteral("ingest-bench"), dir.path());
    window.followRun(runId, qint64(o.rate * o.seconds));
    QCoreApplication::processEvents();

    Producer producer(window, o);
    QElapsedTimer clock;
    qint64 lastProbe = 0;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(5);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        r.latenessMs.push_back(std::max(0.0, (now - lastProbe) / 1e6 - 5.0));
        lastProbe = now;
    });
    // The window ends when the producer has made its events and the GUI thread hears of it.
    QEventLoop loop;

    const double gui0 = cpuSeconds(CLOCK_THREAD_CPUTIME_ID);
    const double process0 = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    clock.start();
    probe.start();
    producer.start([&loop] { loop.quit(); });
    loop.exec();
    probe.stop();
    r.windowS = clock.nsecsElapsed() / 1e9;
    // A loop blocked until the end still counts as one late probe.
    r.latenessMs.push_back(std::max(0.0, (clock.nsecsElapsed() - lastProbe) / 1e6 - 5.0));
    r.guiCpuS = cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - gui0;
    r.processCpuS = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - process0;
    producer.stop();
    r.made = producer.made();
    r.committed = committedSteps(path, runId);

    QElapsedTimer drain;  // the last batch to the window, then everything to disk
    drain.start();
    producer.deliverRest();
    if (!store.flush()) std::fprintf(stderr, "flush: %s\n", qPrintable(store.errorString()));
    r.drainMs = drain.nsecsElapsed() / 1e6;
    r.plotted = window.chart(QStringLiteral("loss"))->pointCount(runId);
    r.stored = committedSteps(path, runId);
    window.close();
    return r;
}

void printRow(const char* name, const Result& r) {
    std::printf("%-22s %6.2f %8lld %9lld %8.0f %7.2f %7.0f %8.2f %8.1f %8.1f %5.1f/%-5.1f %8lld "
                "%s\n",
                name, r.windowS, static_cast<long long>(r.made),
                static_cast<long long>(r.committed), r.committed / r.windowS,
                double(r.made - r.committed) / (r.made / r.windowS), r.drainMs,
                percentile(r.latenessMs, 0.5), percentile(r.latenessMs, 0.99),
                percentile(r.latenessMs, 1.0), r.guiCpuS, r.processCpuS,
                static_cast<long long>(r.plotted), r.stored == r.made ? "yes" : "NO");
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    std::setlocale(LC_NUMERIC, "C");
    QApplication::setOrganizationName(QStringLiteral("R1WorkbenchBench"));
    QApplication::setApplicationName(QStringLiteral("ingest_bench"));
    QStandardPaths::setTestModeEnabled(true);  // settings of its own, not the user's

    Options o;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i < args.size(); i += 2) {
        const QString& k = args[i];
        const QString v = i + 1 < args.size() ? args[i + 1] : QString();
        if (k == QLatin1String("--rate")) {
            o.rate = v.toInt();
        } else if (k == QLatin1String("--seconds")) {
            o.seconds = v.toDouble();
        } else if (k == QLatin1String("--only") &&
                   (v == QLatin1String("before") || v == QLatin1String("after"))) {
            o.only = v;
        } else {
            std::fprintf(stderr, "unknown option %s %s\n", qPrintable(k), qPrintable(v));
            return 2;
        }
    }
    if (o.rate <= 0 || !(o.seconds > 0)) {
        std::fprintf(stderr, "--rate and --seconds must be positive\n");
        return 2;
    }
    std::printf("command: QT_QPA_PLATFORM=%s %s\n", qgetenv("QT_QPA_PLATFORM").constData(),
                qPrintable(args.join(QLatin1Char(' '))));
    std::printf("%d step events/s (9 metric rows each) + 1 GPU sample/s for %.1f s; %d CPU "
                "cores; Qt %s\n\n",
                o.rate, o.seconds, QThread::idealThreadCount(), qVersion());

    std::vector<std::pair<const char*, Result>> rows;
    if (o.only != QLatin1String("after")) {
        rows.emplace_back("GUI thread (before)", measure(RunStore::Writes::OnCallerThread, o));
    }
    if (o.only != QLatin1String("before")) {
        rows.emplace_back("writer thread (after)", measure(RunStore::Writes::OnWriterThread, o));
    }
    std::printf("%-22s %6s %8s %9s %8s %7s %7s %8s %8s %8s %11s %8s %s\n", "store writes on",
                "window", "made", "committed", "commit/s", "behind", "drain", "late p50",
                "late p99", "late max", "CPU s", "plotted", "all");
    std::printf("%-22s %6s %8s %9s %8s %7s %7s %8s %8s %8s %11s %8s %s\n", "", "s", "steps",
                "in window", "", "s", "ms", "ms", "ms", "ms", "GUI/process", "points", "stored");
    for (const auto& [name, r] : rows) printRow(name, r);
    bool ok = true;
    for (const auto& row : rows) ok = ok && row.second.stored == row.second.made;
    return ok ? 0 : 1;
}
