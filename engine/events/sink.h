#pragma once

#include <cstddef>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/events/event.h"

namespace r1::events {

// emit() is safe to call from several threads on every sink below.
class EventSink {
public:
    virtual ~EventSink();
    virtual void emit(const Event& event) = 0;
};

// One encoded line + '\n' per event, flushed at once so a pipe or file reader sees it.
// Write failures (closed pipe, full disk) are not reported; check the stream if needed.
class JsonlSink : public EventSink {
public:
    explicit JsonlSink(std::ostream& out);
    void emit(const Event& event) override;

private:
    std::mutex mutex_;
    std::ostream& out_;
};

class FileSink : public EventSink {
public:
    // Throws std::runtime_error naming the path when the file can't be opened for writing.
    FileSink(const std::string& path, bool append);
    void emit(const Event& event) override;
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::ofstream file_;
    JsonlSink lines_;
};

// The callback runs on the emitting thread, one call at a time; it must not emit to this sink.
class CallbackSink : public EventSink {
public:
    explicit CallbackSink(std::function<void(const Event&)> callback);
    void emit(const Event& event) override;

private:
    std::mutex mutex_;
    std::function<void(const Event&)> callback_;
};

// Emits to every sink in order of add(); if some throw, the others still get the event and
// the first exception is rethrown afterwards.
class FanoutSink : public EventSink {
public:
    void add(std::shared_ptr<EventSink> sink);
    void emit(const Event& event) override;

private:
    std::mutex mutex_;
    std::vector<std::shared_ptr<EventSink>> sinks_;
};

class NullSink : public EventSink {
public:
    void emit(const Event&) override {}
};

// Splits a byte stream (pipe, socket, file) into lines and decodes them. Lines end in "\n" or
// "\r\n"; blank lines are skipped silently but counted. A line longer than the cap is reported
// as an error and its bytes are dropped as they arrive, so memory stays bounded.
class LineReader {
public:
    using Numbered = std::pair<std::size_t, DecodeResult>;  // 1-based line number
    static constexpr std::size_t kDefaultMaxLineBytes = std::size_t{16} << 20;

    explicit LineReader(std::size_t max_line_bytes = kDefaultMaxLineBytes);

    std::vector<Numbered> feed(std::string_view chunk);
    // Decodes a final line that lacks its newline; the reader can then be fed again.
    std::vector<Numbered> finish();

    std::size_t lines_seen() const { return line_; }

private:
    void complete_line(std::string_view tail, std::vector<Numbered>& out);

    std::size_t max_line_bytes_;
    std::size_t line_ = 0;
    std::string partial_;
    bool overflow_ = false;
};

}  // namespace r1::events
