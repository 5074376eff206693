#include "app/config_bridge.h"

#include <QCoreApplication>
#include <QFile>
#include <QHash>
#include <QRegularExpression>

#include <exception>

namespace r1::app {
namespace {

using Kind = r1::FieldSpec::Kind;
using FKind = widgets::FormField::Kind;

const QString kPresetKey = QStringLiteral("model.preset");

QString trBridge(const char* text) { return QCoreApplication::translate("ConfigBridge", text); }

FKind formKind(Kind k) {
  switch (k) {
    case Kind::Int: return FKind::Int;
    case Kind::Float: return FKind::Float;
    case Kind::Bool: return FKind::Bool;
    case Kind::String: return FKind::String;
    case Kind::Choice: return FKind::Choice;
    case Kind::StringList: return FKind::StringList;
  }
  return FKind::String;
}

QVariant toVariant(const r1::ConfigValue& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return QVariant(static_cast<qlonglong>(*i));
  if (auto* d = std::get_if<double>(&v)) return QVariant(*d);
  if (auto* b = std::get_if<bool>(&v)) return QVariant(*b);
  if (auto* s = std::get_if<std::string>(&v)) return QVariant(QString::fromStdString(*s));
  QStringList out;
  for (const auto& s : std::get<std::vector<std::string>>(v))
    out.append(QString::fromStdString(s));
  return QVariant(out);
}

QString capitalized(QString s) {
  if (!s.isEmpty()) s[0] = s[0].toUpper();
  return s;
}

// The engine says "--set model.dim=abc: key 'model.dim': must be an integer, got 'abc'"; the
// field itself only needs "Must be an integer, got 'abc'".
QString fieldMessage(const QString& key, const QString& text, const char* what) {
  QString msg = QString::fromStdString(what);
  const QString tag = QStringLiteral("key '%1': ").arg(key);
  const int at = msg.indexOf(tag);
  if (at >= 0) {
    msg = msg.mid(at + tag.size());
  } else {
    const QString where = QStringLiteral("--set %1=%2: ").arg(key, text);
    if (msg.startsWith(where)) msg = msg.mid(where.size());
  }
  return capitalized(msg);
}

}  // namespace

QString fieldLabel(const QString& key) {
  static const QHash<QString, QString> words = {
      {QStringLiteral("kv"), QStringLiteral("KV")},
      {QStringLiteral("qk"), QStringLiteral("QK")},
      {QStringLiteral("q"), QStringLiteral("Q")},
      {QStringLiteral("v"), QStringLiteral("V")},
      {QStringLiteral("lora"), QStringLiteral("LoRA")},
      {QStringLiteral("rope"), QStringLiteral("RoPE")},
      {QStringLiteral("lr"), QStringLiteral("LR")},
      {QStringLiteral("moe"), QStringLiteral("MoE")},
      {QStringLiteral("mtp"), QStringLiteral("MTP")},
      {QStringLiteral("tflops"), QStringLiteral("TFLOP/s")},
      {QStringLiteral("eps"), QStringLiteral("epsilon")},
      {QStringLiteral("val"), QStringLiteral("validation")},
      {QStringLiteral("inter"), QStringLiteral("hidden size")},
      {QStringLiteral("seq"), QStringLiteral("sequence")},
      {QStringLiteral("len"), QStringLiteral("length")},
      {QStringLiteral("vocab"), QStringLiteral("vocabulary")},
      {QStringLiteral("dir"), QStringLiteral("folder")},
      {QStringLiteral("grad"), QStringLiteral("gradient")},
      {QStringLiteral("accum"), QStringLiteral("accumulation")},
      {QStringLiteral("std"), QStringLiteral("std")},
      {QStringLiteral("every"), QStringLiteral("every (steps)")},
  };
  static const QHash<QString, QString> whole = {  // where the generic words read badly
      {QStringLiteral("model.dim"), QStringLiteral("Hidden size")},
      {QStringLiteral("model.n_heads"), QStringLiteral("Attention heads")},
      {QStringLiteral("train.lr"), QStringLiteral("Learning rate")},
      {QStringLiteral("train.lr_embed"), QStringLiteral("Embedding learning rate")},
      {QStringLiteral("train.beta1"), QStringLiteral("AdamW beta1")},
      {QStringLiteral("train.beta2"), QStringLiteral("AdamW beta2")},
      {QStringLiteral("train.eps"), QStringLiteral("AdamW epsilon")},
  };
  if (whole.contains(key))
    return QCoreApplication::translate("ConfigBridge", whole.value(key).toUtf8().constData());
  const int dot = key.indexOf(QLatin1Char('.'));
  QStringList parts = key.mid(dot + 1).split(QLatin1Char('_'), Qt::SkipEmptyParts);
  if (parts.size() > 1 && parts.first() == QLatin1String("n")) parts.removeFirst();  // n_heads
  for (QString& p : parts) p = words.value(p, p);
  const QString label = capitalized(parts.join(QLatin1Char(' ')));
  return QCoreApplication::translate("ConfigBridge", label.toUtf8().constData());
}

QString sectionTitle(const QString& section) {
  if (section == QLatin1String("run")) return trBridge(QT_TRANSLATE_NOOP("ConfigBridge", "Run"));
  if (section == QLatin1String("model"))
    return trBridge(QT_TRANSLATE_NOOP("ConfigBridge", "Model"));
  if (section == QLatin1String("data")) return trBridge(QT_TRANSLATE_NOOP("ConfigBridge", "Data"));
  if (section == QLatin1String("train"))
    return trBridge(QT_TRANSLATE_NOOP("ConfigBridge", "Training"));
  if (section == QLatin1String("eval"))
    return trBridge(QT_TRANSLATE_NOOP("ConfigBridge", "Evaluation"));
  if (section == QLatin1String("checkpoint"))
    return trBridge(QT_TRANSLATE_NOOP("ConfigBridge", "Checkpoints"));
  return capitalized(section);
}

QList<widgets::FormField> formFields() {
  QList<widgets::FormField> out;
  for (const r1::FieldSpec& f : r1::config_fields()) {
    widgets::FormField w;
    w.key = QString::fromStdString(f.key);
    w.section = w.key.section(QLatin1Char('.'), 0, 0);
    w.label = fieldLabel(w.key);
    w.help = QCoreApplication::translate("ConfigHelp", f.help.c_str());
    w.kind = formKind(f.kind);
    w.min = f.min;
    w.max = f.max;
    for (const auto& c : f.choices) w.choices.append(QString::fromStdString(c));
    out.append(w);
  }
  return out;
}

void loadIntoForm(const r1::Config& cfg, widgets::ExperimentForm& form) {
  const QStringList keys = form.keys();
  for (const r1::FieldSpec& f : r1::config_fields()) {
    const QString key = QString::fromStdString(f.key);
    if (keys.contains(key)) form.setValue(key, toVariant(f.get(cfg)));
  }
  showErrors(readForm(form), form);
}

FormResult readForm(const widgets::ExperimentForm& form) {
  FormResult r;
  const QMap<QString, QString> texts = form.textValues();
  if (texts.contains(kPresetKey)) {
    const QString preset = texts.value(kPresetKey).trimmed();
    try {
      r1::apply_preset(r.config, preset.toStdString());
    } catch (const r1::ConfigError& e) {
      r.errors.insert(kPresetKey, fieldMessage(kPresetKey, preset, e.what()));
    }
  }
  for (const QString& key : form.keys()) {  // schema order, as a file would apply them
    if (key == kPresetKey) continue;
    const QString text = texts.value(key);
    try {
      r1::apply_override(r.config, (key + QLatin1Char('=') + text).toStdString());
    } catch (const r1::ConfigError& e) {
      r.errors.insert(key, fieldMessage(key, text, e.what()));
    }
  }
  try {
    r1::validate(r.config);
  } catch (const r1::ConfigError& e) {
    // "key 'model.n_activated_experts': top-k 9 exceeds model.n_routed_experts 4"
    static const QRegularExpression named(QStringLiteral("^key '([^']+)': (.*)$"));
    const QString msg = QString::fromStdString(e.what());
    const QRegularExpressionMatch m = named.match(msg);
    const QString key = m.hasMatch() ? m.captured(1) : QString();
    if (!r.errors.contains(key))
      r.errors.insert(key, capitalized(m.hasMatch() ? m.captured(2) : msg));
  }
  return r;
}

bool showErrors(const FormResult& r, widgets::ExperimentForm& form) {
  for (const QString& key : form.keys()) form.setFieldError(key, r.errors.value(key));
  return r.ok();
}

ExperimentEditor::ExperimentEditor(widgets::ExperimentForm* form, QObject* parent)
    : QObject(parent), form_(form) {
  if (form_->keys().isEmpty()) form_->setFields(formFields());
  QStringList sections;
  for (const widgets::FormField& f : form_->fields())
    if (!sections.contains(f.section)) sections.append(f.section);
  for (const QString& s : sections) form_->setSectionTitle(s, sectionTitle(s));
  connect(form_, &widgets::ExperimentForm::edited, this, &ExperimentEditor::onEdited);
  loadIntoForm(r1::default_config(), *form_);
  valid_ = !form_->hasErrors();
}

void ExperimentEditor::setConfig(const r1::Config& cfg) {
  if (!form_) return;
  loadIntoForm(cfg, *form_);
  revalidate();
}

FormResult ExperimentEditor::result() const { return form_ ? readForm(*form_) : FormResult{}; }

bool ExperimentEditor::revalidate() {
  if (!form_) return false;
  valid_ = showErrors(readForm(*form_), *form_);
  Q_EMIT validityChanged(valid_);
  return valid_;
}

void ExperimentEditor::onEdited(const QString& key) {
  if (key == kPresetKey) applyPreset(form_->text(key).trimmed());
  revalidate();
}

void ExperimentEditor::applyPreset(const QString& name) {
  // Every model.* key is the preset's; other keys (data.seq_len) where the preset moves them.
  const r1::Config before = readForm(*form_).config;
  r1::Config after = before;
  try {
    r1::apply_preset(after, name.toStdString());
  } catch (const r1::ConfigError&) {
    return;  // revalidate() shows why on the preset field
  }
  const QStringList keys = form_->keys();
  for (const r1::FieldSpec& f : r1::config_fields()) {
    const QString key = QString::fromStdString(f.key);
    if (!keys.contains(key)) continue;
    if (key.startsWith(QLatin1String("model.")) || f.get(before) != f.get(after))
      form_->setValue(key, toVariant(f.get(after)));
  }
}

bool ExperimentEditor::saveToml(const QString& path, QString* error) {
  if (!form_) return false;
  const FormResult r = readForm(*form_);
  showErrors(r, *form_);
  if (!r.ok()) {
    const QString key = r.errors.firstKey();
    if (error)
      *error = tr("%n field(s) invalid; %1: %2", nullptr, int(r.errors.size()))
                   .arg(key, r.errors.first());
    return false;
  }
  try {
    r1::save_config(r.config, QFile::encodeName(path).toStdString());
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
  return true;
}

bool ExperimentEditor::loadToml(const QString& path, QString* error) {
  if (!form_) return false;
  r1::Config cfg;
  try {
    cfg = r1::load_config(QFile::encodeName(path).toStdString());
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
  setConfig(cfg);
  return true;
}

}  // namespace r1::app
