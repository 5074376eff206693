#pragma once
// Where job records live: one JSON file per job under a state folder (default
// $XDG_STATE_HOME/r1-workbench/jobs, else ~/.local/state/r1-workbench/jobs), written atomically.
// A job followed by a launcher is locked (flock on <id>.lock) so that two followers never
// write its offsets at once.
#include "engine/cluster/job_record.h"

#include <string>
#include <vector>

namespace r1::cluster {

std::string default_state_dir();

class JobStore {
 public:
  explicit JobStore(std::string dir = {});  // empty: default_state_dir(); created on first save

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& id) const;
  // "<profile>-<yyyymmdd-hhmmss>-<4 hex>", free in this store.
  std::string new_id(const std::string& profile_name) const;
  void save(const JobRecord& record) const;     // atomic; sets record.updated on disk
  JobRecord load(const std::string& id) const;  // JobError when absent or unreadable
  bool exists(const std::string& id) const;
  std::vector<std::string> list() const;  // ids, oldest first

 private:
  std::string dir_;
};

// Exclusive right to follow a job (released on destruction; held per open file, so two
// followers in one process exclude each other too).
class JobLock {
 public:
  // false (and holder() says who) when another follower holds it.
  bool try_lock(const JobStore& store, const std::string& id);
  ~JobLock();
  JobLock() = default;
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;
  bool held() const { return fd_ >= 0; }
  const std::string& holder() const { return holder_; }

 private:
  int fd_ = -1;
  std::string holder_;
};

}  // namespace r1::cluster
