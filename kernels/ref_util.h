#pragma once
// Host-side element access for the CPU references (kernels/*_ref.cpp).
#include "kernels/common.h"

#include <stdexcept>

namespace r1::kernels::ref {

inline double load(const void* base, DType t, int64_t i) {
  if (t == DType::f32) return static_cast<const float*>(base)[i];
  return bf16_to_float(static_cast<const uint16_t*>(base)[i]);
}

// Rounds v to t's precision (through float, as the kernels store).
inline double round_to(double v, DType t) {
  const float f = static_cast<float>(v);
  return t == DType::f32 ? f : bf16_to_float(float_to_bf16(f));
}

inline int64_t load_index(const void* base, IndexType t, int64_t i) {
  if (t == IndexType::i32) return static_cast<const int32_t*>(base)[i];
  return static_cast<const int64_t*>(base)[i];
}

inline void throw_if(const Status& s) {
  if (!s.ok()) throw std::invalid_argument(s.message);
}

inline std::string num(int64_t v) { return std::to_string(v); }

}  // namespace r1::kernels::ref
