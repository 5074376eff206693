#include "engine/events/event.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace r1::events {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr std::size_t kMaxNesting = 256;

template <class... Fs>
struct Overloaded : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

// ------------------------------------------------------------------------------------ encoding

OJson number(double x) {
    if (!std::isfinite(x)) return nullptr;
    return x;
}

template <class T>
void put_opt(OJson& j, const char* key, const std::optional<T>& v) {
    if (!v) return;
    if constexpr (std::is_floating_point_v<T>) {
        j[key] = number(*v);
    } else {
        j[key] = *v;
    }
}

void put_payload(OJson& j, const RunStart& e) {
    j["config"] = OJson(e.config);
    OJson versions = OJson::object();
    for (const auto& [k, v] : e.versions) versions[k] = v;
    j["versions"] = std::move(versions);
    j["device"] = e.device;
    j["world_size"] = e.world_size;
    j["params_total"] = e.params_total;
    j["params_active"] = e.params_active;
    j["params_embedding"] = e.params_embedding;
    put_opt(j, "resumed_from_step", e.resumed_from_step);
}

void put_payload(OJson& j, const Step& e) {
    j["step"] = e.step;
    j["tokens"] = e.tokens;
    j["loss"] = number(e.loss);
    put_opt(j, "loss_main", e.loss_main);
    put_opt(j, "loss_mtp", e.loss_mtp);
    put_opt(j, "loss_balance", e.loss_balance);
    j["lr"] = number(e.lr);
    j["grad_norm"] = number(e.grad_norm);
    j["tokens_per_s"] = number(e.tokens_per_s);
    put_opt(j, "mfu", e.mfu);
    put_opt(j, "loss_scale", e.loss_scale);
    j["skipped"] = e.skipped;
    j["step_ms"] = number(e.step_ms);
    OJson load = OJson::array();
    for (const auto& layer : e.expert_load) {
        OJson row = OJson::array();
        for (double x : layer) row.push_back(number(x));
        load.push_back(std::move(row));
    }
    j["expert_load"] = std::move(load);
    put_opt(j, "router_bias_abs", e.router_bias_abs);
}

void put_payload(OJson& j, const Eval& e) {
    j["step"] = e.step;
    j["loss"] = number(e.loss);
    j["perplexity"] = number(e.perplexity);
    j["bits_per_byte"] = number(e.bits_per_byte);
    j["tokens"] = e.tokens;
    if (!e.metrics.empty()) {
        OJson m = OJson::object();
        for (const auto& [k, v] : e.metrics) m[k] = number(v);
        j["metrics"] = std::move(m);
    }
}

void put_payload(OJson& j, const Checkpoint& e) {
    j["step"] = e.step;
    j["path"] = e.path;
    j["bytes"] = e.bytes;
    j["seconds"] = number(e.seconds);
}

void put_payload(OJson& j, const Log& e) {
    j["level"] = to_string(e.level);
    j["text"] = e.text;
}

void put_payload(OJson& j, const Error& e) {
    j["message"] = e.message;
    j["cause"] = e.cause;
    j["fatal"] = e.fatal;
}

void put_payload(OJson& j, const Finish& e) {
    j["status"] = to_string(e.status);
    j["step"] = e.step;
    j["seconds"] = number(e.seconds);
    put_opt(j, "best_val_loss", e.best_val_loss);
}

void put_payload(OJson& j, const Gpu& e) {
    j["device"] = e.device;
    put_opt(j, "util", e.util);
    put_opt(j, "mem_used_mb", e.mem_used_mb);
    put_opt(j, "mem_total_mb", e.mem_total_mb);
    put_opt(j, "temp_c", e.temp_c);
    put_opt(j, "power_w", e.power_w);
    put_opt(j, "sm_clock_mhz", e.sm_clock_mhz);
}

void put_payload(OJson& j, const Host& e) {
    put_opt(j, "cpu_util", e.cpu_util);
    put_opt(j, "ram_used_mb", e.ram_used_mb);
    put_opt(j, "ram_total_mb", e.ram_total_mb);
    put_opt(j, "rss_mb", e.rss_mb);
    put_opt(j, "cpus", e.cpus);
}

void put_payload(OJson& j, const Sample& e) {
    put_opt(j, "step", e.step);
    j["prompt"] = e.prompt;
    j["text"] = e.text;
}

// ------------------------------------------------------------------------------------ decoding

struct DecodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(std::string msg) { throw DecodeError(std::move(msg)); }

[[noreturn]] void bad_type(const std::string& key, const char* what) {
    fail("field '" + key + "' must be " + what);
}

class Fields {
public:
    explicit Fields(const Json& j) : j_(j) {}

    const Json* find(const char* key) const {
        auto it = j_.find(key);
        return it == j_.end() ? nullptr : &*it;
    }

    const Json& need(const char* key) const {
        const Json* v = find(key);
        if (!v) fail(std::string("missing field '") + key + "'");
        return *v;
    }

    static std::int64_t as_i64(const Json& v, const std::string& key) {
        if (v.is_number_unsigned()) {
            if (v.get<std::uint64_t>() >
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                fail("field '" + key + "' is out of range for int64");
            return static_cast<std::int64_t>(v.get<std::uint64_t>());
        }
        if (v.is_number_integer()) return v.get<std::int64_t>();
        bad_type(key, "an integer");
    }

    static int as_int(const Json& v, const std::string& key) {
        std::int64_t x = as_i64(v, key);
        if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
            fail("field '" + key + "' is out of range for int32");
        return static_cast<int>(x);
    }

    static double as_f64(const Json& v, const std::string& key) {
        if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
        if (v.is_number()) return v.get<double>();
        bad_type(key, "a number or null");
    }

    static std::string as_str(const Json& v, const std::string& key) {
        if (!v.is_string()) bad_type(key, "a string");
        return v.get<std::string>();
    }

    std::int64_t i64(const char* key) const { return as_i64(need(key), key); }
    int i32(const char* key) const { return as_int(need(key), key); }
    double f64(const char* key) const { return as_f64(need(key), key); }
    std::string str(const char* key) const { return as_str(need(key), key); }

    std::string str_or(const char* key, std::string fallback) const {
        const Json* v = find(key);
        return v ? as_str(*v, key) : fallback;
    }

    bool boolean(const char* key) const {
        const Json& v = need(key);
        if (!v.is_boolean()) bad_type(key, "a boolean");
        return v.get<bool>();
    }

    std::optional<std::int64_t> opt_i64(const char* key) const {
        const Json* v = find(key);
        if (!v) return std::nullopt;
        return as_i64(*v, key);
    }

    std::optional<int> opt_i32(const char* key) const {
        const Json* v = find(key);
        if (!v) return std::nullopt;
        return as_int(*v, key);
    }

    std::optional<double> opt_f64(const char* key) const {
        const Json* v = find(key);
        if (!v) return std::nullopt;
        return as_f64(*v, key);
    }

private:
    const Json& j_;
};

RunStart get_run_start(const Fields& f) {
    RunStart e;
    const Json& config = f.need("config");
    if (!config.is_object()) bad_type("config", "an object");
    e.config = config;
    const Json& versions = f.need("versions");
    if (!versions.is_object()) bad_type("versions", "an object");
    for (auto it = versions.begin(); it != versions.end(); ++it)
        e.versions[it.key()] = Fields::as_str(it.value(), "versions." + it.key());
    e.device = f.str("device");
    e.world_size = f.i32("world_size");
    e.params_total = f.i64("params_total");
    e.params_active = f.i64("params_active");
    e.params_embedding = f.i64("params_embedding");
    e.resumed_from_step = f.opt_i64("resumed_from_step");
    return e;
}

Step get_step(const Fields& f) {
    Step e;
    e.step = f.i64("step");
    e.tokens = f.i64("tokens");
    e.loss = f.f64("loss");
    e.loss_main = f.opt_f64("loss_main");
    e.loss_mtp = f.opt_f64("loss_mtp");
    e.loss_balance = f.opt_f64("loss_balance");
    e.lr = f.f64("lr");
    e.grad_norm = f.f64("grad_norm");
    e.tokens_per_s = f.f64("tokens_per_s");
    e.mfu = f.opt_f64("mfu");
    e.loss_scale = f.opt_f64("loss_scale");
    e.skipped = f.i64("skipped");
    e.step_ms = f.f64("step_ms");
    if (const Json* load = f.find("expert_load")) {
        if (!load->is_array()) bad_type("expert_load", "an array of arrays of numbers");
        for (std::size_t l = 0; l < load->size(); ++l) {
            const Json& row = (*load)[l];
            const std::string name = "expert_load[" + std::to_string(l) + "]";
            if (!row.is_array()) bad_type(name, "an array of numbers");
            std::vector<double> values;
            values.reserve(row.size());
            for (std::size_t x = 0; x < row.size(); ++x)
                values.push_back(Fields::as_f64(row[x], name + "[" + std::to_string(x) + "]"));
            e.expert_load.push_back(std::move(values));
        }
    }
    e.router_bias_abs = f.opt_f64("router_bias_abs");
    return e;
}

Eval get_eval(const Fields& f) {
    Eval e;
    e.step = f.i64("step");
    e.loss = f.f64("loss");
    e.perplexity = f.f64("perplexity");
    e.bits_per_byte = f.f64("bits_per_byte");
    e.tokens = f.i64("tokens");
    if (const Json* m = f.find("metrics")) {
        if (!m->is_object()) bad_type("metrics", "an object of numbers");
        for (auto it = m->begin(); it != m->end(); ++it)
            e.metrics[it.key()] = Fields::as_f64(it.value(), "metrics." + it.key());
    }
    return e;
}

Checkpoint get_checkpoint(const Fields& f) {
    Checkpoint e;
    e.step = f.i64("step");
    e.path = f.str("path");
    e.bytes = f.i64("bytes");
    e.seconds = f.f64("seconds");
    return e;
}

Log get_log(const Fields& f) {
    Log e;
    const std::string level = f.str("level");
    if (level == "debug") e.level = LogLevel::Debug;
    else if (level == "info") e.level = LogLevel::Info;
    else if (level == "warn") e.level = LogLevel::Warn;
    else if (level == "error") e.level = LogLevel::Error;
    else fail("field 'level' must be one of debug, info, warn, error (got '" + level + "')");
    e.text = f.str("text");
    return e;
}

Error get_error(const Fields& f) {
    Error e;
    e.message = f.str("message");
    e.cause = f.str_or("cause", {});
    e.fatal = f.boolean("fatal");
    return e;
}

Finish get_finish(const Fields& f) {
    Finish e;
    const std::string status = f.str("status");
    if (status == "completed") e.status = FinishStatus::Completed;
    else if (status == "stopped") e.status = FinishStatus::Stopped;
    else if (status == "failed") e.status = FinishStatus::Failed;
    else fail("field 'status' must be one of completed, stopped, failed (got '" + status + "')");
    e.step = f.i64("step");
    e.seconds = f.f64("seconds");
    e.best_val_loss = f.opt_f64("best_val_loss");
    return e;
}

Gpu get_gpu(const Fields& f) {
    Gpu e;
    e.device = f.i32("device");
    e.util = f.opt_f64("util");
    e.mem_used_mb = f.opt_f64("mem_used_mb");
    e.mem_total_mb = f.opt_f64("mem_total_mb");
    e.temp_c = f.opt_f64("temp_c");
    e.power_w = f.opt_f64("power_w");
    e.sm_clock_mhz = f.opt_f64("sm_clock_mhz");
    return e;
}

Host get_host(const Fields& f) {
    Host e;
    e.cpu_util = f.opt_f64("cpu_util");
    e.ram_used_mb = f.opt_f64("ram_used_mb");
    e.ram_total_mb = f.opt_f64("ram_total_mb");
    e.rss_mb = f.opt_f64("rss_mb");
    e.cpus = f.opt_i32("cpus");
    return e;
}

Sample get_sample(const Fields& f) {
    Sample e;
    e.step = f.opt_i64("step");
    e.prompt = f.str("prompt");
    e.text = f.str("text");
    return e;
}

Payload get_payload(const std::string& type, const Fields& f) {
    if (type == "run_start") return get_run_start(f);
    if (type == "step") return get_step(f);
    if (type == "eval") return get_eval(f);
    if (type == "checkpoint") return get_checkpoint(f);
    if (type == "log") return get_log(f);
    if (type == "error") return get_error(f);
    if (type == "finish") return get_finish(f);
    if (type == "gpu") return get_gpu(f);
    if (type == "sample") return get_sample(f);
    if (type == "host") return get_host(f);
    fail("unknown event type '" + type + "'");
}

// Parsing is iterative but copying and destroying deep JSON recurses; refuse deep input.
bool too_deep(std::string_view s) {
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (char c : s) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxNesting) return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

std::string strip_exception_id(const char* what) {
    std::string_view s(what);
    if (!s.empty() && s.front() == '[') {
        auto end = s.find("] ");
        if (end != std::string_view::npos) s.remove_prefix(end + 2);
    }
    return std::string(s);
}

bool is_blank(std::string_view s) {
    for (char c : s)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    return true;
}

Event decode_or_throw(std::string_view line) {
    if (is_blank(line)) fail("empty line");
    if (too_deep(line))
        fail("not JSON: nesting deeper than " + std::to_string(kMaxNesting) + " levels");
    Json j;
    try {
        j = Json::parse(line.begin(), line.end());
    } catch (const Json::exception& e) {
        fail(std::string("not JSON: ") + strip_exception_id(e.what()));
    }
    if (!j.is_object()) fail(std::string("not a JSON object but ") + j.type_name());

    const Fields f(j);
    const std::int64_t v = f.i64("v");
    if (v > kSchemaVersion)
        fail("schema version " + std::to_string(v) + " is newer than this reader (" +
             std::to_string(kSchemaVersion) + ")");
    if (v < 1) fail("schema version " + std::to_string(v) + " is invalid");
    const std::string type = f.str("type");

    Event ev;
    ev.header.time = f.f64("time");
    ev.header.run = f.str_or("run", {});
    if (const Json* rank = f.find("rank")) ev.header.rank = Fields::as_int(*rank, "rank");
    ev.payload = get_payload(type, f);
    return ev;
}

}  // namespace

double now_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

Event make_event(Payload payload, std::string run, int rank) {
    return Event{Header{now_seconds(), std::move(run), rank}, std::move(payload)};
}

const char* type_name(const Payload& payload) {
    return std::visit(Overloaded{
                          [](const RunStart&) { return "run_start"; },
                          [](const Step&) { return "step"; },
                          [](const Eval&) { return "eval"; },
                          [](const Checkpoint&) { return "checkpoint"; },
                          [](const Log&) { return "log"; },
                          [](const Error&) { return "error"; },
                          [](const Finish&) { return "finish"; },
                          [](const Gpu&) { return "gpu"; },
                          [](const Sample&) { return "sample"; },
                          [](const Host&) { return "host"; },
                      },
                      payload);
}

const char* to_string(LogLevel level) {
    switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
    }
    return "info";
}

const char* to_string(FinishStatus status) {
    switch (status) {
    case FinishStatus::Completed: return "completed";
    case FinishStatus::Stopped: return "stopped";
    case FinishStatus::Failed: return "failed";
    }
    return "failed";
}

std::string encode(const Event& event) {
    OJson j;
    j["v"] = kSchemaVersion;
    j["type"] = type_name(event.payload);
    j["time"] = number(event.header.time);
    j["run"] = event.header.run;
    j["rank"] = event.header.rank;
    std::visit([&j](const auto& payload) { put_payload(j, payload); }, event.payload);
    // Invalid UTF-8 in a string becomes U+FFFD instead of throwing.
    return j.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

DecodeResult decode(std::string_view line) {
    DecodeResult result;
    try {
        result.event = decode_or_throw(line);
    } catch (const DecodeError& e) {
        result.error = e.what();
    } catch (const std::exception& e) {
        result.error = std::string("decode failed: ") + e.what();
    }
    return result;
}

}  // namespace r1::events
