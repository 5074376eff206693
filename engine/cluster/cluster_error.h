#pragma once
// Errors of the cluster launcher. Every message names what it is about: the file and line, the
// node, the rank or the job.
#include <stdexcept>
#include <string>

namespace r1::cluster {

class ClusterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A profile, hostfile or ssh config that cannot be read ("file:line: key '...': why").
class ProfileError : public ClusterError {
 public:
  using ClusterError::ClusterError;
};

// A job record that cannot be read or written, or a job id that does not exist.
class JobError : public ClusterError {
 public:
  using ClusterError::ClusterError;
};

}  // namespace r1::cluster
