#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/events/event.h"
#include "engine/events/sink.h"

namespace ev = r1::events;

#define EXACT(actual, expected)                                                         \
    QVERIFY2((actual) == (expected),                                                    \
             qPrintable(QStringLiteral("got %1, expected %2")                           \
                            .arg(double(actual), 0, 'g', 17)                            \
                            .arg(double(expected), 0, 'g', 17)))

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

ev::Event round_trip(const ev::Event& e) {
    const std::string line = ev::encode(e);
    if (line.find('\n') != std::string::npos) throw std::logic_error("newline in line");
    ev::DecodeResult r = ev::decode(line);
    if (!r.ok()) throw std::logic_error("decode failed: " + r.error + " on " + line);
    return *r.event;
}

template <class T>
const T& payload(const ev::Event& e) {
    return std::get<T>(e.payload);
}

template <class T>
T payload(ev::Event&& e) {
    return std::get<T>(std::move(e.payload));
}

std::string step_line(int step, const char* eol = "\n") {
    return R"({"v":1,"type":"step","time":1700000000.5,"run":"r","step":)" +
           std::to_string(step) +
           R"(,"tokens":4096,"loss":2.5,"lr":0.001,"grad_norm":1,"tokens_per_s":1e5,)"
           R"("skipped":0,"step_ms":12.5,"expert_load":[]})" + eol;
}

}  // namespace

class TestEvents : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void encodeExactLine();
    void typeNames();
    void roundTripRunStart();
    void roundTripStep();
    void roundTripStepMinimal();
    void roundTripEval();
    void roundTripCheckpoint();
    void roundTripLog();
    void roundTripError();
    void roundTripFinish();
    void roundTripGpu();
    void roundTripSample();
    void roundTripHost();
    void decodeHandWrittenHost();
    void decodeHandWritten();
    void malformed_data();
    void malformed();
    void lineReaderChunks();
    void lineReaderNoTrailingNewline();
    void lineReaderLongLine();
    void jsonlSinkOneLinePerEvent();
    void jsonlSinkThreads();
    void fileSinkWritesAndAppends();
    void fileSinkUnwritable();
    void fanoutAndCallback();
};

void TestEvents::encodeExactLine() {
    ev::Event e{{1700000000.5, "run-1", 2}, ev::Log{ev::LogLevel::Warn, "low \"disk\""}};
    QCOMPARE(QString::fromStdString(ev::encode(e)),
             QStringLiteral(R"({"v":1,"type":"log","time":1700000000.5,"run":"run-1",)"
                            R"("rank":2,"level":"warn","text":"low \"disk\""})"));

    ev::Gpu gpu;
    gpu.device = 1;
    gpu.util = kNaN;
    gpu.power_w = 250.5;
    QCOMPARE(QString::fromStdString(ev::encode({{0.25, "", 0}, gpu})),
             QStringLiteral(R"({"v":1,"type":"gpu","time":0.25,"run":"","rank":0,)"
                            R"("device":1,"util":null,"power_w":250.5})"));

    gpu.sm_clock_mhz = 1980.0;
    QCOMPARE(QString::fromStdString(ev::encode({{0.25, "", 0}, gpu})),
             QStringLiteral(R"({"v":1,"type":"gpu","time":0.25,"run":"","rank":0,)"
                            R"("device":1,"util":null,"power_w":250.5,"sm_clock_mhz":1980.0})"));

    ev::Host host;
    host.cpu_util = 12.5;
    host.ram_used_mb = 1024.0;
    host.cpus = 16;
    QCOMPARE(QString::fromStdString(ev::encode({{2.0, "r", 1}, host})),
             QStringLiteral(R"({"v":1,"type":"host","time":2.0,"run":"r","rank":1,)"
                            R"("cpu_util":12.5,"ram_used_mb":1024.0,"cpus":16})"));
}

void TestEvents::typeNames() {
    QCOMPARE(ev::type_name(ev::RunStart{}), "run_start");
    QCOMPARE(ev::type_name(ev::Step{}), "step");
    QCOMPARE(ev::type_name(ev::Eval{}), "eval");
    QCOMPARE(ev::type_name(ev::Checkpoint{}), "checkpoint");
    QCOMPARE(ev::type_name(ev::Log{}), "log");
    QCOMPARE(ev::type_name(ev::Error{}), "error");
    QCOMPARE(ev::type_name(ev::Finish{}), "finish");
    QCOMPARE(ev::type_name(ev::Gpu{}), "gpu");
    QCOMPARE(ev::type_name(ev::Sample{}), "sample");
    QCOMPARE(ev::type_name(ev::Host{}), "host");
    const double now = ev::now_seconds();
    QVERIFY(now > 1.6e9 && now < 4.1e9);
    ev::Event made = ev::make_event(ev::Log{}, "abc", 5);
    QCOMPARE(made.header.run, std::string("abc"));
    QCOMPARE(made.header.rank, 5);
    QVERIFY(made.header.time >= now);
}

void TestEvents::roundTripRunStart() {
    ev::RunStart rs;
    rs.config = nlohmann::json::parse(
        R"({"model":{"d_model":512,"name":"tiny","moe":[1,2]},"lr":0.001,"note":"中文"})");
    rs.versions = {{"torch", "2.4.0"}, {"engine", "0.1.0"}};
    rs.device = "cuda:0";
    rs.world_size = 8;
    rs.params_total = 671000000000;
    rs.params_active = 37000000000;
    rs.params_embedding = 926000000;

    ev::Event out = round_trip({{1700000001.125, "run-7", 3}, rs});
    EXACT(out.header.time, 1700000001.125);
    QCOMPARE(out.header.run, std::string("run-7"));
    QCOMPARE(out.header.rank, 3);
    const auto& got = payload<ev::RunStart>(out);
    QCOMPARE(got.config["model"]["d_model"].get<int>(), 512);
    QCOMPARE(got.config["model"]["name"].get<std::string>(), std::string("tiny"));
    QCOMPARE(got.config["model"]["moe"].dump(), std::string("[1,2]"));
    EXACT(got.config["lr"].get<double>(), 0.001);
    QCOMPARE(got.config["note"].get<std::string>(), std::string("中文"));
    QCOMPARE(got.versions.size(), std::size_t(2));
    QCOMPARE(got.versions.at("torch"), std::string("2.4.0"));
    QCOMPARE(got.versions.at("engine"), std::string("0.1.0"));
    QCOMPARE(got.device, std::string("cuda:0"));
    QCOMPARE(got.world_size, 8);
    QCOMPARE(got.params_total, std::int64_t(671000000000));
    QCOMPARE(got.params_active, std::int64_t(37000000000));
    QCOMPARE(got.params_embedding, std::int64_t(926000000));
    QVERIFY(!got.resumed_from_step.has_value());
    QVERIFY(ev::encode(out).find("resumed_from_step") == std::string::npos);

    rs.resumed_from_step = 12000;
    const auto& resumed = payload<ev::RunStart>(round_trip({{1.0, "", 0}, rs}));
    QVERIFY(resumed.resumed_from_step.has_value());
    QCOMPARE(*resumed.resumed_from_step, std::int64_t(12000));
}

void TestEvents::roundTripStep() {
    ev::Step s;
    s.step = 5000000000;
    s.tokens = 123456789012;
    s.loss = kNaN;
    s.loss_main = 2.75;
    s.loss_mtp = 3.125;
    s.loss_balance = 0.0001;
    s.lr = 3e-4;
    s.grad_norm = kInf;
    s.tokens_per_s = 0.1;
    s.mfu = 0.3333333333333333;
    s.loss_scale = 65536.0;
    s.skipped = 4;
    s.step_ms = 812.25;
    s.expert_load = {{0.25, 0.75}, {0.5, kNaN, -kInf}};
    s.router_bias_abs = 0.0625;

    const auto& got = payload<ev::Step>(round_trip({{2.0, "x", 1}, s}));
    QCOMPARE(got.step, std::int64_t(5000000000));
    QCOMPARE(got.tokens, std::int64_t(123456789012));
    QVERIFY(std::isnan(got.loss));
    EXACT(got.loss_main.value(), 2.75);
    EXACT(got.loss_mtp.value(), 3.125);
    EXACT(got.loss_balance.value(), 0.0001);
    EXACT(got.lr, 3e-4);
    QVERIFY(std::isnan(got.grad_norm));
    EXACT(got.tokens_per_s, 0.1);
    EXACT(got.mfu.value(), 0.3333333333333333);
    EXACT(got.loss_scale.value(), 65536.0);
    QCOMPARE(got.skipped, std::int64_t(4));
    EXACT(got.step_ms, 812.25);
    QCOMPARE(got.expert_load.size(), std::size_t(2));
    QCOMPARE(got.expert_load[0].size(), std::size_t(2));
    EXACT(got.expert_load[0][0], 0.25);
    EXACT(got.expert_load[0][1], 0.75);
    QCOMPARE(got.expert_load[1].size(), std::size_t(3));
    EXACT(got.expert_load[1][0], 0.5);
    QVERIFY(std::isnan(got.expert_load[1][1]));
    QVERIFY(std::isnan(got.expert_load[1][2]));
    EXACT(got.router_bias_abs.value(), 0.0625);

    const std::string line = ev::encode({{2.0, "x", 1}, s});
    QVERIFY(line.find(R"("loss":null)") != std::string::npos);
    QVERIFY(line.find(R"("grad_norm":null)") != std::string::npos);
    QVERIFY(line.find(R"("expert_load":[[0.25,0.75],[0.5,null,null]])") != std::string::npos);

    ev::Step nan_opt;
    nan_opt.mfu = kNaN;
    const auto& got_nan = payload<ev::Step>(round_trip({{2.0, "", 0}, nan_opt}));
    QVERIFY(got_nan.mfu.has_value());
    QVERIFY(std::isnan(*got_nan.mfu));
}

void TestEvents::roundTripStepMinimal() {
    ev::Step s;
    s.step = 1;
    s.tokens = 2048;
    s.loss = 10.5;
    s.lr = 0.0;
    s.grad_norm = 1.5;
    s.tokens_per_s = 9000.0;
    s.step_ms = 100.0;
    const std::string line = ev::encode({{3.0, "", 0}, s});
    for (const char* key : {"loss_main", "loss_mtp", "loss_balance", "mfu", "loss_scale",
                            "router_bias_abs"})
        QVERIFY2(line.find(key) == std::string::npos, key);
    QVERIFY(line.find(R"("expert_load":[])") != std::string::npos);

    const auto& got = payload<ev::Step>(round_trip({{3.0, "", 0}, s}));
    QCOMPARE(got.step, std::int64_t(1));
    QCOMPARE(got.tokens, std::int64_t(2048));
    EXACT(got.loss, 10.5);
    EXACT(got.lr, 0.0);
    EXACT(got.grad_norm, 1.5);
    EXACT(got.tokens_per_s, 9000.0);
    EXACT(got.step_ms, 100.0);
    QCOMPARE(got.skipped, std::int64_t(0));
    QVERIFY(!got.loss_main && !got.loss_mtp && !got.loss_balance);
    QVERIFY(!got.mfu && !got.loss_scale && !got.router_bias_abs);
    QVERIFY(got.expert_load.empty());
}

void TestEvents::roundTripEval() {
    const auto& got = payload<ev::Eval>(
        round_trip({{4.0, "", 0}, ev::Eval{2000, 2.125, 8.375, 0.96875, 1048576}}));
    QCOMPARE(got.step, std::int64_t(2000));
    EXACT(got.loss, 2.125);
    EXACT(got.perplexity, 8.375);
    EXACT(got.bits_per_byte, 0.96875);
    QCOMPARE(got.tokens, std::int64_t(1048576));
}

void TestEvents::roundTripCheckpoint() {
    const auto& got = payload<ev::Checkpoint>(round_trip(
        {{5.0, "", 0}, ev::Checkpoint{3000, "/runs/a b/检查点/step_3000.pt", 8589934592, 4.5}}));
    QCOMPARE(got.step, std::int64_t(3000));
    QCOMPARE(got.path, std::string("/runs/a b/检查点/step_3000.pt"));
    QCOMPARE(got.bytes, std::int64_t(8589934592));
    EXACT(got.seconds, 4.5);
}

void TestEvents::roundTripLog() {
    const std::string chinese = "训练开始：第 1 步，损失 2.5 ✓";
    const std::string line = ev::encode({{6.0, "", 0}, ev::Log{ev::LogLevel::Info, chinese}});
    QVERIFY2(line.find(chinese) != std::string::npos, "UTF-8 must be written raw, not escaped");
    const auto& got = payload<ev::Log>(round_trip({{6.0, "", 0}, ev::Log{ev::LogLevel::Info,
                                                                         chinese}}));
    QCOMPARE(got.level, ev::LogLevel::Info);
    QCOMPARE(got.text, std::string("训练开始：第 1 步，损失 2.5 ✓"));

    const auto& multi = payload<ev::Log>(
        round_trip({{6.0, "", 0}, ev::Log{ev::LogLevel::Error, "line1\nline2\r\n\ttab"}}));
    QCOMPARE(multi.level, ev::LogLevel::Error);
    QCOMPARE(multi.text, std::string("line1\nline2\r\n\ttab"));

    QCOMPARE(payload<ev::Log>(round_trip({{6.0, "", 0}, ev::Log{ev::LogLevel::Debug, ""}})).level,
             ev::LogLevel::Debug);
    QCOMPARE(payload<ev::Log>(round_trip({{6.0, "", 0}, ev::Log{ev::LogLevel::Warn, ""}})).level,
             ev::LogLevel::Warn);
    QCOMPARE(std::string(ev::to_string(ev::LogLevel::Warn)), std::string("warn"));

    // Invalid UTF-8 must not make the encoder throw.
    const std::string bad_utf8 = ev::encode({{6.0, "", 0}, ev::Log{ev::LogLevel::Info, "a\xff"}});
    QVERIFY(ev::decode(bad_utf8).ok());
    QCOMPARE(payload<ev::Log>(*ev::decode(bad_utf8).event).text, std::string("a\xEF\xBF\xBD"));
}

void TestEvents::roundTripError() {
    const auto& got = payload<ev::Error>(
        round_trip({{7.0, "", 0}, ev::Error{"CUDA out of memory", "", true}}));
    QCOMPARE(got.message, std::string("CUDA out of memory"));
    QCOMPARE(got.cause, std::string(""));
    QCOMPARE(got.fatal, true);
    const auto& soft = payload<ev::Error>(
        round_trip({{7.0, "", 0}, ev::Error{"nan loss", "step 12 grad overflow", false}}));
    QCOMPARE(soft.cause, std::string("step 12 grad overflow"));
    QCOMPARE(soft.fatal, false);
}

void TestEvents::roundTripFinish() {
    const auto& done = payload<ev::Finish>(round_trip(
        {{8.0, "", 0}, ev::Finish{ev::FinishStatus::Completed, 10000, 3600.5, 1.875}}));
    QCOMPARE(done.status, ev::FinishStatus::Completed);
    QCOMPARE(done.step, std::int64_t(10000));
    EXACT(done.seconds, 3600.5);
    EXACT(done.best_val_loss.value(), 1.875);

    const auto& stopped = payload<ev::Finish>(
        round_trip({{8.0, "", 0}, ev::Finish{ev::FinishStatus::Stopped, 12, 1.0, {}}}));
    QCOMPARE(stopped.status, ev::FinishStatus::Stopped);
    QVERIFY(!stopped.best_val_loss.has_value());
    const auto& failed = payload<ev::Finish>(
        round_trip({{8.0, "", 0}, ev::Finish{ev::FinishStatus::Failed, 0, 0.0, {}}}));
    QCOMPARE(failed.status, ev::FinishStatus::Failed);
    QCOMPARE(std::string(ev::to_string(ev::FinishStatus::Stopped)), std::string("stopped"));
}

void TestEvents::roundTripGpu() {
    ev::Gpu empty;
    empty.device = 7;
    const auto& none = payload<ev::Gpu>(round_trip({{9.0, "", 0}, empty}));
    QCOMPARE(none.device, 7);
    QVERIFY(!none.util && !none.mem_used_mb && !none.mem_total_mb && !none.temp_c &&
            !none.power_w);

    ev::Gpu full{0, 97.0, 81920.5, 143771.0, 64.0, 612.25};
    const auto& got = payload<ev::Gpu>(round_trip({{9.0, "", 0}, full}));
    QCOMPARE(got.device, 0);
    EXACT(got.util.value(), 97.0);
    EXACT(got.mem_used_mb.value(), 81920.5);
    EXACT(got.mem_total_mb.value(), 143771.0);
    EXACT(got.temp_c.value(), 64.0);
    EXACT(got.power_w.value(), 612.25);
    QVERIFY(!got.sm_clock_mhz);

    ev::Gpu clocked{1, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                    1755.0};
    const auto& c = payload<ev::Gpu>(round_trip({{9.0, "", 0}, clocked}));
    QCOMPARE(c.device, 1);
    EXACT(c.sm_clock_mhz.value(), 1755.0);
    QVERIFY(!c.util && !c.power_w);
    clocked.sm_clock_mhz = kNaN;  // written as null, read back as NaN (not absent)
    const auto& nan = payload<ev::Gpu>(round_trip({{9.0, "", 0}, clocked}));
    QVERIFY(std::isnan(nan.sm_clock_mhz.value()));
}

void TestEvents::roundTripHost() {
    const auto& none = payload<ev::Host>(round_trip({{3.0, "h", 4}, ev::Host{}}));
    QVERIFY(!none.cpu_util && !none.ram_used_mb && !none.ram_total_mb && !none.rss_mb &&
            !none.cpus);

    ev::Host full{37.25, 10240.5, 515731.75, 812.125, 128};
    const ev::Event back = round_trip({{3.5, "h", 4}, full});
    QCOMPARE(back.header.rank, 4);
    const auto& got = payload<ev::Host>(back);
    EXACT(got.cpu_util.value(), 37.25);
    EXACT(got.ram_used_mb.value(), 10240.5);
    EXACT(got.ram_total_mb.value(), 515731.75);
    EXACT(got.rss_mb.value(), 812.125);
    QCOMPARE(got.cpus.value(), 128);

    full.cpu_util = kInf;
    QVERIFY(std::isnan(payload<ev::Host>(round_trip({{3.5, "", 0}, full})).cpu_util.value()));
}

void TestEvents::decodeHandWrittenHost() {
    // The example line of EVENTS.md, and one from an older worker without the optional fields.
    ev::DecodeResult r = ev::decode(
        R"({"v":1,"type":"host","time":1718000015.0,"run":"tiny-01","rank":0,"cpu_util":63.5,)"
        R"("ram_used_mb":48213.0,"ram_total_mb":257652.0,"rss_mb":5120.25,"cpus":32})");
    QVERIFY2(r.ok(), r.error.c_str());
    const auto& h = payload<ev::Host>(*r.event);
    EXACT(h.cpu_util.value(), 63.5);
    EXACT(h.ram_used_mb.value(), 48213.0);
    EXACT(h.ram_total_mb.value(), 257652.0);
    EXACT(h.rss_mb.value(), 5120.25);
    QCOMPARE(h.cpus.value(), 32);

    ev::DecodeResult bare = ev::decode(R"({"v":1,"type":"host","time":1,"cpus":2})");
    QVERIFY2(bare.ok(), bare.error.c_str());
    QVERIFY(!payload<ev::Host>(*bare.event).cpu_util);

    ev::DecodeResult gpu = ev::decode(
        R"({"v":1,"type":"gpu","time":1,"device":0,"util":5,"sm_clock_mhz":1410})");
    QVERIFY2(gpu.ok(), gpu.error.c_str());
    EXACT(payload<ev::Gpu>(*gpu.event).sm_clock_mhz.value(), 1410.0);
}

void TestEvents::roundTripSample() {
    const auto& with = payload<ev::Sample>(
        round_trip({{10.0, "", 0}, ev::Sample{500, "1+1=", "<think>二</think> 2"}}));
    QCOMPARE(with.step.value(), std::int64_t(500));
    QCOMPARE(with.prompt, std::string("1+1="));
    QCOMPARE(with.text, std::string("<think>二</think> 2"));
    const auto& without = payload<ev::Sample>(
        round_trip({{10.0, "", 0}, ev::Sample{std::nullopt, "", "x"}}));
    QVERIFY(!without.step.has_value());
    QCOMPARE(without.text, std::string("x"));
}

void TestEvents::decodeHandWritten() {
    // Integers for doubles, no run/rank, unknown extra fields, \u escapes.
    ev::DecodeResult r = ev::decode(
        R"({"type":"eval","v":1,"time":12,"step":3,"loss":2,"perplexity":7.5,)"
        R"("bits_per_byte":null,"tokens":100,"future_field":{"a":[1]}})");
    QVERIFY2(r.ok(), r.error.c_str());
    QVERIFY(r.error.empty());
    EXACT(r.event->header.time, 12.0);
    QCOMPARE(r.event->header.run, std::string(""));
    QCOMPARE(r.event->header.rank, 0);
    const auto& e = payload<ev::Eval>(*r.event);
    EXACT(e.loss, 2.0);
    QVERIFY(std::isnan(e.bits_per_byte));

    ev::DecodeResult log = ev::decode(
        "{\"v\":1,\"type\":\"log\",\"time\":1,\"level\":\"info\",\"text\":\"\\u8bad\\u7ec3\"}\r");
    QVERIFY2(log.ok(), log.error.c_str());
    QCOMPARE(payload<ev::Log>(*log.event).text, std::string("训练"));

    ev::DecodeResult err = ev::decode(
        R"({"v":1,"type":"error","time":1,"run":"r","rank":2,"message":"m","fatal":false})");
    QVERIFY2(err.ok(), err.error.c_str());
    QCOMPARE(payload<ev::Error>(*err.event).cause, std::string(""));
    QCOMPARE(err.event->header.rank, 2);
}

void TestEvents::malformed_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("error");

    const QByteArray step =
        R"("type":"step","time":1,"step":1,"tokens":1,"lr":0.1,"grad_norm":1,)"
        R"("tokens_per_s":1,"skipped":0,"step_ms":1)";
    auto row = [](const char* name, const QByteArray& line, const char* error) {
        QTest::newRow(name) << line << QString::fromUtf8(error);
    };
    row("not JSON", "hello world", "not JSON: ");
    row("truncated", R"({"v":1,"type":"log","time":1,"lev)", "not JSON: ");
    row("trailing garbage", R"({"v":1,"type":"log","time":1} x)", "not JSON: ");
    row("two objects", R"({"v":1} {"v":1})", "not JSON: ");
    row("invalid UTF-8", "{\"v\":1,\"type\":\"log\xff\"}", "not JSON: ");
    row("float overflow", R"({"v":1,"type":"step","time":1e400})", "not JSON: number overflow");
    row("too deep", QByteArray(300, '[') + QByteArray(300, ']'), "nesting deeper than 256");
    row("array", "[1,2,3]", "not a JSON object but array");
    row("string", R"("step")", "not a JSON object but string");
    row("missing v", R"({"type":"log","time":1,"level":"info","text":""})",
        "missing field 'v'");
    row("missing type", R"({"v":1,"time":1})", "missing field 'type'");
    row("type not string", R"({"v":1,"type":5,"time":1})", "field 'type' must be a string");
    row("unknown type", R"({"v":1,"type":"foo","time":1})", "unknown event type 'foo'");
    row("missing time", R"({"v":1,"type":"log","level":"info","text":""})",
        "missing field 'time'");
    row("missing loss", "{\"v\":1," + step + "}", "missing field 'loss'");
    row("step as string", R"({"v":1,"type":"eval","time":1,"step":"12","loss":1,)"
                          R"("perplexity":1,"bits_per_byte":1,"tokens":1})",
        "field 'step' must be an integer");
    row("step as float", R"({"v":1,"type":"eval","time":1,"step":1.5,"loss":1,)"
                         R"("perplexity":1,"bits_per_byte":1,"tokens":1})",
        "field 'step' must be an integer");
    row("loss as string", "{\"v\":1," + step + ",\"loss\":\"x\"}",
        "field 'loss' must be a number or null");
    row("expert_load cell", "{\"v\":1," + step + R"(,"loss":1,"expert_load":[[0.5,"a"]]})",
        "field 'expert_load[0][1]' must be a number or null");
    row("expert_load flat", "{\"v\":1," + step + R"(,"loss":1,"expert_load":[0.5]})",
        "field 'expert_load[0]' must be an array of numbers");
    row("fatal as string", R"({"v":1,"type":"error","time":1,"message":"m","fatal":"yes"})",
        "field 'fatal' must be a boolean");
    row("bad level", R"({"v":1,"type":"log","time":1,"level":"loud","text":""})",
        "field 'level' must be one of debug, info, warn, error (got 'loud')");
    row("bad status", R"({"v":1,"type":"finish","time":1,"status":"ok","step":1,"seconds":1})",
        "field 'status' must be one of completed, stopped, failed (got 'ok')");
    row("config not object", R"({"v":1,"type":"run_start","time":1,"config":[],"versions":{}})",
        "field 'config' must be an object");
    row("version not string",
        R"({"v":1,"type":"run_start","time":1,"config":{},"versions":{"torch":2}})",
        "field 'versions.torch' must be a string");
    row("newer version", R"({"v":2,"type":"log","time":1,"level":"info","text":""})",
        "schema version 2 is newer than this reader (1)");
    row("newer version, unknown type", R"({"v":7,"type":"hologram"})",
        "schema version 7 is newer than this reader (1)");
    row("version zero", R"({"v":0,"type":"log"})", "schema version 0 is invalid");
    row("version as string", R"({"v":"1","type":"log"})", "field 'v' must be an integer");
    row("empty", "", "empty line");
    row("blank", " \t\r", "empty line");
    row("huge int (float)", R"({"v":1,"type":"sample","time":1,"step":99999999999999999999,)"
                            R"("prompt":"","text":""})",
        "field 'step' must be an integer");
    row("huge int (uint64)", R"({"v":1,"type":"sample","time":1,"step":18446744073709551615,)"
                             R"("prompt":"","text":""})",
        "field 'step' is out of range for int64");
    row("rank over int32", R"({"v":1,"type":"log","time":1,"rank":4294967296,)"
                           R"("level":"info","text":""})",
        "field 'rank' is out of range for int32");
    row("gpu device negative huge", R"({"v":1,"type":"gpu","time":1,"device":-3000000000})",
        "field 'device' is out of range for int32");
    row("gpu sm clock as string",
        R"({"v":1,"type":"gpu","time":1,"device":0,"sm_clock_mhz":"1"})",
        "field 'sm_clock_mhz' must be a number or null");
    row("host cpu_util as string", R"({"v":1,"type":"host","time":1,"cpu_util":"50%"})",
        "field 'cpu_util' must be a number or null");
    row("host rss as bool", R"({"v":1,"type":"host","time":1,"rss_mb":true})",
        "field 'rss_mb' must be a number or null");
    row("host cpus fraction", R"({"v":1,"type":"host","time":1,"cpus":1.5})",
        "field 'cpus' must be an integer");
    row("host cpus null", R"({"v":1,"type":"host","time":1,"cpus":null})",
        "field 'cpus' must be an integer");
    row("host cpus over int32", R"({"v":1,"type":"host","time":1,"cpus":2147483648})",
        "field 'cpus' is out of range for int32");
    row("host missing time", R"({"v":1,"type":"host","cpus":2})", "missing field 'time'");
}

void TestEvents::malformed() {
    QFETCH(QByteArray, line);
    QFETCH(QString, error);
    const ev::DecodeResult r = ev::decode(std::string_view(line.constData(), line.size()));
    QVERIFY(!r.ok());
    QVERIFY(!r.event.has_value());
    QVERIFY2(QString::fromStdString(r.error).contains(error),
             qPrintable(QStringLiteral("error was: ") + QString::fromStdString(r.error)));
}

void TestEvents::lineReaderChunks() {
    // Lines 1..30: step N on line N, except a bad line 12, a blank line 20 and a log on 25.
    std::string stream = "\xEF\xBB\xBF";
    for (int n = 1; n <= 30; ++n) {
        if (n == 12)
            stream += "{\"v\":1,\"type\":\"step\", oops\n";
        else if (n == 20)
            stream += "\r\n";
        else if (n == 25)
            stream += R"({"v":1,"type":"log","time":1,"level":"warn","text":"第二十五行"})"
                      "\r\n";
        else
            stream += step_line(n, n % 3 == 0 ? "\r\n" : "\n");
    }

    auto check = [](const std::vector<ev::LineReader::Numbered>& got) {
        QCOMPARE(got.size(), std::size_t(29));
        for (const auto& [line, result] : got) {
            QVERIFY(line >= 1 && line <= 30);
            QVERIFY(line != 20);
            if (line == 12) {
                QVERIFY(!result.ok());
                QVERIFY2(result.error.find("not JSON") != std::string::npos,
                         result.error.c_str());
            } else if (line == 25) {
                QVERIFY2(result.ok(), result.error.c_str());
                QCOMPARE(payload<ev::Log>(*result.event).text, std::string("第二十五行"));
            } else {
                QVERIFY2(result.ok(), result.error.c_str());
                QCOMPARE(payload<ev::Step>(*result.event).step, std::int64_t(line));
                EXACT(payload<ev::Step>(*result.event).step_ms, 12.5);
            }
        }
        QVERIFY(std::is_sorted(got.begin(), got.end(),
                               [](const auto& a, const auto& b) { return a.first < b.first; }));
    };

    ev::LineReader whole;
    auto reference = whole.feed(stream);
    auto tail = whole.finish();
    QVERIFY(tail.empty());
    check(reference);
    QCOMPARE(whole.lines_seen(), std::size_t(30));

    std::mt19937 rng(20240611);
    for (int trial = 0; trial < 200; ++trial) {
        std::uniform_int_distribution<std::size_t> size(1, trial < 50 ? 3 : 97);
        ev::LineReader reader;
        std::vector<ev::LineReader::Numbered> got;
        for (std::size_t pos = 0; pos < stream.size();) {
            const std::size_t n = std::min(size(rng), stream.size() - pos);
            for (auto& r : reader.feed(std::string_view(stream).substr(pos, n)))
                got.push_back(std::move(r));
            pos += n;
        }
        for (auto& r : reader.finish()) got.push_back(std::move(r));
        check(got);
        QCOMPARE(got.size(), reference.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            QCOMPARE(got[i].first, reference[i].first);
            QCOMPARE(got[i].second.error, reference[i].second.error);
            if (got[i].second.ok())
                QCOMPARE(ev::encode(*got[i].second.event),
                         ev::encode(*reference[i].second.event));
        }
    }
}

void TestEvents::lineReaderNoTrailingNewline() {
    ev::LineReader reader;
    const std::string text = step_line(1) + step_line(2, "");
    auto first = reader.feed(text);
    QCOMPARE(first.size(), std::size_t(1));
    QCOMPARE(first[0].first, std::size_t(1));
    auto rest = reader.finish();
    QCOMPARE(rest.size(), std::size_t(1));
    QCOMPARE(rest[0].first, std::size_t(2));
    QVERIFY(rest[0].second.ok());
    QCOMPARE(payload<ev::Step>(*rest[0].second.event).step, std::int64_t(2));
    QVERIFY(reader.finish().empty());
}

void TestEvents::lineReaderLongLine() {
    ev::LineReader reader(200);
    const std::string text = step_line(1) + "{\"v\":1,\"text\":\"" + std::string(5000, 'x') +
                             "\"}\n" + step_line(3) + std::string(300, 'y');
    std::vector<ev::LineReader::Numbered> got;
    for (std::size_t pos = 0; pos < text.size(); pos += 7)
        for (auto& r : reader.feed(std::string_view(text).substr(pos, 7)))
            got.push_back(std::move(r));
    for (auto& r : reader.finish()) got.push_back(std::move(r));

    QCOMPARE(got.size(), std::size_t(4));
    QCOMPARE(got[0].first, std::size_t(1));
    QVERIFY(got[0].second.ok());
    QCOMPARE(got[1].first, std::size_t(2));
    QCOMPARE(got[1].second.error, std::string("line longer than 200 bytes"));
    QCOMPARE(got[2].first, std::size_t(3));
    QVERIFY(got[2].second.ok());
    QCOMPARE(payload<ev::Step>(*got[2].second.event).step, std::int64_t(3));
    QCOMPARE(got[3].first, std::size_t(4));
    QCOMPARE(got[3].second.error, std::string("line longer than 200 bytes"));

    ev::LineReader one_shot(200);
    auto whole = one_shot.feed(std::string(500, 'z') + "\n" + step_line(2));
    QCOMPARE(whole.size(), std::size_t(2));
    QCOMPARE(whole[0].second.error, std::string("line longer than 200 bytes"));
    QCOMPARE(whole[1].first, std::size_t(2));
    QVERIFY(whole[1].second.ok());
}

void TestEvents::jsonlSinkOneLinePerEvent() {
    std::ostringstream out;
    ev::JsonlSink sink(out);
    sink.emit({{1.5, "r", 0}, ev::Log{ev::LogLevel::Info, "a\nb"}});
    sink.emit({{2.5, "r", 0}, ev::Eval{1, 2.0, 3.0, 4.0, 5}});
    sink.emit({{3.5, "r", 0}, ev::Sample{std::nullopt, "p\n", "t\r\n"}});
    const std::string text = out.str();
    QCOMPARE(std::count(text.begin(), text.end(), '\n'), std::ptrdiff_t(3));
    QCOMPARE(text.back(), '\n');
    QCOMPARE(QString::fromStdString(text.substr(0, text.find('\n'))),
             QStringLiteral(R"({"v":1,"type":"log","time":1.5,"run":"r","rank":0,)"
                            R"("level":"info","text":"a\nb"})"));

    ev::LineReader reader;
    auto got = reader.feed(text);
    QCOMPARE(got.size(), std::size_t(3));
    for (const auto& r : got) QVERIFY2(r.second.ok(), r.second.error.c_str());
    QCOMPARE(std::string(ev::type_name(got[1].second.event->payload)), std::string("eval"));
}

void TestEvents::jsonlSinkThreads() {
    std::ostringstream out;
    ev::JsonlSink sink(out);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&sink, t] {
            for (int i = 0; i < 250; ++i)
                sink.emit({{double(i), "run", t}, ev::Log{ev::LogLevel::Debug,
                                                          std::string(100, 'a' + t)}});
        });
    for (auto& th : threads) th.join();
    ev::LineReader reader;
    auto got = reader.feed(out.str());
    QCOMPARE(got.size(), std::size_t(1000));
    for (const auto& r : got) QVERIFY2(r.second.ok(), r.second.error.c_str());
}

void TestEvents::fileSinkWritesAndAppends() {
    QVERIFY(QDir().mkpath(QStringLiteral(R1_TEST_TMP)));
    const std::string path = std::string(R1_TEST_TMP) + "/events_test.jsonl";
    {
        ev::FileSink sink(path, false);
        QCOMPARE(sink.path(), path);
        sink.emit({{1.0, "", 0}, ev::Log{ev::LogLevel::Info, "one"}});
        sink.emit({{2.0, "", 0}, ev::Log{ev::LogLevel::Info, "two"}});
        QFile early(QString::fromStdString(path));
        QVERIFY(early.open(QIODevice::ReadOnly));
        QCOMPARE(early.readAll().count('\n'), 2);  // flushed per line, before close
    }
    {
        ev::FileSink sink(path, true);
        sink.emit({{3.0, "", 0}, ev::Log{ev::LogLevel::Info, "three"}});
    }
    QFile file(QString::fromStdString(path));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray data = file.readAll();
    QCOMPARE(data.count('\n'), 3);
    QVERIFY(data.contains("\"text\":\"three\""));
    file.close();
    {
        ev::FileSink truncating(path, false);
    }
    QCOMPARE(QFileInfo(QString::fromStdString(path)).size(), qint64(0));
}

void TestEvents::fileSinkUnwritable() {
    const std::string path = "/nonexistent-r1-dir/sub/events.jsonl";
    bool threw = false;
    try {
        ev::FileSink sink(path, false);
    } catch (const std::runtime_error& e) {
        threw = true;
        QVERIFY2(std::string(e.what()).find("/nonexistent-r1-dir/sub/events.jsonl") !=
                     std::string::npos,
                 e.what());
    }
    QVERIFY(threw);
}

void TestEvents::fanoutAndCallback() {
    std::vector<std::string> seen;
    auto callback = std::make_shared<ev::CallbackSink>(
        [&seen](const ev::Event& e) { seen.push_back(ev::type_name(e.payload)); });
    std::ostringstream out;
    auto fanout = std::make_shared<ev::FanoutSink>();
    fanout->add(callback);
    fanout->add(std::make_shared<ev::NullSink>());
    fanout->add(std::make_shared<ev::JsonlSink>(out));
    fanout->add(nullptr);

    ev::EventSink& sink = *fanout;
    sink.emit({{1.0, "", 0}, ev::Gpu{}});
    sink.emit({{2.0, "", 0}, ev::Finish{}});
    QCOMPARE(seen.size(), std::size_t(2));
    QCOMPARE(seen[0], std::string("gpu"));
    QCOMPARE(seen[1], std::string("finish"));
    const std::string text = out.str();
    QCOMPARE(std::count(text.begin(), text.end(), '\n'), std::ptrdiff_t(2));

    auto thrower = std::make_shared<ev::CallbackSink>(
        [](const ev::Event&) { throw std::runtime_error("boom"); });
    ev::FanoutSink second;
    second.add(thrower);
    second.add(callback);
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, second.emit({{3.0, "", 0}, ev::Log{}}));
    QCOMPARE(seen.size(), std::size_t(3));
    QCOMPARE(seen[2], std::string("log"));
}

QTEST_GUILESS_MAIN(TestEvents)
#include "test_events.moc"
