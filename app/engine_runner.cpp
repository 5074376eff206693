#include "app/engine_runner.h"

#include "engine/events/sink.h"
#include "engine/train/trainer.h"

#include <QPointer>
#include <QThread>
#include <QTimer>

namespace r1::app {

EngineRunner::EngineRunner(QObject* parent) : QObject(parent) {
  qRegisterMetaType<r1::events::Event>();
  qRegisterMetaType<QVector<r1::events::Event>>();
}

EngineRunner::~EngineRunner() {
  stop();
  wait();
}

bool EngineRunner::isRunning() const { return thread_ && thread_->isRunning(); }

void EngineRunner::post(const r1::events::Event& ev) {
  // Worker thread: queue the event; schedule one delivery per 50 ms window.
  std::lock_guard<std::mutex> lock(mu_);
  pending_.push_back(ev);
  if (scheduled_) return;
  scheduled_ = true;
  QPointer<EngineRunner> self(this);
  QMetaObject::invokeMethod(
      this,
      [self] {
        if (self) QTimer::singleShot(50, self, [self] { if (self) self->deliver(); });
      },
      Qt::QueuedConnection);
}

void EngineRunner::deliver() {
  QVector<r1::events::Event> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(pending_);
    scheduled_ = false;
  }
  if (!batch.isEmpty()) Q_EMIT eventsArrived(batch);
}

bool EngineRunner::start(const r1::Config& cfg) {
  if (isRunning()) return false;
  if (thread_) {
    thread_->deleteLater();
    thread_ = nullptr;
  }
  stop_ = std::make_shared<std::atomic<bool>>(false);
  auto stop = stop_;
  QPointer<EngineRunner> self(this);
  thread_ = QThread::create([this, self, cfg, stop] {
    auto sink = std::make_shared<r1::events::CallbackSink>([this, self](const r1::events::Event& e) {
      if (self) post(e);
    });
    r1::train::TrainerHooks hooks;
    hooks.stop_requested = [stop] { return stop->load(); };
    r1::train::Trainer trainer(cfg, sink, hooks);
    const auto status = trainer.run();  // never throws: failures are events
    if (self) {
      QMetaObject::invokeMethod(
          self.data(),
          [self, status] {
            if (!self) return;
            self->deliver();  // whatever is still pending, before finished()
            Q_EMIT self->finished(static_cast<int>(status));
          },
          Qt::QueuedConnection);
    }
  });
  thread_->setObjectName(QStringLiteral("r1-engine"));
  thread_->start();
  return true;
}

void EngineRunner::stop() {
  if (stop_) stop_->store(true);
}

void EngineRunner::wait() {
  if (thread_) thread_->wait();
}

}  // namespace r1::app
