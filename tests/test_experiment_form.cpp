// The experiment form is bound to exactly the engine's TOML config: every preset round-trips
// through the form and through a saved file, and a bad value is reported on its own field.
#include "app/config_bridge.h"
#include "engine/config/config.h"
#include "widgets/experiment_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLineEdit>
#include <QSignalSpy>
#include <QtTest/QtTest>

using r1::app::ExperimentEditor;
using r1::widgets::ExperimentForm;

namespace {

QString tmpPath(const QString& name) {
  QDir().mkpath(QStringLiteral(R1_TEST_TMP));
  return QStringLiteral(R1_TEST_TMP) + QLatin1Char('/') + name;
}

QLineEdit* lineEdit(const ExperimentForm& form, const QString& key) {
  return qobject_cast<QLineEdit*>(form.editor(key));
}

// As a user would: select everything, delete it, type the new text.
void retype(QLineEdit* edit, const QString& text) {
  edit->setFocus();
  edit->selectAll();
  QTest::keyClick(edit, Qt::Key_Backspace);
  QTest::keyClicks(edit, text);
}

QStringList keysWithErrors(const ExperimentForm& form) {
  QStringList out;
  for (const QString& k : form.keys())
    if (!form.fieldError(k).isEmpty()) out.append(k);
  return out;
}

}  // namespace

class TestExperimentForm : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { QVERIFY(QDir().mkpath(QStringLiteral(R1_TEST_TMP))); }

  void fieldsMirrorSchema() {
    const auto fields = r1::app::formFields();
    QCOMPARE(fields.size(), int(r1::config_fields().size()));
    QCOMPARE(r1::app::fieldLabel(QStringLiteral("model.kv_lora_rank")),
             QStringLiteral("KV LoRA rank"));
    QCOMPARE(r1::app::fieldLabel(QStringLiteral("model.n_layers")), QStringLiteral("Layers"));
    QCOMPARE(r1::app::fieldLabel(QStringLiteral("data.seq_len")),
             QStringLiteral("Sequence length"));
    ExperimentForm form;
    ExperimentEditor editor(&form);
    QCOMPARE(form.keys().size(), fields.size());
    QVERIFY(!form.hasErrors());
    QCOMPARE(form.value(QStringLiteral("model.dim")).toLongLong(), 64);
    QCOMPARE(form.value(QStringLiteral("train.lr")).toDouble(), 3e-3);
    QCOMPARE(form.editor(QStringLiteral("train.lr"))->toolTip().section(QLatin1Char('\n'), 0, 0),
             QStringLiteral("Peak learning rate of the body"));
  }

  void presetRoundTrip_data() {
    QTest::addColumn<QString>("preset");
    for (const auto& p : r1::preset_names()) QTest::newRow(p.c_str()) << QString::fromStdString(p);
  }

  void presetRoundTrip() {
    QFETCH(QString, preset);
    r1::Config original;
    r1::apply_preset(original, preset.toStdString());
    ExperimentForm form;
    ExperimentEditor editor(&form);
    r1::app::loadIntoForm(original, form);
    QVERIFY(!form.hasErrors());

    const r1::app::FormResult read = r1::app::readForm(form);
    QVERIFY2(read.ok(), qPrintable(read.errors.keys().join(QLatin1Char(' '))));
    QCOMPARE(r1::to_toml(read.config), r1::to_toml(original));

    // What the GUI writes, r1-worker reads unchanged.
    const QString path = tmpPath(QStringLiteral("form-%1.toml").arg(preset));
    QString err;
    QVERIFY2(editor.saveToml(path, &err), qPrintable(err));
    QCOMPARE(r1::to_toml(r1::load_config(path.toStdString())), r1::to_toml(original));

    // A file written by the engine with non-default values shows them in the editors.
    r1::Config custom = original;
    custom.run.name = "exp-42";
    custom.model.tie_embeddings = false;
    custom.model.norm_eps = 1e-5;
    custom.data.paths = {"corpus/a.txt", "more texts"};
    custom.data.val_fraction = 0.125;
    custom.train.lr = 3e-4;
    custom.train.loss_scale_init = 1e30;
    custom.train.precision = "bf16";
    custom.train.schedule = "linear";
    custom.train.seed = 9000000000000;
    custom.train.device = "cuda:1";
    custom.checkpoint.resume = "latest";
    const QString customPath = tmpPath(QStringLiteral("engine-%1.toml").arg(preset));
    r1::save_config(custom, customPath.toStdString());
    QVERIFY2(editor.loadToml(customPath, &err), qPrintable(err));
    QVERIFY(!form.hasErrors());
    QCOMPARE(lineEdit(form, QStringLiteral("run.name"))->text(), QStringLiteral("exp-42"));
    QCOMPARE(lineEdit(form, QStringLiteral("train.lr"))->text(), QStringLiteral("0.0003"));
    QCOMPARE(lineEdit(form, QStringLiteral("model.norm_eps"))->text(), QStringLiteral("1e-5"));
    QCOMPARE(lineEdit(form, QStringLiteral("train.eps"))->text(), QStringLiteral("1e-8"));
    QCOMPARE(lineEdit(form, QStringLiteral("train.loss_scale_init"))->text(),
             QStringLiteral("1e30"));
    QCOMPARE(lineEdit(form, QStringLiteral("model.rope_theta"))->text(), QStringLiteral("10000"));
    QCOMPARE(lineEdit(form, QStringLiteral("train.seed"))->text(),
             QStringLiteral("9000000000000"));
    QCOMPARE(lineEdit(form, QStringLiteral("data.paths"))->text(),
             QStringLiteral("corpus/a.txt, more texts"));
    QCOMPARE(lineEdit(form, QStringLiteral("train.device"))->text(), QStringLiteral("cuda:1"));
    auto* precision = qobject_cast<QComboBox*>(form.editor(QStringLiteral("train.precision")));
    QVERIFY(precision);
    QCOMPARE(precision->currentText(), QStringLiteral("bf16"));
    auto* tie = qobject_cast<QCheckBox*>(form.editor(QStringLiteral("model.tie_embeddings")));
    QVERIFY(tie);
    QVERIFY(!tie->isChecked());
    QCOMPARE(r1::to_toml(editor.result().config), r1::to_toml(custom));
  }

  void badFileNamesFileLineKey() {
    const QString path = tmpPath(QStringLiteral("bad.toml"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write("[run]\nname = \"x\"\n\n[model]\ndim = \"wide\"\n");
    f.close();
    ExperimentForm form;
    ExperimentEditor editor(&form);
    QString err;
    QVERIFY(!editor.loadToml(path, &err));
    QVERIFY2(err.contains(path + QStringLiteral(":5")), qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("model.dim")), qPrintable(err));
    QCOMPARE(lineEdit(form, QStringLiteral("model.dim"))->text(), QStringLiteral("64"));
    QVERIFY(!editor.loadToml(tmpPath(QStringLiteral("missing.toml")), &err));
    QVERIFY2(err.contains(QStringLiteral("cannot open")), qPrintable(err));
  }

  void invalidField_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("bad");
    QTest::addColumn<QString>("reason");
    QTest::newRow("not an integer") << "model.dim" << "abc" << "must be an integer";
    QTest::newRow("negative lr") << "train.lr" << "-1" << "out of range";
    QTest::newRow("top-k > experts") << "model.n_activated_experts" << "9" << "top-k";
    QTest::newRow("val_fraction") << "data.val_fraction" << "0.9" << "out of range";
    QTest::newRow("odd rope dim") << "model.qk_rope_head_dim" << "7" << "even";
    QTest::newRow("device") << "train.device" << "gpu0" << "is not cpu, cuda or cuda:N";
    QTest::newRow("fractional steps") << "train.steps" << "1.5" << "must be an integer";
  }

  void invalidField() {
    QFETCH(QString, key);
    QFETCH(QString, bad);
    QFETCH(QString, reason);
    ExperimentForm form;
    ExperimentEditor editor(&form);
    QCOMPARE(form.text(QStringLiteral("model.n_routed_experts")), QStringLiteral("4"));
    QSignalSpy validity(&editor, &ExperimentEditor::validityChanged);
    QLineEdit* edit = lineEdit(form, key);
    QVERIFY(edit);
    const QString good = edit->text();

    retype(edit, bad);
    QCOMPARE(edit->text(), bad);
    QCOMPARE(keysWithErrors(form), QStringList{key});
    QVERIFY2(form.fieldError(key).contains(reason, Qt::CaseInsensitive),
             qPrintable(form.fieldError(key)));
    QVERIFY(form.hasErrors());
    QVERIFY(!editor.isValid());
    QVERIFY(!validity.isEmpty());
    QCOMPARE(validity.last().at(0).toBool(), false);
    QString err;
    QVERIFY(!editor.saveToml(tmpPath(QStringLiteral("never.toml")), &err));
    QVERIFY(err.contains(key));

    retype(edit, good);
    const QStringList left = keysWithErrors(form);
    QVERIFY2(left.isEmpty(), qPrintable(left.join(QLatin1Char(' '))));
    QVERIFY(!form.hasErrors());
    QVERIFY(editor.isValid());
    QCOMPARE(validity.last().at(0).toBool(), true);
  }

  void crossKeyChoice() {
    ExperimentForm form;
    ExperimentEditor editor(&form);
    QSignalSpy validity(&editor, &ExperimentEditor::validityChanged);
    auto* precision = qobject_cast<QComboBox*>(form.editor(QStringLiteral("train.precision")));
    precision->setCurrentIndex(precision->findText(QStringLiteral("fp16")));  // device is cpu
    QCOMPARE(keysWithErrors(form), QStringList{QStringLiteral("train.precision")});
    QVERIFY(form.fieldError(QStringLiteral("train.precision")).contains(QStringLiteral("CUDA")));
    QCOMPARE(validity.last().at(0).toBool(), false);
    retype(lineEdit(form, QStringLiteral("train.device")), QStringLiteral("cuda"));
    QVERIFY(!form.hasErrors());
    QCOMPARE(validity.last().at(0).toBool(), true);
  }

  void presetComboUpdatesModel() {
    ExperimentForm form;
    ExperimentEditor editor(&form);
    retype(lineEdit(form, QStringLiteral("train.lr")), QStringLiteral("1e-3"));
    auto* preset = qobject_cast<QComboBox*>(form.editor(QStringLiteral("model.preset")));
    QVERIFY(preset);
    preset->setFocus();
    QTest::keyClick(preset, Qt::Key_Down);  // r1-nano -> r1-mini, as a user would
    QCOMPARE(preset->currentText(), QStringLiteral("r1-mini"));
    QCOMPARE(lineEdit(form, QStringLiteral("model.dim"))->text(), QStringLiteral("768"));
    QCOMPARE(lineEdit(form, QStringLiteral("data.seq_len"))->text(), QStringLiteral("1024"));
    QCOMPARE(lineEdit(form, QStringLiteral("train.lr"))->text(), QStringLiteral("1e-3"));
    QVERIFY(!form.hasErrors());
    r1::Config mini;
    r1::apply_preset(mini, "r1-mini");
    mini.train.lr = 1e-3;
    QCOMPARE(r1::to_toml(editor.result().config), r1::to_toml(mini));
  }

  void screenshot() {
    ExperimentForm form;
    ExperimentEditor editor(&form);
    form.resize(560, 640);
    form.show();
    QVERIFY(QTest::qWaitForWindowExposed(&form));
    retype(lineEdit(form, QStringLiteral("model.dim")), QStringLiteral("6x4"));
    form.revealField(QStringLiteral("model.preset"));
    QVERIFY(form.hasErrors());
    const QString png = tmpPath(QStringLiteral("experiment_form.png"));
    QCoreApplication::processEvents();
    QVERIFY(form.grab().save(png));
  }
};

QTEST_MAIN(TestExperimentForm)
#include "test_experiment_form.moc"
