#pragma once
// Item models of the Review page: the scans of the open folder with their review progress, and
// the candidates of the current scan with their decisions. The app fills them; they know nothing
// of volumes, files or threads.
#include "widgets/row_table_model.h"

#include <QString>
#include <QVector>

namespace r1::widgets {

enum class ReviewDecision { Pending, Accepted, Rejected, Missed };
QString decisionText(ReviewDecision d);  // translated

struct ScanRow {
    QString id;           // series UID
    int nodules = -1;     // annotated nodules; -1 without annotations
    int candidates = 0;   // candidates at or above the score threshold
    int reviewed = 0;     // of those, accepted or rejected
    int accepted = 0, rejected = 0, missed = 0;
    bool loadable = true;  // header read; false shows the row in red with `problem` as tooltip
    QString problem;
};

class ScanListModel final : public RowTableModel<ScanRow> {
    Q_OBJECT
public:
    enum Column { Scan, Nodules, Candidates, Reviewed, Accepted, Rejected, Missed, ColumnCount };
    using RowTableModel::RowTableModel;
    void setRows(const QVector<ScanRow>& rows);  // keeps the rows in place when only counts change
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

private:
};

struct CandidateRow {
    int id = 0;         // candidate id (its data row in the candidate file, from 0); missed marks:
                        // their own numbering, shown as M<id>
    double slice = 0;   // axial slice index of the centre (continuous)
    double score = -1;  // < 0: none (missed marks)
    double diameterMm = -1;
    ReviewDecision decision = ReviewDecision::Pending;
};

class CandidateTableModel final : public RowTableModel<CandidateRow> {
    Q_OBJECT
public:
    enum Column { Id, Slice, Score, Decision, ColumnCount };
    enum Role { KeyRole = Qt::UserRole };  // "c<id>" or "m<id>": unique over both kinds
    using RowTableModel::RowTableModel;
    void setRows(const QVector<CandidateRow>& rows);
    int rowOf(const QString& key) const;  // -1 when absent
    static QString keyOf(const CandidateRow& r);
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

private:
};

}  // namespace r1::widgets
