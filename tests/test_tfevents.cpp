#include <QtTest/QtTest>

#include <QRegularExpression>
#include <QTemporaryDir>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/crc32c.h"
#include "app/run_store.h"
#include "app/tfevents.h"
#include "engine/events/event.h"
#ifdef R1_WITH_PROTOBUF
#include "app/tfevents.pb.h"
#endif

namespace ev = r1::events;
using r1::app::RunStore;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The test's own TFRecord reader: nothing of the export code but the CRC-32C, which
// crc32cCheckValues pins to the standard.
struct Records {
    std::vector<QByteArray> data;
    QString error;  // empty when every record's framing and both CRCs are right
};

std::uint32_t masked(std::uint32_t crc) {
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::uint64_t littleEndian(const char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

Records readRecords(const QByteArray& file) {
    Records out;
    const char* p = file.constData();
    const std::uint64_t size = std::uint64_t(file.size());
    std::uint64_t at = 0;
    while (at < size) {
        const QString where =
            QStringLiteral("record %1 at offset %2").arg(out.data.size()).arg(at);
        if (size - at < 12) {
            out.error = where + QStringLiteral(": truncated header");
            return out;
        }
        const std::uint64_t length = littleEndian(p + at, 8);
        if (masked(r1::app::crc32c(p + at, 8)) != littleEndian(p + at + 8, 4)) {
            out.error = where + QStringLiteral(": length CRC mismatch");
            return out;
        }
        if (size - at - 12 < 4 || length > size - at - 16) {
            out.error = where + QStringLiteral(": truncated data");
            return out;
        }
        const char* data = p + at + 12;
        if (masked(r1::app::crc32c(data, length)) != littleEndian(data + length, 4)) {
            out.error = where + QStringLiteral(": data CRC mismatch");
            return out;
        }
        out.data.emplace_back(data, qsizetype(length));
        at += 16 + length;
    }
    return out;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

using Key = std::pair<std::string, qint64>;  // tag, step
struct Scalar {
    float value = 0.0f;
    double wall = 0.0;
};

}  // namespace

class TestTfEvents : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> dir_;
    QString exported_;                 // the file exportsScalars wrote
    std::map<Key, Scalar> expected_;   // what was appended, NaN values left out
    std::vector<Key> nanKeys_;         // appended as NaN

private Q_SLOTS:
    void initTestCase();
    void crc32cCheckValues_data();
    void crc32cCheckValues();
    void crc32cChains();
    void exportsScalars();
    void corruptedByteIsDetected();
    void unknownRunWritesNothing();
};

void TestTfEvents::initTestCase() {
    QVERIFY(QDir().mkpath(QStringLiteral(R1_TEST_TMP)));
    dir_ = std::make_unique<QTemporaryDir>(QStringLiteral(R1_TEST_TMP "/tfeventsXXXXXX"));
    QVERIFY(dir_->isValid());
}

void TestTfEvents::crc32cCheckValues_data() {
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<quint32>("crc");
    QByteArray ascending(32, '\0');
    QByteArray descending(32, '\0');
    for (int i = 0; i < 32; ++i) {
        ascending[i] = char(i);
        descending[i] = char(31 - i);
    }
    // The catalogue check value, then the examples of RFC 3720 (iSCSI), appendix B.4.
    QTest::newRow("123456789") << QByteArray("123456789") << quint32(0xE3069283u);
    QTest::newRow("empty") << QByteArray() << quint32(0u);
    QTest::newRow("32 zeros") << QByteArray(32, '\0') << quint32(0x8A9136AAu);
    QTest::newRow("32 ones") << QByteArray(32, '\xFF') << quint32(0x62A8AB43u);
    QTest::newRow("ascending") << ascending << quint32(0x46DD794Eu);
    QTest::newRow("descending") << descending << quint32(0x113FDB5Cu);
}

void TestTfEvents::crc32cCheckValues() {
    QFETCH(QByteArray, data);
    QFETCH(quint32, crc);
    QCOMPARE(r1::app::crc32c(data.constData(), std::size_t(data.size())), crc);
}

void TestTfEvents::crc32cChains() {
    const QByteArray a("12345");
    const QByteArray b("6789");
    QCOMPARE(r1::app::crc32c(b.constData(), 4, r1::app::crc32c(a.constData(), 5)),
             std::uint32_t(0xE3069283u));
}

void TestTfEvents::exportsScalars() {
#ifndef R1_WITH_PROTOBUF
    RunStore store(dir_->filePath(QStringLiteral("noproto.sqlite")));
    QString error;
    QVERIFY(!r1::app::exportTfEvents(store, QStringLiteral("x"), dir_->path(), nullptr, &error));
    QVERIFY2(error.contains(QStringLiteral("built without protobuf")), qPrintable(error));
    QSKIP("built without protobuf");
#else
    RunStore store(dir_->filePath(QStringLiteral("runs.sqlite")));
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    const QString runId =
        store.beginRun(QStringLiteral("tfe"), dir_->filePath(QStringLiteral("r")));
    QVERIFY(!runId.isEmpty());

    auto expect = [&](const char* tag, qint64 step, double value, double wall) {
        if (std::isnan(value)) {
            nanKeys_.push_back({tag, step});
        } else {
            expected_[{tag, step}] = {float(value), wall};
        }
    };
    const double t0 = 1718000000.125;
    for (qint64 n = 1; n <= 6; ++n) {
        ev::Step s;
        s.step = n;
        s.tokens = 4096 * n;
        s.loss = n == 3 ? kNaN : 9.0 / double(n) + 0.1;
        s.lr = 3e-4 * double(n) / 6.0;
        s.grad_norm = n == 5 ? kNaN : 1.0 / 3.0 + double(n);
        s.tokens_per_s = 12345.678 * double(n);
        s.skipped = n > 4 ? 1 : 0;
        s.step_ms = 17.25 + double(n);
        if (n % 2 == 0) s.loss_mtp = 0.5 / double(n);
        s.expert_load = {{0.125 * double(n), 1.0 - 0.125 * double(n)}, {0.3, 0.7}};
        ev::Event e = ev::make_event(s, "engine-run");
        e.header.time = t0 + 10.0 * double(n);
        store.append(runId, e);

        const double w = e.header.time;
        expect("loss", n, s.loss, w);
        expect("lr", n, s.lr, w);
        expect("grad_norm", n, s.grad_norm, w);
        expect("tokens_per_s", n, s.tokens_per_s, w);
        expect("tokens", n, double(s.tokens), w);
        expect("skipped", n, double(s.skipped), w);
        expect("step_ms", n, s.step_ms, w);
        if (s.loss_mtp) expect("loss_mtp", n, *s.loss_mtp, w);
        const char* loads[2][2] = {{"expert_load/0/0", "expert_load/0/1"},
                                   {"expert_load/1/0", "expert_load/1/1"}};
        for (int l = 0; l < 2; ++l) {
            for (int x = 0; x < 2; ++x) expect(loads[l][x], n, s.expert_load[l][x], w);
        }

        if (n % 3 == 0) {
            ev::Eval v;
            v.step = n;
            v.loss = 2.5 - 0.1 * double(n);
            v.perplexity = n == 6 ? kNaN : std::exp(v.loss);
            v.bits_per_byte = 1.1 - 0.01 * double(n);
            v.tokens = 1000;
            ev::Event ee = ev::make_event(v, "engine-run");
            ee.header.time = t0 + 10.0 * double(n) + 2.5;
            store.append(runId, ee);
            expect("val_loss", n, v.loss, ee.header.time);
            expect("val_ppl", n, v.perplexity, ee.header.time);
            expect("val_bpb", n, v.bits_per_byte, ee.header.time);
        }
    }
    QVERIFY(store.flush());
    QCOMPARE(nanKeys_.size(), std::size_t(3));

    const QString outDir = dir_->filePath(QStringLiteral("tb/") + runId);  // not there yet
    QString path;
    QString error;
    QVERIFY2(r1::app::exportTfEvents(store, runId, outDir, &path, &error), qPrintable(error));
    exported_ = path;
    {  // kept as an artifact, for reading with TensorBoard's own event reader elsewhere
      QDir art(QStringLiteral(R1_TEST_TMP "/tfevents_artifact"));
      art.removeRecursively();
      QVERIFY(QDir().mkpath(art.path()));
      QVERIFY(QFile::copy(path, art.filePath(QFileInfo(path).fileName())));
    }
    const QFileInfo info(path);
    QCOMPARE(QDir(info.absolutePath()), QDir(outDir));
    const QRegularExpression name(QStringLiteral(R"(^events\.out\.tfevents\.(\d+)\..+\.r1$)"));
    const auto match = name.match(info.fileName());
    QVERIFY2(match.hasMatch(), qPrintable(info.fileName()));
    const qint64 stamp = match.captured(1).toLongLong();
    QVERIFY(qAbs(stamp - QDateTime::currentSecsSinceEpoch()) < 600);
    QCOMPARE(QDir(outDir).entryList(QDir::Files | QDir::Hidden), QStringList{info.fileName()});

    const Records records = readRecords(readAll(path));
    QVERIFY2(records.error.isEmpty(), qPrintable(records.error));
    QVERIFY(records.data.size() >= 2);

    r1::tf::Event event;
    QVERIFY(event.ParseFromArray(records.data[0].constData(), int(records.data[0].size())));
    QCOMPARE(event.what_case(), r1::tf::Event::kFileVersion);
    QCOMPARE(event.file_version(), std::string("brain.Event:2"));
    const double firstWall = event.wall_time();

    std::map<Key, Scalar> got;
    qint64 lastStep = std::numeric_limits<qint64>::min();
    for (std::size_t i = 1; i < records.data.size(); ++i) {
        const QByteArray& data = records.data[i];
        QVERIFY(event.ParseFromArray(data.constData(), int(data.size())));
        QCOMPARE(event.what_case(), r1::tf::Event::kSummary);
        QVERIFY2(event.step() >= lastStep, "steps go backwards");
        lastStep = event.step();
        QVERIFY(event.wall_time() >= firstWall);
        QVERIFY(event.summary().value_size() > 0);
        for (const auto& value : event.summary().value()) {
            QCOMPARE(value.value_case(), r1::tf::Summary::Value::kSimpleValue);
            QVERIFY(!std::isnan(value.simple_value()));
            const Key key{value.tag(), event.step()};
            QVERIFY2(got.count(key) == 0, value.tag().c_str());
            got[key] = {value.simple_value(), event.wall_time()};
        }
    }
    for (const Key& key : nanKeys_) QVERIFY2(got.count(key) == 0, key.first.c_str());
    QCOMPARE(got.size(), expected_.size());
    for (const auto& [key, want] : expected_) {
        const auto it = got.find(key);
        const QByteArray what = QByteArray::fromStdString(key.first) + " @ " +
                                QByteArray::number(key.second);
        QVERIFY2(it != got.end(), what.constData());
        QVERIFY2(it->second.value == want.value, what.constData());
        QVERIFY2(it->second.wall == want.wall, what.constData());
    }
    QVERIFY(got.count({"expert_load/1/0", 6}) == 1);
#endif
}

void TestTfEvents::corruptedByteIsDetected() {
    if (exported_.isEmpty()) QSKIP("needs the file of exportsScalars");
    const QByteArray good = readAll(exported_);
    QVERIFY(readRecords(good).error.isEmpty());
    // Every single flipped byte: in a length, a CRC or the data.
    for (qsizetype i = 0; i < good.size(); ++i) {
        QByteArray bad = good;
        bad[i] = char(bad[i] ^ 0x5A);
        const QString error = readRecords(bad).error;
        QVERIFY2(error.contains(QStringLiteral("CRC mismatch")),
                 qPrintable(QStringLiteral("byte %1: '%2'").arg(i).arg(error)));
    }
}

void TestTfEvents::unknownRunWritesNothing() {
    RunStore store(dir_->filePath(QStringLiteral("empty.sqlite")));
    QVERIFY2(store.isOpen(), qPrintable(store.errorString()));
    const QString outDir = dir_->filePath(QStringLiteral("none"));
    QString path;
    QString error;
    QVERIFY(!r1::app::exportTfEvents(store, QStringLiteral("no-such-run"), outDir, &path, &error));
    QVERIFY(path.isEmpty());
    QVERIFY2(error.contains(QStringLiteral("no-such-run")), qPrintable(error));
    QVERIFY(!QDir(outDir).exists() || QDir(outDir).isEmpty());
}

QTEST_GUILESS_MAIN(TestTfEvents)
#include "test_tfevents.moc"
