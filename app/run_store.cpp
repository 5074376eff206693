#include "app/run_store.h"

#include <QAtomicInt>
#include <QDateTime>
#include <QDebug>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <future>
#include <iterator>
#include <limits>
#include <mutex>
#include <type_traits>
#include <utility>
#include <variant>

#include "engine/events/event.h"

namespace r1::app {

namespace ev = r1::events;

namespace {

constexpr std::size_t kFlushNowRows = 1'000'000;    // a burst this large is written at once
constexpr std::size_t kDropAfterRows = 4'000'000;   // pending rows kept across failed flushes

const double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Keys {
    const QString loss = QStringLiteral("loss");
    const QString lossMain = QStringLiteral("loss_main");
    const QString lossMtp = QStringLiteral("loss_mtp");
    const QString lossBalance = QStringLiteral("loss_balance");
    const QString lr = QStringLiteral("lr");
    const QString gradNorm = QStringLiteral("grad_norm");
    const QString tokensPerS = QStringLiteral("tokens_per_s");
    const QString mfu = QStringLiteral("mfu");
    const QString lossScale = QStringLiteral("loss_scale");
    const QString tokens = QStringLiteral("tokens");
    const QString skipped = QStringLiteral("skipped");
    const QString stepMs = QStringLiteral("step_ms");
    const QString routerBiasAbs = QStringLiteral("router_bias_abs");
    const QString valLoss = QStringLiteral("val_loss");
    const QString valPpl = QStringLiteral("val_ppl");
    const QString valBpb = QStringLiteral("val_bpb");
    const QString hostCpuUtil = QStringLiteral("host/cpu_util");
    const QString hostRamUsed = QStringLiteral("host/ram_used_mb");
    const QString hostRamTotal = QStringLiteral("host/ram_total_mb");
    const QString hostRss = QStringLiteral("host/rss_mb");
    const QString hostCpus = QStringLiteral("host/cpus");
    const QString error = QStringLiteral("error");
    const QString info = QStringLiteral("info");
};

const Keys& keys() {
    static const Keys k;
    return k;
}

const QString kInsertMetric = QStringLiteral(
    "INSERT OR REPLACE INTO metrics(run_id, step, wall, key, value) VALUES (?, ?, ?, ?, ?)");
const QString kInsertTelemetry = QStringLiteral(
    "INSERT OR REPLACE INTO telemetry(run_id, key, wall, step, value) VALUES (?, ?, ?, ?, ?)");

// The SQLite C API, resolved from the libsqlite3 that the QSQLITE plugin has loaded, to bind
// metric rows without Qt's per-value cost (QSqlQuery::bindValue takes about 0.5 us a value;
// binding directly doubles the rows per second). Used only when that library is already loaded
// and the driver hands out its sqlite3* handle; otherwise the store binds through QSqlQuery.
// Nothing to link or include: the device machine has the library but not its header.
struct SqliteApi {
    static constexpr int kOk = 0;
    static constexpr int kDone = 101;

    int (*prepare_v2)(void*, const char*, int, void**, const char**) = nullptr;
    int (*bind_text)(void*, int, const char*, int, void (*)(void*)) = nullptr;
    int (*bind_int64)(void*, int, long long) = nullptr;
    int (*bind_double)(void*, int, double) = nullptr;
    int (*step)(void*) = nullptr;
    int (*reset)(void*) = nullptr;
    int (*finalize)(void*) = nullptr;
    const char* (*errmsg)(void*) = nullptr;

    static const SqliteApi* get() {
        if (qEnvironmentVariableIntValue("R1_RUN_STORE_QT_BINDING") != 0) return nullptr;
        static const SqliteApi* api = []() -> const SqliteApi* {
            void* lib = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_NOLOAD);
            if (!lib) return nullptr;
            static SqliteApi a;
            bool ok = true;
            auto load = [&](auto& fn, const char* name) {
                fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
                ok = ok && fn;
            };
            load(a.prepare_v2, "sqlite3_prepare_v2");
            load(a.bind_text, "sqlite3_bind_text");
            load(a.bind_int64, "sqlite3_bind_int64");
            load(a.bind_double, "sqlite3_bind_double");
            load(a.step, "sqlite3_step");
            load(a.reset, "sqlite3_reset");
            load(a.finalize, "sqlite3_finalize");
            load(a.errmsg, "sqlite3_errmsg");
            return ok ? &a : nullptr;
        }();
        return api;
    }
};

const char* const kGpuFields[] = {"util",   "mem_used_mb", "mem_total_mb",
                                  "temp_c", "power_w",     "sm_clock_mhz"};
constexpr int kGpuFieldCount = int(std::size(kGpuFields));

QString qs(const std::string& s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

QString reasonOf(const QSqlError& e) {
    const QString db = e.databaseText().trimmed();
    return db.isEmpty() ? e.text().trimmed() : db;
}

double realOr(const QVariant& v, double fallback) { return v.isNull() ? fallback : v.toDouble(); }

int levelRank(const QString& level) {
    static const QStringList order = {QStringLiteral("debug"), QStringLiteral("info"),
                                      QStringLiteral("warn"), QStringLiteral("error")};
    return int(order.indexOf(level));
}

QString tagsToJson(const QStringList& tags) {
    return QString::fromUtf8(
        QJsonDocument(QJsonArray::fromStringList(tags)).toJson(QJsonDocument::Compact));
}

QStringList tagsFromJson(const QString& text) {
    QStringList tags;
    const QJsonArray array = QJsonDocument::fromJson(text.toUtf8()).array();
    for (const auto& v : array) {
        if (v.isString()) tags << v.toString();
    }
    return tags;
}

// The model preset of a RunStart config: flat ("model.preset") or nested ({"model":{...}}).
QString presetOf(const nlohmann::json& config) {
    if (!config.is_object()) return {};
    auto flat = config.find("model.preset");
    if (flat != config.end() && flat->is_string()) return qs(flat->get<std::string>());
    auto model = config.find("model");
    if (model != config.end() && model->is_object()) {
        auto preset = model->find("preset");
        if (preset != model->end() && preset->is_string()) {
            return qs(preset->get<std::string>());
        }
    }
    return {};
}

QByteArray csvField(const QString& s) {
    if (!s.contains(u',') && !s.contains(u'"') && !s.contains(u'\n')) return s.toUtf8();
    QString quoted = s;
    quoted.replace(u'"', QStringLiteral("\"\""));
    return '"' + quoted.toUtf8() + '"';
}

// Schema migrations: kMigrations[i] takes a store from version i to i + 1. A later version
// appends its statements (or grows a function) here; the store runs them in one transaction.
const QVector<QStringList>& migrations() {
    static const QVector<QStringList> steps = {
        // v0 -> v1: the tables.
        {
            QStringLiteral("CREATE TABLE runs(id TEXT PRIMARY KEY, name TEXT NOT NULL, "
                           "preset TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, "
                           "started REAL, finished REAL, last_step INTEGER NOT NULL DEFAULT 0, "
                           "best_val REAL, tags TEXT NOT NULL DEFAULT '[]', config TEXT, "
                           "run_dir TEXT, device TEXT, params_total INTEGER, "
                           "params_active INTEGER)"),
            // The (run_id, key, step) index is the table itself: one B-tree to update per
            // row instead of two (twice the insert rate); a step sent again replaces its row.
            QStringLiteral("CREATE TABLE metrics(run_id TEXT NOT NULL, step INTEGER NOT NULL, "
                           "wall REAL, key TEXT NOT NULL, value REAL, "
                           "PRIMARY KEY(run_id, key, step)) WITHOUT ROWID"),
            QStringLiteral("CREATE TABLE logs(run_id TEXT NOT NULL, wall REAL, "
                           "level TEXT NOT NULL, text TEXT NOT NULL)"),
            QStringLiteral("CREATE INDEX logs_run_wall ON logs(run_id, wall)"),
            QStringLiteral("CREATE TABLE checkpoints(run_id TEXT NOT NULL, step INTEGER, "
                           "path TEXT, bytes INTEGER)"),
            QStringLiteral("CREATE INDEX checkpoints_run_step ON checkpoints(run_id, step)"),
        },
        // v1 -> v2: GPU telemetry gets a row per sample, keyed by its time (v1 kept one sample
        // per training step in metrics).
        {
            QStringLiteral("CREATE TABLE telemetry(run_id TEXT NOT NULL, key TEXT NOT NULL, "
                           "wall REAL NOT NULL, step INTEGER NOT NULL, value REAL, "
                           "PRIMARY KEY(run_id, key, wall)) WITHOUT ROWID"),
            QStringLiteral("INSERT OR REPLACE INTO telemetry(run_id, key, wall, step, value) "
                           "SELECT run_id, key, COALESCE(wall, 0), step, value FROM metrics "
                           "WHERE key GLOB 'gpu[0-9]*/*'"),
            QStringLiteral("DELETE FROM metrics WHERE key GLOB 'gpu[0-9]*/*'"),
        },
    };
    return steps;
}

// gpu<N>/<field> and host/<field>: the keys of the telemetry table.
bool isTelemetryKey(const QString& key) {
    if (key.startsWith(QLatin1String("host/"))) return true;
    if (!key.startsWith(QLatin1String("gpu"))) return false;
    qsizetype i = 3;
    while (i < key.size() && key.at(i).isDigit()) ++i;
    return i > 3 && i < key.size() && key.at(i) == u'/';
}

const QString kRunColumns = QStringLiteral(
    "id, name, preset, status, started, finished, last_step, best_val, tags, config, run_dir, "
    "device, params_total, params_active");

RunInfo runFromQuery(const QSqlQuery& q) {
    RunInfo r;
    r.id = q.value(0).toString();
    r.name = q.value(1).toString();
    r.preset = q.value(2).toString();
    r.status = q.value(3).toString();
    r.started = realOr(q.value(4), 0.0);
    r.finished = realOr(q.value(5), 0.0);
    r.last_step = q.value(6).toLongLong();
    r.best_val = realOr(q.value(7), kNaN);
    r.tags = tagsFromJson(q.value(8).toString());
    r.config = q.value(9).toString();
    r.run_dir = q.value(10).toString();
    r.device = q.value(11).toString();
    r.params_total = q.value(12).toLongLong();
    r.params_active = q.value(13).toLongLong();
    return r;
}

}  // namespace

// ---- Writer: the writing connection, events mapped to rows, one transaction per commit ------

class RunStore::Writer {
public:
    Writer(RunStore& store, const QString& connection);
    ~Writer();

    // Opens the file (creating it), migrates it, marks runs a crash left "running" as
    // interrupted. False: the store's error says why.
    bool open();
    int interruptedOnOpen() const { return interruptedOnOpen_; }
    bool nativeBinding() const { return statements_ && statements_->insertMetric; }

    // Maps the event into pending rows.
    void map(const QString& runId, const ev::Event& event);
    bool hasPending() const { return !pending_.empty(); }
    std::size_t pendingRows() const { return pending_.rows(); }
    // Writes the pending rows in one transaction. On failure the store's error says why and the
    // rows stay pending for the next commit (up to kDropAfterRows).
    bool commit();

    QString beginRun(const QString& name, const QString& runDir);
    bool renameRun(const QString& runId, const QString& name);
    bool setTags(const QString& runId, const QStringList& tags);
    bool deleteRun(const QString& runId);

private:
    struct Pending {
        struct Metric {
            QString run;
            QString key;
            qint64 step;
            double wall;
            double value;
        };
        struct Log {
            QString run;
            double wall;
            QString level;
            QString text;
        };
        struct Checkpoint {
            QString run;
            qint64 step;
            QString path;
            qint64 bytes;
        };
        struct RunPatch {
            std::optional<qint64> lastStep;
            std::optional<double> bestSet;  // finish's best_val_loss
            std::optional<double> bestMin;  // lowest eval loss since
            std::optional<QString> status;
            std::optional<double> finished;
            bool started = false;
            QString preset, config, device;
            qint64 paramsTotal = 0, paramsActive = 0;
        };

        std::vector<Metric> metrics;
        std::vector<Metric> telemetry;
        std::vector<Log> logs;
        std::vector<Checkpoint> checkpoints;
        QHash<QString, RunPatch> patches;

        std::size_t rows() const {
            return metrics.size() + telemetry.size() + logs.size() + checkpoints.size();
        }
        bool empty() const { return rows() == 0 && patches.isEmpty(); }
        void clear() {
            metrics.clear();
            telemetry.clear();
            logs.clear();
            checkpoints.clear();
            patches.clear();
        }
        void dropRun(const QString& runId) {
            auto ofRun = [&runId](const auto& row) { return row.run == runId; };
            for (auto* rows : {&metrics, &telemetry}) {
                rows->erase(std::remove_if(rows->begin(), rows->end(), ofRun), rows->end());
            }
            logs.erase(std::remove_if(logs.begin(), logs.end(), ofRun), logs.end());
            checkpoints.erase(std::remove_if(checkpoints.begin(), checkpoints.end(), ofRun),
                              checkpoints.end());
            patches.remove(runId);
        }
    };

    struct Statements {
        QSqlQuery metric, telemetry, log, checkpoint;
        // Native path for metric rows (see SqliteApi); null when not available.
        const SqliteApi* api = nullptr;
        void* sqlite = nullptr;
        void* insertMetric = nullptr;

        ~Statements() {
            if (insertMetric) api->finalize(insertMetric);
        }
    };

    struct RunState {
        QString id;
        bool exists = false;
        qint64 lastStep = 0;  // telemetry samples are filed under the last step seen
    };

    bool fail(const QString& reason);
    bool migrate(int from);
    RunState* state(const QString& runId);
    const QString& expertKey(int layer, int expert);
    const QString& gpuKey(int device, int field);

    RunStore& store_;
    QString connection_;
    QSqlDatabase db_;
    int interruptedOnOpen_ = 0;
    Pending pending_;
    std::unique_ptr<Statements> statements_;
    QHash<QString, RunState> states_;  // cache; exists == false: unknown or deleted
    std::vector<std::vector<QString>> expertKeys_;
    std::vector<std::vector<QString>> gpuKeys_;
};

RunStore::Writer::Writer(RunStore& store, const QString& connection)
    : store_(store), connection_(connection) {}

RunStore::Writer::~Writer() {
    statements_.reset();
    if (db_.isValid()) {
        db_.close();
        db_ = QSqlDatabase();
        QSqlDatabase::removeDatabase(connection_);
    }
}

bool RunStore::Writer::fail(const QString& reason) {
    store_.setError(RunStore::tr("Cannot open the run store %1: %2")
                        .arg(QDir::toNativeSeparators(store_.path_), reason));
    return false;
}

bool RunStore::Writer::open() {
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE"))) {
        return fail(RunStore::tr("the Qt SQLite driver (QSQLITE) is not available"));
    }
    const QFileInfo info(store_.path_);
    if (info.exists() && !info.isFile()) return fail(RunStore::tr("it is not a file"));
    if (!info.exists() && !QDir().mkpath(info.absolutePath())) {
        return fail(RunStore::tr("cannot create the folder %1")
                        .arg(QDir::toNativeSeparators(info.absolutePath())));
    }
    db_ = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection_);
    db_.setDatabaseName(store_.path_);
    db_.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    if (!db_.open()) return fail(reasonOf(db_.lastError()));

    // Reads first: a file that is not an SQLite database fails here, before anything is
    // written to it.
    QSqlQuery q(db_);
    if (!q.exec(QStringLiteral("PRAGMA user_version")) || !q.next()) {
        return fail(reasonOf(q.lastError()));
    }
    const int version = q.value(0).toInt();
    if (version > kSchemaVersion) {
        return fail(RunStore::tr("its schema version %1 is newer than this program supports (%2)")
                        .arg(version)
                        .arg(kSchemaVersion));
    }
    if (version == 0) {
        if (!q.exec(QStringLiteral("SELECT count(*) FROM sqlite_master")) || !q.next()) {
            return fail(reasonOf(q.lastError()));
        }
        if (q.value(0).toInt() > 0) {
            return fail(RunStore::tr("it is an SQLite database of another program (tables, no "
                                     "schema version)"));
        }
    }
    if (!q.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !q.next()) {
        return fail(reasonOf(q.lastError()));
    }
    const QString mode = q.value(0).toString().toLower();
    if (mode != QLatin1String("wal")) {
        return fail(RunStore::tr("cannot switch to WAL journaling (journal mode is %1)").arg(mode));
    }
    if (!q.exec(QStringLiteral("PRAGMA synchronous=NORMAL")) ||
        !q.exec(QStringLiteral("PRAGMA cache_size=-32768"))) {
        return fail(reasonOf(q.lastError()));
    }
    if (version < kSchemaVersion && !migrate(version)) return false;

    // A run still "running" now was left so by a crash or a kill of the program writing it.
    if (!q.exec(QStringLiteral(
            "UPDATE runs SET status = 'interrupted', finished = MAX(COALESCE(started, 0), "
            "COALESCE((SELECT MAX(m.wall) FROM metrics m WHERE m.run_id = runs.id), 0), "
            "COALESCE((SELECT MAX(t.wall) FROM telemetry t WHERE t.run_id = runs.id), 0)) "
            "WHERE status = 'running'"))) {
        return fail(reasonOf(q.lastError()));
    }
    interruptedOnOpen_ = q.numRowsAffected();

    statements_ = std::make_unique<Statements>();
    statements_->metric = QSqlQuery(db_);
    statements_->telemetry = QSqlQuery(db_);
    statements_->log = QSqlQuery(db_);
    statements_->checkpoint = QSqlQuery(db_);
    if (!statements_->metric.prepare(kInsertMetric) ||
        !statements_->telemetry.prepare(kInsertTelemetry) ||
        !statements_->log.prepare(QStringLiteral(
            "INSERT INTO logs(run_id, wall, level, text) VALUES (?,?,?,?)")) ||
        !statements_->checkpoint.prepare(QStringLiteral(
            "INSERT INTO checkpoints(run_id, step, path, bytes) VALUES (?,?,?,?)"))) {
        return fail(reasonOf(db_.lastError()));
    }
    const QVariant handle = db_.driver()->handle();
    if (const SqliteApi* api = SqliteApi::get();
        api && handle.isValid() && qstrcmp(handle.typeName(), "sqlite3*") == 0) {
        void* sqlite = *static_cast<void* const*>(handle.constData());
        void* stmt = nullptr;
        if (sqlite && api->prepare_v2(sqlite, kInsertMetric.toUtf8().constData(), -1, &stmt,
                                      nullptr) == SqliteApi::kOk) {
            statements_->api = api;
            statements_->sqlite = sqlite;
            statements_->insertMetric = stmt;
        }
    }
    return true;
}

bool RunStore::Writer::migrate(int from) {
    const auto& steps = migrations();
    Q_ASSERT(steps.size() == kSchemaVersion);
    if (!db_.transaction()) return fail(reasonOf(db_.lastError()));
    QSqlQuery q(db_);
    for (int v = from; v < kSchemaVersion; ++v) {
        for (const QString& sql : steps[v]) {
            if (!q.exec(sql)) {
                const QString reason = reasonOf(q.lastError());
                db_.rollback();
                return fail(RunStore::tr("migration to schema version %1 failed: %2")
                                .arg(v + 1)
                                .arg(reason));
            }
        }
    }
    if (!q.exec(QStringLiteral("PRAGMA user_version = %1").arg(kSchemaVersion)) ||
        !db_.commit()) {
        const QString reason = reasonOf(q.lastError().isValid() ? q.lastError()
                                                                : db_.lastError());
        db_.rollback();
        return fail(RunStore::tr("migration to schema version %1 failed: %2")
                        .arg(kSchemaVersion)
                        .arg(reason));
    }
    return true;
}

RunStore::Writer::RunState* RunStore::Writer::state(const QString& runId) {
    auto it = states_.find(runId);
    if (it == states_.end()) {
        RunState s;
        QSqlQuery q(db_);
        q.prepare(QStringLiteral("SELECT last_step FROM runs WHERE id = ?"));
        q.addBindValue(runId);
        if (q.exec() && q.next()) {
            s.id = runId;
            s.exists = true;
            s.lastStep = q.value(0).toLongLong();
        } else {
            qWarning().noquote() << "run store: events for unknown run" << runId << "dropped";
        }
        it = states_.insert(runId, s);
    }
    return it->exists ? &*it : nullptr;
}

const QString& RunStore::Writer::expertKey(int layer, int expert) {
    if (std::size_t(layer) >= expertKeys_.size()) expertKeys_.resize(std::size_t(layer) + 1);
    auto& row = expertKeys_[std::size_t(layer)];
    while (row.size() <= std::size_t(expert)) {
        row.push_back(QStringLiteral("expert_load/%1/%2").arg(layer).arg(row.size()));
    }
    return row[std::size_t(expert)];
}

const QString& RunStore::Writer::gpuKey(int device, int field) {
    if (std::size_t(device) >= gpuKeys_.size()) gpuKeys_.resize(std::size_t(device) + 1);
    auto& row = gpuKeys_[std::size_t(device)];
    if (row.empty()) {
        for (const char* f : kGpuFields) {
            row.push_back(QStringLiteral("gpu%1/%2").arg(device).arg(QLatin1String(f)));
        }
    }
    return row[std::size_t(field)];
}

QString RunStore::Writer::beginRun(const QString& name, const QString& runDir) {
    QString base = name.trimmed();
    base.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("_"));
    if (base.isEmpty()) base = QStringLiteral("run");
    const QDateTime now = QDateTime::currentDateTime();
    base += u'-' + now.toString(QStringLiteral("yyyyMMdd-hhmmss"));

    QSqlQuery q(db_);
    q.prepare(QStringLiteral("SELECT 1 FROM runs WHERE id = ?"));
    QString id = base;
    for (int n = 2;; ++n) {
        q.addBindValue(id);
        if (!q.exec()) return {};
        if (!q.next() && !states_.contains(id)) break;
        id = base + u'-' + QString::number(n);
    }
    q.prepare(QStringLiteral("INSERT INTO runs(id, name, status, started, last_step, tags, "
                             "run_dir) VALUES (?, ?, 'running', ?, 0, '[]', ?)"));
    q.addBindValue(id);
    q.addBindValue(name.trimmed().isEmpty() ? id : name.trimmed());
    q.addBindValue(now.toMSecsSinceEpoch() / 1000.0);
    q.addBindValue(runDir);
    if (!q.exec()) {
        store_.setError(RunStore::tr("Cannot add a run to %1: %2")
                            .arg(QDir::toNativeSeparators(store_.path_),
                                 reasonOf(q.lastError())));
        return {};
    }
    states_.insert(id, RunState{id, true, 0});
    return id;
}

void RunStore::Writer::map(const QString& requestedId, const ev::Event& event) {
    RunState* st = state(requestedId);
    if (!st) return;
    const QString& runId = st->id;  // one shared copy for every pending row of the run
    Pending& p = pending_;
    const Keys& k = keys();
    const double wall = event.header.time;
    const auto& payload = event.payload;

    auto metric = [&](const QString& key, qint64 step, double value) {
        p.metrics.push_back({runId, key, step, wall, value});
    };
    auto log = [&](const QString& level, const QString& text) {
        p.logs.push_back({runId, wall, level, text});
    };

    if (const auto* s = std::get_if<ev::Step>(&payload)) {
        const qint64 n = s->step;
        metric(k.loss, n, s->loss);
        if (s->loss_main) metric(k.lossMain, n, *s->loss_main);
        if (s->loss_mtp) metric(k.lossMtp, n, *s->loss_mtp);
        if (s->loss_balance) metric(k.lossBalance, n, *s->loss_balance);
        metric(k.lr, n, s->lr);
        metric(k.gradNorm, n, s->grad_norm);
        metric(k.tokensPerS, n, s->tokens_per_s);
        if (s->mfu) metric(k.mfu, n, *s->mfu);
        if (s->loss_scale) metric(k.lossScale, n, *s->loss_scale);
        metric(k.tokens, n, double(s->tokens));
        metric(k.skipped, n, double(s->skipped));
        metric(k.stepMs, n, s->step_ms);
        if (s->router_bias_abs) metric(k.routerBiasAbs, n, *s->router_bias_abs);
        for (std::size_t l = 0; l < s->expert_load.size(); ++l) {
            const auto& experts = s->expert_load[l];
            for (std::size_t e = 0; e < experts.size(); ++e) {
                metric(expertKey(int(l), int(e)), n, experts[e]);
            }
        }
    } else if (const auto* e = std::get_if<ev::Eval>(&payload)) {
        metric(k.valLoss, e->step, e->loss);
        metric(k.valPpl, e->step, e->perplexity);
        metric(k.valBpb, e->step, e->bits_per_byte);
        if (std::isfinite(e->loss)) {
            auto& patch = p.patches[runId];
            patch.bestMin = std::min(patch.bestMin.value_or(e->loss), e->loss);
        }
    } else if (const auto* g = std::get_if<ev::Gpu>(&payload)) {
        // A sample is keyed by its time: one without a finite time has no place to go.
        const std::optional<double>* fields[] = {&g->util,   &g->mem_used_mb, &g->mem_total_mb,
                                                 &g->temp_c, &g->power_w,     &g->sm_clock_mhz};
        static_assert(sizeof(fields) / sizeof(fields[0]) == std::size(kGpuFields));
        for (int f = 0; f < kGpuFieldCount && std::isfinite(wall); ++f) {
            if (*fields[f]) {
                p.telemetry.push_back(
                    {runId, gpuKey(std::max(0, g->device), f), st->lastStep, wall, **fields[f]});
            }
        }
    } else if (const auto* h = std::get_if<ev::Host>(&payload)) {
        const std::pair<const QString*, std::optional<double>> fields[] = {
            {&k.hostCpuUtil, h->cpu_util},
            {&k.hostRamUsed, h->ram_used_mb},
            {&k.hostRamTotal, h->ram_total_mb},
            {&k.hostRss, h->rss_mb},
            {&k.hostCpus, h->cpus ? std::optional<double>(*h->cpus) : std::nullopt}};
        for (const auto& [key, value] : fields) {
            if (value && std::isfinite(wall))
                p.telemetry.push_back({runId, *key, st->lastStep, wall, *value});
        }
    } else if (const auto* l = std::get_if<ev::Log>(&payload)) {
        log(QString::fromLatin1(ev::to_string(l->level)), qs(l->text));
    } else if (const auto* err = std::get_if<ev::Error>(&payload)) {
        QString text = qs(err->message);
        if (!err->cause.empty()) text += QStringLiteral(": ") + qs(err->cause);
        if (err->fatal) text = QStringLiteral("fatal: ") + text;
        log(k.error, text);
    } else if (const auto* c = std::get_if<ev::Checkpoint>(&payload)) {
        p.checkpoints.push_back({runId, c->step, qs(c->path), c->bytes});
    } else if (const auto* f = std::get_if<ev::Finish>(&payload)) {
        auto& patch = p.patches[runId];
        patch.status = QString::fromLatin1(ev::to_string(f->status));
        patch.finished = wall;
        if (f->best_val_loss && std::isfinite(*f->best_val_loss)) {
            patch.bestSet = *f->best_val_loss;
            patch.bestMin.reset();
        }
    } else if (const auto* rs = std::get_if<ev::RunStart>(&payload)) {
        auto& patch = p.patches[runId];
        patch.started = true;
        patch.preset = presetOf(rs->config);
        patch.config =
            qs(rs->config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        patch.device = qs(rs->device);
        patch.paramsTotal = rs->params_total;
        patch.paramsActive = rs->params_active;
    } else if (const auto* sm = std::get_if<ev::Sample>(&payload)) {
        const QString at = sm->step ? QStringLiteral(" (step %1)").arg(*sm->step) : QString();
        log(k.info, QStringLiteral("sample%1: %2%3").arg(at, qs(sm->prompt), qs(sm->text)));
    }

    if (const std::optional<qint64> n = progressStep(event)) {
        st->lastStep = std::max(st->lastStep, *n);
        auto& patch = p.patches[runId];
        patch.lastStep = std::max(patch.lastStep.value_or(*n), *n);
    }
}

bool RunStore::Writer::commit() {
    Pending& p = pending_;
    if (p.empty()) return true;

    QString failure;
    auto run = [&failure](QSqlQuery& q) {
        if (q.exec()) return true;
        failure = reasonOf(q.lastError());
        return false;
    };
    bool ok = db_.transaction();
    if (!ok) failure = reasonOf(db_.lastError());

    Statements& s = *statements_;
    if (s.insertMetric) {
        const SqliteApi& api = *s.api;
        void* st = s.insertMetric;
        // Run ids and keys are shared strings (interned in map()): convert each once.
        QHash<const QChar*, QByteArray> utf8;
        auto text = [&](int column, const QString& t) {
            auto it = utf8.constFind(t.constData());
            if (it == utf8.constEnd()) it = utf8.insert(t.constData(), t.toUtf8());
            api.bind_text(st, column, it->constData(), int(it->size()), nullptr);  // STATIC
        };
        for (std::size_t i = 0; ok && i < p.metrics.size(); ++i) {
            const auto& m = p.metrics[i];
            text(1, m.run);
            api.bind_int64(st, 2, m.step);
            api.bind_double(st, 3, m.wall);  // NaN is stored as NULL, read back as NaN
            text(4, m.key);
            api.bind_double(st, 5, m.value);
            const int rc = api.step(st);
            api.reset(st);
            if (rc != SqliteApi::kDone) {
                failure = QString::fromUtf8(api.errmsg(s.sqlite));
                ok = false;
            }
        }
    } else {
        for (std::size_t i = 0; ok && i < p.metrics.size(); ++i) {
            const auto& m = p.metrics[i];
            s.metric.bindValue(0, m.run);
            s.metric.bindValue(1, m.step);
            s.metric.bindValue(2, m.wall);
            s.metric.bindValue(3, m.key);
            s.metric.bindValue(4, m.value);
            ok = run(s.metric);
        }
    }
    for (std::size_t j = 0; ok && j < p.telemetry.size(); ++j) {  // about one row per second
        const auto& t = p.telemetry[j];
        s.telemetry.bindValue(0, t.run);
        s.telemetry.bindValue(1, t.key);
        s.telemetry.bindValue(2, t.wall);
        s.telemetry.bindValue(3, t.step);
        s.telemetry.bindValue(4, t.value);
        ok = run(s.telemetry);
    }
    for (std::size_t j = 0; ok && j < p.logs.size(); ++j) {
        const auto& l = p.logs[j];
        s.log.bindValue(0, l.run);
        s.log.bindValue(1, l.wall);
        s.log.bindValue(2, l.level);
        s.log.bindValue(3, l.text);
        ok = run(s.log);
    }
    for (std::size_t j = 0; ok && j < p.checkpoints.size(); ++j) {
        const auto& c = p.checkpoints[j];
        s.checkpoint.bindValue(0, c.run);
        s.checkpoint.bindValue(1, c.step);
        s.checkpoint.bindValue(2, c.path);
        s.checkpoint.bindValue(3, c.bytes);
        ok = run(s.checkpoint);
    }

    QSqlQuery q(db_);
    for (auto it = p.patches.cbegin(); ok && it != p.patches.cend(); ++it) {
        const auto& patch = it.value();
        auto update = [&](const QString& set, const QVariantList& values) {
            q.prepare(QStringLiteral("UPDATE runs SET %1 WHERE id = ?").arg(set));
            for (const QVariant& v : values) q.addBindValue(v);
            q.addBindValue(it.key());
            return run(q);
        };
        if (patch.started) {
            ok = update(QStringLiteral("preset = ?, config = ?, device = ?, params_total = ?, "
                                       "params_active = ?"),
                        {patch.preset, patch.config, patch.device, patch.paramsTotal,
                         patch.paramsActive});
        }
        if (ok && patch.lastStep) {
            ok = update(QStringLiteral("last_step = MAX(last_step, ?)"), {*patch.lastStep});
        }
        if (ok && patch.bestSet) ok = update(QStringLiteral("best_val = ?"), {*patch.bestSet});
        if (ok && patch.bestMin) {
            ok = update(QStringLiteral("best_val = CASE WHEN best_val IS NULL OR best_val > ? "
                                       "THEN ? ELSE best_val END"),
                        {*patch.bestMin, *patch.bestMin});
        }
        if (ok && patch.status) {
            ok = update(QStringLiteral("status = ?, finished = ?"),
                        {*patch.status, patch.finished.value_or(0.0)});
        }
    }

    if (ok) {
        ok = db_.commit();
        if (!ok) failure = reasonOf(db_.lastError());
    }
    if (!ok) {
        db_.rollback();
        store_.setError(RunStore::tr("Cannot write to the run store %1: %2")
                            .arg(QDir::toNativeSeparators(store_.path_), failure));
        if (p.rows() > kDropAfterRows) {
            qWarning().noquote() << "run store: dropped" << p.rows() << "unwritten rows";
            p.clear();
        }
        return false;
    }
    const bool runsTouched = !p.patches.isEmpty();
    p.clear();
    if (runsTouched) store_.runsDirty_.store(true);
    return true;
}

bool RunStore::Writer::renameRun(const QString& runId, const QString& name) {
    QSqlQuery q(db_);
    q.prepare(QStringLiteral("UPDATE runs SET name = ? WHERE id = ?"));
    q.addBindValue(name);
    q.addBindValue(runId);
    return q.exec() && q.numRowsAffected() == 1;
}

bool RunStore::Writer::setTags(const QString& runId, const QStringList& tags) {
    QSqlQuery q(db_);
    q.prepare(QStringLiteral("UPDATE runs SET tags = ? WHERE id = ?"));
    q.addBindValue(tagsToJson(tags));
    q.addBindValue(runId);
    return q.exec() && q.numRowsAffected() == 1;
}

bool RunStore::Writer::deleteRun(const QString& runId) {
    commit();  // rows of the run handed over before must not outlive it
    if (!db_.transaction()) return false;
    QSqlQuery q(db_);
    int removed = 0;
    for (const char* table : {"metrics", "telemetry", "logs", "checkpoints", "runs"}) {
        const QString column = qstrcmp(table, "runs") == 0 ? QStringLiteral("id")
                                                           : QStringLiteral("run_id");
        q.prepare(QStringLiteral("DELETE FROM %1 WHERE %2 = ?")
                      .arg(QLatin1String(table), column));
        q.addBindValue(runId);
        if (!q.exec()) {
            db_.rollback();
            return false;
        }
        removed = q.numRowsAffected();  // of runs, the last table
    }
    if (!db_.commit()) {
        db_.rollback();
        return false;
    }
    pending_.dropRun(runId);  // left by a failed commit
    states_.insert(runId, RunState{});  // later events of this id are dropped
    return removed > 0;
}

// ---- the hand-over to the writer thread ------------------------------------------------------

struct RunStore::Queue {
    using Clock = std::chrono::steady_clock;

    struct Item {
        QString runId;
        QVector<ev::Event> events;
        bool own = false;  // events is the queue's own vector: single appends may join it
        Clock::time_point handedOver;
        std::function<void(Writer&)> job;  // set: an item that runs this instead
        std::shared_ptr<std::promise<void>> done;
    };

    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Item> items;
    bool stopping = false;
};

// ---- RunStore -----------------------------------------------------------------------------------

RunStore::RunStore(const QString& path, QObject* parent)
    : RunStore(path, Writes::OnWriterThread, parent) {}

RunStore::RunStore(const QString& path, Writes writes, QObject* parent)
    : QObject(parent), path_(path), writes_(writes) {
    static QAtomicInt counter;
    connection_ = QStringLiteral("r1_run_store_%1").arg(counter.fetchAndAddRelaxed(1));
    const QString writerConnection = connection_ + QStringLiteral("_writer");

    if (writes_ == Writes::OnCallerThread) {
        writer_ = std::make_unique<Writer>(*this, writerConnection);
        open_ = writer_->open();
        if (open_) {
            interruptedOnOpen_ = writer_->interruptedOnOpen();
            nativeBinding_ = writer_->nativeBinding();
            commitTimer_.setSingleShot(true);
            commitTimer_.setInterval(kFlushIntervalMs);
            connect(&commitTimer_, &QTimer::timeout, this, &RunStore::commitOnCallerThread);
        } else {
            writer_.reset();
        }
    } else {
        queue_ = std::make_unique<Queue>();
        auto opened = std::make_shared<std::promise<bool>>();
        std::future<bool> result = opened->get_future();
        thread_ = QThread::create([this, writerConnection, opened] {
            writer_ = std::make_unique<Writer>(*this, writerConnection);
            const bool ok = writer_->open();
            if (ok) {
                interruptedOnOpen_ = writer_->interruptedOnOpen();
                nativeBinding_ = writer_->nativeBinding();
            }
            opened->set_value(ok);
            if (ok) writerLoop();
            writer_.reset();
        });
        thread_->setObjectName(QStringLiteral("r1-run-store"));
        thread_->start();
        open_ = result.get();
    }
    if (open_) open_ = openReader();
    if (!open_) stopWriter();
}

RunStore::~RunStore() {
    stopWriter();
    if (db_.isValid()) {
        db_.close();
        db_ = QSqlDatabase();
        QSqlDatabase::removeDatabase(connection_);
    }
}

bool RunStore::openReader() {
    db_ = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection_);
    db_.setDatabaseName(path_);
    db_.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    QString failure;
    if (!db_.open()) {
        failure = reasonOf(db_.lastError());
    } else {
        QSqlQuery q(db_);
        if (!q.exec(QStringLiteral("PRAGMA query_only = 1"))) failure = reasonOf(q.lastError());
    }
    if (failure.isEmpty()) return true;
    setError(tr("Cannot open the run store %1: %2")
                 .arg(QDir::toNativeSeparators(path_), failure));
    return false;
}

void RunStore::stopWriter() {
    if (thread_) {
        {
            std::lock_guard<std::mutex> lock(queue_->mutex);
            queue_->stopping = true;
        }
        queue_->wake.notify_one();
        thread_->wait();  // the writer commits what is left first
        delete thread_;
        thread_ = nullptr;
    } else if (writer_) {
        commitTimer_.stop();
        writer_->commit();
        writer_.reset();
    }
}

bool RunStore::isOpen() const { return open_; }

QString RunStore::errorString() const {
    QMutexLocker lock(&errorMutex_);
    return error_;
}

void RunStore::setError(const QString& error) {
    qWarning().noquote() << error;
    QMutexLocker lock(&errorMutex_);
    error_ = error;
}

void RunStore::reportRunsChanged(bool changed) {
    if (runsDirty_.exchange(false) || changed) Q_EMIT runsChanged();
}

void RunStore::writerLoop() {
    using Clock = Queue::Clock;
    constexpr Clock::time_point kNever = Clock::time_point::max();
    const auto interval = std::chrono::milliseconds(kFlushIntervalMs);
    Writer& writer = *writer_;
    // Commit by then: kFlushIntervalMs after the oldest uncommitted event was handed over.
    Clock::time_point due = kNever;
    auto commit = [&] {
        writer.commit();
        due = writer.hasPending() ? Clock::now() + interval : kNever;  // failed: try again
        if (runsDirty_.load()) {
            QMetaObject::invokeMethod(
                this, [this] { reportRunsChanged(); }, Qt::QueuedConnection);
        }
    };

    auto map = [&](const Queue::Item& item) {
        const bool hadPending = writer.hasPending();
        for (const ev::Event& event : item.events) writer.map(item.runId, event);
        if (!hadPending && writer.hasPending()) due = item.handedOver + interval;
    };

    std::unique_lock<std::mutex> lock(queue_->mutex);
    std::deque<Queue::Item>& items = queue_->items;
    const auto ready = [&] { return !items.empty() || queue_->stopping; };
    for (;;) {
        if (items.empty()) {
            if (queue_->stopping) break;
            if (due == kNever) {
                queue_->wake.wait(lock, ready);
            } else if (!queue_->wake.wait_until(lock, due, ready)) {
                lock.unlock();
                commit();
                lock.lock();
            }
            continue;
        }
        Queue::Item item = std::move(items.front());
        items.pop_front();
        lock.unlock();
        if (item.job) {
            item.job(writer);
            if (!writer.hasPending()) {
                due = kNever;
            } else if (due == kNever) {
                due = Clock::now() + interval;
            }
            item.done->set_value();
        } else {
            map(item);
            if (writer.pendingRows() >= kFlushNowRows || Clock::now() >= due) {
                // What else has arrived goes into the same transaction: a writer that falls
                // behind writes fewer, larger transactions instead of one per batch.
                lock.lock();
                while (!items.empty() && !items.front().job &&
                       writer.pendingRows() < kFlushNowRows) {
                    Queue::Item more = std::move(items.front());
                    items.pop_front();
                    lock.unlock();
                    map(more);
                    more = Queue::Item();  // not under the lock
                    lock.lock();
                }
                lock.unlock();
                commit();
            }
        }
        item = Queue::Item();  // the events go now, not under the lock
        lock.lock();
    }
    lock.unlock();
    writer.commit();  // shutting down: everything handed over is written (no one to tell)
}

void RunStore::runOnWriter(const std::function<void(Writer&)>& job) {
    if (writes_ == Writes::OnCallerThread) {
        job(*writer_);
        if (writer_->hasPending()) {
            if (!commitTimer_.isActive()) commitTimer_.start();
        } else {
            commitTimer_.stop();
        }
        return;
    }
    // Shared: the writer may still be inside set_value() when this thread wakes up and returns.
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    {
        std::lock_guard<std::mutex> lock(queue_->mutex);
        Queue::Item item;
        item.job = job;
        item.done = done;
        queue_->items.push_back(std::move(item));
    }
    queue_->wake.notify_one();
    finished.wait();
}

void RunStore::commitOnCallerThread() {
    commitTimer_.stop();
    writer_->commit();
    if (writer_->hasPending()) commitTimer_.start();  // it failed: try again
    reportRunsChanged();
}

QString RunStore::beginRun(const QString& name, const QString& runDir) {
    if (!open_) return {};
    QString id;
    runOnWriter([&](Writer& writer) { id = writer.beginRun(name, runDir); });
    if (!id.isEmpty()) reportRunsChanged(true);
    return id;
}

void RunStore::append(const QString& runId, const ev::Event& event) {
    if (!open_) return;
    if (writes_ == Writes::OnCallerThread) {
        writer_->map(runId, event);
        if (writer_->pendingRows() >= kFlushNowRows) {
            commitOnCallerThread();
        } else if (writer_->hasPending() && !commitTimer_.isActive()) {
            commitTimer_.start();
        }
        return;
    }
    bool wasEmpty = false;
    {
        std::lock_guard<std::mutex> lock(queue_->mutex);
        std::deque<Queue::Item>& items = queue_->items;
        wasEmpty = items.empty();
        if (!wasEmpty && items.back().own && items.back().runId == runId) {
            items.back().events.push_back(event);
        } else {
            Queue::Item item;
            item.runId = runId;
            item.events.push_back(event);
            item.own = true;
            item.handedOver = Queue::Clock::now();
            items.push_back(std::move(item));
        }
    }
    if (wasEmpty) queue_->wake.notify_one();
}

void RunStore::append(const QString& runId, const QVector<ev::Event>& events) {
    if (!open_ || events.isEmpty()) return;
    if (writes_ == Writes::OnCallerThread) {
        for (const ev::Event& event : events) append(runId, event);
        return;
    }
    bool wasEmpty = false;
    {
        std::lock_guard<std::mutex> lock(queue_->mutex);
        wasEmpty = queue_->items.empty();
        Queue::Item item;
        item.runId = runId;
        item.events = events;  // shared, not copied
        item.handedOver = Queue::Clock::now();
        queue_->items.push_back(std::move(item));
    }
    if (wasEmpty) queue_->wake.notify_one();
}

bool RunStore::flush() {
    if (!open_) return false;
    bool ok = false;
    runOnWriter([&ok](Writer& writer) { ok = writer.commit(); });
    reportRunsChanged();
    return ok;
}

QVector<RunInfo> RunStore::runs() const {
    QVector<RunInfo> out;
    if (!open_) return out;
    QSqlQuery q(db_);
    q.setForwardOnly(true);
    if (!q.exec(
            QStringLiteral("SELECT %1 FROM runs ORDER BY started DESC, id").arg(kRunColumns))) {
        return out;
    }
    while (q.next()) out.push_back(runFromQuery(q));
    return out;
}

std::optional<RunInfo> RunStore::run(const QString& runId) const {
    if (!open_) return std::nullopt;
    QSqlQuery q(db_);
    q.prepare(QStringLiteral("SELECT %1 FROM runs WHERE id = ?").arg(kRunColumns));
    q.addBindValue(runId);
    if (!q.exec() || !q.next()) return std::nullopt;
    return runFromQuery(q);
}

std::vector<MetricRow> RunStore::metric(const QString& runId, const QString& key) const {
    std::vector<MetricRow> out;
    if (!open_) return out;
    QSqlQuery q(db_);
    q.setForwardOnly(true);
    q.prepare(isTelemetryKey(key)
                  ? QStringLiteral("SELECT step, wall, value FROM telemetry WHERE run_id = ? "
                                   "AND key = ? ORDER BY step, wall")
                  : QStringLiteral("SELECT step, wall, value FROM metrics WHERE run_id = ? "
                                   "AND key = ? ORDER BY step"));
    q.addBindValue(runId);
    q.addBindValue(key);
    if (!q.exec()) return out;
    while (q.next()) {
        out.push_back(
            {q.value(0).toLongLong(), realOr(q.value(1), 0.0), realOr(q.value(2), kNaN)});
    }
    return out;
}

QStringList RunStore::metricKeys(const QString& runId) const {
    QStringList out;
    if (!open_) return out;
    // Skip-scan over each table's (run_id, key, ...) primary key: one seek per distinct key.
    QSqlQuery q(db_);
    q.setForwardOnly(true);
    for (const char* table : {"metrics", "telemetry"}) {
        q.prepare(QStringLiteral(
                      "WITH RECURSIVE k(key) AS ("
                      " SELECT MIN(key) FROM %1 WHERE run_id = ?"
                      " UNION ALL"
                      " SELECT (SELECT MIN(m.key) FROM %1 m WHERE m.run_id = ? AND m.key > k.key)"
                      " FROM k WHERE k.key IS NOT NULL)"
                      " SELECT key FROM k WHERE key IS NOT NULL")
                      .arg(QLatin1String(table)));
        q.addBindValue(runId);
        q.addBindValue(runId);
        if (!q.exec()) return {};
        while (q.next()) out << q.value(0).toString();
    }
    std::sort(out.begin(), out.end());
    return out;
}

QVector<LogRow> RunStore::logs(const QString& runId, const QString& minLevel,
                               const QString& search) const {
    QVector<LogRow> out;
    if (!open_) return out;
    QString sql = QStringLiteral("SELECT wall, level, text FROM logs WHERE run_id = ?");
    QVariantList values{runId};
    const int min = levelRank(minLevel.trimmed().toLower());
    if (min > 0) {
        QStringList levels;
        for (const char* l : {"debug", "info", "warn", "error"}) {
            if (levelRank(QString::fromLatin1(l)) >= min) levels << QStringLiteral("'%1'").arg(l);
        }
        sql += QStringLiteral(" AND level IN (%1)").arg(levels.join(u','));
    }
    if (!search.isEmpty()) {
        QString pattern = search;
        pattern.replace(u'\\', QStringLiteral("\\\\"))
            .replace(u'%', QStringLiteral("\\%"))
            .replace(u'_', QStringLiteral("\\_"));
        sql += QStringLiteral(" AND text LIKE ? ESCAPE '\\'");
        values << QStringLiteral("%") + pattern + QStringLiteral("%");
    }
    sql += QStringLiteral(" ORDER BY wall, rowid");
    QSqlQuery q(db_);
    q.setForwardOnly(true);
    q.prepare(sql);
    for (const QVariant& v : values) q.addBindValue(v);
    if (!q.exec()) return out;
    while (q.next()) {
        out.push_back({realOr(q.value(0), 0.0), q.value(1).toString(), q.value(2).toString()});
    }
    return out;
}

QVector<CheckpointRow> RunStore::checkpoints(const QString& runId) const {
    QVector<CheckpointRow> out;
    if (!open_) return out;
    QSqlQuery q(db_);
    q.setForwardOnly(true);
    q.prepare(QStringLiteral(
        "SELECT step, path, bytes FROM checkpoints WHERE run_id = ? ORDER BY step, rowid"));
    q.addBindValue(runId);
    if (!q.exec()) return out;
    while (q.next()) {
        out.push_back({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toLongLong()});
    }
    return out;
}

bool RunStore::renameRun(const QString& runId, const QString& name) {
    const QString trimmed = name.trimmed();
    if (!open_ || trimmed.isEmpty()) return false;
    bool ok = false;
    runOnWriter([&](Writer& writer) { ok = writer.renameRun(runId, trimmed); });
    if (ok) reportRunsChanged(true);
    return ok;
}

bool RunStore::setTags(const QString& runId, const QStringList& tags) {
    if (!open_) return false;
    QStringList clean;
    for (const QString& t : tags) {
        const QString tag = t.trimmed();
        if (!tag.isEmpty() && !clean.contains(tag)) clean << tag;
    }
    bool ok = false;
    runOnWriter([&](Writer& writer) { ok = writer.setTags(runId, clean); });
    if (ok) reportRunsChanged(true);
    return ok;
}

bool RunStore::deleteRun(const QString& runId) {
    if (!open_) return false;
    bool removed = false;
    runOnWriter([&](Writer& writer) { removed = writer.deleteRun(runId); });
    reportRunsChanged(removed);
    return removed;
}

bool RunStore::exportCsv(const QString& runId, const QString& path, QString* error) {
    auto failWith = [&](const QString& reason) {
        if (error) {
            *error = tr("Cannot export run %1 to %2: %3")
                         .arg(runId, QDir::toNativeSeparators(path), reason);
        }
        return false;
    };
    if (!open_) return failWith(errorString());
    flush();
    if (!run(runId)) return failWith(tr("no such run"));

    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return failWith(file.errorString());
    QByteArray chunk("step,wall,key,value\n");
    QSqlQuery q(db_);
    q.setForwardOnly(true);
    for (const QString& key : metricKeys(runId)) {
        q.prepare(isTelemetryKey(key)
                      ? QStringLiteral("SELECT step, wall, value FROM telemetry WHERE run_id = ? "
                                       "AND key = ? ORDER BY step, wall")
                      : QStringLiteral("SELECT step, wall, value FROM metrics WHERE run_id = ? "
                                       "AND key = ? ORDER BY step"));
        q.addBindValue(runId);
        q.addBindValue(key);
        if (!q.exec()) return failWith(reasonOf(q.lastError()));
        const QByteArray keyField = csvField(key);
        while (q.next()) {
            chunk += QByteArray::number(q.value(0).toLongLong());
            chunk += ',';
            chunk += QByteArray::number(realOr(q.value(1), 0.0), 'f', 3);
            chunk += ',';
            chunk += keyField;
            chunk += ',';
            chunk += QString::number(realOr(q.value(2), kNaN), 'g', QLocale::FloatingPointShortest)
                         .toLatin1();
            chunk += '\n';
            if (chunk.size() >= (1 << 20)) {
                if (file.write(chunk) != chunk.size()) return failWith(file.errorString());
                chunk.clear();
            }
        }
    }
    if (file.write(chunk) != chunk.size() || !file.commit()) return failWith(file.errorString());
    return true;
}

std::optional<qint64> progressStep(const ev::Event& event) {
    if (const auto* s = std::get_if<ev::Step>(&event.payload)) return s->step;
    if (const auto* e = std::get_if<ev::Eval>(&event.payload)) return e->step;
    if (const auto* f = std::get_if<ev::Finish>(&event.payload)) return f->step;
    return std::nullopt;
}

r1::widgets::RunRow toRunRow(const RunInfo& info) {
    r1::widgets::RunRow row;
    row.id = info.id;
    row.name = info.name;
    row.status = info.status;
    row.preset = info.preset;
    row.tags = info.tags.join(QStringLiteral(", "));
    row.best_val = info.best_val;
    row.steps = info.last_step;
    row.started = info.started;
    row.finished = info.finished;
    return row;
}

QVector<r1::widgets::RunRow> toRunRows(const QVector<RunInfo>& infos) {
    QVector<r1::widgets::RunRow> rows;
    rows.reserve(infos.size());
    for (const RunInfo& info : infos) rows.push_back(toRunRow(info));
    return rows;
}

}  // namespace r1::app
