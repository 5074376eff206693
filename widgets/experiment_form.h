#pragma once
// A form over a flat list of typed fields, one tab per section, an editor per field and a red
// error line under each. It knows nothing of the engine: the app fills it from the config
// schema, reads the raw text back, and says which fields are wrong and why.
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QVariant>
#include <QWidget>

class QLabel;
class QTabWidget;

namespace r1::widgets {

struct FormField {
  enum class Kind { Int, Float, Bool, String, Choice, StringList };
  QString key;      // "model.dim"
  QString section;  // "model": fields of one section share a tab, in order of appearance
  QString label;
  QString help;     // the editor's tooltip
  Kind kind = Kind::String;
  double min = 0, max = 0;  // Int/Float: inclusive range, shown as a hint
  QStringList choices;      // Choice
};

class ExperimentForm final : public QWidget {
  Q_OBJECT

 public:
  explicit ExperimentForm(QWidget* parent = nullptr);
  ~ExperimentForm() override;

  // Rebuilds every editor; values and errors are cleared.
  void setFields(const QList<FormField>& fields);
  QList<FormField> fields() const;
  QStringList keys() const;  // in field order
  // Tab title of a section (default: the section name, capitalized).
  void setSectionTitle(const QString& section, const QString& title);

  // Programmatic changes do not emit edited().
  // Int: qint64 or text; Float: double or text; Bool: bool; String/Choice: text;
  // StringList: QStringList (shown comma-separated).
  void setValue(const QString& key, const QVariant& value);
  // Int/Float: the number when the text parses, else the text; StringList: the trimmed items.
  QVariant value(const QString& key) const;
  QString text(const QString& key) const;  // the editor's raw text
  QMap<QString, QString> textValues() const;

  void setFieldError(const QString& key, const QString& message);  // empty clears
  QString fieldError(const QString& key) const;
  bool hasErrors() const;

  QWidget* editor(const QString& key) const;
  // Shows the tab of key's section and scrolls its editor into view.
  void revealField(const QString& key);

 Q_SIGNALS:
  void edited(const QString& key);  // the user changed the field

 private:
  struct Field;
  struct Section;
  Field* find(const QString& key) const;
  void updateTabMarks();

  QTabWidget* tabs_ = nullptr;
  QList<Field*> fields_;
  QList<Section*> sections_;
  bool updating_ = false;
};

}  // namespace r1::widgets
