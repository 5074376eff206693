#pragma once
// What the workbench's small table models share: a QVector of plain rows replaced as a whole.
// replaceRows() updates in place (one dataChanged, selection and scroll kept) when the same
// items come back with new fields, and resets the model when items were added, removed or
// reordered. The derived model says what "the same item" is (an id, a key; by default only the
// count matters) and supplies columns, headers and data.
#include <QAbstractTableModel>
#include <QVector>

namespace r1::widgets {

template <class Row>
class RowTableModel : public QAbstractTableModel {
public:
    explicit RowTableModel(QObject* parent = nullptr) : QAbstractTableModel(parent) {}

    const QVector<Row>& rows() const { return rows_; }
    int rowCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : static_cast<int>(rows_.size());
    }

protected:
    template <class Same>
    void replaceRows(const QVector<Row>& rows, Same same) {
        bool inPlace = rows.size() == rows_.size();
        for (int i = 0; inPlace && i < rows.size(); ++i) inPlace = same(rows[i], rows_[i]);
        if (!inPlace) {
            this->beginResetModel();
            rows_ = rows;
            this->endResetModel();
            return;
        }
        rows_ = rows;
        if (!rows_.isEmpty())
            Q_EMIT this->dataChanged(this->index(0, 0),
                                     this->index(rows_.size() - 1, this->columnCount() - 1));
    }
    void replaceRows(const QVector<Row>& rows) {
        replaceRows(rows, [](const Row&, const Row&) { return true; });
    }

    QVector<Row> rows_;
};

}  // namespace r1::widgets
