#include "widgets/cluster_view.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace r1::widgets {
namespace {

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent) {
    auto* t = new QTableView(parent);
    t->setModel(model);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setAlternatingRowColors(true);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setStretchLastSection(true);
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    t->setWordWrap(false);
    return t;
}

}  // namespace

ClusterView::ClusterView(QWidget* parent)
    : QWidget(parent), nodes_(new NodeTableModel(this)), jobs_(new JobTableModel(this)),
      ranks_(new RankTableModel(this)) {
    auto* top = new QVBoxLayout(this);

    auto* head = new QHBoxLayout;
    title_ = new QLabel(tr("No cluster profile: open one, import a hostfile or add hosts from ~/.ssh/config"), this);
    title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont f = title_->font();
    f.setBold(true);
    title_->setFont(f);
    head->addWidget(title_, 1);
    busy_ = new QLabel(this);
    head->addWidget(busy_);
    top->addLayout(head);

    // Two rows of buttons: the profile and its nodes, then checks and launch. On one row the
    // page could not be narrower than ~1150 px, which squeezed the experiment form beside it.
    auto* bar = new QHBoxLayout;
    auto button = [&](const QString& text, const QString& tip) {
        auto* b = new QPushButton(text, this);
        b->setToolTip(tip);
        bar->addWidget(b);
        return b;
    };
    auto* open = button(tr("Open profile…"), tr("Open a cluster profile (.toml)"));
    auto* save = button(tr("Save profile…"), tr("Save the nodes and settings as a profile"));
    auto* hostfile = button(tr("Import hostfile…"), tr("Add the nodes of a DeepSpeed-style hostfile (host slots=N)"));
    auto* sshHost = button(tr("Add SSH host…"), tr("Add a Host entry of ~/.ssh/config as a node"));
    profileButtons_ = {open, save, hostfile, sshHost};
    bar->addStretch(1);
    top->addLayout(bar);
    bar = new QHBoxLayout;
    auto* keys = button(tr("Check host keys"), tr("Compare each node's SSH host key with known_hosts"));
    trust_ = button(tr("Trust…"), tr("Show the fingerprints of the selected nodes' keys and trust them"));
    probe_ = button(tr("Probe"), tr("Connect to every node and read its OS, CPUs, memory, GPUs and r1-worker"));
    profileButtons_ << keys;
    bar->addStretch(1);
    launch_ = button(tr("Launch on cluster"), tr("Start the experiment of the form on every node (one rank per GPU or CPU slot)"));
    top->addLayout(bar);

    message_ = new QLabel(this);
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message_->hide();
    top->addWidget(message_);

    auto* split = new QSplitter(Qt::Vertical, this);
    nodeTable_ = makeTable(nodes_, split);
    split->addWidget(nodeTable_);

    auto* jobsBox = new QWidget(split);
    auto* jobsLayout = new QVBoxLayout(jobsBox);
    jobsLayout->setContentsMargins(0, 0, 0, 0);
    auto* jobBar = new QHBoxLayout;
    jobBar->addWidget(new QLabel(tr("Jobs"), jobsBox));
    jobBar->addStretch(1);
    attach_ = new QPushButton(tr("Attach"), jobsBox);
    attach_->setToolTip(tr("Follow the job again: fetch the events missed while the workbench was closed, then stream"));
    stop_ = new QPushButton(tr("Stop"), jobsBox);
    stop_->setToolTip(tr("SIGTERM every rank, SIGKILL after the grace period, then check that nothing is left"));
    resume_ = new QPushButton(tr("Resume"), jobsBox);
    resume_->setToolTip(tr("Start the job again from its last checkpoint"));
    jobBar->addWidget(attach_);
    jobBar->addWidget(stop_);
    jobBar->addWidget(resume_);
    jobsLayout->addLayout(jobBar);
    auto* jobSplit = new QSplitter(Qt::Horizontal, jobsBox);
    jobTable_ = makeTable(jobs_, jobSplit);
    jobTable_->setSelectionMode(QAbstractItemView::SingleSelection);
    rankTable_ = makeTable(ranks_, jobSplit);
    jobSplit->addWidget(jobTable_);
    jobSplit->addWidget(rankTable_);
    jobsLayout->addWidget(jobSplit, 1);
    split->addWidget(jobsBox);

    log_ = new QPlainTextEdit(split);
    log_->setReadOnly(true);
    log_->setMaximumBlockCount(20000);
    log_->setPlaceholderText(tr("Log lines of the selected job's ranks appear here"));
    QFont mono(QStringLiteral("monospace"));
    mono.setStyleHint(QFont::TypeWriter);
    log_->setFont(mono);
    split->addWidget(log_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 3);
    split->setStretchFactor(2, 2);
    top->addWidget(split, 1);

    connect(open, &QPushButton::clicked, this, &ClusterView::openProfileRequested);
    connect(save, &QPushButton::clicked, this, &ClusterView::saveProfileRequested);
    connect(hostfile, &QPushButton::clicked, this, &ClusterView::importHostfileRequested);
    connect(sshHost, &QPushButton::clicked, this, &ClusterView::addSshHostRequested);
    connect(keys, &QPushButton::clicked, this, &ClusterView::checkHostKeysRequested);
    connect(trust_, &QPushButton::clicked, this, [this] { Q_EMIT trustRequested(selectedNodes()); });
    connect(probe_, &QPushButton::clicked, this, &ClusterView::probeRequested);
    connect(launch_, &QPushButton::clicked, this, &ClusterView::launchRequested);
    connect(stop_, &QPushButton::clicked, this, [this] { Q_EMIT stopRequested(selectedJob()); });
    connect(attach_, &QPushButton::clicked, this, [this] { Q_EMIT attachRequested(selectedJob()); });
    connect(resume_, &QPushButton::clicked, this, [this] { Q_EMIT resumeRequested(selectedJob()); });
    connect(jobTable_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        updateButtons();
        Q_EMIT jobSelected(selectedJob());
    });
    connect(nodes_, &QAbstractItemModel::modelReset, this, &ClusterView::updateButtons);
    connect(jobs_, &QAbstractItemModel::modelReset, this, &ClusterView::updateButtons);
    connect(jobs_, &QAbstractItemModel::dataChanged, this, &ClusterView::updateButtons);
    updateButtons();
}

void ClusterView::setProfileTitle(const QString& title) { title_->setText(title); }

void ClusterView::setBusy(const QString& what) {
    busyNow_ = !what.isEmpty();
    busy_->setText(what.isEmpty() ? QString() : QStringLiteral("⏳ ") + what);
    updateButtons();
}

void ClusterView::setMessage(const QString& text, bool error) {
    message_->setVisible(!text.isEmpty());
    message_->setText(text);
    message_->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

void ClusterView::appendLog(const QString& line) { log_->appendPlainText(line); }
void ClusterView::clearLog() { log_->clear(); }

QString ClusterView::selectedJob() const {
    const auto rows = jobTable_->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : rows.first().data(JobTableModel::IdRole).toString();
}

void ClusterView::selectJob(const QString& id) {
    const int row = jobs_->rowOf(id);
    if (row >= 0) jobTable_->selectRow(row);
}

QList<int> ClusterView::selectedNodes() const {
    QList<int> out;
    for (const auto& i : nodeTable_->selectionModel()->selectedRows()) out << i.row();
    if (out.isEmpty())
        for (int r = 0; r < nodes_->rowCount(); ++r) out << r;
    std::sort(out.begin(), out.end());
    return out;
}

void ClusterView::updateButtons() {
    const bool haveNodes = nodes_->rowCount() > 0;
    for (auto* b : profileButtons_) b->setEnabled(!busyNow_);
    profileButtons_.value(1)->setEnabled(!busyNow_ && haveNodes);  // save
    profileButtons_.value(4)->setEnabled(!busyNow_ && haveNodes);  // host keys
    probe_->setEnabled(!busyNow_ && haveNodes);
    trust_->setEnabled(!busyNow_ && haveNodes);
    launch_->setEnabled(!busyNow_ && haveNodes);
    const QString job = selectedJob();
    const int row = jobs_->rowOf(job);
    const QString state = row >= 0 ? jobs_->rows()[row].state : QString();
    const bool live = state == QLatin1String("running") || state == QLatin1String("launching");
    stop_->setEnabled(!busyNow_ && live);
    attach_->setEnabled(!busyNow_ && row >= 0);
    resume_->setEnabled(!busyNow_ && row >= 0 && !live);
}

}  // namespace r1::widgets
