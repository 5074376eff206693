#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

// Schema v1 of the engine's JSON Lines event stream; EVENTS.md is the reference.
namespace r1::events {

inline constexpr int kSchemaVersion = 1;

struct Header {
    double time = 0.0;  // unix seconds
    std::string run;
    int rank = 0;
};

struct RunStart {
    nlohmann::json config = nlohmann::json::object();
    std::map<std::string, std::string> versions;
    std::string device;
    int world_size = 1;
    std::int64_t params_total = 0;
    std::int64_t params_active = 0;
    std::int64_t params_embedding = 0;
    std::optional<std::int64_t> resumed_from_step;
};

struct Step {
    std::int64_t step = 0;
    std::int64_t tokens = 0;  // cumulative
    double loss = 0.0;
    std::optional<double> loss_main;
    std::optional<double> loss_mtp;
    std::optional<double> loss_balance;
    double lr = 0.0;
    double grad_norm = 0.0;
    double tokens_per_s = 0.0;
    std::optional<double> mfu;
    std::optional<double> loss_scale;
    std::int64_t skipped = 0;  // cumulative
    double step_ms = 0.0;
    std::vector<std::vector<double>> expert_load;  // [moe layer][expert] fraction of tokens
    std::optional<double> router_bias_abs;
};

struct Eval {
    std::int64_t step = 0;
    double loss = 0.0;
    double perplexity = 0.0;
    double bits_per_byte = 0.0;
    std::int64_t tokens = 0;
    // Task metrics beyond the loss (the detector: map50, cpm, ...); omitted when empty.
    std::map<std::string, double> metrics{};
};

struct Checkpoint {
    std::int64_t step = 0;
    std::string path;
    std::int64_t bytes = 0;
    double seconds = 0.0;
};

enum class LogLevel { Debug, Info, Warn, Error };

struct Log {
    LogLevel level = LogLevel::Info;
    std::string text;
};

struct Error {
    std::string message;
    std::string cause;
    bool fatal = false;
};

enum class FinishStatus { Completed, Stopped, Failed };

struct Finish {
    FinishStatus status = FinishStatus::Completed;
    std::int64_t step = 0;
    double seconds = 0.0;
    std::optional<double> best_val_loss;
};

struct Gpu {
    int device = 0;
    std::optional<double> util;  // percent
    std::optional<double> mem_used_mb;
    std::optional<double> mem_total_mb;
    std::optional<double> temp_c;
    std::optional<double> power_w;
    std::optional<double> sm_clock_mhz;  // streaming-multiprocessor clock
};

// CPU and RAM of the machine a rank runs on, and of the rank's own process.
struct Host {
    std::optional<double> cpu_util;      // percent of all cores, since the previous sample
    std::optional<double> ram_used_mb;   // MemTotal - MemAvailable
    std::optional<double> ram_total_mb;  // MemTotal
    std::optional<double> rss_mb;        // resident memory of this process
    std::optional<int> cpus;             // online logical CPUs
};

struct Sample {
    std::optional<std::int64_t> step;
    std::string prompt;
    std::string text;
};

using Payload =
    std::variant<RunStart, Step, Eval, Checkpoint, Log, Error, Finish, Gpu, Sample, Host>;

struct Event {
    Header header;
    Payload payload;
};

struct DecodeResult {
    std::optional<Event> event;
    std::string error;  // empty iff event is set

    bool ok() const { return event.has_value(); }
};

double now_seconds();

// Header{now_seconds(), run, rank} around the payload.
Event make_event(Payload payload, std::string run = {}, int rank = 0);

const char* type_name(const Payload& payload);
const char* to_string(LogLevel level);
const char* to_string(FinishStatus status);

// One line of UTF-8 JSON, no trailing newline; NaN/inf become null. Never throws.
std::string encode(const Event& event);

// Never throws; a malformed line yields an error naming the problem.
DecodeResult decode(std::string_view line);

}  // namespace r1::events
