#include "widgets/review_models.h"

#include <QBrush>
#include <QColor>
#include <QCoreApplication>

#include <cmath>

namespace r1::widgets {

QString decisionText(ReviewDecision d) {
    switch (d) {
        case ReviewDecision::Pending: return QCoreApplication::translate("r1::widgets::Review", "pending");
        case ReviewDecision::Accepted: return QCoreApplication::translate("r1::widgets::Review", "accepted");
        case ReviewDecision::Rejected: return QCoreApplication::translate("r1::widgets::Review", "rejected");
        case ReviewDecision::Missed: return QCoreApplication::translate("r1::widgets::Review", "missed");
    }
    return {};
}

namespace {

QColor decisionColor(ReviewDecision d) {
    switch (d) {
        case ReviewDecision::Accepted: return QColor(0x2e, 0x7d, 0x32);
        case ReviewDecision::Rejected: return QColor(0xc6, 0x28, 0x28);
        case ReviewDecision::Missed: return QColor(0xa0, 0x20, 0xa0);
        case ReviewDecision::Pending: break;
    }
    return {};
}

}  // namespace

// ---- scans --------------------------------------------------------------------------------

void ScanListModel::setRows(const QVector<ScanRow>& rows) {
    replaceRows(rows, [](const ScanRow& a, const ScanRow& b) { return a.id == b.id; });
}

int ScanListModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : ColumnCount; }

QVariant ScanListModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal) return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
            case Nodules: return tr("Annotated nodules (annotations.csv)");
            case Candidates: return tr("Candidates at or above the score threshold");
            case Reviewed: return tr("Candidates accepted or rejected / candidates");
            case Accepted: return tr("Candidates the reviewer accepted as nodules");
            case Rejected: return tr("Candidates the reviewer rejected");
            case Missed: return tr("Nodules the reviewer marked as missed by the detector");
        }
        return {};
    }
    if (role != Qt::DisplayRole) return {};
    switch (section) {
        case Scan: return tr("Scan");
        case Nodules: return tr("Nodules");
        case Candidates: return tr("Cand.");
        case Reviewed: return tr("Reviewed");
        case Accepted: return tr("Acc.");
        case Rejected: return tr("Rej.");
        case Missed: return tr("Missed");
    }
    return {};
}

QVariant ScanListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rows_.size()) return {};
    const ScanRow& r = rows_[index.row()];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case Scan: return r.id;
            case Nodules: return r.nodules < 0 ? QStringLiteral("\u2014") : QString::number(r.nodules);
            case Candidates: return r.candidates;
            case Reviewed: return QStringLiteral("%1 / %2").arg(r.reviewed).arg(r.candidates);
            case Accepted: return r.accepted;
            case Rejected: return r.rejected;
            case Missed: return r.missed;
        }
    } else if (role == Qt::ToolTipRole) {
        return r.loadable ? r.id : tr("%1\n%2").arg(r.id, r.problem);
    } else if (role == Qt::ForegroundRole) {
        if (!r.loadable) return QBrush(QColor(0xc6, 0x28, 0x28));
        if (index.column() == Reviewed && r.candidates > 0 && r.reviewed == r.candidates)
            return QBrush(decisionColor(ReviewDecision::Accepted));
    } else if (role == Qt::TextAlignmentRole && index.column() != Scan) {
        return int(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

// ---- candidates ---------------------------------------------------------------------------

QString CandidateTableModel::keyOf(const CandidateRow& r) {
    return (r.decision == ReviewDecision::Missed ? QStringLiteral("m%1") : QStringLiteral("c%1")).arg(r.id);
}

void CandidateTableModel::setRows(const QVector<CandidateRow>& rows) {
    replaceRows(rows,
                [](const CandidateRow& a, const CandidateRow& b) { return keyOf(a) == keyOf(b); });
}

int CandidateTableModel::rowOf(const QString& key) const {
    for (int i = 0; i < rows_.size(); ++i)
        if (keyOf(rows_[i]) == key) return i;
    return -1;
}

int CandidateTableModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : ColumnCount; }

QVariant CandidateTableModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case Id: return tr("#");
        case Slice: return tr("Slice");
        case Score: return tr("Score");
        case Decision: return tr("Decision");
    }
    return {};
}

QVariant CandidateTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rows_.size()) return {};
    const CandidateRow& r = rows_[index.row()];
    const bool missed = r.decision == ReviewDecision::Missed;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case Id: return missed ? QStringLiteral("M%1").arg(r.id) : QString::number(r.id);
            case Slice: return static_cast<int>(std::lround(r.slice)) + 1;  // 1-based, as shown
            case Score: return r.score < 0 ? QStringLiteral("\u2014") : QString::number(r.score, 'f', 3);
            case Decision: return decisionText(r.decision);
        }
    } else if (role == KeyRole) {
        return keyOf(r);
    } else if (role == Qt::ForegroundRole && index.column() == Decision) {
        const QColor c = decisionColor(r.decision);
        if (c.isValid()) return QBrush(c);
    } else if (role == Qt::TextAlignmentRole && index.column() != Decision) {
        return int(Qt::AlignRight | Qt::AlignVCenter);
    } else if (role == Qt::ToolTipRole && r.diameterMm > 0) {
        return tr("diameter %1 mm").arg(r.diameterMm, 0, 'f', 1);
    }
    return {};
}

}  // namespace r1::widgets
