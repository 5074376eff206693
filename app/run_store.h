#pragma once

#include <QHash>
#include <QObject>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QVector>

#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "widgets/run_list_model.h"

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

// The history of every run, in one SQLite file (WAL). Events are buffered and written in one
// transaction per flush: every 250 ms by a timer, on flush() and in the destructor. Reads see
// what has been flushed. Use from the thread that created it (a Qt SQL connection is
// per thread).
class RunStore final : public QObject {
    Q_OBJECT

public:
    static constexpr int kSchemaVersion = 1;
    static constexpr int kFlushIntervalMs = 250;

    explicit RunStore(const QString& path, QObject* parent = nullptr);
    ~RunStore() override;

    bool isOpen() const;
    // Names the file and the reason when it could not be opened, migrated or written.
    QString errorString() const;
    QString path() const { return path_; }
    // Runs found still "running" on open (a crash or kill left them so), now "interrupted".
    int interruptedOnOpen() const { return interruptedOnOpen_; }
    // Whether metric rows are bound through the SQLite C API rather than QSqlQuery (faster;
    // R1_RUN_STORE_QT_BINDING=1 in the environment turns it off).
    bool nativeBinding() const;

    // A new run with status "running"; its id is name-yyyyMMdd-hhmmss[-N]. Empty on failure.
    QString beginRun(const QString& name, const QString& runDir);
    // Maps the event into the tables (buffered). Events of an unknown run id are dropped.
    void append(const QString& runId, const r1::events::Event& ev);
    bool flush();

    QVector<RunInfo> runs() const;
    std::optional<RunInfo> run(const QString& runId) const;
    std::vector<MetricRow> metric(const QString& runId, const QString& key) const;
    QStringList metricKeys(const QString& runId) const;
    // minLevel: debug | info | warn | error (empty: all); search: case-insensitive substring.
    QVector<LogRow> logs(const QString& runId, const QString& minLevel = {},
                         const QString& search = {}) const;
    QVector<CheckpointRow> checkpoints(const QString& runId) const;

    bool renameRun(const QString& runId, const QString& name);
    bool setTags(const QString& runId, const QStringList& tags);
    bool deleteRun(const QString& runId);

    // All metrics of the run as CSV: header step,wall,key,value; ordered by key then step.
    bool exportCsv(const QString& runId, const QString& path, QString* error);

Q_SIGNALS:
    void runsChanged();

private:
    struct Pending;
    struct Statements;
    struct RunState {
        QString id;
        bool exists = false;
        qint64 lastStep = 0;  // gpu samples are filed under the last step seen
    };

    bool open();
    bool migrate(int from);
    bool fail(const QString& reason);
    RunState* state(const QString& runId);
    const QString& expertKey(int layer, int expert);
    const QString& gpuKey(int device, int field);
    void closeDatabase();

    QString path_;
    QString connection_;
    QSqlDatabase db_;
    QString error_;
    bool open_ = false;
    int interruptedOnOpen_ = 0;
    QTimer flushTimer_;
    std::unique_ptr<Pending> pending_;
    std::unique_ptr<Statements> statements_;
    QHash<QString, RunState> states_;  // cache; exists == false: unknown or deleted
    std::vector<std::vector<QString>> expertKeys_;
    std::vector<std::vector<QString>> gpuKeys_;
};

// app -> widgets: the plain row the run table shows.
r1::widgets::RunRow toRunRow(const RunInfo& info);
QVector<r1::widgets::RunRow> toRunRows(const QVector<RunInfo>& infos);

}  // namespace r1::app
