#include "widgets/review_view.h"

#include <QAction>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace r1::widgets {

namespace {

QString num(double v, int decimals = 3) {
    return std::isfinite(v) ? QString::number(v, 'f', decimals) : QStringLiteral("\u2014");
}

// A FROC curve as the step function it is, on a log2 axis that cannot show 0 FPs per scan:
// points below 1/8 are drawn at 1/8 (the CPM's range).
QVector<QPointF> stepPoints(const QVector<QPointF>& curve) {
    constexpr double kMinX = 1.0 / 8, kMaxX = 8;
    QVector<QPointF> out;
    double lastY = 0;
    for (const auto& p : curve) {
        const double x = std::clamp(p.x(), kMinX, kMaxX);
        if (!out.isEmpty()) out << QPointF(x, lastY);
        out << QPointF(x, p.y());
        lastY = p.y();
    }
    if (!out.isEmpty()) out << QPointF(kMaxX, lastY);
    return out;
}

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent) {
    auto* t = new QTableView(parent);
    t->setModel(model);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->verticalHeader()->hide();
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 6);
    t->setAlternatingRowColors(true);
    t->setWordWrap(false);
    return t;
}

}  // namespace

ReviewView::ReviewView(QWidget* parent)
    : QWidget(parent), scans_(new ScanListModel(this)), candidates_(new CandidateTableModel(this)) {
    auto* root = new QVBoxLayout(this);
    root->setContentsMargins(6, 6, 6, 6);
    root->setSpacing(4);
    root->addWidget(buildToolbar());

    banner_ = new QLabel(this);
    banner_->setWordWrap(true);
    banner_->setStyleSheet(QStringLiteral(
        "QLabel { background: #fff3c4; color: #5a4300; border: 1px solid #e0c060; padding: 4px; }"));
    banner_->setText(tr("<b>Demo candidates — a stand-in detector, not a model.</b> They were "
                        "generated from the phantom's known nodules (centres jittered, some nodules "
                        "left out) plus false positives at random lung positions with random scores. "
                        "Use them to try the review workflow only."));
    banner_->hide();
    root->addWidget(banner_);

    auto* split = new QSplitter(Qt::Horizontal, this);

    // Left: the scans.
    scanTable_ = makeTable(scans_, split);
    scanTable_->setTextElideMode(Qt::ElideLeft);  // series UIDs differ at their end
    scanTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    scanTable_->horizontalHeader()->setSectionResizeMode(ScanListModel::Scan, QHeaderView::Stretch);
    scanTable_->horizontalHeader()->setMinimumSectionSize(30);
    scanTable_->setMinimumWidth(240);  // elided at the left: series UIDs differ at their end
    split->addWidget(scanTable_);

    // Centre: axial + z strip, coronal and sagittal beside.
    imageArea_ = new QWidget(split);
    imageArea_->setStyleSheet(QStringLiteral("background: black;"));
    auto* centre = new QHBoxLayout(imageArea_);
    centre->setContentsMargins(0, 0, 0, 0);
    centre->setSpacing(2);
    axial_ = new SliceView(SliceView::Plane::Axial, imageArea_);
    strip_ = new ZProfileStrip(imageArea_);
    strip_->setFixedWidth(30);
    auto* side = new QVBoxLayout;
    side->setSpacing(2);
    coronal_ = new SliceView(SliceView::Plane::Coronal, imageArea_);
    sagittal_ = new SliceView(SliceView::Plane::Sagittal, imageArea_);
    coronal_->setMaximumWidth(320);
    sagittal_->setMaximumWidth(320);
    side->addWidget(coronal_);
    side->addWidget(sagittal_);
    centre->addWidget(axial_, 1);
    centre->addWidget(strip_);
    centre->addLayout(side);
    split->addWidget(imageArea_);

    split->addWidget(buildRightPanel());
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setStretchFactor(2, 0);
    split->setSizes({360, 820, 400});
    root->addWidget(split, 1);

    auto* bottom = new QHBoxLayout;
    source_ = new QLabel(this);
    source_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message_ = new QLabel(this);
    message_->setWordWrap(true);
    bottom->addWidget(source_, 1);
    bottom->addWidget(message_, 2);
    root->addLayout(bottom);

    setFocusProxy(axial_);  // the keys go to the image when the page gets focus
    clearVolume(tr("Open a folder of scans (LUNA16 layout or any folder of .mhd files), or "
                   "generate demo data."));

    // Views follow each other: slice, window, focus.
    connect(axial_, &SliceView::sliceChanged, this, [this](int s) {
        strip_->setCurrentSlice(s);
        const auto& v = axial_->volume();
        if (v.isEmpty()) return;
        // The coronal and sagittal cuts go through the current mark, else the volume's centre.
        double x = (v.size[0] - 1) / 2.0, y = (v.size[1] - 1) / 2.0;
        for (const auto& m : marks_)
            if (m.current) {
                x = m.x;
                y = m.y;
            }
        coronal_->setFocus3D(x, y, s);
        sagittal_->setFocus3D(x, y, s);
    });
    connect(strip_, &ZProfileStrip::sliceRequested, axial_, &SliceView::setSlice);
    for (SliceView* v : {axial_, coronal_, sagittal_}) {
        connect(v, &SliceView::windowChanged, this, [this](double w, double l) {
            for (SliceView* o : {axial_, coronal_, sagittal_}) o->setWindow({w, l});
            syncPresetCombo(w, l);
        });
    }
    // Clicking the coronal or sagittal view moves the axial view to that height.
    for (SliceView* v : {coronal_, sagittal_})
        connect(v, &SliceView::voxelClicked, this,
                [this](double, double, double z) { axial_->setSlice(static_cast<int>(std::lround(z))); });
    connect(axial_, &SliceView::voxelClicked, this, &ReviewView::onAxialClick);

    connect(scanTable_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& cur) {
                if (!updating_ && cur.isValid()) Q_EMIT scanSelected(cur.row());
            });
    connect(candidateTable_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& cur) {
                if (updating_ || !cur.isValid()) return;
                Q_EMIT candidateSelected(cur.data(CandidateTableModel::KeyRole).toString());
            });

    // The review keys: active anywhere on the page.
    auto addAction = [this](const QString& text, const QKeySequence& key, auto&& fn) {
        auto* a = new QAction(text, this);
        a->setShortcut(key);
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        a->setToolTip(QStringLiteral("%1 (%2)").arg(text, key.toString(QKeySequence::NativeText)));
        connect(a, &QAction::triggered, this, fn);
        QWidget::addAction(a);
        reviewActions_ << a;
        return a;
    };
    addAction(tr("Accept"), QKeySequence(Qt::Key_A), [this] { Q_EMIT acceptRequested(); });
    addAction(tr("Reject"), QKeySequence(Qt::Key_R), [this] { Q_EMIT rejectRequested(); });
    addAction(tr("Missed…"), QKeySequence(Qt::Key_M), [this] { startMarking(); });
    addAction(tr("Next unreviewed"), QKeySequence(Qt::Key_N), [this] { Q_EMIT nextUnreviewedRequested(); });
    addAction(tr("Undo"), QKeySequence(Qt::Key_U), [this] { Q_EMIT undoRequested(); });
    auto* esc = new QAction(this);
    esc->setShortcut(QKeySequence(Qt::Key_Escape));
    esc->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(esc, &QAction::triggered, this, [this] { stopMarking(); });
    QWidget::addAction(esc);

    // The buttons of the right panel run the same actions (built before the actions existed).
    const auto buttons = findChildren<QToolButton*>(QStringLiteral("reviewButton"));
    for (int i = 0; i < buttons.size() && i < reviewActions_.size(); ++i) {
        buttons[i]->setDefaultAction(reviewActions_[i]);
        buttons[i]->setToolButtonStyle(Qt::ToolButtonTextOnly);
        buttons[i]->setText(QStringLiteral("%1  [%2]").arg(
            reviewActions_[i]->text(), reviewActions_[i]->shortcut().toString(QKeySequence::NativeText)));
    }
}

QWidget* ReviewView::buildToolbar() {
    // Two rows: what to open and export (and the progress of a long job) above, how to look at
    // it below. On one row the page could not be narrower than ~1180 px, which squeezed the
    // experiment form beside it in the main window.
    auto* bar = new QWidget(this);
    auto* rows = new QVBoxLayout(bar);
    rows->setContentsMargins(0, 0, 0, 0);
    rows->setSpacing(4);
    auto* h = new QHBoxLayout;
    auto* view = new QHBoxLayout;
    rows->addLayout(h);
    rows->addLayout(view);
    auto* open = new QPushButton(tr("Open folder…"), bar);
    open->setToolTip(tr("A LUNA16 folder (subsetN/*.mhd, annotations.csv) or any folder of .mhd scans"));
    auto* cands = new QPushButton(tr("Candidates…"), bar);
    cands->setToolTip(tr("A candidate or submission CSV to review "
                         "(seriesuid, coordX, coordY, coordZ, probability[, diameter_mm])"));
    auto* detect = new QPushButton(tr("Run detector…"), bar);
    detect->setToolTip(tr("Runs a detector checkpoint (r1-worker detect train) over every scan of "
                          "the folder; its candidates are written beside the scans and opened "
                          "for review"));
    auto* demo = new QPushButton(tr("Generate demo data…"), bar);
    demo->setToolTip(tr("Writes phantom CT scans with known nodules and, as a stand-in detector, "
                        "candidates made from those known nodules"));
    auto* exp = new QToolButton(bar);
    exp->setText(tr("Export"));
    exp->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(exp);
    menu->addAction(tr("LUNA16 submission CSV…"), this, [this] { Q_EMIT exportSubmissionRequested(); });
    menu->addAction(tr("Review decisions CSV…"), this, [this] { Q_EMIT exportDecisionsRequested(); });
    menu->addAction(tr("PNG of the current view…"), this, [this] { Q_EMIT exportImageRequested(); });
    exp->setMenu(menu);
    connect(open, &QPushButton::clicked, this, &ReviewView::openFolderRequested);
    connect(cands, &QPushButton::clicked, this, &ReviewView::openCandidatesRequested);
    connect(detect, &QPushButton::clicked, this, &ReviewView::runDetectorRequested);
    connect(demo, &QPushButton::clicked, this, &ReviewView::generateDemoRequested);
    for (QWidget* w : {static_cast<QWidget*>(open), static_cast<QWidget*>(cands),
                       static_cast<QWidget*>(detect), static_cast<QWidget*>(demo),
                       static_cast<QWidget*>(exp)}) {
        w->setFocusPolicy(Qt::NoFocus);  // keys stay with the slice view
        h->addWidget(w);
    }

    view->addWidget(new QLabel(tr("Window"), bar));
    presets_ = new QComboBox(bar);
    presets_->addItem(tr("Lung (W1500 L−600)"));
    presets_->addItem(tr("Mediastinum (W400 L40)"));
    presets_->addItem(tr("Bone (W2000 L500)"));
    presets_->addItem(tr("Custom"));
    presets_->setFocusPolicy(Qt::NoFocus);
    presets_->setToolTip(tr("Keys 1, 2, 3; right-drag on the image for any window"));
    connect(presets_, &QComboBox::activated, this, [this](int i) {
        if (i > 2) return;
        const WindowLevel w = presetWindow(static_cast<WindowPreset>(i));
        for (SliceView* o : {axial_, coronal_, sagittal_}) o->setWindow(w);
    });
    view->addWidget(presets_);
    view->addSpacing(12);

    view->addWidget(new QLabel(tr("Score ≥"), bar));
    threshold_ = new QSlider(Qt::Horizontal, bar);
    threshold_->setRange(0, 1000);
    threshold_->setMinimumWidth(140);
    threshold_->setFocusPolicy(Qt::NoFocus);
    threshold_->setToolTip(tr("Candidates below this score are hidden and left out of the metrics"));
    thresholdLabel_ = new QLabel(bar);
    thresholdLabel_->setMinimumWidth(44);
    connect(threshold_, &QSlider::valueChanged, this, [this](int v) {
        thresholdLabel_->setText(QString::number(sliderToScore(v), 'f', 3));
        if (!updating_) Q_EMIT thresholdChanged(sliderToScore(v));
    });
    view->addWidget(threshold_);
    view->addWidget(thresholdLabel_);
    view->addSpacing(12);

    view->addWidget(new QLabel(tr("Missed ⌀"), bar));
    diameter_ = new QDoubleSpinBox(bar);
    diameter_->setRange(3, 60);
    diameter_->setDecimals(1);
    diameter_->setValue(6);
    diameter_->setSuffix(tr(" mm"));
    diameter_->setFocusPolicy(Qt::ClickFocus);
    diameter_->setToolTip(tr("Diameter given to a nodule marked as missed (M, then click its centre)"));
    view->addWidget(diameter_);
    view->addStretch(1);

    h->addStretch(1);
    busy_ = new QLabel(bar);
    progress_ = new QProgressBar(bar);
    progress_->setMaximumWidth(160);
    cancel_ = new QPushButton(tr("Cancel"), bar);
    cancel_->setFocusPolicy(Qt::NoFocus);
    connect(cancel_, &QPushButton::clicked, this, &ReviewView::cancelRequested);
    h->addWidget(busy_);
    h->addWidget(progress_);
    h->addWidget(cancel_);
    setBusy({}, 0, 0);
    thresholdLabel_->setText(QString::number(lo_, 'f', 3));
    return bar;
}

QWidget* ReviewView::buildRightPanel() {
    auto* panel = new QWidget(this);
    auto* v = new QVBoxLayout(panel);
    v->setContentsMargins(0, 0, 0, 0);
    auto* keys = new QGridLayout;
    keys->setSpacing(3);
    for (int i = 0; i < 5; ++i) {
        auto* b = new QToolButton(panel);
        b->setObjectName(QStringLiteral("reviewButton"));
        b->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
        b->setFocusPolicy(Qt::NoFocus);
        keys->addWidget(b, i / 3, i % 3);
    }
    v->addLayout(keys);

    candidateTable_ = makeTable(candidates_, panel);
    candidateTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    candidateTable_->horizontalHeader()->setStretchLastSection(true);
    v->addWidget(candidateTable_, 1);

    metricsText_ = new QLabel(panel);
    metricsText_->setTextFormat(Qt::RichText);
    metricsText_->setWordWrap(true);
    metricsText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(metricsText_);

    chart_ = new QChart;
    chart_->setTitle(tr("FROC"));
    chart_->setMargins(QMargins(2, 2, 2, 2));
    chart_->legend()->setAlignment(Qt::AlignBottom);
    reviewedSeries_ = new QLineSeries;
    reviewedSeries_->setName(tr("after review"));
    reviewedSeries_->setPen(QPen(QColor(0x2e, 0x7d, 0x32), 2));
    detectorSeries_ = new QLineSeries;
    detectorSeries_->setName(tr("detector (all marks)"));
    detectorSeries_->setPen(QPen(QColor(0x15, 0x65, 0xc0), 1.5, Qt::DashLine));
    chart_->addSeries(detectorSeries_);
    chart_->addSeries(reviewedSeries_);
    auto* x = new QLogValueAxis;
    x->setBase(2);
    x->setRange(1.0 / 8, 8);
    x->setMinorTickCount(0);
    x->setLabelFormat(QStringLiteral("%g"));
    x->setTitleText(tr("false positives per scan"));
    auto* y = new QValueAxis;
    y->setRange(0, 1.02);
    y->setTickCount(6);
    y->setLabelFormat(QStringLiteral("%.1f"));
    y->setTitleText(tr("sensitivity"));
    chart_->addAxis(x, Qt::AlignBottom);
    chart_->addAxis(y, Qt::AlignLeft);
    for (auto* s : {reviewedSeries_, detectorSeries_}) {
        s->attachAxis(x);
        s->attachAxis(y);
    }
    chartView_ = new QChartView(chart_, panel);
    chartView_->setRenderHint(QPainter::Antialiasing);
    chartView_->setMinimumHeight(230);
    v->addWidget(chartView_);
    panel->setMinimumWidth(380);
    setMetrics({});
    return panel;
}

void ReviewView::setVolume(const SliceVolume& volume) {
    for (SliceView* v : {axial_, coronal_, sagittal_}) v->setVolume(volume);
    strip_->setSliceCount(axial_->sliceCount());
    strip_->setCurrentSlice(axial_->slice());
    if (!volume.isEmpty()) {
        const double cx = (volume.size[0] - 1) / 2.0, cy = (volume.size[1] - 1) / 2.0;
        coronal_->setFocus3D(cx, cy, axial_->slice());
        sagittal_->setFocus3D(cx, cy, axial_->slice());
    }
}

void ReviewView::clearVolume(const QString& placeholder) {
    for (SliceView* v : {axial_, coronal_, sagittal_}) {
        v->clearVolume();
        v->setPlaceholder(v == axial_ ? placeholder : QString());
    }
    strip_->setSliceCount(0);
    marks_.clear();
}

void ReviewView::setMarks(const QVector<SliceMark>& marks) {
    marks_ = marks;
    for (SliceView* v : {axial_, coronal_, sagittal_}) v->setMarks(marks);
    strip_->setMarks(marks);
}

void ReviewView::setCurrentScan(int row) {
    updating_ = true;
    if (row >= 0 && row < scans_->rowCount())
        scanTable_->setCurrentIndex(scans_->index(row, 0));
    else
        scanTable_->clearSelection();
    updating_ = false;
}

void ReviewView::setCurrentCandidate(const QString& key, double x, double y, double z) {
    currentKey_ = key;
    updating_ = true;
    const int row = candidates_->rowOf(key);
    if (row >= 0) {
        candidateTable_->setCurrentIndex(candidates_->index(row, 0));
        candidateTable_->scrollTo(candidates_->index(row, 0));
    } else {
        candidateTable_->clearSelection();
    }
    updating_ = false;
    if (key.isEmpty() || axial_->volume().isEmpty()) return;
    axial_->setFocus3D(x, y, z);
    coronal_->setFocus3D(x, y, z);
    sagittal_->setFocus3D(x, y, z);
}

void ReviewView::setMetrics(const ReviewMetrics& m) {
    QString sens;
    for (int i = 0; i < m.fpRates.size() && i < m.sensitivities.size(); ++i) {
        const double r = m.fpRates[i];
        const QString rate = r < 1 ? QStringLiteral("1/%1").arg(std::lround(1 / r)) : QString::number(r);
        sens += QStringLiteral("<td align=center>%1<br><b>%2</b></td>").arg(rate, num(m.sensitivities[i], 2));
    }
    const double fpPerScan = m.scans > 0 ? double(m.falsePositives) / m.scans : ReviewMetrics::nan;
    QString html =
        tr("<table cellspacing=2>"
           "<tr><td>CPM</td><td><b style='font-size:large'>%1</b></td><td>&nbsp;detector %2</td></tr>"
           "<tr><td>mAP@0.5</td><td><b>%3</b></td><td>&nbsp;detector %4</td></tr>"
           "<tr><td>Nodules</td><td><b>%5</b></td><td>&nbsp;%6 annotated, %7 found by the reviewer</td></tr>"
           "<tr><td>Detected</td><td><b>%8</b></td><td>&nbsp;by %9 kept marks</td></tr>"
           "<tr><td>False pos.</td><td><b>%10</b></td><td>&nbsp;%11 per scan over %12 scans</td></tr>"
           "<tr><td>Decisions</td><td colspan=2>%13 accepted · %14 rejected · %15 missed · %16 pending</td></tr>"
           "</table>")
            .arg(num(m.cpm), num(m.detectorCpm), num(m.map50), num(m.detectorMap50))
            .arg(m.nodules)
            .arg(m.annotated)
            .arg(m.nodules - m.annotated)
            .arg(m.detected)
            .arg(m.marks)
            .arg(m.falsePositives)
            .arg(num(fpPerScan, 2))
            .arg(m.scans)
            .arg(m.accepted)
            .arg(m.rejected)
            .arg(m.missed)
            .arg(m.pending);
    if (!sens.isEmpty())
        html += tr("<div>Sensitivity at FPs/scan (after review):</div>") +
                QStringLiteral("<table cellspacing=3><tr>%1</tr></table>").arg(sens);
    if (!m.note.isEmpty()) html += QStringLiteral("<div style='color:#777'>%1</div>").arg(m.note.toHtmlEscaped());
    metricsText_->setText(html);
    reviewedSeries_->replace(stepPoints(m.curve));
    detectorSeries_->replace(stepPoints(m.detectorCurve));
}

double ReviewView::sliderToScore(int v) const { return lo_ + (hi_ - lo_) * v / 1000.0; }
int ReviewView::scoreToSlider(double t) const {
    if (hi_ <= lo_) return 0;
    return std::clamp(static_cast<int>(std::lround((t - lo_) / (hi_ - lo_) * 1000.0)), 0, 1000);
}

void ReviewView::setThresholdRange(double lo, double hi) {
    lo_ = lo;
    hi_ = hi > lo ? hi : lo + 1;
}

void ReviewView::setThreshold(double t) {
    updating_ = true;
    threshold_->setValue(scoreToSlider(t));
    thresholdLabel_->setText(QString::number(t, 'f', 3));
    updating_ = false;
}

double ReviewView::threshold() const { return sliderToScore(threshold_->value()); }
double ReviewView::markDiameter() const { return diameter_->value(); }

void ReviewView::setBusy(const QString& what, int done, int total) {
    const bool on = !what.isEmpty();
    busy_->setText(what);
    busy_->setVisible(on);
    progress_->setVisible(on);
    cancel_->setVisible(on);
    progress_->setRange(0, total > 0 ? total : 0);  // 0..0: busy indicator
    if (total > 0) progress_->setValue(done);
}

bool ReviewView::busyVisible() const { return !cancel_->isHidden(); }

void ReviewView::setMessage(const QString& text, bool error) {
    message_->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
    message_->setText(text);
}

void ReviewView::setSource(const QString& text) { source_->setText(text); }
void ReviewView::setDemoCandidates(bool demo) { banner_->setVisible(demo); }
bool ReviewView::demoBannerVisible() const { return !banner_->isHidden(); }
bool ReviewView::markingMissed() const { return axial_->pickMode(); }

void ReviewView::startMarking() {
    if (axial_->volume().isEmpty()) return;
    axial_->setPickMode(true);
    axial_->setFocus(Qt::ShortcutFocusReason);
    axial_->update();
}

void ReviewView::stopMarking() {
    axial_->setPickMode(false);
    axial_->update();
}

void ReviewView::onAxialClick(double x, double y, double z) {
    if (axial_->pickMode()) {
        stopMarking();
        Q_EMIT missedMarked(x, y, z, markDiameter());
        return;
    }
    // A click on a mark of this slice selects it (the nearest centre within its box).
    const QPointF click = axial_->voxelToWidget(x, y, z);
    QString best;
    double bestDist = 1e300;
    for (const auto& m : marks_) {
        if (m.kind == SliceMark::Kind::Truth) continue;
        if (std::abs(m.z - axial_->slice()) * axial_->volume().spacing[2] > std::max(m.diameterMm / 2, 2.0))
            continue;
        const QPointF c = axial_->voxelToWidget(m.x, m.y, m.z);
        const double d = std::hypot(c.x() - click.x(), c.y() - click.y());
        const QPointF edge = axial_->voxelToWidget(m.x + m.diameterMm / 2 / axial_->volume().spacing[0], m.y, m.z);
        const double reach = std::max(12.0, std::abs(edge.x() - c.x()) + 6);
        if (d <= reach && d < bestDist) {
            bestDist = d;
            best = (m.kind == SliceMark::Kind::Missed ? QStringLiteral("m%1") : QStringLiteral("c%1")).arg(m.id);
        }
    }
    if (!best.isEmpty()) Q_EMIT candidateSelected(best);
}

void ReviewView::syncPresetCombo(double width, double level) {
    int idx = 3;
    for (int i = 0; i < 3; ++i) {
        const WindowLevel p = presetWindow(static_cast<WindowPreset>(i));
        if (p.width == width && p.level == level) idx = i;
    }
    presets_->setCurrentIndex(idx);
}

}  // namespace r1::widgets
