#pragma once
// Binds the experiment form to the engine's config schema (engine/config/config.h): the form
// shows exactly the TOML keys, the engine's own parser and validate() decide what is wrong, and
// what the form saves is what r1-worker loads.
#include "engine/config/config.h"
#include "widgets/experiment_form.h"

#include <QList>
#include <QMap>
#include <QObject>
#include <QPointer>
#include <QString>

namespace r1::app {

// One field per config key, in schema order; section = the part before the dot.
QList<widgets::FormField> formFields();
// "model.kv_lora_rank" -> "KV LoRA rank"
QString fieldLabel(const QString& key);
QString sectionTitle(const QString& section);  // "train" -> "Training" (translated)

// Shows cfg in the form (values exactly as to_toml would round-trip them) and refreshes the
// form's errors; emits nothing.
void loadIntoForm(const r1::Config& cfg, widgets::ExperimentForm& form);

struct FormResult {
  r1::Config config;                // best effort where fields are invalid
  QMap<QString, QString> errors;    // key -> why, phrased for the field itself
  bool ok() const { return errors.isEmpty(); }
};

// Starts from the preset chosen in the form, applies every field's text as a --set override
// (the engine's parser and range checks), then validate() for cross-key rules.
FormResult readForm(const widgets::ExperimentForm& form);
// Sets or clears the error of every key of the form from r; returns r.ok().
bool showErrors(const FormResult& r, widgets::ExperimentForm& form);

// Owns the form's wiring: errors refresh on every edit, a preset change rewrites the preset's
// keys, TOML files are saved and loaded through the engine.
class ExperimentEditor final : public QObject {
  Q_OBJECT

 public:
  // Gives the form the schema's fields (if it has none) and shows the default config.
  explicit ExperimentEditor(widgets::ExperimentForm* form, QObject* parent = nullptr);

  widgets::ExperimentForm* form() const { return form_; }
  void setConfig(const r1::Config& cfg);  // loads into the form and revalidates
  FormResult result() const;              // readForm() of the form
  bool isValid() const { return valid_; }
  // Re-reads the form, sets every field's error, emits validityChanged when it changed.
  bool revalidate();

  // false (and *error says why) when a field is invalid or the file cannot be written.
  bool saveToml(const QString& path, QString* error = nullptr);
  // false (and *error holds the engine's message: file, line, key) leaves the form unchanged.
  bool loadToml(const QString& path, QString* error = nullptr);

 Q_SIGNALS:
  void validityChanged(bool valid);

 private:
  void onEdited(const QString& key);
  void applyPreset(const QString& name);

  QPointer<widgets::ExperimentForm> form_;
  bool valid_ = true;
};

}  // namespace r1::app
