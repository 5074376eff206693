#pragma once
// Item models of the Cluster page: the nodes of a profile with what probing and the host-key
// check found, the jobs launched from this machine, and the ranks of one job. The app fills
// them from the launcher (engine/cluster); these know nothing of SSH or threads.
#include "widgets/row_table_model.h"

#include <QString>
#include <QStringList>
#include <QVector>

namespace r1::widgets {

struct NodeRow {
    enum class Health { Unknown, Ok, Warning, Down };
    QString label, address;  // address: user@host:port as configured
    int ranks = 0;
    bool gpuRanks = false;
    QString hostKey;      // known | unknown | changed | unscannable | "" (not checked)
    QString fingerprint;  // of the key the node offers
    Health health = Health::Unknown;
    QString healthText;  // why (shown in the tooltip)
    double latencyMs = -1;
    QString os;
    int cpus = 0;
    qint64 memTotalKb = 0, memAvailableKb = 0;
    QString gpus;    // "8 × NVIDIA H200 (141 GiB)"
    QString cuda;    // driver / nvcc / NCCL
    QString worker;  // "r1-worker 0.1.0 · libtorch 2.11.0" or what is wrong
};

class NodeTableModel final : public RowTableModel<NodeRow> {
    Q_OBJECT
public:
    enum Column { Node, Address, Ranks, HostKey, Health, Latency, Os, Cpus, Memory, Gpus, Cuda, Worker, ColumnCount };
    using RowTableModel::RowTableModel;
    void setRows(const QVector<NodeRow>& rows);
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

private:
};

struct JobRow {
    QString id, profile, state, cause;
    int worldSize = 0;
    bool gpu = false;
    double created = 0, updated = 0;  // unix seconds
    qint64 checkpointStep = -1;
};

class JobTableModel final : public RowTableModel<JobRow> {
    Q_OBJECT
public:
    enum Column { Id, State, Ranks, Started, Checkpoint, Cause, ColumnCount };
    enum Role { IdRole = Qt::UserRole };
    using RowTableModel::RowTableModel;
    void setRows(const QVector<JobRow>& rows);  // keeps rows in place when only fields change
    int rowOf(const QString& id) const;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

private:
};

struct RankRow {
    int rank = 0, localRank = 0;
    QString node;
    qint64 pid = 0;
    bool alive = false;
    QString finish;     // completed | stopped | failed | "" (still running or unknown)
    int exitCode = -1;
    qint64 lines = 0;   // event lines received
    QString lastError;
};

class RankTableModel final : public RowTableModel<RankRow> {
    Q_OBJECT
public:
    enum Column { Rank, Node, LocalRank, Pid, Status, Lines, LastError, ColumnCount };
    using RowTableModel::RowTableModel;
    void setRows(const QVector<RankRow>& rows);
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;
    static QString statusText(const RankRow& r);

private:
};

}  // namespace r1::widgets
