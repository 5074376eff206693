// r1-worker as users run it: exit codes, error messages naming file/key/reason, the event
// stream on stdout, sample and eval from a checkpoint, and the documented parameter counts.
#include "engine/events/event.h"
#include "engine/events/sink.h"

#include <QtTest/QtTest>

namespace {

struct Result {
  int code;
  QString out, err;
};

Result worker(const QStringList& args, const QString& cwd) {
  QProcess p;
  p.setWorkingDirectory(cwd);
  p.start(QStringLiteral(R1_WORKER), args);
  if (!p.waitForFinished(240000)) {
    p.kill();
    return {-1, {}, QStringLiteral("timeout")};
  }
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2,
          QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

// Parameter count of a preset written out from the architecture, independently of the model
// code: embedding (tied), per block MLA + norms + FFN, final norm, MTP modules.
int64_t expected_params(int64_t V, int64_t d, int64_t L, int64_t H, int64_t qr, int64_t kvr,
                        int64_t dn, int64_t dr, int64_t dv, int64_t dense_layers, int64_t dense,
                        int64_t E, int64_t shared, int64_t mi, int64_t mtp, bool active) {
  const int64_t attn = d * qr + qr + qr * H * (dn + dr) + d * (kvr + dr) + kvr +
                       kvr * H * (dn + dv) + H * dv * d;
  const int64_t dense_ffn = 3 * d * dense;
  const int64_t experts_counted = active ? 2 : E;  // top-2 presets
  const int64_t moe_ffn = E * d + experts_counted * 3 * d * mi + 3 * d * shared * mi;
  int64_t n = V * d + d;
  for (int64_t l = 0; l < L; ++l) n += attn + 2 * d + (l < dense_layers ? dense_ffn : moe_ffn);
  n += mtp * (2 * d + 2 * d * d + attn + 2 * d + dense_ffn + d);
  return n;
}

}  // namespace

class TestCli final : public QObject {
  Q_OBJECT
  QTemporaryDir dir_{QStringLiteral(R1_TEST_TMP "/cliXXXXXX")};

 private Q_SLOTS:
  void initTestCase() {
    QDir().mkpath(QStringLiteral(R1_TEST_TMP));
    QVERIFY(dir_.isValid());
    QFile f(dir_.filePath(QStringLiteral("corpus.txt")));
    QVERIFY(f.open(QIODevice::WriteOnly));
    for (int i = 0; i < 60; ++i)
      f.write(QStringLiteral("line %1: latent attention routes tokens to experts. 注意力 %1\n")
                  .arg(i % 7).toUtf8());
  }

  void documentedParameterCounts_data() {
    QTest::addColumn<QString>("preset");
    QTest::addColumn<qint64>("total");
    QTest::addColumn<qint64>("active");
    QTest::newRow("r1-mini") << "r1-mini"
        << qint64(expected_params(32768, 768, 12, 12, 384, 256, 48, 16, 64, 1, 2048, 8, 1, 768, 1, false))
        << qint64(expected_params(32768, 768, 12, 12, 384, 256, 48, 16, 64, 1, 2048, 8, 1, 768, 1, true));
    QTest::newRow("r1-mini-dense") << "r1-mini-dense"
        << qint64(expected_params(32768, 768, 12, 12, 384, 256, 48, 16, 64, 12, 2048, 8, 1, 768, 1, false))
        << qint64(expected_params(32768, 768, 12, 12, 384, 256, 48, 16, 64, 12, 2048, 8, 1, 768, 1, true));
  }
  void documentedParameterCounts() {
    QFETCH(QString, preset);
    QFETCH(qint64, total);
    QFETCH(qint64, active);
    // The figures: r1-mini ≈234M total / ≈117M active, r1-mini-dense ≈110M.
    QVERIFY(total > 100'000'000 && total < 240'000'000);
    Result r = worker({QStringLiteral("info"), QStringLiteral("--preset"), preset}, dir_.path());
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QStringLiteral("%1 total").arg(total)), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("active per token  %1").arg(active)), qPrintable(r.out));
  }

  void badInputExitsWithReason_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("tomlText");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown key in file") << QStringList{QStringLiteral("train"), QStringLiteral("-c"), QStringLiteral("bad.toml")}
        << "[train]\nsteps = 5\nstepz = 3\n" << "bad.toml:3:9: unknown key 'train.stepz'";
    QTest::newRow("wrong type in file") << QStringList{QStringLiteral("train"), QStringLiteral("-c"), QStringLiteral("bad.toml")}
        << "[data]\nbatch_size = \"big\"\n" << "key 'data.batch_size': must be an integer, got string";
    QTest::newRow("bad --set") << QStringList{QStringLiteral("train"), QStringLiteral("--set"), QStringLiteral("train.lr=fast")}
        << "" << "--set train.lr=fast: key 'train.lr': must be a number";
    QTest::newRow("missing corpus") << QStringList{QStringLiteral("train"), QStringLiteral("-q"), QStringLiteral("--set"), QStringLiteral("data.paths=/no/such/corpus")}
        << "" << "/no/such/corpus";
    QTest::newRow("not a checkpoint") << QStringList{QStringLiteral("eval"), QStringLiteral("bad.toml")}
        << "[train]\n" << "bad.toml: not an R1 checkpoint (bad magic)";
    QTest::newRow("missing checkpoint") << QStringList{QStringLiteral("sample"), QStringLiteral("nothing.r1ckpt")}
        << "" << "nothing.r1ckpt: cannot open checkpoint";
  }
  void badInputExitsWithReason() {
    QFETCH(QStringList, args);
    QFETCH(QString, tomlText);
    QFETCH(QString, expected);
    if (!tomlText.isEmpty()) {
      QFile f(dir_.filePath(QStringLiteral("bad.toml")));
      QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
      f.write(tomlText.toUtf8());
    }
    Result r = worker(args, dir_.path());
    QVERIFY2(r.code != 0, qPrintable(r.err));
    QVERIFY2(r.err.contains(expected), qPrintable(r.err));
  }

  void trainStreamsEventsThenSampleAndEval() {
    const QString corpus = dir_.filePath(QStringLiteral("corpus.txt"));
    Result r = worker({QStringLiteral("train"), QStringLiteral("--jsonl"), QStringLiteral("-q"),
                       QStringLiteral("--set"), QStringLiteral("data.paths=") + corpus,
                       QStringLiteral("--set"), QStringLiteral("run.name=cli"),
                       QStringLiteral("--set"), QStringLiteral("model.vocab_size=300"),
                       QStringLiteral("--set"), QStringLiteral("data.seq_len=16"),
                       QStringLiteral("--set"), QStringLiteral("train.steps=6"),
                       QStringLiteral("--set"), QStringLiteral("train.threads=1"),
                       QStringLiteral("--set"), QStringLiteral("data.val_fraction=0.2"),
                       QStringLiteral("--set"), QStringLiteral("data.cache_dir=") + dir_.filePath(QStringLiteral("cache"))},
                      dir_.path());
    QVERIFY2(r.code == 0, qPrintable(r.err));
    r1::events::LineReader reader;
    auto decoded = reader.feed(r.out.toStdString());
    auto tail = reader.finish();
    decoded.insert(decoded.end(), tail.begin(), tail.end());
    QStringList types;
    for (auto& [line, res] : decoded) {
      QVERIFY2(res.ok(), qPrintable(QString::fromStdString(res.error)));
      types << QString::fromLatin1(r1::events::type_name(res.event->payload));
    }
    QCOMPARE(types.count(QStringLiteral("step")), 6);
    QCOMPARE(types.count(QStringLiteral("run_start")), 1);
    QVERIFY(types.contains(QStringLiteral("eval")));
    QVERIFY(types.contains(QStringLiteral("checkpoint")));
    QCOMPARE(types.last(), QStringLiteral("finish"));
    // The same stream was written to the run folder.
    QFile ev(dir_.filePath(QStringLiteral("runs/cli/events.jsonl")));
    QVERIFY(ev.open(QIODevice::ReadOnly));
    QCOMPARE(ev.readAll().count('\n'), qsizetype(decoded.size()));

    const QString ckpt = dir_.filePath(QStringLiteral("runs/cli/checkpoints/ckpt-00000006.r1ckpt"));
    Result s = worker({QStringLiteral("sample"), ckpt, QStringLiteral("-p"), QStringLiteral("line"),
                       QStringLiteral("-n"), QStringLiteral("8"), QStringLiteral("--jsonl")},
                      dir_.path());
    QVERIFY2(s.code == 0, qPrintable(s.err));
    auto sample = r1::events::decode(s.out.trimmed().toStdString());
    QVERIFY2(sample.ok(), qPrintable(s.out));
    QCOMPARE(QString::fromLatin1(r1::events::type_name(sample.event->payload)), QStringLiteral("sample"));

    Result e = worker({QStringLiteral("eval"), ckpt}, dir_.path());
    QVERIFY2(e.code == 0, qPrintable(e.err));
    QVERIFY2(e.out.contains(QStringLiteral("step 6: val loss")), qPrintable(e.out));
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
