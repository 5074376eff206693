#pragma once
// DeepSpeed-style hostfiles: one "host slots=N" per line, '#' comments, blank lines skipped.
#include "engine/cluster/profile.h"

#include <string>
#include <vector>

namespace r1::cluster {

enum class HostfileSlots {
  Gpus,  // DeepSpeed's meaning: slots are GPUs (node.gpus = N)
  Cpu,   // CPU ranks (node.gpus = 0, node.slots = N)
};

// Throws ProfileError("origin:line: why") for a malformed line or a host listed twice.
std::vector<Node> parse_hostfile(const std::string& text, const std::string& origin,
                                 HostfileSlots meaning = HostfileSlots::Gpus);
std::vector<Node> load_hostfile(const std::string& path,
                                HostfileSlots meaning = HostfileSlots::Gpus);

}  // namespace r1::cluster
