#include "widgets/cluster_models.h"

#include <QBrush>
#include <QCoreApplication>
#include <QColor>
#include <QDateTime>
#include <QLocale>

namespace r1::widgets {
namespace {

QString memText(qint64 totalKb, qint64 availKb) {
    if (totalKb <= 0) return {};
    const double gib = 1024.0 * 1024.0;
    return QCoreApplication::translate("r1::widgets::NodeTableModel", "%1 GiB (%2 free)")
        .arg(totalKb / gib, 0, 'f', 1)
        .arg(availKb / gib, 0, 'f', 1);
}

QColor stateColor(const QString& s) {
    if (s == QLatin1String("failed") || s == QLatin1String("changed") || s == QLatin1String("down"))
        return QColor(0xc6, 0x28, 0x28);
    if (s == QLatin1String("running") || s == QLatin1String("launching") ||
        s == QLatin1String("unknown"))
        return QColor(0xb2, 0x6a, 0x00);
    if (s == QLatin1String("completed") || s == QLatin1String("known") || s == QLatin1String("ok"))
        return QColor(0x2e, 0x7d, 0x32);
    return {};
}

}  // namespace

// ---- nodes --------------------------------------------------------------------------------

void NodeTableModel::setRows(const QVector<NodeRow>& rows) { replaceRows(rows); }

int NodeTableModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : ColumnCount; }

QVariant NodeTableModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case Node: return tr("Node");
        case Address: return tr("Address");
        case Ranks: return tr("Ranks");
        case HostKey: return tr("Host key");
        case Health: return tr("Health");
        case Latency: return tr("Latency");
        case Os: return tr("OS");
        case Cpus: return tr("CPUs");
        case Memory: return tr("Memory");
        case Gpus: return tr("GPUs");
        case Cuda: return tr("CUDA / NCCL");
        case Worker: return tr("r1-worker");
    }
    return {};
}

QVariant NodeTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rows_.size()) return {};
    const NodeRow& r = rows_[index.row()];
    const QString health = r.health == NodeRow::Health::Ok        ? QStringLiteral("ok")
                           : r.health == NodeRow::Health::Down    ? QStringLiteral("down")
                           : r.health == NodeRow::Health::Warning ? QStringLiteral("unknown")
                                                                  : QString();
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case Node: return r.label;
            case Address: return r.address;
            case Ranks:
                return r.gpuRanks ? tr("%n GPU(s)", nullptr, r.ranks) : tr("%n CPU slot(s)", nullptr, r.ranks);
            case HostKey:
                if (r.hostKey == QLatin1String("known")) return tr("trusted");
                if (r.hostKey == QLatin1String("unknown")) return tr("not trusted yet");
                if (r.hostKey == QLatin1String("changed")) return tr("CHANGED");
                if (r.hostKey == QLatin1String("unscannable")) return tr("no key read");
                return tr("not checked");
            case Health:
                switch (r.health) {
                    case NodeRow::Health::Ok: return tr("ready");
                    case NodeRow::Health::Warning: return tr("needs attention");
                    case NodeRow::Health::Down: return tr("unreachable");
                    case NodeRow::Health::Unknown: return tr("not probed");
                }
                return {};
            case Latency:
                return r.latencyMs >= 0 ? tr("%1 ms").arg(r.latencyMs, 0, 'f', 1) : QString();
            case Os: return r.os;
            case Cpus: return r.cpus > 0 ? QString::number(r.cpus) : QString();
            case Memory: return memText(r.memTotalKb, r.memAvailableKb);
            case Gpus: return r.gpus;
            case Cuda: return r.cuda;
            case Worker: return r.worker;
        }
    } else if (role == Qt::ToolTipRole) {
        if (index.column() == HostKey && !r.fingerprint.isEmpty()) return r.fingerprint;
        if (!r.healthText.isEmpty()) return r.healthText;
    } else if (role == Qt::ForegroundRole) {
        if (index.column() == HostKey) {
            QColor c = stateColor(r.hostKey);
            if (c.isValid()) return QBrush(c);
        }
        if (index.column() == Health) {
            QColor c = stateColor(health);
            if (c.isValid()) return QBrush(c);
        }
    } else if (role == Qt::TextAlignmentRole) {
        if (index.column() == Cpus || index.column() == Latency)
            return int(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

// ---- jobs ---------------------------------------------------------------------------------

void JobTableModel::setRows(const QVector<JobRow>& rows) {
    replaceRows(rows, [](const JobRow& a, const JobRow& b) { return a.id == b.id; });
}

int JobTableModel::rowOf(const QString& id) const {
    for (int i = 0; i < rows_.size(); ++i)
        if (rows_[i].id == id) return i;
    return -1;
}

int JobTableModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : ColumnCount; }

QVariant JobTableModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case Id: return tr("Job");
        case State: return tr("State");
        case Ranks: return tr("Ranks");
        case Started: return tr("Started");
        case Checkpoint: return tr("Last checkpoint");
        case Cause: return tr("Cause");
    }
    return {};
}

QVariant JobTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rows_.size()) return {};
    const JobRow& r = rows_[index.row()];
    if (role == IdRole) return r.id;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case Id: return r.id;
            case State: return r.state;
            case Ranks: return r.gpu ? tr("%n GPU rank(s)", nullptr, r.worldSize) : tr("%n CPU rank(s)", nullptr, r.worldSize);
            case Started:
                return r.created > 0 ? QLocale().toString(QDateTime::fromMSecsSinceEpoch(qint64(r.created * 1000)),
                                                          QLocale::ShortFormat)
                                     : QString();
            case Checkpoint: return r.checkpointStep >= 0 ? tr("step %1").arg(r.checkpointStep) : QString();
            case Cause: return r.cause;
        }
    } else if (role == Qt::ToolTipRole && index.column() == Cause && !r.cause.isEmpty()) {
        return r.cause;
    } else if (role == Qt::ForegroundRole && index.column() == State) {
        QColor c = stateColor(r.state);
        if (c.isValid()) return QBrush(c);
    }
    return {};
}

// ---- ranks --------------------------------------------------------------------------------

void RankTableModel::setRows(const QVector<RankRow>& rows) { replaceRows(rows); }

int RankTableModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : ColumnCount; }

QString RankTableModel::statusText(const RankRow& r) {
    if (!r.finish.isEmpty()) return r.finish;
    if (r.alive) return tr("running");
    if (r.exitCode >= 0) return tr("exited (%1)").arg(r.exitCode);
    return tr("not running");
}

QVariant RankTableModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case Rank: return tr("Rank");
        case Node: return tr("Node");
        case LocalRank: return tr("Local rank");
        case Pid: return tr("PID");
        case Status: return tr("Status");
        case Lines: return tr("Events");
        case LastError: return tr("Last error");
    }
    return {};
}

QVariant RankTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rows_.size()) return {};
    const RankRow& r = rows_[index.row()];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case Rank: return r.rank;
            case Node: return r.node;
            case LocalRank: return r.localRank;
            case Pid: return r.pid > 0 ? QVariant(r.pid) : QVariant();
            case Status: return statusText(r);
            case Lines: return r.lines;
            case LastError: return r.lastError;
        }
    } else if (role == Qt::ToolTipRole && index.column() == LastError && !r.lastError.isEmpty()) {
        return r.lastError;
    } else if (role == Qt::ForegroundRole && index.column() == Status) {
        QColor c = stateColor(r.finish.isEmpty() ? (r.alive ? QStringLiteral("running") : QString()) : r.finish);
        if (c.isValid()) return QBrush(c);
    }
    return {};
}

}  // namespace r1::widgets
