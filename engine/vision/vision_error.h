#pragma once

#include <stdexcept>
#include <string>

namespace r1::vision {

// Every message names the file (and line, column or key where relevant) and the reason, e.g.
// "annotations /d/annotations.csv line 12, column 4 (coordZ): 'abc' is not a number".
struct VisionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace r1::vision
