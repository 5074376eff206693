#include "widgets/experiment_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QStyle>
#include <QTabWidget>
#include <QVBoxLayout>

namespace r1::widgets {

struct ExperimentForm::Field {
  FormField spec;
  QWidget* editor = nullptr;
  QLineEdit* line = nullptr;
  QCheckBox* check = nullptr;
  QComboBox* combo = nullptr;
  QLabel* label = nullptr;
  QLabel* error = nullptr;
  Section* section = nullptr;
};

struct ExperimentForm::Section {
  QString name;
  QScrollArea* page = nullptr;
  QGridLayout* grid = nullptr;
  int rows = 0;
};

namespace {

// The shortest text that reads back as exactly v, as a person would type it: "0.0003", "1e-6".
QString number(double v) {
  const int shortest = QLocale::FloatingPointShortest;
  QString e = QString::number(v, 'e', shortest);  // "3e-04"
  const int at = e.indexOf(QLatin1Char('e'));
  const int exponent = e.mid(at + 1).toInt();
  if (v == 0 || (exponent >= -4 && exponent < 16)) return QString::number(v, 'f', shortest);
  const QChar sign = e.at(at + 1);
  QString digits = e.mid(at + 2);
  while (digits.size() > 1 && digits.startsWith(QLatin1Char('0'))) digits.remove(0, 1);
  return e.left(at + 1) + (sign == QLatin1Char('-') ? QStringLiteral("-") : QString()) + digits;
}

QString defaultTitle(const QString& section) {
  if (section.isEmpty()) return section;
  return section.left(1).toUpper() + section.mid(1);
}

}  // namespace

ExperimentForm::ExperimentForm(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  tabs_ = new QTabWidget(this);
  tabs_->setDocumentMode(true);
  tabs_->setUsesScrollButtons(true);
  layout->addWidget(tabs_);
}

ExperimentForm::~ExperimentForm() {
  qDeleteAll(fields_);
  qDeleteAll(sections_);
}

void ExperimentForm::setFields(const QList<FormField>& specs) {
  while (tabs_->count() > 0) {
    QWidget* page = tabs_->widget(0);
    tabs_->removeTab(0);
    delete page;
  }
  qDeleteAll(fields_);
  qDeleteAll(sections_);
  fields_.clear();
  sections_.clear();

  const QColor window = palette().color(QPalette::Window);
  const QColor red =
      window.lightness() < 128 ? QColor(0xff, 0x6b, 0x6b) : QColor(0xc6, 0x28, 0x28);

  for (const FormField& spec : specs) {
    Section* sec = nullptr;
    for (Section* s : std::as_const(sections_))
      if (s->name == spec.section) sec = s;
    if (!sec) {
      sec = new Section;
      sec->name = spec.section;
      sec->page = new QScrollArea;
      sec->page->setWidgetResizable(true);
      sec->page->setFrameShape(QFrame::NoFrame);
      auto* body = new QWidget;
      sec->grid = new QGridLayout(body);
      sec->grid->setColumnStretch(1, 1);
      sec->grid->setVerticalSpacing(4);
      sec->page->setWidget(body);
      tabs_->addTab(sec->page, defaultTitle(spec.section));
      sections_.append(sec);
    }
    QWidget* body = sec->page->widget();

    auto* f = new Field;
    f->spec = spec;
    f->section = sec;
    const QString key = spec.key;
    QString tip = spec.help;
    if (spec.kind == FormField::Kind::Int || spec.kind == FormField::Kind::Float) {
      tip += QLatin1Char('\n') + tr("%1, from %2 to %3").arg(key, number(spec.min),
                                                             number(spec.max));
    } else {
      tip += QLatin1Char('\n') + key;
    }
    switch (spec.kind) {
      case FormField::Kind::Bool:
        f->check = new QCheckBox(body);
        f->editor = f->check;
        connect(f->check, &QCheckBox::toggled, this, [this, key] {
          if (!updating_) Q_EMIT edited(key);
        });
        break;
      case FormField::Kind::Choice:
        f->combo = new QComboBox(body);
        f->combo->addItems(spec.choices);
        f->combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
        f->editor = f->combo;
        connect(f->combo, &QComboBox::currentIndexChanged, this, [this, key] {
          if (!updating_) Q_EMIT edited(key);
        });
        break;
      default:
        f->line = new QLineEdit(body);
        if (spec.kind == FormField::Kind::Int || spec.kind == FormField::Kind::Float)
          f->line->setPlaceholderText(tr("%1 … %2").arg(number(spec.min), number(spec.max)));
        else if (spec.kind == FormField::Kind::StringList)
          f->line->setPlaceholderText(tr("comma-separated"));
        f->editor = f->line;
        connect(f->line, &QLineEdit::textEdited, this, [this, key] {
          if (!updating_) Q_EMIT edited(key);
        });
        break;
    }
    f->editor->setObjectName(key);
    f->editor->setToolTip(tip);
    f->label = new QLabel(spec.label, body);
    f->label->setBuddy(f->editor);
    f->label->setToolTip(tip);
    f->error = new QLabel(body);
    f->error->setWordWrap(true);
    f->error->setTextFormat(Qt::PlainText);
    f->error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QPalette pal = f->error->palette();
    pal.setColor(QPalette::WindowText, red);
    f->error->setPalette(pal);
    f->error->hide();

    const int row = sec->rows;
    sec->grid->addWidget(f->label, row, 0);
    if (f->combo || f->check)
      sec->grid->addWidget(f->editor, row, 1, Qt::AlignLeft);
    else
      sec->grid->addWidget(f->editor, row, 1);
    sec->grid->addWidget(f->error, row + 1, 1);
    sec->rows += 2;
    fields_.append(f);
  }
  // One label column width for every tab, so switching tabs does not shift the editors.
  int labelWidth = 0;
  for (const Field* f : std::as_const(fields_))
    labelWidth = qMax(labelWidth, f->label->sizeHint().width());
  for (Section* s : std::as_const(sections_)) {
    s->grid->setRowStretch(s->rows, 1);
    s->grid->setColumnMinimumWidth(0, labelWidth);
  }
}

QList<FormField> ExperimentForm::fields() const {
  QList<FormField> out;
  for (const Field* f : fields_) out.append(f->spec);
  return out;
}

QStringList ExperimentForm::keys() const {
  QStringList out;
  for (const Field* f : fields_) out.append(f->spec.key);
  return out;
}

void ExperimentForm::setSectionTitle(const QString& section, const QString& title) {
  for (const Section* s : std::as_const(sections_))
    if (s->name == section) tabs_->setTabText(tabs_->indexOf(s->page), title);
}

ExperimentForm::Field* ExperimentForm::find(const QString& key) const {
  for (Field* f : fields_)
    if (f->spec.key == key) return f;
  return nullptr;
}

void ExperimentForm::setValue(const QString& key, const QVariant& value) {
  Field* f = find(key);
  if (!f) return;
  const bool wasUpdating = updating_;
  updating_ = true;
  const bool isText = value.typeId() == QMetaType::QString;
  switch (f->spec.kind) {
    case FormField::Kind::Int:
      f->line->setText(isText ? value.toString() : QString::number(value.toLongLong()));
      break;
    case FormField::Kind::Float:
      f->line->setText(isText ? value.toString() : number(value.toDouble()));
      break;
    case FormField::Kind::Bool:
      f->check->setChecked(value.toBool());
      break;
    case FormField::Kind::Choice: {
      const QString s = value.toString();
      int idx = f->combo->findText(s);
      if (idx < 0) {  // keep what was loaded, so the app can say why it is wrong
        f->combo->addItem(s);
        idx = f->combo->count() - 1;
      }
      f->combo->setCurrentIndex(idx);
      break;
    }
    case FormField::Kind::String:
      f->line->setText(value.toString());
      break;
    case FormField::Kind::StringList:
      f->line->setText(value.toStringList().join(QStringLiteral(", ")));
      break;
  }
  if (f->line) f->line->setCursorPosition(0);
  updating_ = wasUpdating;
}

QVariant ExperimentForm::value(const QString& key) const {
  const Field* f = find(key);
  if (!f) return {};
  bool ok = false;
  switch (f->spec.kind) {
    case FormField::Kind::Int: {
      const qlonglong v = f->line->text().trimmed().toLongLong(&ok);
      return ok ? QVariant(v) : QVariant(f->line->text());
    }
    case FormField::Kind::Float: {
      const double v = f->line->text().trimmed().toDouble(&ok);
      return ok ? QVariant(v) : QVariant(f->line->text());
    }
    case FormField::Kind::Bool:
      return f->check->isChecked();
    case FormField::Kind::Choice:
      return f->combo->currentText();
    case FormField::Kind::String:
      return f->line->text();
    case FormField::Kind::StringList: {
      QStringList out;
      for (const QString& s : f->line->text().split(QLatin1Char(',')))
        if (!s.trimmed().isEmpty()) out.append(s.trimmed());
      return out;
    }
  }
  return {};
}

QString ExperimentForm::text(const QString& key) const {
  const Field* f = find(key);
  if (!f) return {};
  if (f->check) return f->check->isChecked() ? QStringLiteral("true") : QStringLiteral("false");
  if (f->combo) return f->combo->currentText();
  return f->line->text();
}

QMap<QString, QString> ExperimentForm::textValues() const {
  QMap<QString, QString> out;
  for (const Field* f : fields_) out.insert(f->spec.key, text(f->spec.key));
  return out;
}

void ExperimentForm::setFieldError(const QString& key, const QString& message) {
  Field* f = find(key);
  if (!f || f->error->text() == message) return;
  f->error->setText(message);
  f->error->setVisible(!message.isEmpty());
  updateTabMarks();
}

QString ExperimentForm::fieldError(const QString& key) const {
  const Field* f = find(key);
  return f ? f->error->text() : QString();
}

bool ExperimentForm::hasErrors() const {
  for (const Field* f : fields_)
    if (!f->error->text().isEmpty()) return true;
  return false;
}

QWidget* ExperimentForm::editor(const QString& key) const {
  const Field* f = find(key);
  return f ? f->editor : nullptr;
}

void ExperimentForm::revealField(const QString& key) {
  const Field* f = find(key);
  if (!f) return;
  tabs_->setCurrentWidget(f->section->page);
  f->section->page->ensureWidgetVisible(f->editor);
}

void ExperimentForm::updateTabMarks() {
  const QIcon warn = style()->standardIcon(QStyle::SP_MessageBoxWarning);
  for (const Section* s : std::as_const(sections_)) {
    bool bad = false;
    for (const Field* f : fields_)
      bad |= f->section == s && !f->error->text().isEmpty();
    tabs_->setTabIcon(tabs_->indexOf(s->page), bad ? warn : QIcon());
  }
}

}  // namespace r1::widgets
