// kernel_bench: achieved memory bandwidth of every kernels/ kernel against the device-to-device
// cudaMemcpy bandwidth measured in the same run (the ceiling; issue 6 asks >= 80% of it), on
// R1-mini shapes (batch 32 x seq 1024 tokens, vocab 32768, dim 768, rope 16 of 64 per head).
//
//   kernel_bench [--tokens 32768] [--vocab 32768] [--dim 768] [--iters 50] [--warmup 5]
//                [--only SUBSTRING]
//
// Bytes = what the kernel must read + write at least (each input once, each output once);
// time = median of --iters launches after --warmup, CUDA events around each launch. Before
// timing, each case checks its last rows (where 64-bit offsets matter) against the CPU
// reference. Prints a Markdown table, last, with the command line.
#include "kernels/adamw.h"
#include "kernels/cross_entropy.h"
#include "kernels/moe_permute.h"
#include "kernels/moe_routing.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "kernels/swiglu.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rk = r1::kernels;
using rk::DType;

namespace {

void cuda_ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorName(e) + " (" +
                             cudaGetErrorString(e) + ")");
}
void status_ok(const rk::Status& s) {
  if (!s.ok()) throw std::runtime_error(s.message);
}

struct Options {
  int64_t tokens = 32768;
  int64_t vocab = 32768;
  int64_t dim = 768;
  int iters = 50;
  int warmup = 5;
  int64_t copy_mib = 1024;
  std::string only;
};

class Buffer {
 public:
  explicit Buffer(size_t bytes) : bytes_(bytes) {
    cuda_ok(cudaMalloc(&p_, std::max<size_t>(bytes, 16)), "cudaMalloc");
  }
  ~Buffer() { cudaFree(p_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  template <typename T = void>
  T* get() const { return static_cast<T*>(p_); }
  char* at(size_t off) const { return static_cast<char*>(p_) + off; }
  size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  size_t bytes_;
};

// Roughly normal values from a xorshift generator (sum of 4 uniforms), fast enough for GBs.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  double normal() { return (uniform() + uniform() + uniform() + uniform() - 2.0) * 1.7320508; }
};

// Fills n elements at dev: a random block of up to 4M elements uploaded once, then copied on the
// device to the rest. Returns the host copy of the block (element k of the buffer is
// block[k % block.size()]).
std::vector<float> fill(void* dev, size_t n, DType t, uint64_t seed, double sd, double mean) {
  const size_t nb = std::min<size_t>(n, size_t(1) << 22);
  std::vector<float> block(nb);
  Rng r(seed);
  for (auto& x : block) x = static_cast<float>(mean + sd * r.normal());
  const int es = rk::size_of(t);
  std::vector<uint16_t> b16;
  const void* src = block.data();
  if (t == DType::bf16) {
    b16.resize(nb);
    for (size_t i = 0; i < nb; ++i) {
      b16[i] = rk::float_to_bf16(block[i]);
      block[i] = rk::bf16_to_float(b16[i]);
    }
    src = b16.data();
  }
  char* d = static_cast<char*>(dev);
  cuda_ok(cudaMemcpy(d, src, nb * es, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
  for (size_t done = nb; done < n; done += nb)
    cuda_ok(cudaMemcpy(d + done * es, d, std::min(nb, n - done) * es, cudaMemcpyDeviceToDevice),
            "cudaMemcpy D2D (fill)");
  return block;
}

std::vector<unsigned char> download(const void* dev, size_t bytes) {
  std::vector<unsigned char> h(bytes);
  cuda_ok(cudaMemcpy(h.data(), dev, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
  return h;
}

double rel_err(const std::vector<double>& out, const std::vector<double>& ref) {
  double d = 0, r = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) return INFINITY;
    d += (out[i] - ref[i]) * (out[i] - ref[i]);
    r += ref[i] * ref[i];
  }
  return std::sqrt(d) / std::max(std::sqrt(r), 1e-30);
}

std::vector<double> to_doubles(const std::vector<unsigned char>& raw, DType t, size_t n,
                               size_t first = 0, size_t ld = 0, size_t rows = 1) {
  if (!ld) ld = n;
  std::vector<double> out;
  out.reserve(n * rows);
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < n; ++j) {
      const size_t k = first + r * ld + j;
      if (t == DType::f32) {
        float f;
        std::memcpy(&f, &raw[k * 4], 4);
        out.push_back(f);
      } else {
        uint16_t b;
        std::memcpy(&b, &raw[k * 2], 2);
        out.push_back(rk::bf16_to_float(b));
      }
    }
  return out;
}

struct Row {
  std::string kernel, shape, dtype;
  double bytes = 0, ms = 0, check = 0;
};

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)) {
    cuda_ok(cudaEventCreate(&start_), "cudaEventCreate");
    cuda_ok(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  ~Bench() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  bool wanted(const std::string& name) const {
    return o_.only.empty() || name.find(o_.only) != std::string::npos;
  }

  // Median milliseconds of one launch.
  double time(const std::function<rk::Status()>& launch) {
    for (int i = 0; i < o_.warmup; ++i) status_ok(launch());
    cuda_ok(cudaDeviceSynchronize(), "warm-up");
    std::vector<float> ms(o_.iters);
    for (int i = 0; i < o_.iters; ++i) {
      cuda_ok(cudaEventRecord(start_), "cudaEventRecord");
      status_ok(launch());
      cuda_ok(cudaEventRecord(stop_), "cudaEventRecord");
      cuda_ok(cudaEventSynchronize(stop_), "kernel execution");
      cuda_ok(cudaEventElapsedTime(&ms[i], start_, stop_), "cudaEventElapsedTime");
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }

  void add(Row r) {
    std::fprintf(stderr, "  %-34s %-28s %6.3f ms  %7.1f GB/s  check %.2e\n", r.kernel.c_str(),
                 r.shape.c_str(), r.ms, r.bytes / r.ms * 1e-6, r.check);
    rows_.push_back(std::move(r));
  }
  const std::vector<Row>& rows() const { return rows_; }
  const Options& opt() const { return o_; }

 private:
  Options o_;
  cudaEvent_t start_, stop_;
  std::vector<Row> rows_;
};

// The ceiling: cudaMemcpyAsync device to device, --copy-mib (1 GiB) each way.
double copy_gbps(Bench& b) {
  const size_t bytes = size_t(b.opt().copy_mib) << 20;
  Buffer src(bytes), dst(bytes);
  cuda_ok(cudaMemset(src.get(), 1, bytes), "cudaMemset");
  const double ms = b.time([&] {
    cuda_ok(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice), "copy");
    return rk::Status{};
  });
  return 2.0 * bytes / ms * 1e-6;
}

void bench_cross_entropy(Bench& b, DType dt, int mode /*0 fwd, 1 bwd separate, 2 in place*/) {
  const char* mname[] = {"forward only", "fwd+bwd, separate dlogits", "fwd+bwd, in place"};
  const std::string name = std::string("cross_entropy ") + mname[mode];
  if (!b.wanted(name)) return;
  const int64_t N = b.opt().tokens, V = b.opt().vocab;
  const int es = rk::size_of(dt);
  Buffer x(N * V * es), tg(N * 8), loss(N * 4), lse(N * 4);
  Buffer g(mode == 1 ? N * V * es : 16);
  const std::vector<float> xb = fill(x.get(), N * V, dt, 1, 3.0, 0.5);
  std::vector<int64_t> t(N);
  Rng r(2);
  for (auto& v : t) v = static_cast<int64_t>(r.next() % V);
  cuda_ok(cudaMemcpy(tg.get(), t.data(), N * 8, cudaMemcpyHostToDevice), "targets");
  rk::CrossEntropyParams p;
  p.dtype = dt;
  p.n_rows = N;
  p.vocab = V;
  p.logits = x.get();
  p.targets = tg.get();
  p.smoothing = 0.1f;
  p.loss = loss.get<float>();
  p.lse = lse.get<float>();
  p.dlogits = mode == 0 ? nullptr : mode == 1 ? g.get() : x.get();
  p.grad_scale = 1.f / N;

  // Check the last 3 rows of the first launch.
  const int64_t K = std::min<int64_t>(3, N), first = N - K;
  status_ok(rk::cross_entropy(p, nullptr));
  cuda_ok(cudaDeviceSynchronize(), "cross_entropy");
  std::vector<float> hx(K * V);
  std::vector<uint16_t> hb(K * V);
  const size_t nb = xb.size();
  for (int64_t k = 0; k < K * V; ++k) {
    hx[k] = xb[(first * V + k) % nb];
    hb[k] = rk::float_to_bf16(hx[k]);
  }
  rk::CrossEntropyParams q = p;
  q.n_rows = K;
  q.logits = dt == DType::f32 ? static_cast<const void*>(hx.data()) : hb.data();
  q.targets = t.data() + first;
  q.dlogits = mode ? hx.data() : nullptr;  // only "is set" matters to the reference
  const auto ref = rk::cross_entropy_ref(q);
  const auto lraw = download(loss.at(first * 4), K * 4);
  double check = rel_err(to_doubles(lraw, DType::f32, K), ref.loss);
  if (mode) {
    const void* gp = mode == 1 ? g.at(first * V * es) : x.at(first * V * es);
    check = std::max(check, rel_err(to_doubles(download(gp, K * V * es), dt, K * V), ref.dlogits));
  }
  // In place, later launches run on gradients instead of logits: the same work.
  const double ms = b.time([&] { return rk::cross_entropy(p, nullptr); });
  const double bytes = double(N) * V * es * (mode ? 2 : 1) + N * (8 + 4 + 4);
  b.add({name, std::to_string(N) + " x " + std::to_string(V), rk::name(dt), bytes, ms, check});
}

// low: the engine's autocast case (dt f32): x, h, dx in f32 with y, residual, dy in bf16.
void bench_rmsnorm(Bench& b, DType dt, bool residual, bool backward, bool low = false) {
  const std::string name = std::string("rmsnorm ") + (backward ? "backward" : "forward") +
                           (residual ? (backward ? " + dh_extra" : " + residual add") : "") +
                           (low ? (backward ? ", bf16 dy" : ", bf16 residual and y") : "");
  if (!b.wanted(name)) return;
  const int64_t N = 4 * b.opt().tokens, D = b.opt().dim;  // 4 layers' worth: well above L2
  const DType lt = low ? DType::bf16 : dt;  // y, residual (forward) and dy (backward)
  const int es = rk::size_of(dt), ls = rk::size_of(lt);
  const size_t nbytes = N * D * es, lbytes = N * D * ls;
  // x: x (forward) or dy (backward); r: residual (forward) or h (backward); h: h or dx.
  Buffer x(nbytes), r(nbytes), y(nbytes), h(nbytes), w(D * 4), rstd(N * 4), dw(D * 4);
  const std::vector<float> xb = fill(x.get(), N * D, backward ? lt : dt, 3, 1.0, 0.1);
  const std::vector<float> rb = fill(r.get(), N * D, backward ? dt : lt, 4, 1.0, 0.0);
  const std::vector<float> wb = fill(w.get(), D, DType::f32, 5, 0.2, 1.0);
  const size_t nb = xb.size();
  const int64_t K = 4, first = N - K;
  auto host_rows = [&](const std::vector<float>& blk, DType t, std::vector<float>& f,
                       std::vector<uint16_t>& bf) -> const void* {
    f.resize(K * D);
    bf.resize(K * D);
    for (int64_t k = 0; k < K * D; ++k) {
      f[k] = blk[(first * D + k) % nb];
      bf[k] = rk::float_to_bf16(f[k]);
    }
    return t == DType::f32 ? static_cast<const void*>(f.data()) : bf.data();
  };
  std::vector<float> f1, f2;
  std::vector<uint16_t> b1, b2;
  double check = 0, bytes = 0, ms = 0;
  if (!backward) {
    rk::RmsNormForwardParams p;
    p.dtype = dt;
    p.y_bf16 = low;
    p.n_rows = N;
    p.dim = D;
    p.x = x.get();
    p.residual = residual ? r.get() : nullptr;
    p.weight = w.get<float>();
    p.y = y.get();
    p.h = residual ? h.get() : nullptr;
    p.rstd = rstd.get<float>();
    status_ok(rk::rmsnorm_forward(p, nullptr));
    cuda_ok(cudaDeviceSynchronize(), "rmsnorm_forward");
    rk::RmsNormForwardParams q = p;
    q.n_rows = K;
    q.x = host_rows(xb, dt, f1, b1);
    q.residual = residual ? host_rows(rb, lt, f2, b2) : nullptr;
    q.weight = wb.data();
    const auto ref = rk::rmsnorm_forward_ref(q);
    check = rel_err(to_doubles(download(y.at(first * D * ls), K * D * ls), lt, K * D), ref.y);
    ms = b.time([&] { return rk::rmsnorm_forward(p, nullptr); });
    // x, y; with the residual also r in and h out
    bytes = double(nbytes) + lbytes + (residual ? double(lbytes) + nbytes : 0) + N * 4 + D * 4;
  } else {
    // dy = x's data, h = r's data; rstd from a forward over h.
    rk::RmsNormForwardParams f;
    f.dtype = dt;
    f.n_rows = N;
    f.dim = D;
    f.x = r.get();
    f.weight = w.get<float>();
    f.y = y.get();
    f.rstd = rstd.get<float>();
    status_ok(rk::rmsnorm_forward(f, nullptr));
    const size_t wsb = rk::rmsnorm_backward_workspace_bytes(N, D);
    Buffer ws(wsb), ex(nbytes);
    const std::vector<float> eb = fill(ex.get(), N * D, dt, 6, 0.5, 0.0);
    rk::RmsNormBackwardParams p;
    p.dtype = dt;
    p.dy_bf16 = low;
    p.n_rows = N;
    p.dim = D;
    p.dy = x.get();
    p.h = r.get();
    p.weight = w.get<float>();
    p.rstd = rstd.get<float>();
    p.dh_extra = residual ? ex.get() : nullptr;
    p.dx = h.get();
    p.dweight = dw.get<float>();
    p.workspace = ws.get();
    p.workspace_bytes = wsb;
    status_ok(rk::rmsnorm_backward(p, nullptr));
    cuda_ok(cudaDeviceSynchronize(), "rmsnorm_backward");
    std::vector<float> rs(K);
    cuda_ok(cudaMemcpy(rs.data(), rstd.at(first * 4), K * 4, cudaMemcpyDeviceToHost), "rstd");
    rk::RmsNormBackwardParams q = p;
    q.n_rows = K;
    q.dy = host_rows(xb, lt, f1, b1);
    q.h = host_rows(rb, dt, f2, b2);
    q.weight = wb.data();
    q.rstd = rs.data();
    std::vector<float> f3;
    std::vector<uint16_t> b3;
    q.dh_extra = residual ? host_rows(eb, dt, f3, b3) : nullptr;
    q.dweight = nullptr;
    const auto ref = rk::rmsnorm_backward_ref(q);
    check = rel_err(to_doubles(download(h.at(first * D * es), K * D * es), dt, K * D), ref.dx);
    ms = b.time([&] { return rk::rmsnorm_backward(p, nullptr); });
    // dy, h in, dx out; with dh_extra one more in
    bytes = double(lbytes) + 2.0 * nbytes + (residual ? double(nbytes) : 0) + N * 4 + D * 4;
  }
  b.add({name, std::to_string(N) + " x " + std::to_string(D),
         low ? "f32 + bf16" : rk::name(dt), bytes, ms, check});
}

void bench_rope(Bench& b, DType dt, int mode /*0 dense, 1 q_pe view, 2 whole q rows*/) {
  const char* mname[] = {"rope forward", "rope forward (q_pe view)",
                         "rope_tail (q copy + rotate)"};
  const std::string name = mname[mode];
  if (!b.wanted(name)) return;
  // q of r1-mini: [B, T, 12, 64] with the RoPE part, 16, at the end of each head (48 nope + 16
  // rope); the q_pe view rotates that part in place, rope_tail writes whole dense rows, copying
  // the first 48. 8x the tokens of a step so that the touched bytes are well above L2.
  const int64_t BT = 8 * b.opt().tokens, T = std::min<int64_t>(1024, BT), B = BT / T;
  const int64_t H = 12, D = 16, S = mode == 0 ? 16 : 64, off = mode == 1 ? S - D : 0;
  const int64_t W = mode == 2 ? S : D;  // elements written per head
  const int es = rk::size_of(dt);
  Buffer x(B * T * H * S * es), out(B * T * H * S * es), cs(T * D / 2 * 4), sn(T * D / 2 * 4);
  fill(x.get(), B * T * H * S, dt, 7, 1.0, 0.0);
  std::vector<float> c(T * D / 2), s(T * D / 2);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < D / 2; ++i) {
      const double a = t * std::pow(10000.0, -2.0 * i / D);
      c[t * D / 2 + i] = static_cast<float>(std::cos(a));
      s[t * D / 2 + i] = static_cast<float>(std::sin(a));
    }
  cuda_ok(cudaMemcpy(cs.get(), c.data(), c.size() * 4, cudaMemcpyHostToDevice), "cos");
  cuda_ok(cudaMemcpy(sn.get(), s.data(), s.size() * 4, cudaMemcpyHostToDevice), "sin");
  rk::RopeParams p;
  p.dtype = dt;
  p.batch = B;
  p.seq = T;
  p.heads = H;
  p.dim = D;
  p.head_dim = mode == 2 ? S : 0;
  p.x = x.at(off * es);
  p.out = out.at(off * es);
  p.x_stride_b = p.out_stride_b = T * H * S;
  p.x_stride_t = p.out_stride_t = H * S;
  p.x_stride_h = p.out_stride_h = S;
  p.cos = cs.get<float>();
  p.sin = sn.get<float>();
  status_ok(rk::rope(p, nullptr));
  cuda_ok(cudaDeviceSynchronize(), "rope");
  // Check the last sequence of the batch.
  const int64_t rows = T * H;
  const size_t first = ((B - 1) * T * H) * S;
  const auto xin = download(x.at(first * es), rows * S * es);
  rk::RopeParams q = p;
  q.batch = 1;
  q.x = xin.data() + off * es;
  q.cos = c.data();
  q.sin = s.data();
  const auto ref = rk::rope_ref(q);
  const auto o = download(out.at(first * es), rows * S * es);
  const double check = rel_err(to_doubles(o, dt, W, off, S, rows), ref);
  const double ms = b.time([&] { return rk::rope(p, nullptr); });
  const double bytes = double(B) * T * H * W * es * 2;
  b.add({name,
         "[" + std::to_string(B) + ", " + std::to_string(T) + ", 12, " +
             (mode == 2 ? "64], last 16 rotated" : "16] of " + std::to_string(S)),
         rk::name(dt), bytes, ms, check});
}

void bench_swiglu(Bench& b, DType dt, bool backward) {
  const std::string name = std::string("swiglu ") + (backward ? "backward" : "forward");
  if (!b.wanted(name)) return;
  // The dense FFN of r1-mini-dense over a step of tokens: [tokens, 2048] per up projection.
  const int64_t N = b.opt().tokens, D = 2048;
  const int es = rk::size_of(dt);
  Buffer a(N * D * es), bb(N * D * es), g(N * D * es), o1(N * D * es), o2(N * D * es);
  const std::vector<float> ha = fill(a.get(), N * D, dt, 11, 3.0, 0.0);
  const std::vector<float> hb = fill(bb.get(), N * D, dt, 12, 1.0, 0.0);
  const std::vector<float> hg = fill(g.get(), N * D, dt, 13, 1.0, 0.0);
  // Check the first 3 rows (inside fill's repeated block) against the float64 reference.
  const int64_t K = 3;
  double check = 0;
  std::function<rk::Status()> launch;
  if (!backward) {
    rk::SwigluParams p;
    p.dtype = dt;
    p.n_rows = N;
    p.dim = D;
    p.a = a.get();
    p.b = bb.get();
    p.h = o1.get();
    launch = [p] { return rk::swiglu_forward(p, nullptr); };
    status_ok(launch());
    cuda_ok(cudaDeviceSynchronize(), "swiglu");
    rk::SwigluParams q = p;
    q.n_rows = K;
    q.a = ha.data();
    q.b = hb.data();
    q.dtype = DType::f32;  // the host blocks hold the (rounded) values as floats
    check = rel_err(to_doubles(download(o1.get(), K * D * es), dt, K * D), rk::swiglu_forward_ref(q));
  } else {
    rk::SwigluBackwardParams p;
    p.dtype = dt;
    p.n_rows = N;
    p.dim = D;
    p.dh = g.get();
    p.a = a.get();
    p.b = bb.get();
    p.da = o1.get();
    p.db = o2.get();
    launch = [p] { return rk::swiglu_backward(p, nullptr); };
    status_ok(launch());
    cuda_ok(cudaDeviceSynchronize(), "swiglu backward");
    rk::SwigluBackwardParams q = p;
    q.n_rows = K;
    q.dh = hg.data();
    q.a = ha.data();
    q.b = hb.data();
    q.dtype = DType::f32;
    const auto ref = rk::swiglu_backward_ref(q);
    check = std::max(rel_err(to_doubles(download(o1.get(), K * D * es), dt, K * D), ref.da),
                     rel_err(to_doubles(download(o2.get(), K * D * es), dt, K * D), ref.db));
  }
  const double ms = b.time(launch);
  const double bytes = double(N) * D * es * (backward ? 5 : 3);
  b.add({name, std::to_string(N) + " x " + std::to_string(D), rk::name(dt), bytes, ms, check});
}

void bench_adamw(Bench& b, DType gt, bool copy) {
  const std::string name = std::string("adamw, ") + rk::name(gt) + " grads" +
                           (copy ? " + bf16 copy" : "");
  if (!b.wanted(name)) return;
  // r1-mini's tensors: embedding 32768 x 768, then per layer MLA projections, 8 routed + 1
  // shared experts of 3 x 768 x 768, norms; ~234M parameters in ~300 tensors.
  std::vector<int64_t> sizes = {32768 * 768};
  for (int l = 0; l < 12; ++l) {
    for (int64_t s : std::vector<int64_t>{768 * 384, 384 * 12 * 64, 768 * 272, 256 * 12 * 112,
                                          12 * 64 * 768, 384, 256, 768, 768})
      sizes.push_back(s);
    for (int e = 0; e < 9; ++e) sizes.push_back(3 * 768 * 768);
    sizes.push_back(8 * 768);
  }
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  const int es = rk::size_of(gt);
  Buffer p(total * 4), g(total * es), m(total * 4), v(total * 4), pc(copy ? total * 2 : 16);
  fill(p.get(), total, DType::f32, 8, 1.0, 0.0);
  fill(g.get(), total, gt, 9, 0.01, 0.0);
  fill(m.get(), total, DType::f32, 10, 0.01, 0.0);
  fill(v.get(), total, DType::f32, 11, 1e-5, 4e-5);  // > 0: 4 uniforms stay within 3.5 sd
  std::vector<rk::AdamWTensor> ts;
  int64_t at = 0;
  for (int64_t s : sizes) {
    rk::AdamWTensor t;
    t.param = p.get<float>() + at;
    t.grad = g.at(at * es);
    t.exp_avg = m.get<float>() + at;
    t.exp_avg_sq = v.get<float>() + at;
    t.param_bf16 = copy ? pc.at(at * 2) : nullptr;
    t.numel = s;
    t.lr = 3e-4f;
    t.weight_decay = 0.1f;
    ts.push_back(t);
    at += s;
  }
  rk::AdamWOptions o;
  o.beta1 = 0.9f;
  o.beta2 = 0.95f;
  o.step = 10;
  o.grad_dtype = gt;
  // Check the last tensor: inputs read back before, outputs after one launch.
  const rk::AdamWTensor& last = ts.back();
  const size_t ln = last.numel;
  auto f32s = [](const std::vector<unsigned char>& raw) {
    std::vector<float> f(raw.size() / 4);
    std::memcpy(f.data(), raw.data(), raw.size());
    return f;
  };
  std::vector<float> hp = f32s(download(last.param, ln * 4));
  std::vector<float> hm = f32s(download(last.exp_avg, ln * 4));
  std::vector<float> hv = f32s(download(last.exp_avg_sq, ln * 4));
  const auto hg = download(last.grad, ln * es);
  status_ok(rk::adamw(ts.data(), int(ts.size()), o, nullptr));
  cuda_ok(cudaDeviceSynchronize(), "adamw");
  rk::AdamWTensor q = last;
  q.param = hp.data();
  q.exp_avg = hm.data();
  q.exp_avg_sq = hv.data();
  q.grad = hg.data();
  const auto ref = rk::adamw_ref(q, o);
  const double check = rel_err(to_doubles(download(last.param, ln * 4), DType::f32, ln), ref.param);
  const double ms = b.time([&] { return rk::adamw(ts.data(), int(ts.size()), o, nullptr); });
  const double bytes = double(total) * (4 * 3 + es + 4 * 3 + (copy ? 2 : 0));
  b.add({name, std::to_string(ts.size()) + " tensors, " + std::to_string(total) + " params",
         "f32", bytes, ms, check});
}

// r1-mini's routed experts: 8 experts, top 2, dim 768, bf16: the gate routing, the plan, the
// gather into expert order (weights applied), and the weighted combine back.
void bench_moe(Bench& b, const std::string& which) {
  const std::string name = "moe " + which;
  if (!b.wanted(name)) return;
  // The data-moving kernels on 4 steps' tokens, like the norms: one step's combine is 151 MB,
  // where even a copy kernel reaches only ~84 % of the 1 GiB copy (launch and ramp-up).
  const bool small = which == "routing" || which == "permute plan";
  const int64_t N = (small ? 1 : 4) * b.opt().tokens, D = b.opt().dim;
  const int E = 8, K = 2;
  const int64_t P = N * K;
  const DType dt = DType::bf16;
  const int es = 2;
  Buffer logits(N * E * 4), scores(N * E * 4), w(P * 4), idx(P * 8), cnt(E * 4), off((E + 1) * 4),
      pos(P * 4), pair(P * 4), ws(rk::moe_permute_workspace_bytes(N, K, E)), x(N * D * es),
      rows(P * D * es), y(N * D * es);
  const std::vector<float> lb = fill(logits.get(), N * E, DType::f32, 12, 1.0, 0.0);
  fill(x.get(), N * D, dt, 13, 1.0, 0.0);
  rk::MoeRoutingParams r;
  r.n_tokens = N;
  r.n_experts = E;
  r.top_k = K;
  r.logits = logits.get();
  r.scores = scores.get<float>();
  r.weights = w.get<float>();
  r.indices = idx.get();
  status_ok(rk::moe_routing(r, nullptr));
  rk::MoePermutePlanParams pl;
  pl.n_tokens = N;
  pl.top_k = K;
  pl.n_experts = E;
  pl.indices = idx.get();
  pl.counts = cnt.get<int32_t>();
  pl.offsets = off.get<int32_t>();
  pl.position = pos.get<int32_t>();
  pl.pair_of = pair.get<int32_t>();
  pl.workspace = ws.get();
  pl.workspace_bytes = ws.bytes();
  status_ok(rk::moe_permute_plan(pl, nullptr));
  rk::MoeGatherParams g;
  g.dtype = dt;
  g.n_rows = P;
  g.top_k = K;
  g.dim = D;
  g.x = x.get();
  g.pair_of = pair.get<int32_t>();
  g.weights = w.get<float>();
  g.rows = rows.get();
  status_ok(rk::moe_gather(g, nullptr));
  rk::MoeCombineParams c;
  c.dtype = dt;
  c.n_tokens = N;
  c.top_k = K;
  c.dim = D;
  c.rows = rows.get();
  c.position = pos.get<int32_t>();
  c.weights = w.get<float>();
  c.y = y.get();
  cuda_ok(cudaDeviceSynchronize(), "moe");
  // Check the routing of the last tokens.
  const int64_t T = 4, first = N - T;
  std::vector<float> hl(T * E);
  for (int64_t k = 0; k < T * E; ++k) hl[k] = lb[(first * E + k) % lb.size()];
  rk::MoeRoutingParams q = r;
  q.n_tokens = T;
  q.logits = hl.data();
  const auto ref = rk::moe_routing_ref(q);
  const auto wraw = download(w.at(first * K * 4), T * K * 4);
  const double check = rel_err(to_doubles(wraw, DType::f32, T * K), ref.weights);
  double ms = 0, bytes = 0;
  std::string shape;
  if (which == "routing") {
    ms = b.time([&] { return rk::moe_routing(r, nullptr); });
    bytes = double(N) * E * 4 * 2 + P * (4 + 8);
    shape = std::to_string(N) + " x " + std::to_string(E) + ", top 2";
  } else if (which == "permute plan") {
    ms = b.time([&] { return rk::moe_permute_plan(pl, nullptr); });
    bytes = double(P) * (8 + 4 + 4);
    shape = std::to_string(P) + " pairs, 8 experts";
  } else if (which == "gather") {
    ms = b.time([&] { return rk::moe_gather(g, nullptr); });
    bytes = double(P) * D * es * 2 + P * 8;
    shape = std::to_string(P) + " x " + std::to_string(D);
  } else if (which == "combine") {
    ms = b.time([&] { return rk::moe_combine(c, nullptr); });
    bytes = double(P) * D * es + N * D * es + P * 8;
    shape = std::to_string(N) + " x 2 x " + std::to_string(D);
  } else {  // combine's weight gradient: dy (x's data) against each of its rows
    Buffer dw(P * 4);
    rk::MoeCombineWeightGradParams wg;
    wg.dtype = dt;
    wg.n_tokens = N;
    wg.top_k = K;
    wg.dim = D;
    wg.dy = x.get();
    wg.rows = rows.get();
    wg.position = pos.get<int32_t>();
    wg.dweights = dw.get<float>();
    ms = b.time([&] { return rk::moe_combine_weight_grad(wg, nullptr); });
    bytes = double(P) * D * es + N * D * es + P * 8;
    shape = std::to_string(N) + " x 2 x " + std::to_string(D);
  }
  b.add({name, shape, which == "routing" || which == "permute plan" ? "f32" : "bf16", bytes, ms,
         check});
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string cmd = argv[0];
  for (int i = 1; i < argc; ++i) {
    cmd += std::string(" ") + argv[i];
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "kernel_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      cmd += std::string(" ") + argv[i + 1];
      return argv[++i];
    };
    if (a == "--tokens") o.tokens = std::stoll(next());
    else if (a == "--vocab") o.vocab = std::stoll(next());
    else if (a == "--dim") o.dim = std::stoll(next());
    else if (a == "--iters") o.iters = std::max(1, std::stoi(next()));
    else if (a == "--warmup") o.warmup = std::stoi(next());
    else if (a == "--only") o.only = next();
    else if (a == "--copy-mib") o.copy_mib = std::max<int64_t>(1, std::stoll(next()));
    else {
      std::fprintf(stderr,
                   "usage: kernel_bench [--tokens N] [--vocab V] [--dim D] [--iters N] "
                   "[--warmup N] [--only SUBSTRING] [--copy-mib M]\n");
      return 2;
    }
  }
  try {
    int n = 0;
    cuda_ok(cudaGetDeviceCount(&n), "cudaGetDeviceCount");
    if (n == 0) throw std::runtime_error("no CUDA device");
    cudaDeviceProp prop{};
    cuda_ok(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    int driver = 0, runtime = 0;
    cuda_ok(cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
    cuda_ok(cudaRuntimeGetVersion(&runtime), "cudaRuntimeGetVersion");
    Bench b(o);
    std::fprintf(stderr, "kernel_bench on %s (%d SMs, L2 %d MB)\n", prop.name,
                 prop.multiProcessorCount, prop.l2CacheSize >> 20);
    const double ceiling = copy_gbps(b);
    std::fprintf(stderr, "  device-to-device copy: %.1f GB/s (read + write)\n", ceiling);

    bench_cross_entropy(b, DType::bf16, 2);
    bench_cross_entropy(b, DType::bf16, 1);
    bench_cross_entropy(b, DType::bf16, 0);
    bench_cross_entropy(b, DType::f32, 2);
    bench_rmsnorm(b, DType::bf16, false, false);
    bench_rmsnorm(b, DType::bf16, true, false);
    bench_rmsnorm(b, DType::bf16, false, true);
    bench_rmsnorm(b, DType::bf16, true, true);
    bench_rmsnorm(b, DType::f32, false, false);
    bench_rmsnorm(b, DType::f32, true, false, true);   // the engine's add_rms_norm under autocast
    bench_rmsnorm(b, DType::f32, true, true, true);    // and its backward
    bench_rmsnorm(b, DType::f32, false, true);
    bench_rope(b, DType::bf16, 1);
    bench_rope(b, DType::bf16, 0);
    bench_rope(b, DType::bf16, 2);
    bench_swiglu(b, DType::bf16, false);
    bench_swiglu(b, DType::bf16, true);
    bench_adamw(b, DType::f32, false);
    bench_adamw(b, DType::bf16, true);
    for (const char* m : {"routing", "permute plan", "gather", "combine", "combine weight grad"})
      bench_moe(b, m);

    const std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    std::printf("\n### kernels/ bandwidth, %s, %s (CUDA runtime %d, driver %d)\n\n", date,
                prop.name, runtime, driver);
    std::printf("`%s`\n\n", cmd.c_str());
    std::printf("Ceiling: device-to-device cudaMemcpy of %lld MiB, %.1f GB/s (read + write). "
                "Target: >= 80%%. check = relative error of the last rows against the float64 "
                "CPU reference.\n\n", static_cast<long long>(o.copy_mib), ceiling);
    std::printf("| kernel | shape | dtype | MB moved | median ms | GB/s | %% of copy | check |\n");
    std::printf("|---|---|---|---:|---:|---:|---:|---:|\n");
    for (const Row& r : b.rows()) {
      const double gbps = r.bytes / r.ms * 1e-6;
      std::printf("| %s | %s | %s | %.1f | %.4f | %.1f | %.1f%% | %.1e |\n", r.kernel.c_str(),
                  r.shape.c_str(), r.dtype.c_str(), r.bytes * 1e-6, r.ms, gbps,
                  100.0 * gbps / ceiling, r.check);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kernel_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
