#pragma once
// CUDA return codes → Status. For the launchers in kernels/*.cu (needs the CUDA runtime headers);
// no CUDA call in kernels/ goes unchecked.
#include "kernels/common.h"

#include <cuda_runtime_api.h>

namespace r1::kernels::detail {

// "r1k::<where>: cudaErrorX (text) from <expr> at <file>:<line>"
Status cuda_status(cudaError_t e, const char* where, const char* expr, const char* file, int line);

}  // namespace r1::kernels::detail

#define R1K_CUDA_TRY(where, expr)                                                               \
  do {                                                                                          \
    const cudaError_t r1k_err_ = (expr);                                                        \
    if (r1k_err_ != cudaSuccess)                                                                \
      return ::r1::kernels::detail::cuda_status(r1k_err_, where, #expr, __FILE__, __LINE__);    \
  } while (0)

// After a <<<...>>> launch: configuration errors surface here, not at the launch statement.
#define R1K_LAUNCH_CHECK(where) R1K_CUDA_TRY(where, cudaGetLastError())

// Argument checks: msg (a std::string expression) is only built when cond fails.
#define R1K_REQUIRE(where, cond, msg)                                                           \
  do {                                                                                          \
    if (!(cond)) return ::r1::kernels::invalid_argument(where, msg);                            \
  } while (0)
