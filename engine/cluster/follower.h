#pragma once
// Reads what follow_script prints on a node and turns it into event lines per rank, tracking
// for each rank the byte offset and count of the lines delivered, so that following again from
// those cursors sends exactly the lines not seen yet.
//
// Stream: "@<rank> <n>\n" then n bytes of that rank's log then "\n"; "H\n" heartbeat;
// "T <rank> <size>\n" the log shrank; "E\n" every rank ended and was read; "X missing\n" no job
// folder. Anything else is a protocol error.
#include "engine/events/event.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace r1::cluster {

struct RankCursor {
  std::int64_t offset = 0;  // bytes of events.jsonl delivered (always at a line start)
  std::int64_t lines = 0;   // lines delivered
};

struct RankLine {
  int rank = 0;
  std::int64_t line = 0;        // 1-based line number in the rank's events.jsonl
  std::int64_t end_offset = 0;  // byte offset just past this line's newline
  std::string text;             // without the newline
  events::DecodeResult decoded;

  // "" when decoded, else "rank R, line N of events.jsonl: <why>".
  std::string error() const;
};

class FrameParser {
 public:
  struct Sink {
    std::function<void(RankLine&&)> line;
    std::function<void()> heartbeat;
    std::function<void()> end;
    std::function<void(int rank, std::int64_t size)> truncated;
    std::function<void()> missing;
  };
  static constexpr std::size_t kMaxLine = std::size_t{16} << 20;

  FrameParser(std::map<int, RankCursor> start, Sink sink);

  // False once the stream broke the protocol (error() says how); stop feeding then.
  bool feed(std::string_view chunk);
  const std::string& error() const { return error_; }
  bool ended() const { return ended_; }
  // Positions of the lines delivered so far (partial lines are not counted).
  const std::map<int, RankCursor>& cursors() const { return cursors_; }

 private:
  bool header(const std::string& line);
  void data(int rank, std::string_view bytes);

  enum class State { Header, Data, Terminator };
  State state_ = State::Header;
  std::string head_;
  int data_rank_ = -1;
  std::int64_t data_left_ = 0;
  std::map<int, RankCursor> cursors_;
  struct Partial {
    std::int64_t bytes = 0;  // raw bytes of the unfinished line, dropped ones included
    bool oversized = false;
  };
  std::map<int, std::string> partial_;  // the unfinished line's text (capped at kMaxLine)
  std::map<int, Partial> raw_;
  Sink sink_;
  std::string error_;
  bool ended_ = false;
};

}  // namespace r1::cluster
