#pragma once
// The embedded engine: runs a Trainer on a worker thread and hands its events to the GUI
// thread in batches (at most every 50 ms), so the GUI never blocks and a flood of step events
// costs one queued call per batch. Stop cancels at the next step boundary; the trainer then
// writes a checkpoint and a finish event.
#include "engine/config/config.h"
#include "app/event_metatype.h"
#include "engine/events/event.h"

#include <QObject>
#include <QVector>

#include <atomic>
#include <memory>
#include <mutex>

class QThread;

namespace r1::app {

class EngineRunner final : public QObject {
  Q_OBJECT

 public:
  explicit EngineRunner(QObject* parent = nullptr);
  ~EngineRunner() override;  // stops and joins the worker

  bool isRunning() const;
  // Starts a run; false (and nothing happens) while one is running.
  bool start(const r1::Config& cfg);
  void stop();
  // Blocks until the worker has finished (tests, shutdown).
  void wait();

 Q_SIGNALS:
  void eventsArrived(const QVector<r1::events::Event>& events);
  void finished(int status);  // r1::events::FinishStatus

 private:
  void post(const r1::events::Event& ev);
  void deliver();

  QThread* thread_ = nullptr;
  std::shared_ptr<std::atomic<bool>> stop_;
  std::mutex mu_;
  QVector<r1::events::Event> pending_;
  bool scheduled_ = false;
};

}  // namespace r1::app

