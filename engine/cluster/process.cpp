#include "engine/cluster/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace r1::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Blocks SIGPIPE on this thread while alive; a SIGPIPE raised by a write here is consumed.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{0, 0};
        while (sigtimedwait(&set_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t set_{}, old_{};
  bool was_pending_ = false;
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

struct Child {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;  // our ends
  std::string error;
};

// stdin: stdin_fd if >= 0, else a pipe; stdout: stdout_fd if >= 0, else a pipe; stderr: a pipe.
Child spawn(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd) {
  Child c;
  if (argv.empty() || argv[0].empty()) {
    c.error = "empty command";
    return c;
  }
  const std::string path = argv[0].find('/') == std::string::npos ? find_program(argv[0]) : argv[0];
  if (path.empty()) {
    c.error = argv[0] + ": not found on PATH";
    return c;
  }
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  long max_fd = ::sysconf(_SC_OPEN_MAX);
  if (max_fd < 0 || max_fd > 65536) max_fd = 65536;

  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, ep[2] = {-1, -1};
  auto fail = [&](const char* what) {
    c.error = std::string(what) + ": " + std::strerror(errno);
    for (int* p : {in, out, err, ep}) {
      close_fd(p[0]);
      close_fd(p[1]);
    }
    return c;
  };
  if (stdin_fd < 0 && ::pipe2(in, O_CLOEXEC) != 0) return fail("pipe");
  if (stdout_fd < 0 && ::pipe2(out, O_CLOEXEC) != 0) return fail("pipe");
  if (::pipe2(err, O_CLOEXEC) != 0 || ::pipe2(ep, O_CLOEXEC) != 0) return fail("pipe");

  const pid_t pid = ::fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) {  // child: async-signal-safe calls only
    ::setpgid(0, 0);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD})
      ::sigaction(s, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int src_in = stdin_fd >= 0 ? stdin_fd : in[0];
    const int src_out = stdout_fd >= 0 ? stdout_fd : out[1];
    if (::dup2(src_in, 0) < 0 || ::dup2(src_out, 1) < 0 || ::dup2(err[1], 2) < 0) {
      int e = errno;
      (void)!::write(ep[1], &e, sizeof e);
      ::_exit(127);
    }
    // Nothing else of the parent's survives exec (the error pipe is close-on-exec already).
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
      for (int fd = 3; fd < max_fd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    ::execv(path.c_str(), cargv.data());
    int e = errno;
    (void)!::write(ep[1], &e, sizeof e);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: no race with a kill of the group right after fork
  close_fd(in[0]);
  close_fd(out[1]);
  close_fd(err[1]);
  close_fd(ep[1]);
  int child_errno = 0;
  ssize_t n;
  while ((n = ::read(ep[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  close_fd(ep[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    c.error = path + ": cannot execute: " + std::strerror(child_errno);
    close_fd(in[1]);
    close_fd(out[0]);
    close_fd(err[0]);
    return c;
  }
  c.pid = pid;
  c.in = in[1];
  c.out = out[0];
  c.err = err[0];
  if (c.in >= 0) ::fcntl(c.in, F_SETFL, ::fcntl(c.in, F_GETFL) | O_NONBLOCK);
  return c;
}

void set_status(ProcessResult& r, int status) {
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
}

// SIGTERM to the group, SIGKILL after `grace`; reaps the child. Returns its status.
int kill_and_reap(pid_t pid, milliseconds grace) {
  ::kill(-pid, SIGTERM);
  ::kill(pid, SIGTERM);
  const auto until = Clock::now() + grace;
  int status = 0;
  while (Clock::now() < until) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      ::kill(-pid, SIGKILL);  // whatever it left in its group
      return status;
    }
    ::usleep(10000);
  }
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Reads what is there; false at EOF or error.
bool drain(int fd, std::string* sink, std::size_t cap,
           const std::function<void(std::string_view)>* deliver) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      if (deliver && *deliver) {
        (*deliver)(std::string_view(buf, static_cast<std::size_t>(n)));
      } else if (sink && sink->size() < cap) {
        sink->append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), cap - sink->size()));
      }
      if (static_cast<std::size_t>(n) < sizeof buf) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

// The shared I/O loop of run_process and ProcessStream. `stop` (may be null) ends the child
// early; `wake_fd` (may be -1) interrupts the poll.
ProcessResult io_loop(Child& c, const std::string& input, Clock::time_point deadline,
                      std::size_t cap, const std::function<void(std::string_view)>* deliver,
                      const std::atomic<bool>* stop, int wake_fd, Clock::time_point t0) {
  ProcessResult r;
  r.started = true;
  SigpipeGuard guard;
  std::size_t in_off = 0;
  if (c.in >= 0 && input.empty()) close_fd(c.in);
  for (int fd : {c.out, c.err})
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  bool exited = false;
  int status = 0;
  Clock::time_point exit_time{};
  for (;;) {
    if (!exited) {
      pid_t w = ::waitpid(c.pid, &status, WNOHANG);
      if (w == c.pid) {
        exited = true;
        exit_time = Clock::now();
      }
    }
    const auto now = Clock::now();
    if (exited && c.out < 0 && c.err < 0) break;
    // A grandchild (a daemonised ssh master …) may hold the pipes: do not wait for it.
    if (exited && now - exit_time > milliseconds(200)) break;
    if (!exited && ((stop && stop->load()) || now >= deadline)) {
      r.timed_out = !(stop && stop->load());
      status = kill_and_reap(c.pid, milliseconds(1000));
      exited = true;
      exit_time = Clock::now();
      // read what is left without blocking, then stop
      if (c.out >= 0) drain(c.out, &r.out, cap, deliver);
      if (c.err >= 0) drain(c.err, &r.err, cap, nullptr);
      break;
    }
    pollfd fds[4];
    int n = 0, i_out = -1, i_err = -1, i_in = -1, i_wake = -1;
    if (c.out >= 0) fds[i_out = n++] = {c.out, POLLIN, 0};
    if (c.err >= 0) fds[i_err = n++] = {c.err, POLLIN, 0};
    if (c.in >= 0) fds[i_in = n++] = {c.in, POLLOUT, 0};
    if (wake_fd >= 0) fds[i_wake = n++] = {wake_fd, POLLIN, 0};
    int wait_ms =
        static_cast<int>(std::chrono::duration_cast<milliseconds>(deadline - now).count());
    wait_ms = std::max(0, std::min(wait_ms, exited ? 20 : 50));
    int pr = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (pr < 0 && errno != EINTR) break;
    if (pr <= 0) continue;
    if (i_out >= 0 && fds[i_out].revents) {
      if (!drain(c.out, &r.out, cap, deliver)) close_fd(c.out);
    }
    if (i_err >= 0 && fds[i_err].revents) {
      if (!drain(c.err, &r.err, cap, nullptr)) close_fd(c.err);
    }
    if (i_in >= 0 && fds[i_in].revents) {
      if (fds[i_in].revents & (POLLERR | POLLHUP)) {
        close_fd(c.in);
      } else {
        ssize_t w = ::write(c.in, input.data() + in_off, input.size() - in_off);
        if (w > 0) in_off += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off >= input.size()) close_fd(c.in);
      }
    }
    if (i_wake >= 0 && fds[i_wake].revents) {
      char b[64];
      while (::read(wake_fd, b, sizeof b) > 0) {
      }
    }
  }
  if (!exited) {
    while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  set_status(r, status);
  close_fd(c.in);
  close_fd(c.out);
  close_fd(c.err);
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

}  // namespace

std::string signal_name(int sig) {
  switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGPIPE: return "SIGPIPE";
    case SIGTERM: return "SIGTERM";
    default: return "signal " + std::to_string(sig);
  }
}

std::string ProcessResult::describe() const {
  if (!started) return "not started: " + start_error;
  char buf[64];
  if (timed_out) {
    std::snprintf(buf, sizeof buf, "timed out after %.1f s", seconds);
    return buf;
  }
  if (signal)
    return "killed by signal " + std::to_string(signal) + " (" + signal_name(signal) + ")";
  return "exit code " + std::to_string(exit_code);
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string full = dir + "/" + name;
    struct stat st {};
    if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(full.c_str(), X_OK) == 0)
      return full;
    start = end + 1;
  }
  return {};
}

ProcessResult run_process(const ProcessSpec& spec) {
  const auto t0 = Clock::now();
  Child c = spawn(spec.argv, spec.stdin_fd, spec.stdout_fd);
  if (spec.stdin_fd >= 0) ::close(spec.stdin_fd);
  if (spec.stdout_fd >= 0) ::close(spec.stdout_fd);
  if (c.pid < 0) {
    ProcessResult r;
    r.start_error = c.error;
    return r;
  }
  return io_loop(c, spec.input, t0 + spec.timeout, spec.max_output, nullptr, nullptr, -1, t0);
}

ProcessStream::ProcessStream(std::vector<std::string> argv, std::string input, OnOutput on_output,
                             OnExit on_exit)
    : on_output_(std::move(on_output)), on_exit_(std::move(on_exit)) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  thread_ = std::thread(&ProcessStream::loop, this, std::move(argv), std::move(input));
}

ProcessStream::~ProcessStream() {
  terminate();
  close_fd(wake_[0]);
  close_fd(wake_[1]);
}

void ProcessStream::loop(std::vector<std::string> argv, std::string input) {
  const auto t0 = Clock::now();
  Child c = spawn(argv, -1, -1);
  ProcessResult r;
  if (c.pid < 0) {
    r.start_error = c.error;
  } else {
    r = io_loop(c, input, Clock::time_point::max(), std::size_t{1} << 20, &on_output_, &stop_,
                wake_[0], t0);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    result_ = r;
  }
  if (on_exit_) on_exit_(r);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
}

void ProcessStream::terminate() {
  stop_ = true;
  if (wake_[1] >= 0) (void)!::write(wake_[1], "x", 1);
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) return;  // from a callback
    thread_.join();
  }
}

bool ProcessStream::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return done_.load(); });
}

ProcessResult ProcessStream::result() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return result_;
}

}  // namespace r1::cluster
