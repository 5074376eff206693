#include "app/review_controller.h"

#include "engine/vision/csv.h"
#include "engine/vision/eval_froc.h"
#include "engine/vision/eval_map.h"
#include "engine/vision/luna_folder.h"
#include "engine/vision/phantom.h"
#include "engine/vision/vision_error.h"
#include "engine/vision/volume_io.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QMetaObject>
#include <QPixmap>
#include <QSaveFile>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace r1::app {

namespace vision = r1::vision;
using widgets::ReviewDecision;

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }
std::string ss(const QString& s) { return s.toStdString(); }

QString nowUtc() { return QDateTime::currentDateTimeUtc().toString(Qt::ISODate); }

const char* decisionName(ReviewDecision d) {
  switch (d) {
    case ReviewDecision::Accepted: return "accepted";
    case ReviewDecision::Rejected: return "rejected";
    case ReviewDecision::Missed: return "missed";
    case ReviewDecision::Pending: break;
  }
  return "pending";
}

double parseNumber(const std::string& s, bool* ok) {
  if (s.empty()) {
    *ok = false;
    return 0;
  }
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    *ok = used == s.size() && std::isfinite(v);
    return v;
  } catch (const std::exception&) {
    *ok = false;
    return 0;
  }
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The optional diameter_mm column of a candidate CSV, one value per data row (-1 where empty);
// empty when the file has no such column.
std::vector<double> readDiameters(const std::string& path) {
  const auto records = vision::read_csv(path, "candidates");
  if (records.empty()) return {};
  int col = -1;
  for (size_t i = 0; i < records[0].fields.size(); ++i)
    if (lower(records[0].fields[i]) == "diameter_mm") col = static_cast<int>(i);
  if (col < 0) return {};
  std::vector<double> out;
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& f = records[r].fields;
    bool ok = false;
    const double v = static_cast<size_t>(col) < f.size() ? parseNumber(f[static_cast<size_t>(col)], &ok) : 0;
    out.push_back(ok && v > 0 ? v : -1);
  }
  return out;
}

bool csvHasProbability(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return false;
  const QString head = QString::fromUtf8(f.readLine(4096)).toLower();
  return head.contains(QLatin1String("seriesuid")) && head.contains(QLatin1String("probability"));
}

// The folder's candidate file. The known names and the detector's r1-detections-*.csv: the
// newest of them, so that reopening a folder after "Run detector…" shows that run and not an
// older submission.csv (equal times: the known names in this order, then by file name). Without
// any of those, the first CSV by name with seriesuid and probability columns (an export such as
// submission-reviewed.csv is taken only then).
QString findCandidates(const QString& folder) {
  const QDir dir(folder);
  const QStringList known = {QLatin1String(ReviewController::kDemoCandidates),
                             QStringLiteral("r1-candidates.csv"), QStringLiteral("submission.csv")};
  QString best, other;
  QDateTime bestTime;
  int bestRank = 0;
  const auto files = dir.entryInfoList({QStringLiteral("*.csv")}, QDir::Files, QDir::Name);
  for (const auto& fi : files) {
    const QString name = fi.fileName();
    if (name == QLatin1String(ReviewController::kReviewFile)) continue;
    const int k = static_cast<int>(known.indexOf(name));
    const bool detections = name.startsWith(QLatin1String("r1-detections-"));
    if (k < 0 && !detections) {
      if (other.isEmpty() && csvHasProbability(fi.filePath())) other = fi.filePath();
      continue;
    }
    const int rank = k < 0 ? int(known.size()) : k;
    const QDateTime t = fi.lastModified();
    if (best.isEmpty() || t > bestTime || (t == bestTime && rank < bestRank)) {
      best = fi.filePath();
      bestTime = t;
      bestRank = rank;
    }
  }
  return best.isEmpty() ? other : best;
}

// The decisions of a review file, matched to the candidates by series and coordinates (exact:
// the file holds the numbers as read); rows matching no candidate become candidates of their
// own, so that nothing decided is lost when the candidate file changes or goes.
void readReviewFile(const QString& path, ReviewController::FolderData& d,
                    const std::map<std::string, int>& scanOf) {
  const auto records = vision::read_csv(ss(path), "review file");
  if (records.empty()) return;
  std::map<std::string, int> col;
  for (size_t i = 0; i < records[0].fields.size(); ++i) col[lower(records[0].fields[i])] = static_cast<int>(i);
  for (const char* need : {"seriesuid", "coordx", "coordy", "coordz", "decision"})
    if (!col.count(need))
      throw vision::VisionError("review file " + ss(path) + ": no column '" + need + "' in its header");
  auto field = [&](const vision::CsvRecord& r, const char* name) -> std::string {
    auto it = col.find(name);
    if (it == col.end() || static_cast<size_t>(it->second) >= r.fields.size()) return {};
    return r.fields[static_cast<size_t>(it->second)];
  };
  int nextId = 0;
  for (const auto& c : d.candidates) nextId = std::max(nextId, c.id + 1);
  for (size_t i = 1; i < records.size(); ++i) {
    const auto& r = records[i];
    bool okx = false, oky = false, okz = false, okd = false, okp = false;
    const vision::Vec3 w{parseNumber(field(r, "coordx"), &okx), parseNumber(field(r, "coordy"), &oky),
                         parseNumber(field(r, "coordz"), &okz)};
    if (!okx || !oky || !okz)
      throw vision::VisionError("review file " + ss(path) + " line " + std::to_string(r.line) +
                                ": coordinates are not numbers");
    const std::string uid = field(r, "seriesuid");
    const std::string decision = field(r, "decision");
    const double diameter = parseNumber(field(r, "diameter_mm"), &okd);
    const double prob = parseNumber(field(r, "probability"), &okp);
    const QString at = qs(field(r, "reviewed_at"));
    auto sit = scanOf.find(uid);
    const int scan = sit == scanOf.end() ? -1 : sit->second;
    if (decision == "missed") {
      ReviewController::Missed m;
      m.scan = scan;
      m.world = w;
      m.diameterMm = okd && diameter > 0 ? diameter : 6;
      m.at = at;
      const std::string id = field(r, "candidate");
      bool okId = false;
      m.id = id.size() > 1 && (id[0] == 'M' || id[0] == 'm') ? qs(id.substr(1)).toInt(&okId) : 0;
      if (!okId) m.id = static_cast<int>(d.missed.size()) + 1;
      if (scan < 0) d.warnings << ReviewController::tr("Review file: a missed nodule of series %1, not in this folder").arg(qs(uid));
      d.missed.push_back(m);
      continue;
    }
    ReviewDecision dec;
    if (decision == "accepted") dec = ReviewDecision::Accepted;
    else if (decision == "rejected") dec = ReviewDecision::Rejected;
    else if (decision == "pending") continue;
    else
      throw vision::VisionError("review file " + ss(path) + " line " + std::to_string(r.line) +
                                ": unknown decision '" + decision + "'");
    ReviewController::Candidate* match = nullptr;
    for (auto& c : d.candidates) {
      if (c.scan != scan || scan < 0) continue;
      if (std::abs(c.world.x - w.x) < 1e-6 && std::abs(c.world.y - w.y) < 1e-6 &&
          std::abs(c.world.z - w.z) < 1e-6) {
        match = &c;
        break;
      }
    }
    if (!match) {
      if (scan < 0) {
        d.warnings << ReviewController::tr("Review file: a decision on series %1, not in this folder").arg(qs(uid));
        continue;
      }
      ReviewController::Candidate c;
      c.id = nextId++;
      c.scan = scan;
      c.world = w;
      c.probability = okp ? prob : 1.0;
      c.diameterMm = okd ? diameter : -1;
      d.candidates.push_back(c);
      match = &d.candidates.back();
    }
    match->decision = dec;
    match->at = at;
  }
}

// ---- metrics ---------------------------------------------------------------------------------

struct MetricsInput {
  std::vector<ReviewController::Scan> scans;
  std::vector<vision::LunaAnnotation> annotations, excluded;
  std::vector<ReviewController::Candidate> candidates;
  std::vector<ReviewController::Missed> missed;
  double threshold = 0;
};

bool hits(const vision::Vec3& p, const vision::LunaAnnotation& a) {
  return vision::norm(p - a.center) <= (a.diameter_mm < 0 ? 5.0 : a.diameter_mm / 2);
}

// mAP@0.5 on axial boxes: each nodule and each mark is a square as wide as its diameter on the
// slice nearest its centre; a mark and a nodule match when on the same slice with IoU >= 0.5.
double sliceMap(const MetricsInput& in, const std::vector<vision::LunaAnnotation>& truth,
                const std::vector<vision::LunaDetection>& dets, const std::vector<double>& diameters) {
  std::map<std::string, const ReviewController::Scan*> byUid;
  for (const auto& s : in.scans) byUid[s.uid] = &s;
  auto box = [&](const std::string& uid, const vision::Vec3& w, double diameter, std::string* key,
                 vision::Box2D* b) {
    auto it = byUid.find(uid);
    if (it == byUid.end() || !it->second->ok) return false;
    const auto& g = it->second->geometry;
    const vision::Vec3 idx = g.world_to_index(w);
    *key = uid + "/" + std::to_string(std::lround(idx.z));
    const double hx = diameter / 2 / g.spacing[0], hy = diameter / 2 / g.spacing[1];
    *b = {idx.x - hx, idx.y - hy, idx.x + hx, idx.y + hy};
    return true;
  };
  std::vector<vision::GroundTruthBox> gt;
  for (const auto& a : truth) {
    vision::GroundTruthBox g;
    if (box(a.seriesuid, a.center, a.diameter_mm, &g.image, &g.box)) gt.push_back(g);
  }
  std::vector<vision::DetectedBox> db;
  for (size_t i = 0; i < dets.size(); ++i) {
    vision::DetectedBox d;
    d.score = dets[i].probability;
    if (box(dets[i].seriesuid, dets[i].center, diameters[i], &d.image, &d.box)) db.push_back(d);
  }
  if (gt.empty()) return widgets::ReviewMetrics::nan;
  return vision::mean_average_precision(gt, db, 0.5).map;
}

widgets::ReviewMetrics computeMetrics(const MetricsInput& in) {
  widgets::ReviewMetrics m;
  m.scans = static_cast<int>(in.scans.size());
  if (in.scans.empty()) return m;
  std::vector<std::string> uids;
  for (const auto& s : in.scans) uids.push_back(s.uid);

  // The reference: annotations, accepted candidates that hit none of them, missed marks.
  std::vector<vision::LunaAnnotation> ref;
  for (const auto& a : in.annotations)
    if (std::find(uids.begin(), uids.end(), a.seriesuid) != uids.end()) ref.push_back(a);
  m.annotated = static_cast<int>(ref.size());
  for (const auto& c : in.candidates) {
    if (c.decision != ReviewDecision::Accepted || c.scan < 0) continue;
    const std::string& uid = in.scans[static_cast<size_t>(c.scan)].uid;
    bool known = false;
    for (const auto& a : ref) known = known || (a.seriesuid == uid && hits(c.world, a));
    if (!known)
      ref.push_back({uid, c.world, c.diameterMm > 0 ? c.diameterMm : ReviewController::kDefaultDiameterMm});
  }
  for (const auto& x : in.missed)
    if (x.scan >= 0) ref.push_back({in.scans[static_cast<size_t>(x.scan)].uid, x.world, x.diameterMm});
  m.nodules = static_cast<int>(ref.size());
  m.missed = static_cast<int>(in.missed.size());

  std::vector<vision::LunaDetection> all, kept;
  std::vector<double> allD, keptD;
  bool diameters = true;
  for (const auto& c : in.candidates) {
    if (c.scan < 0 || c.probability < in.threshold) continue;
    const vision::LunaDetection d{in.scans[static_cast<size_t>(c.scan)].uid, c.world, c.probability};
    diameters = diameters && c.diameterMm > 0;
    all.push_back(d);
    allD.push_back(c.diameterMm);
    if (c.decision != ReviewDecision::Rejected) {
      kept.push_back(d);
      keptD.push_back(c.diameterMm);
    }
    if (c.decision == ReviewDecision::Accepted) ++m.accepted;
    else if (c.decision == ReviewDecision::Rejected) ++m.rejected;
    else ++m.pending;
  }

  const vision::FrocResult reviewed = vision::evaluate_froc(uids, ref, in.excluded, kept);
  const vision::FrocResult detector = vision::evaluate_froc(uids, ref, in.excluded, all);
  m.cpm = reviewed.cpm;
  m.detectorCpm = detector.cpm;
  m.marks = reviewed.detections;
  m.detected = reviewed.detected_nodules;
  m.falsePositives = reviewed.false_positives;
  for (double r : reviewed.fp_rates) m.fpRates << r;
  for (double s : reviewed.sensitivities) m.sensitivities << s;
  if (!ref.empty()) {
    for (const auto& p : reviewed.curve) m.curve << QPointF(p.fps_per_scan, p.sensitivity);
    for (const auto& p : detector.curve) m.detectorCurve << QPointF(p.fps_per_scan, p.sensitivity);
  }
  if (diameters) {
    m.map50 = sliceMap(in, ref, kept, keptD);
    m.detectorMap50 = sliceMap(in, ref, all, allD);
  } else {
    m.note = QCoreApplication::translate("r1::app::ReviewController", "mAP@0.5 needs the candidates' size: a diameter_mm column in the candidate CSV.");
  }
  if (ref.empty())
    m.note = QCoreApplication::translate("r1::app::ReviewController", "No reference nodules yet: no annotations.csv, nothing accepted or marked as missed.");
  return m;
}

}  // namespace

// ---- plumbing ----------------------------------------------------------------------------------

ReviewController::ReviewController(QObject* parent) : QObject(parent) { pool_.setMaxThreadCount(2); }

ReviewController::~ReviewController() {
  token_->store(true);
  pool_.waitForDone();
}

void ReviewController::runAsync(std::function<std::function<void()>(const Token&)> work) {
  ++pending_;
  QPointer<ReviewController> self(this);
  Token token = token_;
  pool_.start([self, token, work = std::move(work)] {
    std::function<void()> done;
    try {
      done = work(token);
    } catch (const std::exception& e) {
      const QString text = QString::fromUtf8(e.what());
      done = [self, text] {
        if (self) Q_EMIT self->message(text, true);
      };
    }
    // The pool is waited for in the destructor; the queued functor is dropped if the controller
    // goes before it runs.
    QMetaObject::invokeMethod(
        self.data(), [self, done] {
          if (!self) return;
          --self->pending_;
          if (done) done();
          if (self->pending_ == 0) self->setBusy({});
        },
        Qt::QueuedConnection);
  });
}

void ReviewController::setBusy(const QString& what, int done, int total) {
  busy_ = what;
  Q_EMIT busyChanged(what, done, total);
}

void ReviewController::cancel() {
  token_->store(true);
  token_ = std::make_shared<std::atomic<bool>>(false);
  ++folderGen_;
  ++volumeGen_;
  setBusy({});
  Q_EMIT message(tr("Cancelled."), false);
}

QString ReviewController::reviewFilePath() const {
  return folder_.isEmpty() ? QString() : QDir(folder_).filePath(QLatin1String(kReviewFile));
}

void ReviewController::bind(widgets::ReviewView* view) {
  view_ = view;
  using V = widgets::ReviewView;
  connect(view, &V::scanSelected, this, &ReviewController::selectScan);
  connect(view, &V::candidateSelected, this, &ReviewController::selectCandidate);
  connect(view, &V::acceptRequested, this, &ReviewController::accept);
  connect(view, &V::rejectRequested, this, &ReviewController::reject);
  connect(view, &V::undoRequested, this, &ReviewController::undo);
  connect(view, &V::nextUnreviewedRequested, this, &ReviewController::nextUnreviewed);
  connect(view, &V::missedMarked, this, &ReviewController::markMissed);
  connect(view, &V::thresholdChanged, this, &ReviewController::setThreshold);
  connect(view, &V::cancelRequested, this, &ReviewController::cancel);
  connect(this, &ReviewController::busyChanged, view, &V::setBusy);
  connect(this, &ReviewController::message, view, &V::setMessage);
  connect(this, &ReviewController::metricsChanged, view, [this] {
    if (view_) view_->setMetrics(metrics_);
  });
  refreshView();
}

// ---- opening -----------------------------------------------------------------------------------

void ReviewController::openFolder(const QString& folder, const QString& candidatesCsv) {
  const quint64 gen = ++folderGen_;
  setBusy(tr("Opening %1…").arg(QDir::toNativeSeparators(folder)));
  QPointer<ReviewController> self(this);
  runAsync([self, gen, folder, candidatesCsv](const Token& token) -> std::function<void()> {
    FolderData d;
    d.folder = QDir(folder).absolutePath();
    const auto found = vision::find_luna_scans(ss(d.folder));
    if (found.empty())
      throw vision::VisionError(ss(tr("%1 holds no .mhd scans (neither subsetN/*.mhd nor *.mhd)").arg(folder)));
    std::map<std::string, int> scanOf;
    int i = 0;
    for (const auto& f : found) {
      if (token->load()) return {};
      Scan s;
      s.uid = f.seriesuid;
      s.path = f.path;
      try {
        s.geometry = vision::read_volume_geometry(f.path);
        s.ok = true;
      } catch (const std::exception& e) {
        s.problem = QString::fromUtf8(e.what());
        d.warnings << s.problem;
      }
      scanOf[s.uid] = static_cast<int>(d.scans.size());
      d.scans.push_back(std::move(s));
      if (++i % 16 == 0 || i == static_cast<int>(found.size())) {
        const int done = i, total = static_cast<int>(found.size());
        QMetaObject::invokeMethod(self.data(), [self, gen, done, total] {
          if (self && gen == self->folderGen_) self->setBusy(tr("Reading scan headers"), done, total);
        }, Qt::QueuedConnection);
      }
    }
    const QDir dir(d.folder);
    for (const char* name : {"annotations.csv", "CSVFILES/annotations.csv"})
      if (dir.exists(QLatin1String(name))) {
        d.annotations = vision::read_luna_annotations(ss(dir.filePath(QLatin1String(name))));
        d.hasAnnotations = true;
        break;
      }
    for (const char* name : {"annotations_excluded.csv", "CSVFILES/annotations_excluded.csv"})
      if (dir.exists(QLatin1String(name))) {
        d.excluded = vision::read_luna_annotations(ss(dir.filePath(QLatin1String(name))));
        break;
      }
    d.candidatesFile = candidatesCsv.isEmpty() ? findCandidates(d.folder) : candidatesCsv;
    if (!d.candidatesFile.isEmpty()) {
      const auto rows = vision::read_luna_submission(ss(d.candidatesFile));
      const auto diameters = readDiameters(ss(d.candidatesFile));
      int outside = 0;
      for (size_t k = 0; k < rows.size(); ++k) {
        Candidate c;
        c.id = static_cast<int>(k);
        auto it = scanOf.find(rows[k].seriesuid);
        if (it == scanOf.end()) {
          ++outside;
          continue;
        }
        c.scan = it->second;
        c.world = rows[k].center;
        c.probability = rows[k].probability;
        c.diameterMm = diameters.size() == rows.size() ? diameters[k] : -1;
        d.candidates.push_back(c);
      }
      if (outside > 0)
        d.warnings << tr("%n candidate(s) name series that are not in this folder (left out).", nullptr, outside);
    }
    const QString review = dir.filePath(QLatin1String(kReviewFile));
    if (QFile::exists(review)) readReviewFile(review, d, scanOf);
    return [self, gen, d = std::move(d)]() mutable {
      if (self && gen == self->folderGen_) self->applyFolder(std::move(d));
    };
  });
}

void ReviewController::openCandidates(const QString& csv) {
  if (folder_.isEmpty()) {
    Q_EMIT message(tr("Open a folder of scans first."), true);
    return;
  }
  openFolder(folder_, csv);
}

void ReviewController::applyFolder(FolderData d) {
  folder_ = d.folder;
  candidatesFile_ = d.candidatesFile;
  demo_ = QFileInfo(candidatesFile_).fileName() == QLatin1String(kDemoCandidates);
  hasAnnotations_ = d.hasAnnotations;
  scans_ = std::move(d.scans);
  annotations_ = std::move(d.annotations);
  excluded_ = std::move(d.excluded);
  candidates_ = std::move(d.candidates);
  missed_ = std::move(d.missed);
  nextMissedId_ = 1;
  for (const auto& m : missed_) nextMissedId_ = std::max(nextMissedId_, m.id + 1);
  undo_.clear();
  cache_.clear();
  cacheOrder_.clear();
  currentScan_ = -1;
  loadedScan_ = -1;
  currentKey_.clear();
  double lo = 0, hi = 1;
  if (!candidates_.empty()) {
    lo = std::min(0.0, std::min_element(candidates_.begin(), candidates_.end(), [](auto& a, auto& b) {
                         return a.probability < b.probability;
                       })->probability);
    hi = std::max(1.0, std::max_element(candidates_.begin(), candidates_.end(), [](auto& a, auto& b) {
                         return a.probability < b.probability;
                       })->probability);
  }
  threshold_ = lo;
  if (view_) {
    view_->setThresholdRange(lo, hi);
    view_->setThreshold(lo);
    view_->setDemoCandidates(demo_);
    view_->setSource(tr("%1 · %2").arg(QDir::toNativeSeparators(folder_),
                                       candidatesFile_.isEmpty() ? tr("no candidate file")
                                                                 : QFileInfo(candidatesFile_).fileName()));
  }
  int decided = 0;
  for (const auto& c : candidates_) decided += c.decision != ReviewDecision::Pending;
  QString text = tr("%n scan(s), %1 candidates, %2 annotated nodules", nullptr, scanCount())
                     .arg(candidates_.size())
                     .arg(annotations_.size());
  if (decided + static_cast<int>(missed_.size()) > 0)
    text += tr("; restored %1 decisions and %2 missed nodules from %3")
                .arg(decided)
                .arg(missed_.size())
                .arg(QLatin1String(kReviewFile));
  if (!d.warnings.isEmpty()) text += QStringLiteral("\n") + d.warnings.mid(0, 3).join(QLatin1Char('\n'));
  if (!openNote_.isEmpty() && openNoteGen_ == folderGen_) text = openNote_ + QLatin1Char('\n') + text;
  openNote_.clear();
  Q_EMIT message(text, !d.warnings.isEmpty());
  Q_EMIT folderOpened(folder_);
  requestMetrics();
  if (!scans_.empty()) selectScan(0);
  else refreshView();
}

// ---- the current scan and candidate -----------------------------------------------------------

std::vector<int> ReviewController::scanOrder(int scan) const {
  std::vector<int> out;
  for (size_t i = 0; i < candidates_.size(); ++i)
    if (candidates_[i].scan == scan && candidates_[i].probability >= threshold_) out.push_back(static_cast<int>(i));
  std::stable_sort(out.begin(), out.end(), [this](int a, int b) {
    return candidates_[static_cast<size_t>(a)].probability > candidates_[static_cast<size_t>(b)].probability;
  });
  return out;
}

int ReviewController::candidateIndex(int id) const {
  for (size_t i = 0; i < candidates_.size(); ++i)
    if (candidates_[i].id == id) return static_cast<int>(i);
  return -1;
}

int ReviewController::missedIndex(int id) const {
  for (size_t i = 0; i < missed_.size(); ++i)
    if (missed_[i].id == id) return static_cast<int>(i);
  return -1;
}

bool ReviewController::currentIsCandidate(int* index) const {
  if (!currentKey_.startsWith(QLatin1Char('c'))) return false;
  *index = candidateIndex(currentKey_.mid(1).toInt());
  return *index >= 0;
}

bool ReviewController::worldToVoxel(int scan, const vision::Vec3& w, double* x, double* y, double* z) const {
  if (scan < 0 || scan >= scanCount() || !scans_[static_cast<size_t>(scan)].ok) return false;
  const vision::Vec3 i = scans_[static_cast<size_t>(scan)].geometry.world_to_index(w);
  *x = i.x;
  *y = i.y;
  *z = i.z;
  return true;
}

QVector<widgets::ScanRow> ReviewController::scanRows() const {
  QVector<widgets::ScanRow> rows(scanCount());
  for (int i = 0; i < scanCount(); ++i) {
    rows[i].id = qs(scans_[static_cast<size_t>(i)].uid);
    rows[i].loadable = scans_[static_cast<size_t>(i)].ok;
    rows[i].problem = scans_[static_cast<size_t>(i)].problem;
    rows[i].nodules = hasAnnotations_ ? 0 : -1;
  }
  std::map<std::string, int> byUid;
  for (int i = 0; i < scanCount(); ++i) byUid[scans_[static_cast<size_t>(i)].uid] = i;
  if (hasAnnotations_)
    for (const auto& a : annotations_) {
      auto it = byUid.find(a.seriesuid);
      if (it != byUid.end()) ++rows[it->second].nodules;
    }
  for (const auto& c : candidates_) {
    if (c.scan < 0 || c.probability < threshold_) continue;
    auto& r = rows[c.scan];
    ++r.candidates;
    if (c.decision == ReviewDecision::Accepted) ++r.accepted, ++r.reviewed;
    if (c.decision == ReviewDecision::Rejected) ++r.rejected, ++r.reviewed;
  }
  for (const auto& m : missed_)
    if (m.scan >= 0) ++rows[m.scan].missed;
  return rows;
}

QVector<widgets::CandidateRow> ReviewController::candidateRows() const {
  QVector<widgets::CandidateRow> rows;
  if (currentScan_ < 0) return rows;
  for (int i : scanOrder(currentScan_)) {
    const auto& c = candidates_[static_cast<size_t>(i)];
    widgets::CandidateRow r;
    r.id = c.id;
    double x = 0, y = 0, z = 0;
    worldToVoxel(c.scan, c.world, &x, &y, &z);
    r.slice = z;
    r.score = c.probability;
    r.diameterMm = c.diameterMm;
    r.decision = c.decision;
    rows << r;
  }
  for (const auto& m : missed_) {
    if (m.scan != currentScan_) continue;
    widgets::CandidateRow r;
    r.id = m.id;
    double x = 0, y = 0, z = 0;
    worldToVoxel(m.scan, m.world, &x, &y, &z);
    r.slice = z;
    r.diameterMm = m.diameterMm;
    r.decision = ReviewDecision::Missed;
    rows << r;
  }
  return rows;
}

void ReviewController::refreshMarks() {
  if (!view_) return;
  QVector<widgets::SliceMark> marks;
  if (currentScan_ >= 0) {
    const std::string& uid = scans_[static_cast<size_t>(currentScan_)].uid;
    for (const auto& a : annotations_) {
      if (a.seriesuid != uid) continue;
      widgets::SliceMark m;
      m.kind = widgets::SliceMark::Kind::Truth;
      m.diameterMm = a.diameter_mm;
      if (worldToVoxel(currentScan_, a.center, &m.x, &m.y, &m.z)) marks << m;
    }
    for (int i : scanOrder(currentScan_)) {
      const auto& c = candidates_[static_cast<size_t>(i)];
      widgets::SliceMark m;
      m.id = c.id;
      m.score = c.probability;
      m.diameterMm = c.diameterMm > 0 ? c.diameterMm : kDefaultDiameterMm;
      m.state = c.decision == ReviewDecision::Accepted   ? widgets::SliceMark::State::Accepted
                : c.decision == ReviewDecision::Rejected ? widgets::SliceMark::State::Rejected
                                                         : widgets::SliceMark::State::Pending;
      m.current = currentKey_ == QStringLiteral("c%1").arg(c.id);
      if (worldToVoxel(currentScan_, c.world, &m.x, &m.y, &m.z)) marks << m;
    }
    for (const auto& x : missed_) {
      if (x.scan != currentScan_) continue;
      widgets::SliceMark m;
      m.kind = widgets::SliceMark::Kind::Missed;
      m.id = x.id;
      m.diameterMm = x.diameterMm;
      m.current = currentKey_ == QStringLiteral("m%1").arg(x.id);
      if (worldToVoxel(currentScan_, x.world, &m.x, &m.y, &m.z)) marks << m;
    }
  }
  view_->setMarks(marks);
}

void ReviewController::applyCurrentToView() {
  if (!view_) return;
  double x = 0, y = 0, z = 0;
  bool found = false;
  int ci = -1;
  if (currentIsCandidate(&ci)) {
    found = worldToVoxel(candidates_[static_cast<size_t>(ci)].scan, candidates_[static_cast<size_t>(ci)].world, &x, &y, &z);
  } else if (currentKey_.startsWith(QLatin1Char('m'))) {
    const int mi = missedIndex(currentKey_.mid(1).toInt());
    if (mi >= 0) found = worldToVoxel(missed_[static_cast<size_t>(mi)].scan, missed_[static_cast<size_t>(mi)].world, &x, &y, &z);
  }
  view_->setCurrentCandidate(found ? currentKey_ : QString(), x, y, z);
}

void ReviewController::refreshView() {
  if (!view_) return;
  view_->scans()->setRows(scanRows());
  view_->setCurrentScan(currentScan_);
  view_->candidates()->setRows(candidateRows());
  refreshMarks();
  applyCurrentToView();
}

void ReviewController::setCurrent(const QString& key) {
  currentKey_ = key;
  refreshMarks();
  applyCurrentToView();
}

void ReviewController::selectScan(int row) {
  if (row < 0 || row >= scanCount()) return;
  const bool changed = row != currentScan_;
  currentScan_ = row;
  if (changed) {
    // The first pending candidate (else the first) becomes current.
    currentKey_.clear();
    const auto order = scanOrder(row);
    for (int i : order)
      if (candidates_[static_cast<size_t>(i)].decision == ReviewDecision::Pending) {
        currentKey_ = QStringLiteral("c%1").arg(candidates_[static_cast<size_t>(i)].id);
        break;
      }
    if (currentKey_.isEmpty() && !order.empty())
      currentKey_ = QStringLiteral("c%1").arg(candidates_[static_cast<size_t>(order.front())].id);
  }
  if (changed || loadedScan_ != row) loadVolume(row);
  refreshView();
}

void ReviewController::loadVolume(int row) {
  auto it = cache_.find(row);
  if (it != cache_.end()) {
    loadedScan_ = row;
    if (view_) view_->setVolume(it->second);
    refreshView();
    Q_EMIT volumeLoaded(row);
    return;
  }
  loadedScan_ = -1;
  const Scan scan = scans_[static_cast<size_t>(row)];
  if (view_) view_->clearVolume(scan.ok ? tr("Loading %1…").arg(qs(scan.uid)) : scan.problem);
  if (!scan.ok) return;
  const quint64 gen = ++volumeGen_;
  setBusy(tr("Loading scan %1").arg(qs(scan.uid)));
  QPointer<ReviewController> self(this);
  runAsync([self, gen, row, path = scan.path](const Token& token) -> std::function<void()> {
    vision::Volume v = vision::read_volume(path);
    if (token->load()) return {};
    widgets::SliceVolume sv;
    for (int a = 0; a < 3; ++a) {
      sv.size[a] = static_cast<int>(v.geometry.size[static_cast<size_t>(a)]);
      sv.spacing[a] = v.geometry.spacing[static_cast<size_t>(a)];
    }
    if (v.type() == vision::VoxelType::Int16)
      sv.i16 = std::make_shared<const std::vector<qint16>>(std::move(v.int16()));
    else
      sv.f32 = std::make_shared<const std::vector<float>>(std::move(v.float32()));
    return [self, gen, row, sv] {
      if (!self || gen != self->volumeGen_) return;
      self->cache_[row] = sv;
      self->cacheOrder_.erase(std::remove(self->cacheOrder_.begin(), self->cacheOrder_.end(), row),
                              self->cacheOrder_.end());
      self->cacheOrder_.push_back(row);
      while (self->cacheOrder_.size() > 3) {
        self->cache_.erase(self->cacheOrder_.front());
        self->cacheOrder_.erase(self->cacheOrder_.begin());
      }
      if (row != self->currentScan_) return;
      self->loadedScan_ = row;
      if (self->view_) self->view_->setVolume(sv);
      self->refreshView();
      Q_EMIT self->volumeLoaded(row);
    };
  });
}

void ReviewController::selectCandidate(const QString& key) {
  if (key == currentKey_) {
    applyCurrentToView();  // jump back to it
    return;
  }
  setCurrent(key);
}

void ReviewController::setThreshold(double threshold) {
  threshold_ = threshold;
  if (view_) view_->setThreshold(threshold);
  int ci = -1;
  if (currentIsCandidate(&ci) && candidates_[static_cast<size_t>(ci)].probability < threshold_)
    currentKey_.clear();
  if (currentKey_.isEmpty() && currentScan_ >= 0) {
    const auto order = scanOrder(currentScan_);
    if (!order.empty()) currentKey_ = QStringLiteral("c%1").arg(candidates_[static_cast<size_t>(order.front())].id);
  }
  refreshView();
  requestMetrics();
}

// ---- decisions ---------------------------------------------------------------------------------

void ReviewController::decide(ReviewDecision d) {
  int ci = -1;
  if (!currentIsCandidate(&ci)) {
    Q_EMIT message(tr("No candidate selected."), true);
    return;
  }
  auto& c = candidates_[static_cast<size_t>(ci)];
  if (c.decision != d) {
    undo_.push_back({Undo::Kind::Decision, ci, c.decision, c.at, {}});
    c.decision = d;
    c.at = nowUtc();
    if (!saveReview()) return;
  }
  advanceInScan();
  refreshView();
  requestMetrics();
}

void ReviewController::accept() { decide(ReviewDecision::Accepted); }

void ReviewController::reject() {
  if (currentKey_.startsWith(QLatin1Char('m'))) {
    const int mi = missedIndex(currentKey_.mid(1).toInt());
    if (mi < 0) return;
    Undo u{Undo::Kind::RemoveMissed, -1, ReviewDecision::Pending, {}, missed_[static_cast<size_t>(mi)]};
    undo_.push_back(u);
    missed_.erase(missed_.begin() + mi);
    currentKey_.clear();
    saveReview();
    refreshView();
    requestMetrics();
    return;
  }
  decide(ReviewDecision::Rejected);
}

// The next pending candidate of the current scan after the current one (wrapping); stays when
// there is none.
void ReviewController::advanceInScan() {
  const auto order = scanOrder(currentScan_);
  if (order.empty()) return;
  int ci = -1;
  currentIsCandidate(&ci);
  const auto pos = std::find(order.begin(), order.end(), ci);
  const size_t start = pos == order.end() ? 0 : static_cast<size_t>(pos - order.begin()) + 1;
  for (size_t k = 0; k < order.size(); ++k) {
    const int i = order[(start + k) % order.size()];
    if (candidates_[static_cast<size_t>(i)].decision == ReviewDecision::Pending) {
      currentKey_ = QStringLiteral("c%1").arg(candidates_[static_cast<size_t>(i)].id);
      return;
    }
  }
  Q_EMIT message(tr("This scan is reviewed. N goes to the next unreviewed candidate."), false);
}

void ReviewController::nextUnreviewed() {
  if (scans_.empty()) return;
  // Every candidate at the threshold in review order, scan after scan, from the current one on.
  std::vector<int> all;
  const int from = std::max(0, currentScan_);
  for (int k = 0; k < scanCount(); ++k)
    for (int i : scanOrder((from + k) % scanCount())) all.push_back(i);
  if (all.empty()) return;
  int ci = -1;
  currentIsCandidate(&ci);
  const auto pos = std::find(all.begin(), all.end(), ci);
  const size_t start = pos == all.end() ? 0 : static_cast<size_t>(pos - all.begin()) + 1;
  for (size_t k = 0; k < all.size(); ++k) {
    const auto& c = candidates_[static_cast<size_t>(all[(start + k) % all.size()])];
    if (c.decision != ReviewDecision::Pending) continue;
    if (c.scan != currentScan_) {
      currentScan_ = c.scan;
      currentKey_ = QStringLiteral("c%1").arg(c.id);
      loadVolume(c.scan);
      refreshView();
    } else {
      setCurrent(QStringLiteral("c%1").arg(c.id));
    }
    return;
  }
  Q_EMIT message(tr("Every candidate at this threshold is reviewed."), false);
}

void ReviewController::markMissed(double x, double y, double z, double diameterMm) {
  if (currentScan_ < 0 || !scans_[static_cast<size_t>(currentScan_)].ok) return;
  Missed m;
  m.id = nextMissedId_++;
  m.scan = currentScan_;
  m.world = scans_[static_cast<size_t>(currentScan_)].geometry.index_to_world({x, y, z});
  m.diameterMm = diameterMm;
  m.at = nowUtc();
  missed_.push_back(m);
  undo_.push_back({Undo::Kind::AddMissed, -1, ReviewDecision::Pending, {}, m});
  currentKey_ = QStringLiteral("m%1").arg(m.id);
  saveReview();
  refreshView();
  requestMetrics();
}

void ReviewController::undo() {
  if (undo_.empty()) {
    Q_EMIT message(tr("Nothing to undo."), false);
    return;
  }
  const Undo u = undo_.back();
  undo_.pop_back();
  int scan = -1;
  switch (u.kind) {
    case Undo::Kind::Decision: {
      auto& c = candidates_[static_cast<size_t>(u.candidate)];
      c.decision = u.previous;
      c.at = u.previousAt;
      scan = c.scan;
      currentKey_ = QStringLiteral("c%1").arg(c.id);
      break;
    }
    case Undo::Kind::AddMissed: {
      const int mi = missedIndex(u.missed.id);
      if (mi >= 0) missed_.erase(missed_.begin() + mi);
      scan = u.missed.scan;
      currentKey_.clear();
      break;
    }
    case Undo::Kind::RemoveMissed:
      missed_.push_back(u.missed);
      scan = u.missed.scan;
      currentKey_ = QStringLiteral("m%1").arg(u.missed.id);
      break;
  }
  saveReview();
  if (scan >= 0 && scan != currentScan_) {
    currentScan_ = scan;
    loadVolume(scan);
  }
  refreshView();
  requestMetrics();
}

// ---- files -------------------------------------------------------------------------------------

std::string ReviewController::reviewCsv(bool withPending) const {
  std::string out = "seriesuid,coordX,coordY,coordZ,diameter_mm,probability,decision,candidate,reviewed_at\n";
  auto row = [&](const std::string& uid, const vision::Vec3& w, double diameter, const std::string& prob,
                 ReviewDecision d, const std::string& id, const QString& at) {
    out += vision::csv_field(uid) + ',' + vision::csv_number(w.x) + ',' + vision::csv_number(w.y) + ',' +
           vision::csv_number(w.z) + ',' + (diameter > 0 ? vision::csv_number(diameter) : std::string()) +
           ',' + prob + ',' + decisionName(d) + ',' + id + ',' + ss(at) + '\n';
  };
  for (const auto& c : candidates_) {
    if (c.scan < 0 || (!withPending && c.decision == ReviewDecision::Pending)) continue;
    row(scans_[static_cast<size_t>(c.scan)].uid, c.world, c.diameterMm, vision::csv_number(c.probability),
        c.decision, std::to_string(c.id), c.at);
  }
  for (const auto& m : missed_) {
    if (m.scan < 0) continue;
    row(scans_[static_cast<size_t>(m.scan)].uid, m.world, m.diameterMm, {}, ReviewDecision::Missed,
        "M" + std::to_string(m.id), m.at);
  }
  return out;
}

namespace {
bool writeAtomically(const QString& path, const std::string& text, QString* error) {
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly) || f.write(text.data(), static_cast<qint64>(text.size())) < 0 ||
      !f.commit()) {
    if (error) *error = ReviewController::tr("Cannot write %1: %2").arg(path, f.errorString());
    return false;
  }
  return true;
}
}  // namespace

bool ReviewController::saveReview() {
  QString err;
  if (!writeAtomically(reviewFilePath(), reviewCsv(false), &err)) {
    Q_EMIT message(err, true);
    return false;
  }
  Q_EMIT decisionsSaved(reviewFilePath());
  return true;
}

bool ReviewController::exportDecisions(const QString& path, QString* error) const {
  return writeAtomically(path, reviewCsv(true), error);
}

bool ReviewController::exportSubmission(const QString& path, QString* error) const {
  std::vector<vision::LunaDetection> rows;
  for (const auto& c : candidates_)
    if (c.scan >= 0 && c.probability >= threshold_ && c.decision != ReviewDecision::Rejected)
      rows.push_back({scans_[static_cast<size_t>(c.scan)].uid, c.world, c.probability});
  try {
    vision::write_luna_submission(ss(path), rows);
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
  return true;
}

bool ReviewController::exportImage(const QString& path, QString* error) const {
  if (!view_ || loadedScan_ < 0) {
    if (error) *error = tr("No scan is shown.");
    return false;
  }
  const QImage img = view_->imageArea()->grab().toImage();
  if (!img.save(path, "PNG")) {
    if (error) *error = tr("Cannot write %1").arg(path);
    return false;
  }
  return true;
}

// ---- metrics -----------------------------------------------------------------------------------

void ReviewController::requestMetrics() {
  if (metricsRunning_) {
    metricsDirty_ = true;
    return;
  }
  metricsRunning_ = true;
  metricsDirty_ = false;
  auto in = std::make_shared<MetricsInput>();
  in->scans = scans_;
  in->annotations = annotations_;
  in->excluded = excluded_;
  in->candidates = candidates_;
  in->missed = missed_;
  in->threshold = threshold_;
  const quint64 gen = folderGen_;
  QPointer<ReviewController> self(this);
  runAsync([self, in, gen](const Token&) -> std::function<void()> {
    std::shared_ptr<widgets::ReviewMetrics> m;
    QString error;
    try {
      m = std::make_shared<widgets::ReviewMetrics>(computeMetrics(*in));
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
    }
    return [self, m, gen, error] {
      if (!self) return;
      self->metricsRunning_ = false;
      if (!error.isEmpty()) Q_EMIT self->message(error, true);
      if (m && gen == self->folderGen_) {
        self->metrics_ = *m;
        Q_EMIT self->metricsChanged();
      }
      if (self->metricsDirty_ || gen != self->folderGen_) self->requestMetrics();
    };
  });
}

// ---- demo data ---------------------------------------------------------------------------------

void ReviewController::generateDemo(const QString& folder, int scans, quint64 seed) {
  setBusy(tr("Writing %n phantom scan(s)…", nullptr, scans));
  QPointer<ReviewController> self(this);
  runAsync([self, folder, scans, seed](const Token& token) -> std::function<void()> {
    QDir().mkpath(folder);
    QFile::remove(QDir(folder).filePath(QLatin1String(kReviewFile)));  // decisions on older demo data
    vision::PhantomOptions opts;
    opts.nodules_min = 1;
    opts.nodules_max = 3;
    const auto entries = vision::write_phantom_set(ss(folder), scans, seed, opts);
    std::mt19937_64 rng(seed ^ 0x5eedd7c0ffeeULL);
    std::uniform_real_distribution<double> u01(0, 1);
    std::normal_distribution<double> gauss(0, 1);
    std::string csv = "seriesuid,coordX,coordY,coordZ,probability,diameter_mm\n";
    auto add = [&](const std::string& uid, const vision::Vec3& w, double p, double d) {
      csv += uid + ',' + vision::csv_number(w.x) + ',' + vision::csv_number(w.y) + ',' + vision::csv_number(w.z) +
             ',' + vision::csv_number(std::round(p * 1e4) / 1e4) + ',' + vision::csv_number(std::round(d * 10) / 10) +
             '\n';
    };
    for (const auto& e : entries) {
      if (token->load()) return {};
      // True nodules, jittered by about a tenth of their radius; one in seven left out so that
      // the reviewer has something to mark as missed.
      for (const auto& n : e.nodules) {
        if (u01(rng) < 1.0 / 7) continue;
        const double r = n.diameter_mm / 2;
        const vision::Vec3 j{std::clamp(gauss(rng), -2.0, 2.0) * 0.1 * r,
                             std::clamp(gauss(rng), -2.0, 2.0) * 0.1 * r,
                             std::clamp(gauss(rng), -2.0, 2.0) * 0.1 * r};
        add(e.seriesuid, n.center + j, 0.55 + 0.44 * u01(rng), n.diameter_mm * (0.9 + 0.2 * u01(rng)));
      }
      // False positives: random voxels whose neighbourhood is lung (mean of 3×3 in -950..-700
      // HU), away from the nodules; mostly low scores, a few high.
      const vision::Volume v = vision::read_volume(e.path);
      const auto& g = v.geometry;
      const int fps = 3 + static_cast<int>(u01(rng) * 6);
      int placed = 0;
      for (int attempt = 0; attempt < 20000 && placed < fps; ++attempt) {
        const int64_t x = 1 + static_cast<int64_t>(u01(rng) * static_cast<double>(g.size[0] - 2));
        const int64_t y = 1 + static_cast<int64_t>(u01(rng) * static_cast<double>(g.size[1] - 2));
        const int64_t z = static_cast<int64_t>(u01(rng) * static_cast<double>(g.size[2]));
        double sum = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) sum += v.at(x + dx, y + dy, z);
        const double mean = sum / 9;
        if (mean < -950 || mean > -700) continue;
        const vision::Vec3 w = g.index_to_world({double(x), double(y), double(z)});
        bool nearNodule = false;
        for (const auto& n : e.nodules) nearNodule = nearNodule || vision::norm(w - n.center) < n.diameter_mm + 10;
        if (nearNodule) continue;
        const double s = u01(rng);
        add(e.seriesuid, w, 0.03 + 0.9 * s * s, 4 + 6 * u01(rng));
        ++placed;
      }
    }
    vision::write_text_file(ss(QDir(folder).filePath(QLatin1String(kDemoCandidates))), csv, "demo candidates");
    return [self, folder] {
      if (self) self->openFolder(folder);
    };
  });
}

}  // namespace r1::app
