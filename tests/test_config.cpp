// Config schema: TOML load/save round trip, --set overrides, presets, and precise errors.
#include "engine/config/config.h"

#include <QtTest/QtTest>

#include <fstream>

class TestConfig final : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void defaultsAreNano() {
    r1::Config c = r1::default_config();
    QCOMPARE(QString::fromStdString(c.model.preset), QStringLiteral("r1-nano"));
    QCOMPARE(c.model.vocab_size, int64_t(1024));
  }

  void presetThenKeysThenOverrides() {
    r1::Config c = r1::config_from_string(
        "[model]\npreset = \"r1-mini\"\nn_layers = 4\n[train]\nlr = 1e-4\n", "exp.toml",
        {"train.lr=2e-4", "data.paths=a.txt, b dir"});
    QCOMPARE(c.model.dim, int64_t(768));     // from the preset
    QCOMPARE(c.model.n_layers, int64_t(4));  // the file wins over the preset
    QCOMPARE(c.train.lr, 2e-4);              // --set wins over the file
    QCOMPARE(c.data.paths.size(), size_t(2));
    QCOMPARE(QString::fromStdString(c.data.paths[1]), QStringLiteral("b dir"));
  }

  void tomlRoundTrip() {
    r1::Config c = r1::default_config({"model.preset=r1-small", "run.name=exp \"q\"",
                                       "train.min_lr_ratio=0.125", "data.paths=x,y"});
    std::string text = r1::to_toml(c);
    r1::Config d = r1::config_from_string(text, "saved.toml");
    QCOMPARE(r1::to_toml(d), text);
    QCOMPARE(QString::fromStdString(d.run.name), QStringLiteral("exp \"q\""));
    QCOMPARE(d.model.n_layers, int64_t(16));
    QCOMPARE(d.train.min_lr_ratio, 0.125);
  }

  void saveIsAtomicAndReadable() {
    QDir().mkpath(R1_TEST_TMP);
    QTemporaryDir dir(QStringLiteral(R1_TEST_TMP "/cfgXXXXXX"));
    std::string path = dir.filePath(QStringLiteral("exp.toml")).toStdString();
    r1::Config c = r1::default_config({"train.steps=77"});
    r1::save_config(c, path);
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
    QCOMPARE(r1::load_config(path).train.steps, int64_t(77));
  }

  void badInput_data() {
    QTest::addColumn<QString>("toml");
    QTest::addColumn<QString>("setArg");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown key") << "[model]\ndim = 64\ndimm = 3\n" << ""
                                 << "exp.toml:3:8: unknown key 'model.dimm'";
    QTest::newRow("unknown section") << "[modle]\ndim = 64\n" << ""
                                     << "unknown key 'modle.dim'";
    QTest::newRow("wrong type") << "[model]\ndim = \"wide\"\n" << ""
                                << "exp.toml:2:7: key 'model.dim': must be an integer, got string";
    QTest::newRow("float for int") << "[train]\nsteps = 1.5\n" << ""
                                   << "key 'train.steps': must be an integer, got float";
    QTest::newRow("out of range") << "[train]\nlr = -1.0\n" << ""
                                  << "key 'train.lr': value -1 is out of range [0, 10]";
    QTest::newRow("bad choice") << "[train]\nprecision = \"fp8\"\n" << ""
                                << "key 'train.precision': 'fp8' is not one of: fp32, bf16, fp16";
    QTest::newRow("syntax") << "[train\nsteps = 1\n" << "" << "exp.toml:1:";
    QTest::newRow("unknown preset") << "[model]\npreset = \"r1-huge\"\n" << ""
                                    << "exp.toml:2: key 'model.preset': ";
    QTest::newRow("topk > experts") << "[model]\nn_activated_experts = 9\n" << ""
                                    << "exp.toml: key 'model.n_activated_experts': top-k 9";
    QTest::newRow("odd rope") << "[model]\nqk_rope_head_dim = 7\n" << ""
                              << "key 'model.qk_rope_head_dim': must be even";
    QTest::newRow("fp16 on cpu") << "[train]\nprecision = \"fp16\"\n" << ""
                                 << "key 'train.precision': fp16 needs a CUDA device";
    QTest::newRow("bad device") << "[train]\ndevice = \"gpu0\"\n" << ""
                                << "key 'train.device': 'gpu0' is not cpu, cuda or cuda:N";
    QTest::newRow("set unknown") << "" << "model.wide=3" << "--set model.wide=3: unknown key";
    QTest::newRow("set not int") << "" << "model.dim=abc"
                                 << "--set model.dim=abc: key 'model.dim': must be an integer";
    QTest::newRow("set no eq") << "" << "model.dim" << "--set model.dim: expected key=value";
    QTest::newRow("set range") << "" << "data.val_fraction=0.9"
                               << "key 'data.val_fraction': value 0.9 is out of range";
  }

  void badInput() {
    QFETCH(QString, toml);
    QFETCH(QString, setArg);
    QFETCH(QString, expected);
    std::vector<std::string> sets;
    if (!setArg.isEmpty()) sets.push_back(setArg.toStdString());
    try {
      r1::config_from_string(toml.toStdString(), "exp.toml", sets);
      QFAIL("no error");
    } catch (const r1::ConfigError& e) {
      QString msg = QString::fromUtf8(e.what());
      if (!msg.contains(expected)) qWarning() << "message:" << msg;
      QVERIFY(msg.contains(expected));
    }
  }

  void missingFile() {
    try {
      r1::load_config("/nonexistent/exp.toml");
      QFAIL("no error");
    } catch (const r1::ConfigError& e) {
      QVERIFY(QString::fromUtf8(e.what()).contains(QStringLiteral("/nonexistent/exp.toml")));
    }
  }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "test_config.moc"
