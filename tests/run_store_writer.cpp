// Helper of test_run_store: begins a run in the store given as argument and appends step
// events until it is killed; the store's writer thread commits them. Prints the run id first,
// then every 100 ms a line "<steps appended> <unix ms>" so that the test knows what was handed
// over when.
#include <QCoreApplication>
#include <QDateTime>
#include <QTimer>

#include <cmath>
#include <cstdio>

#include "app/run_store.h"
#include "engine/events/event.h"

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: run_store_writer STORE.db\n");
        return 2;
    }
    r1::app::RunStore store(QString::fromLocal8Bit(argv[1]));
    if (!store.isOpen()) {
        std::fprintf(stderr, "%s\n", qPrintable(store.errorString()));
        return 1;
    }
    const QString id = store.beginRun(QStringLiteral("killme"), QString());
    r1::events::RunStart start;
    start.config = {{"model.preset", "r1-nano"}};
    start.device = "cpu";
    store.append(id, r1::events::make_event(start));
    std::printf("%s\n", qPrintable(id));
    std::fflush(stdout);

    std::int64_t step = 0;
    QTimer tick;
    tick.setInterval(2);
    QObject::connect(&tick, &QTimer::timeout, &store, [&] {
        for (int i = 0; i < 10; ++i) {
            r1::events::Step s;
            s.step = ++step;
            s.tokens = step * 4096;
            s.loss = 6.0 / std::sqrt(double(step));
            s.lr = 3e-4;
            s.grad_norm = 1.0;
            s.tokens_per_s = 50000.0;
            s.step_ms = 2.0;
            store.append(id, r1::events::make_event(s));
        }
    });
    QTimer report;
    report.setInterval(100);
    QObject::connect(&report, &QTimer::timeout, &store, [&] {
        std::printf("%lld %lld\n", static_cast<long long>(step),
                    static_cast<long long>(QDateTime::currentMSecsSinceEpoch()));
        std::fflush(stdout);
    });
    tick.start();
    report.start();
    return app.exec();
}
