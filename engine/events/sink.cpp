#include "engine/events/sink.h"

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>

namespace r1::events {

EventSink::~EventSink() = default;

JsonlSink::JsonlSink(std::ostream& out) : out_(out) {}

void JsonlSink::emit(const Event& event) {
    std::string line = encode(event);
    line += '\n';
    std::lock_guard<std::mutex> lock(mutex_);
    out_.write(line.data(), static_cast<std::streamsize>(line.size()));
    out_.flush();
}

namespace {

std::ofstream open_for_writing(const std::string& path, bool append) {
    errno = 0;
    std::ofstream file(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
    if (!file) {
        std::string why = errno != 0 ? std::strerror(errno) : "unknown error";
        throw std::runtime_error("cannot open event file '" + path + "' for writing: " + why);
    }
    return file;
}

}  // namespace

FileSink::FileSink(const std::string& path, bool append)
    : path_(path), file_(open_for_writing(path, append)), lines_(file_) {}

void FileSink::emit(const Event& event) { lines_.emit(event); }

CallbackSink::CallbackSink(std::function<void(const Event&)> callback)
    : callback_(std::move(callback)) {}

void CallbackSink::emit(const Event& event) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (callback_) callback_(event);
}

void FanoutSink::add(std::shared_ptr<EventSink> sink) {
    if (!sink) return;
    std::lock_guard<std::mutex> lock(mutex_);
    sinks_.push_back(std::move(sink));
}

void FanoutSink::emit(const Event& event) {
    std::vector<std::shared_ptr<EventSink>> sinks;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        sinks = sinks_;
    }
    std::exception_ptr first_error;
    for (const auto& sink : sinks) {
        try {
            sink->emit(event);
        } catch (...) {
            if (!first_error) first_error = std::current_exception();
        }
    }
    if (first_error) std::rethrow_exception(first_error);
}

LineReader::LineReader(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

void LineReader::complete_line(std::string_view tail, std::vector<Numbered>& out) {
    ++line_;
    const bool too_long = overflow_ || partial_.size() + tail.size() > max_line_bytes_;
    if (too_long) {
        DecodeResult r;
        r.error = "line longer than " + std::to_string(max_line_bytes_) + " bytes";
        out.emplace_back(line_, std::move(r));
    } else {
        std::string_view line = tail;
        if (!partial_.empty()) {
            partial_.append(tail);
            line = partial_;
        }
        if (line_ == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos)
            out.emplace_back(line_, decode(line));
    }
    partial_.clear();
    overflow_ = false;
}

std::vector<LineReader::Numbered> LineReader::feed(std::string_view chunk) {
    std::vector<Numbered> out;
    while (!chunk.empty()) {
        const std::size_t nl = chunk.find('\n');
        if (nl == std::string_view::npos) {
            if (!overflow_ && partial_.size() + chunk.size() > max_line_bytes_) {
                overflow_ = true;
                std::string().swap(partial_);
            }
            if (!overflow_) partial_.append(chunk);
            break;
        }
        complete_line(chunk.substr(0, nl), out);
        chunk.remove_prefix(nl + 1);
    }
    return out;
}

std::vector<LineReader::Numbered> LineReader::finish() {
    std::vector<Numbered> out;
    if (overflow_ || !partial_.empty()) complete_line({}, out);
    return out;
}

}  // namespace r1::events
