// ReviewController::runDetector: the engine's nodule detector over the open folder, on a worker
// thread, its candidates written as a submission CSV beside the scans and opened for review.
#include "app/review_controller.h"

#include "engine/compat/torch_compat.h"
#include "engine/train/checkpoint.h"
#include "engine/vision/csv.h"
#include "engine/vision/detect_config.h"
#include "engine/vision/detect_infer.h"
#include "engine/vision/volume_io.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMetaObject>
#include <QRegularExpression>
#include <QThread>

#include <algorithm>
#include <cmath>
#include <optional>

namespace r1::app {

namespace vision = r1::vision;

namespace {

QString native(const std::string& path) {
  return QDir::toNativeSeparators(QString::fromStdString(path));
}

// An exception's text; LibTorch's without its C++ backtrace.
QString reasonOf(const std::exception& e) {
  if (const auto* t = dynamic_cast<const c10::Error*>(&e))
    return QString::fromUtf8(t->what_without_backtrace());
  return QString::fromUtf8(e.what());
}

// `reason` without a leading "<path>: " (the message names the file itself).
QString withoutPath(QString reason, const std::string& path) {
  const QString prefix = QString::fromStdString(path) + QStringLiteral(": ");
  if (reason.startsWith(prefix)) reason.remove(0, prefix.size());
  return reason;
}

struct DetectionRun {
  QString error;     // "": done (or cancelled)
  QString device;    // "cpu (3 threads)", "cuda:0"
  std::string csv;   // the submission, header included
  int rows = 0, scans = 0;
  QStringList skipped;  // scans that could not be read when the folder was opened
};

// The scan's place in the run and how far the detector is through its slices (0..1).
using Progress = std::function<void(int scan, double fraction)>;

// Everything on the worker thread: load the checkpoint, detect scan after scan. Returns with an
// empty csv once `cancelled` answers true.
DetectionRun detectScans(const std::string& checkpoint,
                         const std::vector<ReviewController::Scan>& scans,
                         const std::function<bool()>& cancelled, const Progress& progress) {
  DetectionRun run;
  const bool cuda = compat::kTorchHasCuda && compat::cuda_available();
  std::vector<std::string> sets;
  if (cuda) {
    run.device = QStringLiteral("cuda:0");
  } else {
    // A few slices per forward pass keep Cancel within about a second on a CPU; one core is
    // left to the GUI unless OMP_NUM_THREADS says otherwise.
    sets.push_back("decode.batch=4");
    if (!qEnvironmentVariableIsSet("OMP_NUM_THREADS")) {
      const int want = std::max(1, QThread::idealThreadCount() - 1);
      try {
        if (torch::get_num_threads() != want) torch::set_num_threads(want);
      } catch (const std::exception&) {
        // A parallel backend that fixes its pool once used: keep what it has.
      }
    }
    run.device = ReviewController::tr("CPU, %n thread(s)", nullptr, torch::get_num_threads());
  }

  std::optional<vision::Detector> det;
  try {
    det.emplace(vision::Detector::load(checkpoint, cuda ? "cuda" : "cpu", sets));
  } catch (const std::exception& e) {
    run.error = ReviewController::tr("Cannot use %1 as a detector: %2")
                    .arg(native(checkpoint), withoutPath(reasonOf(e), checkpoint));
    return run;
  }

  std::string csv = "seriesuid,coordX,coordY,coordZ,probability,diameter_mm\n";
  const int n = static_cast<int>(scans.size());
  for (int i = 0; i < n; ++i) {
    if (cancelled()) return run;
    const auto& scan = scans[static_cast<size_t>(i)];
    if (!scan.ok) {
      run.skipped << QString::fromStdString(scan.uid);
      continue;
    }
    progress(i, 0);
    std::vector<vision::Candidate3D> found;
    try {
      const vision::Volume v = vision::read_volume(scan.path);
      if (cancelled()) return run;
      found = det->detect(v, 0, cancelled, [&](int64_t done, int64_t total) {
        progress(i, total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0);
      });
    } catch (const std::exception& e) {
      run.error = ReviewController::tr("The detector stopped at scan %1: %2\nThe review is unchanged.")
                      .arg(native(scan.path), withoutPath(reasonOf(e), scan.path));
      return run;
    }
    if (cancelled()) return run;
    for (const auto& c : found) {
      csv += vision::csv_field(scan.uid) + ',' + vision::csv_number(c.world.x) + ',' +
             vision::csv_number(c.world.y) + ',' + vision::csv_number(c.world.z) + ',' +
             vision::csv_number(c.score) + ',' +
             vision::csv_number(std::round(c.diameter_mm * 100) / 100) + '\n';
      ++run.rows;
    }
    ++run.scans;
  }
  run.csv = std::move(csv);
  return run;
}

// r1-detections-<name>.csv for the checkpoint: its file name, with its run folder's in front
// for the trainer's ckpt-<step> names (runs/nodules/ckpt-00002000.r1ckpt -> nodules-ckpt-...).
QString detectionsBase(const QString& checkpoint) {
  const QFileInfo info(checkpoint);
  QString name = info.completeBaseName();
  if (name.startsWith(QLatin1String("ckpt-")) && !info.dir().dirName().isEmpty())
    name = info.dir().dirName() + QLatin1Char('-') + name;
  static const QRegularExpression odd(QStringLiteral("[^A-Za-z0-9._-]+"));
  name.replace(odd, QStringLiteral("_"));
  return QStringLiteral("r1-detections-") + name;
}

// Writes `text` to <folder>/<base>.csv, else <base>-2.csv, -3 … : never over an existing file.
// Returns the path, or "" with *error set.
QString writeNewFile(const QString& folder, const QString& base, const std::string& text,
                     QString* error) {
  const QDir dir(folder);
  for (int k = 1; k < 1000; ++k) {
    const QString path = dir.filePath(
        k == 1 ? base + QStringLiteral(".csv") : QStringLiteral("%1-%2.csv").arg(base).arg(k));
    if (QFile::exists(path)) continue;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::NewOnly)) {
      if (QFile::exists(path)) continue;  // made meanwhile
      *error = ReviewController::tr("Cannot write %1: %2")
                   .arg(QDir::toNativeSeparators(path), f.errorString());
      return {};
    }
    if (f.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size()) ||
        !f.flush()) {
      *error = ReviewController::tr("Cannot write %1: %2")
                   .arg(QDir::toNativeSeparators(path), f.errorString());
      f.close();
      f.remove();
      return {};
    }
    return path;
  }
  *error = ReviewController::tr("Cannot find a free file name for %1 in %2")
               .arg(base, QDir::toNativeSeparators(folder));
  return {};
}

}  // namespace

void ReviewController::runDetector(const QString& checkpoint) {
  if (folder_.isEmpty()) {
    Q_EMIT message(tr("Open a folder of scans first."), true);
    return;
  }
  if (detecting_) {
    Q_EMIT message(tr("The detector is already running."), true);
    return;
  }
  detecting_ = true;
  setBusy(tr("Loading the detector %1…").arg(QFileInfo(checkpoint).fileName()));
  QPointer<ReviewController> self(this);
  const QString folder = folder_;
  runAsync([self, checkpoint, folder, scans = scans_](const Token& token) -> std::function<void()> {
    const int n = static_cast<int>(scans.size());
    auto last = std::make_shared<int>(-1);  // posted only when the percent moves
    const auto progress = [self, token, folder, n, last](int scan, double fraction) {
      const int done = scan * 100 + static_cast<int>(std::lround(fraction * 100));
      if (done == *last) return;
      *last = done;
      QMetaObject::invokeMethod(self.data(), [self, token, folder, n, scan, done] {
        if (!self || token->load() || self->folder_ != folder) return;
        self->setBusy(tr("Detector: scan %1 of %2").arg(scan + 1).arg(n), done, n * 100);
      }, Qt::QueuedConnection);
    };
    auto run = std::make_shared<DetectionRun>();
    try {
      *run = detectScans(checkpoint.toStdString(), scans, [token] { return token->load(); },
                         progress);
    } catch (const std::exception& e) {  // anything the steps above did not expect
      run->error = tr("The detector failed: %1").arg(reasonOf(e));
    }
    return [self, token, checkpoint, folder, run] {
      if (!self) return;
      self->detecting_ = false;
      if (token->load()) return;  // cancel() has said so; nothing was written
      if (!run->error.isEmpty()) {
        Q_EMIT self->message(run->error, true);
        return;
      }
      if (self->folder_ != folder) {
        Q_EMIT self->message(tr("The detector finished on %1, but another folder is open now: "
                                "its candidates were not written.")
                                 .arg(QDir::toNativeSeparators(folder)),
                             true);
        return;
      }
      QString error;
      const QString path = writeNewFile(folder, detectionsBase(checkpoint), run->csv, &error);
      if (path.isEmpty()) {
        Q_EMIT self->message(error, true);
        return;
      }
      QString note = tr("Detector %1 (%2): %n candidate(s) in %3 scan(s), written to %4.", nullptr,
                        run->rows)
                         .arg(QFileInfo(checkpoint).fileName(), run->device)
                         .arg(run->scans)
                         .arg(QFileInfo(path).fileName());
      if (!run->skipped.isEmpty())
        note += QLatin1Char(' ') +
                tr("Not read, so without candidates: %1.").arg(run->skipped.join(QStringLiteral(", ")));
      self->openFolder(folder, path);
      self->openNote_ = note;
      self->openNoteGen_ = self->folderGen_;
    };
  });
}

}  // namespace r1::app
