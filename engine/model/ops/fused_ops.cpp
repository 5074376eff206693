#include "engine/model/ops/fused_ops.h"

#include <atomic>

#ifdef R1_WITH_KERNELS
#include "kernels/cross_entropy.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "kernels/swiglu.h"
#include "engine/model/ops/kernel_glue.h"
#endif

namespace r1::model::ops {
namespace {

namespace F = torch::nn::functional;
std::atomic<bool> g_enabled{true};

torch::Tensor rms_norm_aten(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  auto xf = x.scalar_type() == torch::kFloat64 ? x : x.to(torch::kFloat32);
  auto y = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps);
  return (y * weight.to(y.scalar_type())).to(x.scalar_type());
}

torch::Tensor cross_entropy_aten(const torch::Tensor& logits, const torch::Tensor& targets,
                                 double smoothing) {
  auto ct = logits.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  return F::cross_entropy(logits.to(ct), targets,
                          F::CrossEntropyFuncOptions().label_smoothing(smoothing));
}

torch::Tensor rope_aten(const torch::Tensor& x, const torch::Tensor& cos,
                        const torch::Tensor& sin) {
  const auto T = x.size(1);
  auto shape = x.sizes().vec();
  auto ct = x.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto xp = x.to(ct).reshape({x.size(0), T, x.size(2), -1, 2});
  auto x0 = xp.select(-1, 0), x1 = xp.select(-1, 1);
  auto c = cos.slice(0, 0, T).to(ct).view({1, T, 1, -1});
  auto s = sin.slice(0, 0, T).to(ct).view({1, T, 1, -1});
  auto out = torch::stack({x0 * c - x1 * s, x0 * s + x1 * c}, -1);
  return out.reshape(shape).to(x.scalar_type());
}

#ifdef R1_WITH_KERNELS
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

using glue::dtype_of;
using glue::kernel_dtype;
using glue::ok;
using glue::stream;

// One kernels/rmsnorm launch each way over [rows, dim] tensors, shared by the two autograd
// functions below. Forward: y = norm(x + r) (r undefined: norm(x)), y in bf16 when y_bf16 (x f32),
// and h = x + r when r is given. Backward: dx of the norm at h, plus dh along the residual stream
// when given; dy in bf16 when dy_bf16.
struct NormForward {
  torch::Tensor y, h, rstd;
};
NormForward rms_norm_launch(const torch::Tensor& x2, const torch::Tensor& r2,
                            const torch::Tensor& w, double eps, bool y_bf16) {
  NormForward o;
  o.y = y_bf16 ? torch::empty(x2.sizes(), x2.options().dtype(torch::kBFloat16))
               : torch::empty_like(x2);
  if (r2.defined()) o.h = torch::empty_like(x2);
  o.rstd = torch::empty({x2.size(0)}, x2.options().dtype(torch::kFloat32));
  kernels::RmsNormForwardParams p;
  p.dtype = dtype_of(x2);
  p.n_rows = x2.size(0);
  p.dim = x2.size(1);
  p.eps = static_cast<float>(eps);
  p.x = x2.data_ptr();
  p.residual = r2.defined() ? r2.data_ptr() : nullptr;
  p.weight = w.data_ptr<float>();
  p.y = o.y.data_ptr();
  p.h = r2.defined() ? o.h.data_ptr() : nullptr;
  p.rstd = o.rstd.data_ptr<float>();
  p.y_bf16 = y_bf16;
  ok(kernels::rmsnorm_forward(p, stream()));
  return o;
}
std::pair<torch::Tensor, torch::Tensor> rms_norm_backward_launch(
    const torch::Tensor& h, const torch::Tensor& w, const torch::Tensor& rstd,
    const torch::Tensor& dy, const torch::Tensor& dh, bool dy_bf16) {
  auto dx = torch::empty_like(h);
  auto dw = torch::empty({h.size(1)}, w.options());
  const size_t ws = kernels::rmsnorm_backward_workspace_bytes(h.size(0), h.size(1));
  auto workspace =
      torch::empty({static_cast<int64_t>(ws) + 16}, h.options().dtype(torch::kUInt8));
  kernels::RmsNormBackwardParams p;
  p.dtype = dtype_of(h);
  p.n_rows = h.size(0);
  p.dim = h.size(1);
  p.dy = dy.data_ptr();
  p.h = h.data_ptr();
  p.weight = w.data_ptr<float>();
  p.rstd = rstd.data_ptr<float>();
  p.dh_extra = dh.defined() ? dh.data_ptr() : nullptr;
  p.dx = dx.data_ptr();
  p.dweight = dw.data_ptr<float>();
  p.workspace = workspace.data_ptr();
  p.workspace_bytes = ws;
  p.dy_bf16 = dy_bf16;
  ok(kernels::rmsnorm_backward(p, stream()));
  return {dx, dw};
}

// y_bf16: fp32 x (the residual stream) normalized into bf16 in the same pass, and the backward
// reads the bf16 dy as it comes (autocast's norm without the cast passes either way).
struct FusedRmsNorm : torch::autograd::Function<FusedRmsNorm> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, double eps, bool y_bf16) {
    auto x2 = x.contiguous().view({-1, x.size(-1)});
    auto w = weight.contiguous();
    auto o = rms_norm_launch(x2, torch::Tensor(), w, eps, y_bf16);
    ctx->save_for_backward({x2, w, o.rstd});
    ctx->saved_data["shape"] = x.sizes().vec();
    ctx->saved_data["y_bf16"] = y_bf16;
    return o.y.view(x.sizes());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& x2 = saved[0];
    const bool low = ctx->saved_data["y_bf16"].toBool();
    auto dy = grads[0].to(low ? torch::kBFloat16 : x2.scalar_type()).contiguous().view(x2.sizes());
    auto [dx, dw] = rms_norm_backward_launch(x2, saved[1], saved[2], dy, torch::Tensor(), low);
    auto shape = ctx->saved_data["shape"].toIntVector();
    return {dx.view(shape), dw, torch::Tensor(), torch::Tensor()};
  }
};

// h = x + r (the residual stream, x's dtype) and y = norm(h) in one pass; r and y in bf16 beside
// an fp32 stream under autocast. The backward adds the gradient reaching h along the stream
// (dh) into dx in the same pass, where autograd would add the two in a separate kernel.
struct FusedAddRmsNorm : torch::autograd::Function<FusedAddRmsNorm> {
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& r, const torch::Tensor& weight, double eps,
                               bool y_bf16) {
    const int64_t dim = x.size(-1);
    auto x2 = x.contiguous().view({-1, dim});
    auto w = weight.contiguous();
    auto o = rms_norm_launch(x2, r.contiguous().view({-1, dim}), w, eps, y_bf16);
    ctx->save_for_backward({o.h, w, o.rstd});
    ctx->saved_data["shape"] = x.sizes().vec();
    ctx->saved_data["y_bf16"] = y_bf16;
    return {o.h.view(x.sizes()), o.y.view(x.sizes())};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& h = saved[0];
    const bool low = ctx->saved_data["y_bf16"].toBool();
    const auto ylow = low ? torch::kBFloat16 : h.scalar_type();
    auto dy = grads[1].defined() ? grads[1].to(ylow).contiguous().view(h.sizes())
                                 : torch::zeros(h.sizes(), h.options().dtype(ylow));
    torch::Tensor dh;
    if (grads[0].defined()) dh = grads[0].to(h.scalar_type()).contiguous().view(h.sizes());
    auto [dx, dw] = rms_norm_backward_launch(h, saved[1], saved[2], dy, dh, low);
    auto shape = ctx->saved_data["shape"].toIntVector();
    return {dx.view(shape), dx.to(ylow).view(shape), dw, torch::Tensor(), torch::Tensor()};
  }
};

// Forward: loss and log-sum-exp per row (one read of the logits). Backward: the same kernel
// writes dlogits, scaled on the device by grad_out / N (no host sync): one more read of the
// logits and one write. The [N, V] probabilities never exist. When nothing but this node holds
// the logits (the model's case: the head's output goes straight in), the backward writes the
// gradient over them: no second [N, V] buffer at the start of the backward, where the peak is.
struct FusedCrossEntropy : torch::autograd::Function<FusedCrossEntropy> {
  static kernels::CrossEntropyParams params(const torch::Tensor& l, const torch::Tensor& t,
                                            double smoothing) {
    kernels::CrossEntropyParams p;
    p.logits = l.data_ptr();
    p.dtype = dtype_of(l);
    p.n_rows = l.size(0);
    p.vocab = l.size(1);
    p.targets = t.data_ptr();
    p.target_type = t.scalar_type() == torch::kInt32 ? kernels::IndexType::i32
                                                     : kernels::IndexType::i64;
    p.smoothing = static_cast<float>(smoothing);
    return p;
  }
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& targets, double smoothing) {
    auto l = logits.contiguous();
    auto t = targets.contiguous();
    auto loss = torch::empty({l.size(0)}, l.options().dtype(torch::kFloat32));
    auto p = params(l, t, smoothing);
    p.loss = loss.data_ptr<float>();
    ok(kernels::cross_entropy(p, stream()));
    ctx->save_for_backward({l, t});
    ctx->saved_data["smoothing"] = smoothing;
    return loss.mean();
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& l = saved[0];
    const auto& t = saved[1];
    auto g = grads[0].to(torch::kFloat32).contiguous();
    // Held here and by the saved variable only, and no view shares the storage: overwrite.
    const bool in_place = l.use_count() <= 2 && l.storage().use_count() == 1;
    auto dl = in_place ? l : torch::empty_like(l);
    auto p = params(l, t, ctx->saved_data["smoothing"].toDouble());
    p.dlogits = dl.data_ptr();
    p.grad_scale = 1.0f / static_cast<float>(l.size(0));
    p.grad_scale_dev = g.data_ptr<float>();
    ok(kernels::cross_entropy(p, stream()));
    // A second backward through this node (retain_graph) would read the gradient as logits:
    // the version bump makes autograd refuse it instead.
    if (in_place) l.unsafeGetTensorImpl()->bump_version();
    return {dl, torch::Tensor(), torch::Tensor()};
  }
};

// kernels/swiglu on [rows, inter] tensors, shared by the two autograd functions below: the gate
// h = silu(a) b, and its backward from dh into da and db (da may be dh itself: in place).
torch::Tensor swiglu_launch(const torch::Tensor& a2, const torch::Tensor& b2) {
  auto h = torch::empty_like(a2);
  kernels::SwigluParams p;
  p.dtype = dtype_of(a2);
  p.n_rows = a2.size(0);
  p.dim = a2.size(1);
  p.a = a2.data_ptr();
  p.b = b2.data_ptr();
  p.h = h.data_ptr();
  ok(kernels::swiglu_forward(p, stream()));
  return h;
}
void swiglu_backward_launch(const torch::Tensor& dh, const torch::Tensor& a2,
                            const torch::Tensor& b2, const torch::Tensor& da,
                            const torch::Tensor& db) {
  kernels::SwigluBackwardParams p;
  p.dtype = dtype_of(a2);
  p.n_rows = a2.size(0);
  p.dim = a2.size(1);
  p.dh = dh.data_ptr();
  p.a = a2.data_ptr();
  p.b = b2.data_ptr();
  p.da = da.data_ptr();
  p.db = db.data_ptr();
  ok(kernels::swiglu_backward(p, stream()));
}

// h = silu(a) b in one pass; the backward recomputes σ(a) from the saved a and b.
struct FusedSwiglu : torch::autograd::Function<FusedSwiglu> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& a,
                               const torch::Tensor& b) {
    const int64_t D = a.size(-1);
    auto a2 = a.contiguous().view({-1, D});
    auto b2 = b.contiguous().view({-1, D});
    auto h = swiglu_launch(a2, b2);
    ctx->save_for_backward({a2, b2});
    ctx->saved_data["shape"] = a.sizes().vec();
    return h.view(a.sizes());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& a2 = saved[0];
    const auto& b2 = saved[1];
    auto dh = grads[0].to(a2.scalar_type()).contiguous().view(a2.sizes());
    auto da = torch::empty_like(a2), db = torch::empty_like(b2);
    swiglu_backward_launch(dh, a2, b2, da, db);
    auto shape = ctx->saved_data["shape"].toIntVector();
    return {da.view(shape), db.view(shape)};
  }
};

// w2's GEMM over SwiGLU's gate, out = (silu(a) b) wᵀ, keeping a, b and w for the backward: h is
// made again there (one pass over a and b) for w's gradient instead of being kept from the
// forward. Linear would keep h: [N, inter] per FFN, the largest tensor a dense layer saves.
struct FusedSwigluDown : torch::autograd::Function<FusedSwigluDown> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& a,
                               const torch::Tensor& b, const torch::Tensor& w) {
    const int64_t D = a.size(-1);
    auto a2 = a.contiguous().view({-1, D});
    auto b2 = b.contiguous().view({-1, D});
    auto out = at::mm(swiglu_launch(a2, b2), w.t());
    ctx->save_for_backward({a2, b2, w});
    auto shape = a.sizes().vec();
    shape.back() = w.size(0);
    return out.view(shape);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& a2 = saved[0];
    const auto& b2 = saved[1];
    const auto& w = saved[2];
    auto dout = grads[0].to(a2.scalar_type()).contiguous().view({-1, w.size(0)});
    auto dw = at::mm(dout.t(), swiglu_launch(a2, b2));
    auto dh = at::mm(dout, w);
    auto db = torch::empty_like(b2);
    swiglu_backward_launch(dh, a2, b2, /*da=*/dh, db);  // da in place over dh
    auto shape = grads[0].sizes().vec();
    shape.back() = a2.size(1);
    return {dh.view(shape), db.view(shape), dw};
  }
};

// One pass each way; the backward is the rotation by the opposite angle. The [B, T, H, d] views
// of MLA (q_pe inside q, k_pe inside kv) are read in place: no contiguous copy.
struct FusedRope : torch::autograd::Function<FusedRope> {
  static kernels::RopeParams params(const torch::Tensor& x, const torch::Tensor& out,
                                    const torch::Tensor& cos, const torch::Tensor& sin) {
    kernels::RopeParams p;
    p.dtype = dtype_of(x);
    p.batch = x.size(0);
    p.seq = x.size(1);
    p.heads = x.size(2);
    p.dim = x.size(3);
    p.x = x.data_ptr();
    p.x_stride_b = x.stride(0);
    p.x_stride_t = x.stride(1);
    p.x_stride_h = x.stride(2);
    p.out = out.data_ptr();
    p.out_stride_b = out.stride(0);
    p.out_stride_t = out.stride(1);
    p.out_stride_h = out.stride(2);
    p.cos = cos.data_ptr<float>();
    p.sin = sin.data_ptr<float>();
    p.ld_table = cos.stride(0);
    return p;
  }
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& cos, const torch::Tensor& sin) {
    auto out = torch::empty(x.sizes(), x.options());
    ok(kernels::rope(params(x, out, cos, sin), stream()));
    ctx->save_for_backward({cos, sin});
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto dy = grads[0];
    if (dy.stride(-1) != 1) dy = dy.contiguous();
    auto dx = torch::empty(dy.sizes(), dy.options());
    auto p = params(dy, dx, saved[0], saved[1]);
    p.backward = true;
    ok(kernels::rope(p, stream()));
    return {dx, torch::Tensor(), torch::Tensor()};
  }
};

// x [B, T, H, d] as a dense copy whose last `rot` elements per head are rotated: MLA's q with
// its decoupled RoPE part, ready for attention. One kernel pass each way over whole head rows
// (head_dim = d: the first d - rot elements copied, the last rot rotated), where a copy and then
// the rotation in place read and wrote the RoPE part twice, and split + rope + cat cost a strided
// cat forward and another in the backward.
struct FusedRopeTail : torch::autograd::Function<FusedRopeTail> {
  static kernels::RopeParams params(const torch::Tensor& x, const torch::Tensor& out,
                                    const torch::Tensor& cos, const torch::Tensor& sin,
                                    int64_t rot) {
    auto p = FusedRope::params(x, out, cos, sin);
    p.dim = rot;
    p.head_dim = x.size(3);
    return p;
  }
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& cos, const torch::Tensor& sin, int64_t rot) {
    const auto xc = x.stride(-1) == 1 ? x : x.contiguous();  // any b / t / h strides are read
    auto out = torch::empty(x.sizes(), x.options());
    ok(kernels::rope(params(xc, out, cos, sin, rot), stream()));
    ctx->save_for_backward({cos, sin});
    ctx->saved_data["rot"] = rot;
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto dy = grads[0];
    if (dy.stride(-1) != 1) dy = dy.contiguous();
    auto dx = torch::empty(dy.sizes(), dy.options());
    auto p = params(dy, dx, saved[0], saved[1], ctx->saved_data["rot"].toInt());
    p.backward = true;
    ok(kernels::rope(p, stream()));
    return {dx, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};
#endif

}  // namespace

torch::Tensor rope_tail(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        int64_t rot) {
  TORCH_CHECK(x.dim() == 4 && rot > 0 && rot <= x.size(-1), "rope_tail: x [B, T, H, d], rot <= d");
  const int64_t keep = x.size(-1) - rot;
#ifdef R1_WITH_KERNELS
  if (g_enabled && x.is_cuda() && kernel_dtype(x) && x.numel() > 0 &&
      cos.scalar_type() == torch::kFloat32 && cos.is_cuda() &&
      sin.scalar_type() == torch::kFloat32 && cos.dim() == 2 && cos.stride(1) == 1 &&
      cos.strides() == sin.strides() && cos.size(0) >= x.size(1) && cos.size(1) * 2 == rot) {
    // The kernel's own limits on the call forward() makes (out has x's shape).
    const kernels::RopeParams probe = FusedRopeTail::params(x, x, cos, sin, rot);
    if (kernels::check(probe).ok()) return FusedRopeTail::apply(x, cos, sin, rot);
  }
#endif
  if (keep == 0) return rope_aten(x, cos, sin);
  return torch::cat({x.narrow(-1, 0, keep), rope_aten(x.narrow(-1, keep, rot), cos, sin)}, -1);
}

torch::Tensor swiglu(const torch::Tensor& a, const torch::Tensor& b) {
#ifdef R1_WITH_KERNELS
  if (g_enabled && a.is_cuda() && kernel_dtype(a) && a.scalar_type() == b.scalar_type() &&
      a.sizes() == b.sizes() && a.dim() >= 1 && a.numel() > 0 &&
      a.size(-1) < (int64_t(1) << 31))
    return FusedSwiglu::apply(a, b);
#endif
  return torch::silu(a) * b;
}

torch::Tensor swiglu_down(const torch::Tensor& a, const torch::Tensor& b,
                          const torch::Tensor& w) {
#ifdef R1_WITH_KERNELS
  if (g_enabled && a.is_cuda() && kernel_dtype(a) && a.scalar_type() == b.scalar_type() &&
      a.sizes() == b.sizes() && a.dim() >= 1 && a.numel() > 0 && w.dim() == 2 &&
      w.size(1) == a.size(-1) && w.is_cuda() &&
      (w.scalar_type() == a.scalar_type() || w.scalar_type() == torch::kFloat32)) {
    // Under autocast a and b arrive in bf16 and the fp32 weight is cast here, as linear would.
    return FusedSwigluDown::apply(a, b, w.to(a.scalar_type()));
  }
#endif
  return torch::nn::functional::linear(swiglu(a, b), w);
}

torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
#ifdef R1_WITH_KERNELS
  if (g_enabled && x.is_cuda() && kernel_dtype(x) && x.dim() == 4 && x.stride(-1) == 1 &&
      x.numel() > 0 && cos.scalar_type() == torch::kFloat32 && cos.is_cuda() &&
      sin.scalar_type() == torch::kFloat32 && cos.dim() == 2 && cos.stride(1) == 1 &&
      cos.strides() == sin.strides() && cos.size(0) >= x.size(1) &&
      cos.size(1) * 2 == x.size(3)) {
    kernels::RopeParams probe = FusedRope::params(x, x, cos, sin);  // the kernel's own limits
    if (kernels::check(probe).ok()) return FusedRope::apply(x, cos, sin);
  }
#endif
  return rope_aten(x, cos, sin);
}

bool kernels_built() {
#ifdef R1_WITH_KERNELS
  return true;
#else
  return false;
#endif
}

void set_kernels_enabled(bool on) { g_enabled = on; }
bool kernels_enabled() { return g_enabled.load(); }

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps,
                       std::optional<torch::ScalarType> out_dtype) {
  const auto out = out_dtype.value_or(x.scalar_type());
#ifdef R1_WITH_KERNELS
  const bool y_bf16 = x.scalar_type() == torch::kFloat32 && out == torch::kBFloat16;
  if (g_enabled && x.is_cuda() && kernel_dtype(x) && weight.scalar_type() == torch::kFloat32 &&
      x.size(-1) == weight.numel() && x.numel() > 0 && (out == x.scalar_type() || y_bf16)) {
    const int64_t dim = x.size(-1);
    kernels::RmsNormForwardParams probe;  // the kernel's own limits on sizes and alignment
    probe.dtype = dtype_of(x);
    probe.n_rows = x.numel() / dim;
    probe.dim = dim;
    probe.x = reinterpret_cast<void*>(16);
    probe.y = reinterpret_cast<void*>(32);
    probe.weight = reinterpret_cast<const float*>(16);
    probe.y_bf16 = y_bf16;
    if (kernels::check(probe).ok()) return FusedRmsNorm::apply(x, weight, eps, y_bf16);
  }
#endif
  auto y = rms_norm_aten(x, weight, eps);
  return out == y.scalar_type() ? y : y.to(out);
}

std::pair<torch::Tensor, torch::Tensor> add_rms_norm(const torch::Tensor& x,
                                                     const torch::Tensor& r,
                                                     const torch::Tensor& weight, double eps,
                                                     std::optional<torch::ScalarType> out_dtype) {
#ifdef R1_WITH_KERNELS
  const auto out = out_dtype.value_or(x.scalar_type());
  const bool y_bf16 = x.scalar_type() == torch::kFloat32 && out == torch::kBFloat16;
  if (g_enabled && x.is_cuda() && kernel_dtype(x) && weight.scalar_type() == torch::kFloat32 &&
      x.size(-1) == weight.numel() && x.numel() > 0 && x.sizes() == r.sizes() && r.is_cuda() &&
      (out == x.scalar_type() || y_bf16) && r.scalar_type() == out) {
    const int64_t dim = x.size(-1);
    kernels::RmsNormForwardParams probe;  // the kernel's own limits on sizes and alignment
    probe.dtype = dtype_of(x);
    probe.n_rows = x.numel() / dim;
    probe.dim = dim;
    probe.x = reinterpret_cast<void*>(16);
    probe.residual = reinterpret_cast<void*>(48);
    probe.y = reinterpret_cast<void*>(32);
    probe.h = reinterpret_cast<void*>(64);
    probe.weight = reinterpret_cast<const float*>(16);
    probe.y_bf16 = y_bf16;
    if (kernels::check(probe).ok()) {
      auto hy = FusedAddRmsNorm::apply(x, r, weight, eps, y_bf16);
      return {hy[0], hy[1]};
    }
  }
#endif
  auto h = x + r;
  return {h, rms_norm(h, weight, eps, out_dtype)};
}

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                            double smoothing) {
#ifdef R1_WITH_KERNELS
  if (g_enabled && logits.is_cuda() && kernel_dtype(logits) && logits.dim() == 2 &&
      logits.size(0) > 0 && logits.size(1) < (int64_t(1) << 31))
    return FusedCrossEntropy::apply(logits, targets, smoothing);
#endif
  return cross_entropy_aten(logits, targets, smoothing);
}

}  // namespace r1::model::ops
