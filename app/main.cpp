// r1-workbench: the desktop workbench over the embedded R1 engine.
#include "app/cluster_controller.h"
#include "app/engine_runner.h"
#include "app/language.h"
#include "app/main_window.h"
#include "app/run_store.h"

#include <QApplication>
#include <QDir>
#include <QLocale>
#include <QMessageBox>
#include <QPointer>
#include <QSettings>
#include <QStandardPaths>

#include <clocale>
#include <functional>

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  std::setlocale(LC_NUMERIC, "C");  // the engine parses and prints numbers the C way
  QApplication::setOrganizationName(QStringLiteral("R1Workbench"));
  QApplication::setApplicationName(QStringLiteral("r1-workbench"));
  QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

  QSettings settings;
  QString locale = settings.value(QStringLiteral("ui/language")).toString();
  if (locale.isEmpty()) locale = r1::app::systemLanguage();
  r1::app::installLanguage(locale);

  const QString dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
  QDir().mkpath(dataDir);
  r1::app::RunStore store(dataDir + QStringLiteral("/runs.sqlite"));
  if (!store.isOpen()) {
    QMessageBox::critical(nullptr, QObject::tr("R1 Workbench"), store.errorString());
    return 1;
  }

  // Outlives the windows: a job keeps being followed while the window is rebuilt.
  r1::app::ClusterController cluster;
  QPointer<r1::app::MainWindow> window;
  std::function<void()> make = [&] {
    window = new r1::app::MainWindow(&store, &cluster);
    window->setAttribute(Qt::WA_DeleteOnClose);
    QObject::connect(window, &r1::app::MainWindow::languageRequested, &app,
                     [&](const QString& loc) {
                       if (window && window->runner()->isRunning()) {
                         QMessageBox::information(window, QObject::tr("Language"),
                                                  QObject::tr("Switch language after the run."));
                         return;
                       }
                       QSettings().setValue(QStringLiteral("ui/language"), loc);
                       r1::app::installLanguage(loc);
                       QPointer<r1::app::MainWindow> old = window;
                       make();  // the window is rebuilt; history and settings persist
                       if (old) old->close();
                     });
    window->show();
  };
  make();
  cluster.attachRunning();  // a job that ran on while the workbench was closed: follow it again
  return QApplication::exec();
}
