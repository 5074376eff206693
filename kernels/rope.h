#pragma once
// Rotary embedding of the decoupled RoPE part of MLA, forward and backward: the layout of
// engine/model/layers.cpp apply_rope, INTERLEAVED pairs (x[2i], x[2i+1]) of the last dimension,
// pair i of position t turned by the angle whose cos / sin are cos[t, i] / sin[t, i]:
//   out[2i]   = x[2i] * c - x[2i+1] * s
//   out[2i+1] = x[2i] * s + x[2i+1] * c
// The backward is the same rotation by -angle (s -> -s): dx = R^T dy. fp32 math; the tables are
// fp32 [seq, dim/2] as make_rope builds them (positions 0 .. seq-1).
// x is [batch, seq, heads, dim] with any element strides for the first three dimensions and the
// last one contiguous: q_pe = q.view(B, T, H, dn + dr).narrow(-1, dn, dr) and
// k_pe = kv.narrow(-1, kv_lora_rank, dr).unsqueeze(2) are taken as they are.
// With head_dim > dim, x and out are whole head rows [batch, seq, heads, head_dim] (pointers at
// the start of the row, same stride rules): the first head_dim - dim elements are copied, the
// last dim rotated as above, e.g. MLA's q = q.view(B, T, H, dn + dr) into a dense rotated q in one
// pass, where a copy and a rotation in place would read the rotated part twice and write it twice.
// out may equal x (each element is read and written by the same thread); other overlaps of out
// and x are not allowed.
#include "kernels/common.h"

#include <vector>

namespace r1::kernels {

struct RopeParams {
  DType dtype = DType::f32;  // of x and out
  int64_t batch = 0, seq = 0, heads = 0;
  int64_t dim = 0;  // the rotated part, even
  // 0: dim. > dim: rows of head_dim elements, the first head_dim - dim copied to out and the
  // last dim rotated (MLA's q, its decoupled RoPE part at the end of each head).
  int64_t head_dim = 0;
  const void* x = nullptr;
  int64_t x_stride_b = 0, x_stride_t = 0, x_stride_h = 0;  // elements
  void* out = nullptr;
  int64_t out_stride_b = 0, out_stride_t = 0, out_stride_h = 0;
  const float* cos = nullptr;  // [seq, dim/2] rows ld_table apart
  const float* sin = nullptr;
  int64_t ld_table = 0;  // 0: dim / 2
  bool backward = false;  // rotate by -angle (the gradient)
};

Status check(const RopeParams& p);

// Device pointers; runs on `stream`.
Status rope(const RopeParams& p, cudaStream_t stream);

// CPU reference in float64 (kernels/rope_ref.cpp): host pointers; result dense
// [batch, seq, heads, head_dim] (head_dim 0: dim), the copied part exact.
std::vector<double> rope_ref(const RopeParams& p);

}  // namespace r1::kernels
