#include "app/language.h"

#include <QCoreApplication>
#include <QLocale>
#include <QTranslator>

namespace r1::app {

bool installLanguage(const QString& locale) {
  static QTranslator ui, config;
  QCoreApplication::removeTranslator(&ui);
  QCoreApplication::removeTranslator(&config);
  if (locale == QLatin1String("en")) return true;
  bool ok = ui.load(QStringLiteral(":/i18n/r1_workbench_%1.qm").arg(locale)) &&
            config.load(QStringLiteral(":/i18n/r1_config_%1.qm").arg(locale));
  if (ok) {
    QCoreApplication::installTranslator(&ui);
    QCoreApplication::installTranslator(&config);
  }
  return ok;
}

QString systemLanguage() {
  return QLocale().language() == QLocale::Chinese ? QStringLiteral("zh_CN") : QStringLiteral("en");
}

}  // namespace r1::app
