#include "app/tfevents.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QSaveFile>
#include <QSysInfo>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "app/crc32c.h"
#include "app/run_store.h"

#ifdef R1_WITH_PROTOBUF
#include "app/tfevents.pb.h"
#endif

namespace r1::app {

namespace {

struct TfEvents {
    Q_DECLARE_TR_FUNCTIONS(TfEvents)
};

#ifdef R1_WITH_PROTOBUF

// TFRecord framing: uint64 LE length, masked CRC-32C of those 8 bytes, data, masked CRC-32C
// of the data.
std::uint32_t maskedCrc(const void* data, std::size_t size) {
    const std::uint32_t crc = crc32c(data, size);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

void putLittleEndian(char* out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out[i] = char((value >> (8 * i)) & 0xFFu);
}

void appendRecord(QByteArray& out, const std::string& data) {
    char length[8];
    char crc[4];
    putLittleEndian(length, data.size(), 8);
    out.append(length, 8);
    putLittleEndian(crc, maskedCrc(length, 8), 4);
    out.append(crc, 4);
    out.append(data.data(), qsizetype(data.size()));
    putLittleEndian(crc, maskedCrc(data.data(), data.size()), 4);
    out.append(crc, 4);
}

struct Point {
    qint64 step;
    double wall;
    int key;  // index into the run's metric keys
    float value;
};

#endif

}  // namespace

bool exportTfEvents(const RunStore& store, const QString& runId, const QString& dir,
                    QString* path, QString* error) {
    auto failWith = [&](const QString& reason) {
        if (error) {
            *error = TfEvents::tr("Cannot export run %1 as TensorBoard events to %2: %3")
                         .arg(runId, QDir::toNativeSeparators(dir), reason);
        }
        return false;
    };
#ifndef R1_WITH_PROTOBUF
    Q_UNUSED(store)
    Q_UNUSED(path)
    return failWith(TfEvents::tr("built without protobuf"));
#else
    if (!store.isOpen()) return failWith(store.errorString());
    const auto info = store.run(runId);
    if (!info) return failWith(TfEvents::tr("no such run"));
    if (!QDir().mkpath(dir)) return failWith(TfEvents::tr("cannot create the folder"));

    const QStringList keys = store.metricKeys(runId);
    std::vector<std::string> tags;
    std::vector<Point> points;
    for (int k = 0; k < keys.size(); ++k) {
        tags.push_back(keys[k].toStdString());
        for (const MetricRow& row : store.metric(runId, keys[k])) {
            if (std::isnan(row.value)) continue;
            points.push_back({row.step, row.wall, k, float(row.value)});
        }
    }
    // Ascending steps, as a live writer would leave them (TensorBoard may purge data that
    // seems to follow a restart); the values of one training step share one Event.
    std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
        return a.step != b.step ? a.step < b.step : a.wall < b.wall;
    });

    QString host = QSysInfo::machineHostName();
    if (host.isEmpty()) host = QStringLiteral("localhost");
    const QString name = QStringLiteral("events.out.tfevents.%1.%2.r1")
                             .arg(QDateTime::currentSecsSinceEpoch())
                             .arg(host);
    QSaveFile file(QDir(dir).filePath(name));
    if (!file.open(QIODevice::WriteOnly)) return failWith(file.errorString());

    // The first event's wall time is the run's start for TensorBoard's relative time axis.
    double start = info->started > 0.0 ? info->started
                                        : double(QDateTime::currentSecsSinceEpoch());
    for (const Point& p : points) start = std::min(start, p.wall);

    QByteArray chunk;
    std::string data;
    r1::tf::Event event;
    event.set_wall_time(start);
    event.set_step(0);
    event.set_file_version("brain.Event:2");
    event.SerializeToString(&data);
    appendRecord(chunk, data);

    for (std::size_t i = 0; i < points.size();) {
        event.Clear();
        event.set_step(points[i].step);
        event.set_wall_time(points[i].wall);
        r1::tf::Summary* summary = event.mutable_summary();
        std::size_t j = i;
        for (; j < points.size() && points[j].step == points[i].step &&
               points[j].wall == points[i].wall;
             ++j) {
            r1::tf::Summary::Value* value = summary->add_value();
            value->set_tag(tags[std::size_t(points[j].key)]);
            value->set_simple_value(points[j].value);
        }
        i = j;
        event.SerializeToString(&data);
        appendRecord(chunk, data);
        if (chunk.size() >= (1 << 20)) {
            if (file.write(chunk) != chunk.size()) return failWith(file.errorString());
            chunk.clear();
        }
    }
    if (file.write(chunk) != chunk.size() || !file.commit()) return failWith(file.errorString());
    if (path) *path = file.fileName();
    return true;
#endif
}

}  // namespace r1::app
