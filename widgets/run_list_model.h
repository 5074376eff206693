#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <QStringList>
#include <QVector>

#include <limits>

namespace r1::widgets {

// What the run table shows of one run; the app fills it from its run store.
struct RunRow {
    QString id;
    QString name;
    QString status;  // running | completed | stopped | failed | interrupted
    QString preset;
    QString tags;  // comma-separated
    double best_val = std::numeric_limits<double>::quiet_NaN();
    qint64 steps = 0;
    double started = 0.0;   // unix seconds
    double finished = 0.0;  // 0 while not ended

    bool operator==(const RunRow& o) const;
    bool operator!=(const RunRow& o) const { return !(*this == o); }
};

// The run history table. Name and Tags are editable: an edit emits renameRequested /
// tagsRequested and leaves the row as it is; the owner of the storage answers with setRows().
class RunListModel final : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { Name, Status, Preset, BestVal, Steps, Duration, Started, Tags, ColumnCount };
    enum Role {
        IdRole = Qt::UserRole,  // run id, every column
        SortRole,               // raw value for QSortFilterProxyModel::setSortRole
    };

    explicit RunListModel(QObject* parent = nullptr);

    // Updates the table with as few changes as it can: rows removed, inserted and changed in
    // place; a reset only when the surviving runs changed order.
    void setRows(const QVector<RunRow>& rows);
    RunRow rowAt(int row) const;
    int rowOf(const QString& id) const;  // -1 if absent
    const QVector<RunRow>& rows() const { return rows_; }

    static QStringList splitTags(const QString& text);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value,
                 int role = Qt::EditRole) override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

Q_SIGNALS:
    void renameRequested(const QString& id, const QString& name);
    void tagsRequested(const QString& id, const QStringList& tags);

private:
    QString statusText(const QString& status) const;
    double durationSeconds(const RunRow& row) const;

    QVector<RunRow> rows_;
};

}  // namespace r1::widgets
