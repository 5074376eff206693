// HostSampler: the /proc/stat, /proc/meminfo and /proc/self/statm parsers against hand-written
// text (values worked out by hand below), malformed and missing files, the real /proc; and
// TelemetryMonitor, the trainers' telemetry thread.
#include <QtTest/QtTest>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <string>

#include "engine/telemetry/host_sampler.h"
#include "engine/telemetry/telemetry_monitor.h"

#include <mutex>
#include <vector>

namespace tel = r1::telemetry;

namespace {

// Two readings one interval apart. Between them: user +600, system +120, irq +30 (busy +750),
// idle +250, guest +50 (already inside user: not counted again). Total +1000, so 75 % busy.
//   first:  total = 1000+50+300+8000+100+20+30+0 = 9500, idle+iowait = 8100, busy = 1400
//   second: total = 1600+50+420+8250+100+50+30+0 = 10500, idle+iowait = 8350, busy = 2150
const char* const kStat1 =
    "cpu  1000 50 300 8000 100 20 30 0 40 0\n"
    "cpu0 500 25 150 4000 50 10 15 0 20 0\n"
    "cpu1 500 25 150 4000 50 10 15 0 20 0\n"
    "intr 12345 0 0 0\n"
    "ctxt 999\n"
    "btime 1700000000\n"
    "processes 4242\n";
const char* const kStat2 =
    "cpu  1600 50 420 8250 100 50 30 0 90 0\n"
    "cpu0 800 25 210 4125 50 25 15 0 45 0\n"
    "cpu1 800 25 210 4125 50 25 15 0 45 0\n"
    "intr 22345 0 0 0\n";

// 16384000 kB = 16000 MiB total, 8192000 kB = 8000 MiB available: 8000 MiB used.
const char* const kMeminfo =
    "MemTotal:       16384000 kB\n"
    "MemFree:         1024000 kB\n"
    "MemAvailable:    8192000 kB\n"
    "Buffers:          102400 kB\n"
    "Cached:          6000000 kB\n"
    "HugePages_Total:       0\n";

// 2560 resident pages of 4096 bytes = 10 MiB.
const char* const kStatm = "12345 2560 300 100 0 5000 0\n";

void writeFile(const QString& path, const char* text) {
    std::ofstream out(path.toStdString(), std::ios::binary | std::ios::trunc);
    out << text;
    QVERIFY(out.good());
}

}  // namespace

class TestHostSampler final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cpuTimes();
    void cpuTimesMalformed_data();
    void cpuTimesMalformed();
    void cpuCount();
    void cpuUtil();
    void meminfo();
    void meminfoMalformed();
    void statm();
    void samplerOnHandWrittenProc();
    void samplerWithoutProc();
    void samplerOnRealProc();
    void monitorEmitsHostEvents();
};

void TestHostSampler::cpuTimes() {
    const auto a = tel::parse_cpu_times(kStat1);
    QVERIFY(a.has_value());
    QCOMPARE(a->total, std::uint64_t(9500));
    QCOMPARE(a->busy, std::uint64_t(1400));
    const auto b = tel::parse_cpu_times(kStat2);
    QVERIFY(b.has_value());
    QCOMPARE(b->total, std::uint64_t(10500));
    QCOMPARE(b->busy, std::uint64_t(2150));

    // Kernels before 2.6 had 4 counters: user nice system idle. No trailing newline, tabs.
    const auto old = tel::parse_cpu_times("cpu\t10 0 10 80");
    QVERIFY(old.has_value());
    QCOMPARE(old->total, std::uint64_t(100));
    QCOMPARE(old->busy, std::uint64_t(20));

    // The aggregate line need not be first; per-CPU lines are not taken for it.
    const auto later = tel::parse_cpu_times("cpu3 1 1 1 1\ncpu  4 0 0 6 2\n");
    QVERIFY(later.has_value());
    QCOMPARE(later->total, std::uint64_t(12));
    QCOMPARE(later->busy, std::uint64_t(4));
}

void TestHostSampler::cpuTimesMalformed_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray("");
    QTest::newRow("no cpu line") << QByteArray("cpu0 1 2 3 4\nintr 5\n");
    QTest::newRow("three counters") << QByteArray("cpu  1 2 3\n");
    QTest::newRow("word in counters") << QByteArray("cpu  1 2 abc 4 5\n");
    QTest::newRow("negative") << QByteArray("cpu  1 -2 3 4\n");
    QTest::newRow("overflow") << QByteArray("cpu  99999999999999999999 1 1 1\n");
    QTest::newRow("binary") << QByteArray("\x00\xff\xfe cpu", 7);
}

void TestHostSampler::cpuTimesMalformed() {
    QFETCH(QByteArray, text);
    QVERIFY(!tel::parse_cpu_times(std::string_view(text.constData(), text.size())));
}

void TestHostSampler::cpuCount() {
    QCOMPARE(tel::parse_cpu_count(kStat1).value(), 2);
    QCOMPARE(tel::parse_cpu_count("cpu  1 1 1 1\ncpu0 1\ncpu1 1\ncpu7 1\n").value(), 3);
    QVERIFY(!tel::parse_cpu_count("cpu  1 1 1 1\n"));
    QVERIFY(!tel::parse_cpu_count(""));
}

void TestHostSampler::cpuUtil() {
    const auto a = *tel::parse_cpu_times(kStat1);
    const auto b = *tel::parse_cpu_times(kStat2);
    QCOMPARE(tel::cpu_util_percent(a, b).value(), 75.0);
    QCOMPARE(tel::cpu_util_percent({0, 400}, {100, 800}).value(), 25.0);
    QCOMPARE(tel::cpu_util_percent({0, 400}, {400, 800}).value(), 100.0);
    QVERIFY(!tel::cpu_util_percent(a, a));  // no tick passed
    QVERIFY(!tel::cpu_util_percent(b, a));  // went backwards
    QVERIFY(!tel::cpu_util_percent({500, 1000}, {400, 2000}));  // busy went backwards
    QVERIFY(!tel::cpu_util_percent({0, 1000}, {200, 1100}));    // busy grew more than total
}

void TestHostSampler::meminfo() {
    const tel::MemInfo m = tel::parse_meminfo(kMeminfo);
    QCOMPARE(m.total_mb.value(), 16000.0);
    QCOMPARE(m.available_mb.value(), 8000.0);

    // Kernels before 3.14 have no MemAvailable; \r\n line ends; 1 kB = 1/1024 MiB.
    const tel::MemInfo old = tel::parse_meminfo("MemTotal: 1536 kB\r\nMemFree: 512 kB\r\n");
    QCOMPARE(old.total_mb.value(), 1.5);
    QVERIFY(!old.available_mb);
}

void TestHostSampler::meminfoMalformed() {
    QVERIFY(!tel::parse_meminfo("").total_mb);
    QVERIFY(!tel::parse_meminfo("MemTotal: 1024\n").total_mb);       // no unit
    QVERIFY(!tel::parse_meminfo("MemTotal: 1024 MB\n").total_mb);    // unknown unit
    QVERIFY(!tel::parse_meminfo("MemTotal: -1024 kB\n").total_mb);   // negative
    QVERIFY(!tel::parse_meminfo("MemTotal: 1e6 kB\n").total_mb);     // not an integer
    QVERIFY(!tel::parse_meminfo("MemTotalX: 1024 kB\n").total_mb);   // another key
    const tel::MemInfo half = tel::parse_meminfo("MemTotal: 2048 kB\nMemAvailable: x kB\n");
    QCOMPARE(half.total_mb.value(), 2.0);
    QVERIFY(!half.available_mb);
}

void TestHostSampler::statm() {
    QCOMPARE(tel::parse_statm_rss_mb(kStatm, 4096).value(), 10.0);
    QCOMPARE(tel::parse_statm_rss_mb("1 256", 16384).value(), 4.0);  // no newline, 16 KiB pages
    QVERIFY(!tel::parse_statm_rss_mb("", 4096));
    QVERIFY(!tel::parse_statm_rss_mb("12345\n", 4096));
    QVERIFY(!tel::parse_statm_rss_mb("12345 x 1\n", 4096));
    QVERIFY(!tel::parse_statm_rss_mb(kStatm, 0));
}

void TestHostSampler::samplerOnHandWrittenProc() {
    QTemporaryDir proc;
    QVERIFY(proc.isValid());
    QVERIFY(QDir(proc.path()).mkdir(QStringLiteral("self")));
    writeFile(proc.filePath(QStringLiteral("stat")), kStat1);
    writeFile(proc.filePath(QStringLiteral("meminfo")), kMeminfo);
    writeFile(proc.filePath(QStringLiteral("self/statm")), kStatm);

    tel::HostSampler sampler(proc.path().toStdString());  // reads kStat1 as its base
    writeFile(proc.filePath(QStringLiteral("stat")), kStat2);
    const r1::events::Host h = sampler.sample();
    QCOMPARE(h.cpu_util.value(), 75.0);
    QCOMPARE(h.cpus.value(), 2);
    QCOMPARE(h.ram_total_mb.value(), 16000.0);
    QCOMPARE(h.ram_used_mb.value(), 8000.0);
    const double page = double(sysconf(_SC_PAGESIZE));
    QCOMPARE(h.rss_mb.value(), 2560 * page / (1024.0 * 1024.0));

    // No tick since the last sample: no utilisation to report, the rest as before.
    const r1::events::Host again = sampler.sample();
    QVERIFY(!again.cpu_util);
    QCOMPARE(again.ram_used_mb.value(), 8000.0);

    // A torn /proc/stat keeps the last good reading as the base for the next one.
    writeFile(proc.filePath(QStringLiteral("stat")), "cpu  12");
    QVERIFY(!sampler.sample().cpu_util);
    writeFile(proc.filePath(QStringLiteral("stat")), "cpu  1700 50 420 8550 100 50 30 0 90 0\n");
    QCOMPARE(sampler.sample().cpu_util.value(), 25.0);  // busy +100 of total +400

    // MemAvailable above MemTotal is nonsense: no used value rather than a negative one.
    writeFile(proc.filePath(QStringLiteral("meminfo")),
              "MemTotal: 1024 kB\nMemAvailable: 2048 kB\n");
    const r1::events::Host odd = sampler.sample();
    QCOMPARE(odd.ram_total_mb.value(), 1.0);
    QVERIFY(!odd.ram_used_mb);
}

void TestHostSampler::samplerWithoutProc() {
    tel::HostSampler sampler("/nonexistent/r1-proc");
    for (int i = 0; i < 2; ++i) {
        const r1::events::Host h = sampler.sample();
        QVERIFY(!h.cpu_util && !h.ram_used_mb && !h.ram_total_mb && !h.rss_mb && !h.cpus);
    }
}

void TestHostSampler::samplerOnRealProc() {
    if (!QFileInfo::exists(QStringLiteral("/proc/stat"))) QSKIP("no /proc on this machine");
    tel::HostSampler sampler;
    // Burn a few clock ticks (10 ms each) so that the interval has some.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(60);
    volatile double x = 0;
    while (std::chrono::steady_clock::now() < until) x = x + std::sqrt(x + 1.0);
    const r1::events::Host h = sampler.sample();
    QVERIFY(h.cpus.value() >= 1);
    QVERIFY(h.ram_total_mb.value() > 0);
    QVERIFY(h.ram_used_mb.value() > 0 && *h.ram_used_mb <= *h.ram_total_mb);
    QVERIFY(h.rss_mb.value() > 0 && *h.rss_mb < *h.ram_total_mb);
    QVERIFY(h.cpu_util.value() >= 0.0 && *h.cpu_util <= 100.0);
}

// The trainers' telemetry thread: host events every period on a CPU run, and on a GPU run
// whether or not NVML is there (without it, the reason says why and no gpu event comes); none
// after the monitor is gone.
void TestHostSampler::monitorEmitsHostEvents() {
    for (const std::optional<int> gpu : {std::optional<int>(), std::optional<int>(0)}) {
        std::mutex mu;
        std::vector<r1::events::Payload> seen;
        std::string reason;
        bool gpuEvents = false;
        {
            tel::TelemetryMonitor monitor(
                gpu,
                [&](r1::events::Payload p) {
                    std::lock_guard<std::mutex> lock(mu);
                    seen.push_back(std::move(p));
                },
                std::chrono::milliseconds(20));
            reason = monitor.gpu_off_reason();
            QTRY_VERIFY_WITH_TIMEOUT(
                [&] {
                    std::lock_guard<std::mutex> lock(mu);
                    return std::count_if(seen.begin(), seen.end(), [](const auto& p) {
                               return std::holds_alternative<r1::events::Host>(p);
                           }) >= 3;
                }(),
                5000);
        }
        const std::size_t after = seen.size();
        QTest::qWait(60);
        QCOMPARE(seen.size(), after);
        for (const auto& p : seen) {
            gpuEvents = gpuEvents || std::holds_alternative<r1::events::Gpu>(p);
            if (const auto* h = std::get_if<r1::events::Host>(&p)) {
                QVERIFY(h->ram_total_mb.value_or(0) > 0);
                QVERIFY(h->cpus.value_or(0) >= 1);
            }
        }
        if (!gpu) {
            QVERIFY(reason.empty());
            QVERIFY(!gpuEvents);
        } else if (!reason.empty()) {
            QVERIFY2(!gpuEvents, reason.c_str());  // no NVML here: host events only
        }
    }
}

QTEST_GUILESS_MAIN(TestHostSampler)
#include "test_host_sampler.moc"
