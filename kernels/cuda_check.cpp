#include "kernels/cuda_check.h"

#include <cstring>

namespace r1::kernels::detail {

Status cuda_status(cudaError_t e, const char* where, const char* expr, const char* file, int line) {
  const char* rel = std::strstr(file, "kernels/");  // the build passes absolute paths
  std::string m = std::string("r1k::") + where + ": " + cudaGetErrorName(e) + " (" +
                  cudaGetErrorString(e) + ") from " + expr + " at " + (rel ? rel : file) + ":" +
                  std::to_string(line);
  return Status{static_cast<int>(e), m};
}

}  // namespace r1::kernels::detail
