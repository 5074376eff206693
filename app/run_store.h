#pragma once

#include <QMutex>
#include <QObject>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QVector>

#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "widgets/run_list_model.h"

class QThread;

namespace r1::events {
struct Event;
}

namespace r1::app {

// One row of the runs table. finished is 0 while the run has not ended; best_val is NaN until
// an eval or the finish event reports one.
struct RunInfo {
    QString id;
    QString name;
    QString preset;
    QString status;  // running | completed | stopped | failed | interrupted
    double started = 0.0;  // unix seconds
    double finished = 0.0;
    qint64 last_step = 0;
    double best_val = std::numeric_limits<double>::quiet_NaN();
    QStringList tags;
    QString config;  // JSON object text of the RunStart config
    QString run_dir;
    QString device;
    qint64 params_total = 0;
    qint64 params_active = 0;
};

// One value of a metric. For telemetry (keys gpu<N>/<field>, host/<field>) there is a row per
// sample, at its own wall time, and step is the training step the run had reached when it was
// taken (several samples can share a step).
struct MetricRow {
    qint64 step = 0;
    double wall = 0.0;
    double value = 0.0;  // NaN where the engine reported a non-finite value
};

struct LogRow {
    double wall = 0.0;
    QString level;  // debug | info | warn | error
    QString text;
};

struct CheckpointRow {
    qint64 step = 0;
    QString path;
    qint64 bytes = 0;
};

// The history of every run, in one SQLite file (WAL).
//
// Writes happen on a writer thread with a connection of its own: append() only hands the
// events over (a queue under a mutex); the writer maps them to rows and commits them in one
// transaction kFlushIntervalMs after they were handed over (sooner for a burst; what arrived
// meanwhile joins the transaction). So a killed program loses only the last quarter second or
// so, as long as the writer keeps up (some 35,000 step events/s on 2 cores: docs/RESULTS.md);
// beyond that the queue grows. beginRun(), renameRun(), setTags() and deleteRun() run on the writer
// too, in order with the events, and wait for it.
//
// Reads go through a second connection, of the thread that created the store, and see what the
// writer has committed (WAL: they never wait for it). flush() commits everything handed over
// so far and waits: call it before a read that must see all of it (exportCsv() does).
// Use the store from the thread that created it.
class RunStore final : public QObject {
    Q_OBJECT

public:
    static constexpr int kSchemaVersion = 2;
    static constexpr int kFlushIntervalMs = 250;

    enum class Writes {
        OnWriterThread,
        // Maps and commits on the creating thread, every kFlushIntervalMs from a timer (how
        // the store worked before it had a writer thread; the ingest benchmark compares both).
        OnCallerThread,
    };

    explicit RunStore(const QString& path, QObject* parent = nullptr);
    RunStore(const QString& path, Writes writes, QObject* parent = nullptr);
    // Commits everything handed over, then stops the writer.
    ~RunStore() override;

    bool isOpen() const;
    // Names the file and the reason when it could not be opened, migrated or written.
    QString errorString() const;
    QString path() const { return path_; }
    Writes writes() const { return writes_; }
    // Runs found still "running" on open (a crash or kill left them so), now "interrupted".
    int interruptedOnOpen() const { return interruptedOnOpen_; }
    // Whether metric rows are bound through the SQLite C API rather than QSqlQuery (faster;
    // R1_RUN_STORE_QT_BINDING=1 in the environment turns it off).
    bool nativeBinding() const { return nativeBinding_; }

    // A new run with status "running"; its id is name-yyyyMMdd-hhmmss[-N]. Empty on failure.
    QString beginRun(const QString& name, const QString& runDir);
    // Hands events over to the writer, which maps them into the tables. Events of an unknown
    // run id are dropped (with a warning). The batch form shares the vector: it costs the
    // calling thread one lock, whatever the size of the batch.
    void append(const QString& runId, const r1::events::Event& ev);
    void append(const QString& runId, const QVector<r1::events::Event>& events);
    // Commits everything appended so far and waits for it; false if it could not be written
    // (errorString() says why; the rows are kept and tried again).
    bool flush();

    QVector<RunInfo> runs() const;
    std::optional<RunInfo> run(const QString& runId) const;
    // Ordered by step (and by time within a step, for telemetry).
    std::vector<MetricRow> metric(const QString& runId, const QString& key) const;
    QStringList metricKeys(const QString& runId) const;  // sorted
    // minLevel: debug | info | warn | error (empty: all); search: case-insensitive substring.
    QVector<LogRow> logs(const QString& runId, const QString& minLevel = {},
                         const QString& search = {}) const;
    QVector<CheckpointRow> checkpoints(const QString& runId) const;

    bool renameRun(const QString& runId, const QString& name);
    bool setTags(const QString& runId, const QStringList& tags);
    bool deleteRun(const QString& runId);

    // All metrics of the run as CSV: header step,wall,key,value; ordered by key then step.
    // Flushes first.
    bool exportCsv(const QString& runId, const QString& path, QString* error);

Q_SIGNALS:
    // Rows of the runs table changed: re-read runs(). Emitted on the creating thread.
    void runsChanged();

private:
    class Writer;
    struct Queue;

    bool openReader();
    void setError(const QString& error);
    // Runs job on the writer's thread, after everything handed over before, and waits for it.
    void runOnWriter(const std::function<void(Writer&)>& job);
    void writerLoop();
    void commitOnCallerThread();
    void stopWriter();
    // Emits runsChanged() if the writer committed changes of the runs table since the last
    // report, or if changed.
    void reportRunsChanged(bool changed = false);

    QString path_;
    Writes writes_;
    QString connection_;  // the reader's; the writer's is connection_ + "_writer"
    QSqlDatabase db_;     // reads, on the creating thread
    bool open_ = false;
    int interruptedOnOpen_ = 0;
    bool nativeBinding_ = false;
    mutable QMutex errorMutex_;
    QString error_;
    std::atomic<bool> runsDirty_{false};

    // Created, used and destroyed on the writer's thread (the creating thread for
    // Writes::OnCallerThread).
    std::unique_ptr<Writer> writer_;
    std::unique_ptr<Queue> queue_;  // Writes::OnWriterThread: the hand-over
    QThread* thread_ = nullptr;
    QTimer commitTimer_;  // Writes::OnCallerThread
};

// The training step an event reports progress at: step, eval and finish events. The store
// files a GPU telemetry sample under the last one seen, and so does the live view.
std::optional<qint64> progressStep(const r1::events::Event& ev);

// app -> widgets: the plain row the run table shows.
r1::widgets::RunRow toRunRow(const RunInfo& info);
QVector<r1::widgets::RunRow> toRunRows(const QVector<RunInfo>& infos);

}  // namespace r1::app
