#include "engine/cluster/follower.h"

#include "engine/cluster/shell.h"

namespace r1::cluster {

std::string RankLine::error() const {
  if (decoded.ok()) return {};
  return "rank " + std::to_string(rank) + ", line " + std::to_string(line) +
         " of events.jsonl: " + decoded.error;
}

FrameParser::FrameParser(std::map<int, RankCursor> start, Sink sink)
    : cursors_(std::move(start)), sink_(std::move(sink)) {}

bool FrameParser::header(const std::string& line) {
  auto fail = [&](const std::string& why) {
    error_ = "follower stream: " + why + " ('" + printable(line.substr(0, 80)) + "')";
    return false;
  };
  if (line == "H") {
    if (sink_.heartbeat) sink_.heartbeat();
    return true;
  }
  if (line == "E") {
    ended_ = true;
    if (sink_.end) sink_.end();
    return true;
  }
  if (line == "X missing") {
    if (sink_.missing) sink_.missing();
    return true;
  }
  if (line.size() > 2 && (line[0] == '@' || line[0] == 'T')) {
    const std::size_t from = line[0] == '@' ? 1 : 2;
    const auto sp = line.find(' ', from);
    if (sp == std::string::npos) return fail("malformed frame header");
    try {
      std::size_t u1 = 0, u2 = 0;
      const std::string rs = line.substr(from, sp - from), ns = line.substr(sp + 1);
      const int rank = std::stoi(rs, &u1);
      const long long n = std::stoll(ns, &u2);
      if (u1 != rs.size() || u2 != ns.size() || n < 0) return fail("malformed frame header");
      if (!cursors_.count(rank)) return fail("frame for a rank not followed here");
      if (line[0] == 'T') {
        // The log shrank (replaced by hand?): what follows is read from its new end.
        cursors_[rank].offset = n;
        partial_[rank].clear();
        raw_[rank] = Partial{};
        if (sink_.truncated) sink_.truncated(rank, n);
        return true;
      }
      data_rank_ = rank;
      data_left_ = n;
      state_ = n > 0 ? State::Data : State::Terminator;
      return true;
    } catch (...) {
      return fail("malformed frame header");
    }
  }
  return fail("unexpected line");
}

void FrameParser::data(int rank, std::string_view bytes) {
  std::string& part = partial_[rank];
  Partial& raw = raw_[rank];
  std::size_t start = 0;
  while (start < bytes.size()) {
    const std::size_t nl = bytes.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? bytes.size() : nl;
    const std::size_t room = kMaxLine > part.size() ? kMaxLine - part.size() : 0;
    const std::size_t take = std::min(room, end - start);
    part.append(bytes.data() + start, take);
    raw.bytes += static_cast<std::int64_t>(end - start);  // bytes past the cap count too
    raw.oversized = raw.oversized || take < end - start;
    if (nl == std::string_view::npos) break;
    RankCursor& cur = cursors_[rank];
    RankLine l;
    l.rank = rank;
    l.line = ++cur.lines;
    cur.offset += raw.bytes + 1;
    l.end_offset = cur.offset;
    if (!part.empty() && part.back() == '\r') part.pop_back();
    l.text = std::move(part);
    part.clear();
    if (raw.oversized) {
      l.decoded.error = "line longer than " + std::to_string(kMaxLine >> 20) + " MiB";
    } else if (l.text.empty()) {
      l.decoded.error = "empty line";
    } else {
      l.decoded = events::decode(l.text);
    }
    raw = Partial{};
    if (sink_.line) sink_.line(std::move(l));
    start = nl + 1;
  }
}

bool FrameParser::feed(std::string_view chunk) {
  if (!error_.empty()) return false;
  std::size_t i = 0;
  while (i < chunk.size()) {
    switch (state_) {
      case State::Header: {
        const std::size_t nl = chunk.find('\n', i);
        if (nl == std::string_view::npos) {
          head_.append(chunk.substr(i));
          if (head_.size() > 256) {
            error_ = "follower stream: header line too long";
            return false;
          }
          return true;
        }
        head_.append(chunk.substr(i, nl - i));
        i = nl + 1;
        std::string line;
        line.swap(head_);
        if (!header(line)) return false;
        break;
      }
      case State::Data: {
        const std::size_t take =
            std::min<std::size_t>(chunk.size() - i, static_cast<std::size_t>(data_left_));
        data(data_rank_, chunk.substr(i, take));
        data_left_ -= static_cast<std::int64_t>(take);
        i += take;
        if (data_left_ == 0) state_ = State::Terminator;
        break;
      }
      case State::Terminator:
        if (chunk[i] != '\n') {
          error_ = "follower stream: a frame of rank " + std::to_string(data_rank_) +
                   " was not followed by a newline (log changed while read?)";
          return false;
        }
        ++i;
        state_ = State::Header;
        break;
    }
  }
  return true;
}

}  // namespace r1::cluster
