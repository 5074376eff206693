#pragma once
// Child processes without a shell (fork + exec of an argv): stdin fed from a string, stdout and
// stderr captured, every run under a deadline. Each child leads its own process group, so a
// timeout ends it and whatever it started (ssh's ProxyCommand …). SIGPIPE never reaches the
// caller's process.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace r1::cluster {

struct ProcessResult {
  bool started = false;
  std::string start_error;  // why it could not start (not found, exec failed …)
  int exit_code = -1;       // when it exited (signal == 0)
  int signal = 0;           // the signal that ended it
  bool timed_out = false;   // the deadline passed and it was killed
  std::string out, err;
  double seconds = 0;

  bool ok() const { return started && !timed_out && signal == 0 && exit_code == 0; }
  // "exit code 3", "killed by signal 9 (SIGKILL)", "timed out after 5.0 s", "not started: …"
  std::string describe() const;
};

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0]: a path, or a program name looked up on PATH
  std::string input;              // written to stdin, then stdin is closed
  int stdin_fd = -1;   // instead of input: becomes the child's stdin; closed here (ownership)
  int stdout_fd = -1;  // instead of capturing: becomes the child's stdout; closed here
  std::chrono::milliseconds timeout{60000};
  std::size_t max_output = std::size_t{16} << 20;  // per stream; beyond it output is dropped
};

ProcessResult run_process(const ProcessSpec& spec);

// PATH lookup as execvp does it; empty when not found.
std::string find_program(const std::string& name);

// "SIGKILL" for 9 …
std::string signal_name(int sig);

// A long-running child whose stdout is handed to a callback as it arrives (on a thread of its
// own). The callbacks must not call terminate() or destroy the stream.
class ProcessStream {
 public:
  using OnOutput = std::function<void(std::string_view chunk)>;
  using OnExit = std::function<void(const ProcessResult& result)>;  // after the last output

  ProcessStream(std::vector<std::string> argv, std::string input, OnOutput on_output,
                OnExit on_exit = {});
  ~ProcessStream();  // terminate()
  ProcessStream(const ProcessStream&) = delete;
  ProcessStream& operator=(const ProcessStream&) = delete;

  // SIGTERM to its process group, SIGKILL a second later; returns once it has ended.
  void terminate();
  // True once it has ended and every callback has returned.
  bool wait_for(std::chrono::milliseconds timeout);
  bool running() const { return !done_.load(); }
  ProcessResult result() const;  // stdout was streamed, so result().out is empty

 private:
  void loop(std::vector<std::string> argv, std::string input);

  OnOutput on_output_;
  OnExit on_exit_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  int wake_[2] = {-1, -1};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  ProcessResult result_;
  std::thread thread_;
};

}  // namespace r1::cluster
