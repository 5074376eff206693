#pragma once
// The Cluster page: the profile's nodes (what probing and the host-key check found), the jobs
// launched from this machine, the ranks and log of the selected job. A view: every button only
// emits what the user asked for; the app does it and answers through the models.
#include "widgets/cluster_models.h"

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableView;

namespace r1::widgets {

class ClusterView final : public QWidget {
    Q_OBJECT
public:
    explicit ClusterView(QWidget* parent = nullptr);

    NodeTableModel* nodes() const { return nodes_; }
    JobTableModel* jobs() const { return jobs_; }
    RankTableModel* ranks() const { return ranks_; }

    void setProfileTitle(const QString& title);  // "gpu-pool — ~/clusters/gpu-pool.toml"
    void setBusy(const QString& what);           // "" when idle: enables the buttons again
    void setMessage(const QString& text, bool error);
    void appendLog(const QString& line);         // the selected job's rank lines
    void clearLog();
    QString selectedJob() const;
    void selectJob(const QString& id);
    QList<int> selectedNodes() const;  // rows; all rows when none is selected

    // Buttons, for tests and keyboard shortcuts.
    QPushButton* probeButton() const { return probe_; }
    QPushButton* launchButton() const { return launch_; }
    QPushButton* stopButton() const { return stop_; }
    QTableView* nodeTable() const { return nodeTable_; }
    QTableView* jobTable() const { return jobTable_; }

Q_SIGNALS:
    void openProfileRequested();
    void saveProfileRequested();
    void importHostfileRequested();
    void addSshHostRequested();
    void checkHostKeysRequested();
    void trustRequested(const QList<int>& rows);
    void probeRequested();
    void launchRequested();
    void stopRequested(const QString& job);
    void attachRequested(const QString& job);
    void resumeRequested(const QString& job);
    void jobSelected(const QString& job);

private:
    void updateButtons();

    NodeTableModel* nodes_;
    JobTableModel* jobs_;
    RankTableModel* ranks_;
    QLabel* title_ = nullptr;
    QLabel* message_ = nullptr;
    QLabel* busy_ = nullptr;
    QTableView* nodeTable_ = nullptr;
    QTableView* jobTable_ = nullptr;
    QTableView* rankTable_ = nullptr;
    QPlainTextEdit* log_ = nullptr;
    QList<QPushButton*> profileButtons_;
    QPushButton* probe_ = nullptr;
    QPushButton* trust_ = nullptr;
    QPushButton* launch_ = nullptr;
    QPushButton* stop_ = nullptr;
    QPushButton* attach_ = nullptr;
    QPushButton* resume_ = nullptr;
    bool busyNow_ = false;
};

}  // namespace r1::widgets
