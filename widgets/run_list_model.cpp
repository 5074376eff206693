#include "widgets/run_list_model.h"

#include <QColor>
#include <QDateTime>
#include <QHash>

#include <algorithm>
#include <cmath>

namespace r1::widgets {

namespace {

bool sameDouble(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

double nowSeconds() { return QDateTime::currentMSecsSinceEpoch() / 1000.0; }

QString formatDuration(double seconds) {
    const qint64 s = static_cast<qint64>(seconds);
    const auto two = [](qint64 v) { return QString::number(v).rightJustified(2, u'0'); };
    if (s >= 86400) {
        return QStringLiteral("%1d %2h").arg(s / 86400).arg(two(s % 86400 / 3600));
    }
    if (s >= 3600) return QStringLiteral("%1h %2m").arg(s / 3600).arg(two(s % 3600 / 60));
    if (s >= 60) return QStringLiteral("%1m %2s").arg(s / 60).arg(two(s % 60));
    return QStringLiteral("%1s").arg(s);
}

}  // namespace

bool RunRow::operator==(const RunRow& o) const {
    return id == o.id && name == o.name && status == o.status && preset == o.preset &&
           tags == o.tags && sameDouble(best_val, o.best_val) && steps == o.steps &&
           sameDouble(started, o.started) && sameDouble(finished, o.finished);
}

RunListModel::RunListModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunListModel::setRows(const QVector<RunRow>& rows) {
    QHash<QString, int> newPos;
    newPos.reserve(rows.size());
    for (int i = 0; i < rows.size(); ++i) newPos.insert(rows[i].id, i);
    if (newPos.size() != rows.size()) {  // duplicate ids: no stable identity to diff by
        beginResetModel();
        rows_ = rows;
        endResetModel();
        return;
    }

    // 1. Remove the runs that are gone, one contiguous block at a time, bottom up.
    for (int i = rows_.size() - 1; i >= 0;) {
        if (newPos.contains(rows_[i].id)) {
            --i;
            continue;
        }
        const int last = i;
        while (i >= 0 && !newPos.contains(rows_[i].id)) --i;
        beginRemoveRows({}, i + 1, last);
        rows_.erase(rows_.begin() + i + 1, rows_.begin() + last + 1);
        endRemoveRows();
    }

    // 2. The survivors must keep their order; otherwise start over.
    int previous = -1;
    for (const RunRow& r : std::as_const(rows_)) {
        const int p = newPos.value(r.id);
        if (p < previous) {
            beginResetModel();
            rows_ = rows;
            endResetModel();
            return;
        }
        previous = p;
    }

    // 3. Insert the new runs between the survivors.
    for (int i = 0; i < rows.size();) {
        if (i < rows_.size() && rows_[i].id == rows[i].id) {
            ++i;
            continue;
        }
        const bool atEnd = i >= rows_.size();
        const QString nextSurvivor = atEnd ? QString() : rows_[i].id;
        int j = i;
        while (j < rows.size() && (atEnd || rows[j].id != nextSurvivor)) ++j;
        beginInsertRows({}, i, j - 1);
        rows_.insert(i, j - i, RunRow{});
        for (int k = i; k < j; ++k) rows_[k] = rows[k];
        endInsertRows();
        i = j;
    }

    // 4. Changed rows, one dataChanged per contiguous block.
    for (int i = 0; i < rows.size();) {
        if (rows_[i] == rows[i]) {
            ++i;
            continue;
        }
        const int first = i;
        while (i < rows.size() && rows_[i] != rows[i]) {
            rows_[i] = rows[i];
            ++i;
        }
        Q_EMIT dataChanged(index(first, 0), index(i - 1, ColumnCount - 1));
    }
}

RunRow RunListModel::rowAt(int row) const {
    return row >= 0 && row < rows_.size() ? rows_[row] : RunRow{};
}

int RunListModel::rowOf(const QString& id) const {
    for (int i = 0; i < rows_.size(); ++i) {
        if (rows_[i].id == id) return i;
    }
    return -1;
}

QStringList RunListModel::splitTags(const QString& text) {
    QStringList tags;
    for (const QString& part : text.split(u',')) {
        const QString tag = part.trimmed();
        if (!tag.isEmpty() && !tags.contains(tag)) tags << tag;
    }
    return tags;
}

int RunListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : rows_.size();
}

int RunListModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QString RunListModel::statusText(const QString& status) const {
    if (status == QLatin1String("running")) return tr("running");
    if (status == QLatin1String("completed")) return tr("completed");
    if (status == QLatin1String("stopped")) return tr("stopped");
    if (status == QLatin1String("failed")) return tr("failed");
    if (status == QLatin1String("interrupted")) return tr("interrupted");
    return status;
}

double RunListModel::durationSeconds(const RunRow& row) const {
    if (row.started <= 0) return -1;
    if (row.finished > 0) return std::max(0.0, row.finished - row.started);
    if (row.status == QLatin1String("running")) return std::max(0.0, nowSeconds() - row.started);
    return -1;  // ended without a known end time
}

QVariant RunListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const RunRow& r = rows_[index.row()];
    const int column = index.column();
    switch (role) {
    case IdRole:
        return r.id;
    case Qt::DisplayRole:
        switch (column) {
        case Name: return r.name;
        case Status: return statusText(r.status);
        case Preset: return r.preset;
        case BestVal: return std::isfinite(r.best_val) ? QString::number(r.best_val, 'f', 4)
                                                       : QString();
        case Steps: return r.steps;
        case Duration: {
            const double d = durationSeconds(r);
            return d >= 0 ? formatDuration(d) : QString();
        }
        case Started:
            return r.started > 0 ? QDateTime::fromMSecsSinceEpoch(qint64(r.started * 1000))
                                       .toString(QStringLiteral("yyyy-MM-dd hh:mm"))
                                 : QString();
        case Tags: return r.tags;
        }
        break;
    case Qt::EditRole:
        if (column == Name) return r.name;
        if (column == Tags) return r.tags;
        break;
    case SortRole:
        switch (column) {
        case Name: return r.name.toLower();
        case Status: return r.status;
        case Preset: return r.preset;
        case BestVal:  // runs without a value sort after every value
            return std::isfinite(r.best_val) ? r.best_val
                                             : std::numeric_limits<double>::infinity();
        case Steps: return r.steps;
        case Duration: return durationSeconds(r);
        case Started: return r.started;
        case Tags: return r.tags;
        }
        break;
    case Qt::DecorationRole:
        if (column == Status) {
            if (r.status == QLatin1String("running")) return QColor(0x1e, 0x88, 0xe5);
            if (r.status == QLatin1String("completed")) return QColor(0x43, 0xa0, 0x47);
            if (r.status == QLatin1String("failed")) return QColor(0xe5, 0x39, 0x35);
            if (r.status == QLatin1String("interrupted")) return QColor(0xfb, 0x8c, 0x00);
            if (r.status == QLatin1String("stopped")) return QColor(0x9e, 0x9e, 0x9e);
        }
        break;
    case Qt::ToolTipRole:
        if (column == Name) return r.id;
        break;
    case Qt::TextAlignmentRole:
        if (column == BestVal || column == Steps || column == Duration) {
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        }
        break;
    default:
        break;
    }
    return {};
}

bool RunListModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (role != Qt::EditRole ||
        !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return false;
    }
    const RunRow& r = rows_[index.row()];
    if (index.column() == Name) {
        const QString name = value.toString().trimmed();
        if (name.isEmpty() || name == r.name) return false;
        Q_EMIT renameRequested(r.id, name);
        return true;
    }
    if (index.column() == Tags) {
        const QStringList tags = splitTags(value.toString());
        if (tags == splitTags(r.tags)) return false;
        Q_EMIT tagsRequested(r.id, tags);
        return true;
    }
    return false;
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Name: return tr("Name");
    case Status: return tr("Status");
    case Preset: return tr("Preset");
    case BestVal: return tr("Best val loss");
    case Steps: return tr("Steps");
    case Duration: return tr("Duration");
    case Started: return tr("Started");
    case Tags: return tr("Tags");
    default: return {};
    }
}

Qt::ItemFlags RunListModel::flags(const QModelIndex& index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && (index.column() == Name || index.column() == Tags)) {
        f |= Qt::ItemIsEditable;
    }
    return f;
}

}  // namespace r1::widgets
