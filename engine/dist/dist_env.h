#pragma once
// Where this process sits in a data-parallel job, read from the variables torchrun sets
// (MASTER_ADDR, MASTER_PORT, RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE). No LibTorch.
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace r1::dist {

class DistError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DistEnv {
  int rank = 0;
  int local_rank = 0;
  int world_size = 1;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;

  bool distributed() const { return world_size > 1; }
};

// nullopt when WORLD_SIZE is unset (a plain single-process run). Throws DistError naming the
// variable when one is malformed or inconsistent (RANK >= WORLD_SIZE, a missing MASTER_ADDR …).
std::optional<DistEnv> dist_env_from_environment();

// The same from a lookup function (tests).
std::optional<DistEnv> dist_env_from(const std::function<const char*(const char*)>& getenv_fn);

}  // namespace r1::dist
