#include "engine/cluster/job_store.h"

#include "engine/cluster/cluster_error.h"
#include "engine/cluster/shell.h"
#include "engine/events/event.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

namespace r1::cluster {
namespace {

void mkdirs(const std::string& dir) {
  std::string cur;
  std::stringstream ss(dir);
  std::string part;
  if (!dir.empty() && dir[0] == '/') cur = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += part + "/";
    if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST)
      throw JobError(cur + ": cannot create the job state folder: " + std::strerror(errno));
  }
}

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 200 || id[0] == '.' || id[0] == '-') return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  return true;
}

}  // namespace

std::string default_state_dir() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x && x[0] == '/')
    return std::string(x) + "/r1-workbench/jobs";
  return expand_home("~/.local/state/r1-workbench/jobs");
}

JobStore::JobStore(std::string dir) : dir_(dir.empty() ? default_state_dir() : std::move(dir)) {}

std::string JobStore::path(const std::string& id) const {
  if (!valid_id(id)) throw JobError("'" + printable(id) + "' is not a job id");
  return dir_ + "/" + id + ".json";
}

bool JobStore::exists(const std::string& id) const {
  struct stat st {};
  return valid_id(id) && ::stat(path(id).c_str(), &st) == 0;
}

std::string JobStore::new_id(const std::string& profile_name) const {
  std::string base;
  for (char c : profile_name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    base += ok ? c : '_';
    if (base.size() >= 40) break;
  }
  if (base.empty() || base[0] == '-' || base[0] == '_') base = "job" + base;
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;
  for (;;) {
    char tail[8];
    std::snprintf(tail, sizeof tail, "%04x", static_cast<unsigned>(rd() & 0xffff));
    std::string id = base + "-" + stamp + "-" + tail;
    if (!exists(id)) return id;
  }
}

void JobStore::save(const JobRecord& record) const {
  JobRecord r = record;
  r.updated = events::now_seconds();
  const std::string p = path(r.id);
  mkdirs(dir_);  // on first use: probing nodes leaves no state folder behind
  const std::string tmp = p + ".tmp-" + std::to_string(::getpid()) + "-" +
                          std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  const std::string text = to_json(r);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw JobError(p + ": cannot write the job record: " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), p.c_str()) != 0) {
    const int e = ok ? errno : err;
    ::unlink(tmp.c_str());
    throw JobError(p + ": cannot write the job record: " + std::strerror(e));
  }
}

JobRecord JobStore::load(const std::string& id) const {
  const std::string p = path(id);
  std::ifstream in(p, std::ios::binary);
  if (!in) throw JobError("no job '" + id + "' in " + dir_);
  std::stringstream ss;
  ss << in.rdbuf();
  return job_from_json(ss.str(), p);
}

std::vector<std::string> JobStore::list() const {
  std::vector<std::pair<double, std::string>> found;
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".json") != 0) continue;
      std::string id = name.substr(0, name.size() - 5);
      if (!valid_id(id)) continue;
      try {
        found.emplace_back(load(id).created, id);
      } catch (const JobError&) {
        found.emplace_back(0.0, id);
      }
    }
    ::closedir(d);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> ids;
  for (auto& f : found) ids.push_back(f.second);
  return ids;
}

bool JobLock::try_lock(const JobStore& store, const std::string& id) {
  const std::string p = store.dir() + "/" + id + ".lock";
  store.path(id);  // validates the id
  mkdirs(store.dir());
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw JobError(p + ": cannot open the job lock: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[64] = {0};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    holder_ = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "another launcher";
    while (!holder_.empty() && holder_.back() == '\n') holder_.pop_back();
    ::close(fd);
    return false;
  }
  const std::string me = "pid " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, me.data(), me.size(), 0);
  fd_ = fd;
  return true;
}

JobLock::~JobLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace r1::cluster
