// The Review tab of the main window: the ReviewView bound to its ReviewController, plus the
// dialogs its intents need (folders, candidate files, export paths, the demo's explanation).
#include "app/main_window.h"
#include "app/review_controller.h"
#include "widgets/review_view.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QSettings>

namespace r1::app {

QWidget* MainWindow::buildReviewPage() {
  auto* view = new widgets::ReviewView(this);
  review_ = new ReviewController(this);
  review_->bind(view);
  using V = widgets::ReviewView;

  connect(view, &V::openFolderRequested, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Open a folder of scans (LUNA16 layout or .mhd files)"), review_->folder());
    if (!dir.isEmpty()) review_->openFolder(dir);
  });
  connect(view, &V::openCandidatesRequested, this, [this] {
    if (review_->folder().isEmpty()) {
      QMessageBox::information(this, tr("Candidates"), tr("Open a folder of scans first."));
      return;
    }
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open candidates to review"), review_->folder(),
        tr("Candidate or submission CSV (*.csv);;All files (*)"));
    if (!path.isEmpty()) review_->openCandidates(path);
  });
  connect(view, &V::runDetectorRequested, this, [this] {
    if (review_->folder().isEmpty()) {
      QMessageBox::information(this, tr("Run detector"), tr("Open a folder of scans first."));
      return;
    }
    if (review_->detecting()) return;  // its progress and Cancel are on the page
    const QString key = QStringLiteral("review/detectorCheckpoint");
    const QString last = QSettings().value(key).toString();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Detector checkpoint to run over every scan of the folder"),
        QFileInfo::exists(last) ? last : QFileInfo(last).absolutePath(),
        tr("Detector checkpoint (*.r1ckpt);;All files (*)"));
    if (path.isEmpty()) return;
    QSettings().setValue(key, path);
    review_->runDetector(path);
  });
  connect(view, &V::generateDemoRequested, this, [this] {
    const auto answer = QMessageBox::question(
        this, tr("Generate demo data"),
        tr("This writes 4 phantom CT scans (about 70 MB) with nodules of known position and size, "
           "their annotations.csv, and demo candidates to review.\n\n"
           "No detector made the demo candidates: they are a stand-in made from the phantom's "
           "known nodules (jittered, some left out) plus false positives at random lung positions "
           "with made-up scores. They show the review workflow, nothing about any model.\n\n"
           "Choose the folder next (an empty one; otherwise a subfolder r1-review-demo is made)."),
        QMessageBox::Ok | QMessageBox::Cancel);
    if (answer != QMessageBox::Ok) return;
    QString dir = QFileDialog::getExistingDirectory(this, tr("Folder for the demo data"));
    if (dir.isEmpty()) return;
    if (!QDir(dir).isEmpty()) dir = QDir(dir).filePath(QStringLiteral("r1-review-demo"));
    review_->generateDemo(dir);
  });
  auto exportTo = [this](const QString& title, const QString& name, const QString& filter,
                         bool (ReviewController::*fn)(const QString&, QString*) const) {
    if (review_->folder().isEmpty()) return;
    const QString path =
        QFileDialog::getSaveFileName(this, title, QDir(review_->folder()).filePath(name), filter);
    if (path.isEmpty()) return;
    QString err;
    if ((review_->*fn)(path, &err))
      Q_EMIT review_->message(tr("Wrote %1").arg(QDir::toNativeSeparators(path)), false);
    else
      QMessageBox::warning(this, title, err);
  };
  connect(view, &V::exportSubmissionRequested, this, [=] {
    exportTo(tr("Export LUNA16 submission"), QStringLiteral("submission-reviewed.csv"),
             tr("CSV (*.csv)"), &ReviewController::exportSubmission);
  });
  connect(view, &V::exportDecisionsRequested, this, [=] {
    exportTo(tr("Export review decisions"), QStringLiteral("review-decisions.csv"),
             tr("CSV (*.csv)"), &ReviewController::exportDecisions);
  });
  connect(view, &V::exportImageRequested, this, [=] {
    exportTo(tr("Export the current view"), QStringLiteral("review-view.png"), tr("PNG (*.png)"),
             &ReviewController::exportImage);
  });
  return view;
}

}  // namespace r1::app
