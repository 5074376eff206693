// kernels/: every CUDA kernel against its float64 CPU reference, and the references themselves
// against direct formulas worked by hand and against finite differences.
//
// GPU cases: random inputs (fixed seeds, never all zeros), outputs poisoned with NaN (0xFF
// bytes) before each launch, odd sizes (rows not multiples of a block, V = 1 ... 32768 + 13,
// misaligned pointers, strided rows), error = ||out - ref|| / ||ref|| against the reference in
// float64. Tolerances: outputs stored in fp32 2e-6 (5e-6 for the cross-entropy gradient, whose
// exp() argument x - lse carries an fp32 rounding of lse; 1e-5 for dweight, summed over up to
// thousands of rows in fp32); outputs stored in bf16 8e-3 (one bf16 rounding is <= 2^-9
// relative, ~1.1e-3 RMS). Where no CUDA device is present the GPU cases QSKIP with the runtime's
// reason; the reference checks run everywhere.
#include "kernels/adamw.h"
#include "kernels/cross_entropy.h"
#include "kernels/moe_permute.h"
#include "kernels/moe_routing.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "kernels/swiglu.h"

#include <QtTest/QtTest>

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace rk = r1::kernels;
using rk::DType;
using rk::IndexType;

namespace {

constexpr double kTolF32 = 2e-6;
constexpr double kTolCeGradF32 = 5e-6;
constexpr double kTolReduceF32 = 1e-5;
constexpr double kTolBf16 = 8e-3;

double tol_for(DType t, double f32_tol) { return t == DType::f32 ? f32_tol : kTolBf16; }

// --- device access -------------------------------------------------------------------------------

// Empty when a CUDA device is usable, else why not (asked once).
const QString& gpu_absent_reason() {
  static const QString reason = [] {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess)
      return QStringLiteral("no CUDA device: cudaGetDeviceCount failed with %1 (%2)")
          .arg(QString::fromLatin1(cudaGetErrorName(e)),
               QString::fromLatin1(cudaGetErrorString(e)));
    if (n == 0) return QStringLiteral("no CUDA device: cudaGetDeviceCount returned 0");
    return QString();
  }();
  return reason;
}

// The device is tests/kernel_emu's CPU emulation (test_kernels_emu), not a GPU.
bool emulated() {
  cudaDeviceProp prop{};
  return cudaGetDeviceProperties(&prop, 0) == cudaSuccess &&
         std::strncmp(prop.name, "r1emu", 5) == 0;
}

#define REQUIRE_GPU()                                                                      \
  do {                                                                                     \
    if (!gpu_absent_reason().isEmpty()) QSKIP(qPrintable(gpu_absent_reason()));            \
  } while (0)

void cuda_ok(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorName(e) + " (" +
                             cudaGetErrorString(e) + ")");
}

void status_ok(const rk::Status& s) {
  if (!s.ok()) throw std::runtime_error(s.message);
}

// Device memory, poisoned with 0xFF bytes (NaN in fp32 and bf16) when made.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes) {
    if (bytes_ == 0) return;
    cuda_ok(cudaMalloc(&p_, bytes_), "cudaMalloc");
    poison();
  }
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void poison() {
    if (bytes_) cuda_ok(cudaMemset(p_, 0xFF, bytes_), "cudaMemset");
  }
  char* at(size_t byte_offset) const { return static_cast<char*>(p_) + byte_offset; }
  void upload(size_t byte_offset, const void* src, size_t n) {
    cuda_ok(cudaMemcpy(at(byte_offset), src, n, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
  }
  void download(size_t byte_offset, void* dst, size_t n) const {
    cuda_ok(cudaMemcpy(dst, at(byte_offset), n, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
  }
  std::vector<unsigned char> bytes() const {
    std::vector<unsigned char> b(bytes_);
    download(0, b.data(), bytes_);
    return b;
  }
  size_t size() const { return bytes_; }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

void sync() { cuda_ok(cudaDeviceSynchronize(), "kernel execution (cudaDeviceSynchronize)"); }

// --- host arrays ---------------------------------------------------------------------------------

// fp32 or bf16 elements on the host.
struct HostArray {
  DType dtype = DType::f32;
  std::vector<float> f;
  std::vector<uint16_t> h;

  HostArray(DType t, size_t n) : dtype(t) {
    if (t == DType::f32)
      f.assign(n, 0.f);
    else
      h.assign(n, 0);
  }
  size_t size() const { return dtype == DType::f32 ? f.size() : h.size(); }
  size_t bytes() const { return size() * rk::size_of(dtype); }
  const void* data() const {
    return dtype == DType::f32 ? static_cast<const void*>(f.data()) : h.data();
  }
  void* data() { return dtype == DType::f32 ? static_cast<void*>(f.data()) : h.data(); }
  void set(size_t i, float v) {
    if (dtype == DType::f32)
      f[i] = v;
    else
      h[i] = rk::float_to_bf16(v);
  }
  double get(size_t i) const { return dtype == DType::f32 ? f[i] : rk::bf16_to_float(h[i]); }
};

HostArray random_array(DType t, size_t n, std::mt19937& rng, double sd, double mean = 0.0) {
  std::normal_distribution<double> d(mean, sd);
  HostArray a(t, n);
  for (size_t i = 0; i < n; ++i) a.set(i, static_cast<float>(d(rng)));
  return a;
}

std::vector<float> random_floats(size_t n, std::mt19937& rng, double sd, double mean = 0.0) {
  std::normal_distribution<double> d(mean, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(d(rng));
  return v;
}

// Elements [row * ld + j] for j < cols of a device buffer read back as doubles, dense.
std::vector<double> read_rows(const DeviceBuffer& b, size_t byte_offset, DType t, int64_t rows,
                              int64_t cols, int64_t ld) {
  HostArray a(t, static_cast<size_t>(rows > 0 ? (rows - 1) * ld + cols : 0));
  if (a.size()) b.download(byte_offset, a.data(), a.bytes());
  std::vector<double> out(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[i * cols + j] = a.get(i * ld + j);
  return out;
}

std::vector<double> read_floats(const DeviceBuffer& b, size_t byte_offset, size_t n) {
  std::vector<float> f(n);
  if (n) b.download(byte_offset, f.data(), n * sizeof(float));
  return {f.begin(), f.end()};
}

// ||out - ref|| / max(||ref||, floor); +inf when out has a non-finite value where ref is finite
// (a NaN left by the poison means an element was never written).
double rel_err(const std::vector<double>& out, const std::vector<double>& ref, double floor = 0) {
  if (out.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double d = 0, r = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(ref[i])) continue;
    if (!std::isfinite(out[i])) return std::numeric_limits<double>::infinity();
    d += (out[i] - ref[i]) * (out[i] - ref[i]);
    r += ref[i] * ref[i];
  }
  return std::sqrt(d) / std::max(std::sqrt(r), floor);
}

#define CHECK_ERR(what, err, tol)                                                          \
  do {                                                                                     \
    const double e_ = (err);                                                               \
    QVERIFY2(e_ <= (tol), qPrintable(QStringLiteral("%1: relative error %2 > tolerance %3") \
                                         .arg(QString::fromLatin1(what))                   \
                                         .arg(e_, 0, 'g', 3)                               \
                                         .arg(double(tol), 0, 'g', 3)));                   \
  } while (0)

// Runs a GPU case; a failed CUDA call or launcher (an exception) fails the test with its text.
#define GPU_TRY(...)                                                                       \
  try {                                                                                    \
    __VA_ARGS__                                                                            \
  } catch (const std::exception& e) {                                                      \
    QFAIL(e.what());                                                                       \
  }

// Gate logits for routing tests: per token a shuffled grid of E distinct values 1/16 apart
// (exact in bf16 up to |x| = 8), so that no two experts are within rounding of each other and
// the float64 reference picks the same experts as the fp32 kernel.
HostArray grid_logits(DType t, int64_t n, int E, std::mt19937& rng) {
  HostArray a(t, n * E);
  std::vector<int> perm(E);
  for (int64_t i = 0; i < n; ++i) {
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int e = 0; e < E; ++e) a.set(i * E + e, (perm[e] - E / 2) * 0.0625f);
  }
  return a;
}

}  // namespace

class TestKernels : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    if (gpu_absent_reason().isEmpty()) {
      cudaDeviceProp prop{};
      cuda_ok(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
      qInfo("GPU: %s, compute capability %d.%d, %d SMs", prop.name, prop.major, prop.minor,
            prop.multiProcessorCount);
    } else {
      qInfo("%s: the GPU cases will skip; the CPU reference checks run",
            qPrintable(gpu_absent_reason()));
    }
  }

  // --- CPU references (always) ---------------------------------------------------------------

  void bf16Conversion() {
    QCOMPARE(rk::float_to_bf16(1.0f), uint16_t(0x3F80));
    QCOMPARE(rk::float_to_bf16(-2.0f), uint16_t(0xC000));
    QCOMPARE(rk::float_to_bf16(-0.0f), uint16_t(0x8000));
    QCOMPARE(rk::float_to_bf16(1.00390625f), uint16_t(0x3F80));  // 1 + 2^-8: tie, to even
    QCOMPARE(rk::float_to_bf16(1.01171875f), uint16_t(0x3F82));  // 1 + 3 * 2^-8: tie, to even
    QCOMPARE(rk::float_to_bf16(std::nextafter(1.00390625f, 2.f)), uint16_t(0x3F81));  // above
    QVERIFY(std::isnan(rk::bf16_to_float(rk::float_to_bf16(std::nanf("")))));
    QCOMPARE(rk::bf16_to_float(rk::float_to_bf16(INFINITY)), INFINITY);
    for (uint32_t b = 0; b < 0x7F80; b += 37)  // every finite positive bf16 round-trips
      QCOMPARE(rk::float_to_bf16(rk::bf16_to_float(static_cast<uint16_t>(b))), uint16_t(b));
  }

  void crossEntropyRefByHand() {
    // Two equal logits, no smoothing: loss ln 2, gradient (p - onehot) = (-1/2, 1/2).
    {
      const float x[2] = {0.f, 0.f};
      const int64_t t[1] = {0};
      float g[2];
      rk::CrossEntropyParams p;
      p.logits = x;
      p.n_rows = 1;
      p.vocab = 2;
      p.targets = t;
      p.dlogits = g;
      const auto r = rk::cross_entropy_ref(p);
      QVERIFY(std::abs(r.loss[0] - std::log(2.0)) < 1e-15);
      QVERIFY(std::abs(r.lse[0] - std::log(2.0)) < 1e-15);
      QVERIFY(std::abs(r.dlogits[0] + 0.5) < 1e-15 && std::abs(r.dlogits[1] - 0.5) < 1e-15);
    }
    // Logits (1, 2, 3), target 2: loss = log(1 + e^-1 + e^-2) = 0.40760596444437...
    {
      const float x[3] = {1.f, 2.f, 3.f};
      const int32_t t[1] = {2};
      rk::CrossEntropyParams p;
      p.logits = x;
      p.n_rows = 1;
      p.vocab = 3;
      p.targets = t;
      p.target_type = IndexType::i32;
      QVERIFY(std::abs(rk::cross_entropy_ref(p).loss[0] - 0.4076059644443803) < 1e-13);
    }
    // Against the direct formula -sum_j q_j log p_j, q = (1 - e) onehot + e / V, and its
    // gradient (p - q) * scale, on random rows with smoothing.
    std::mt19937 rng(11);
    for (const float eps_f : {0.f, 0.1f, 1.f}) {
      const double eps = eps_f;  // what the reference sees
      const int64_t N = 4, V = 9;
      const std::vector<float> x = random_floats(N * V, rng, 2.0);
      std::vector<int64_t> t = {0, 8, 4, 3};
      std::vector<float> g(N * V);
      rk::CrossEntropyParams p;
      p.logits = x.data();
      p.n_rows = N;
      p.vocab = V;
      p.targets = t.data();
      p.smoothing = eps_f;
      p.dlogits = g.data();
      p.grad_scale = 0.25f;
      const auto r = rk::cross_entropy_ref(p);
      for (int64_t i = 0; i < N; ++i) {
        double z = 0;
        for (int64_t j = 0; j < V; ++j) z += std::exp(double(x[i * V + j]));
        double loss = 0;
        for (int64_t j = 0; j < V; ++j) {
          const double pj = std::exp(double(x[i * V + j])) / z;
          const double qj = (j == t[i] ? 1 - eps : 0.0) + eps / V;
          loss -= qj * std::log(pj);
          QVERIFY2(std::abs(r.dlogits[i * V + j] - (pj - qj) * 0.25) < 1e-14,
                   qPrintable(QStringLiteral("eps %1 row %2 col %3: %4 vs %5")
                                  .arg(eps).arg(i).arg(j).arg(r.dlogits[i * V + j], 0, 'g', 17)
                                  .arg((pj - qj) * 0.25, 0, 'g', 17)));
        }
        QVERIFY2(std::abs(r.loss[i] - loss) < 1e-12,
                 qPrintable(QStringLiteral("row %1: %2 vs %3").arg(i).arg(r.loss[i]).arg(loss)));
      }
    }
  }

  void crossEntropyRefIgnoreAndBadTarget() {
    const float x[6] = {0.5f, -1.f, 2.f, 1.f, 1.f, 1.f};
    const int64_t t[2] = {-100, 3};  // ignored; out of range (V = 3)
    float g[6];
    rk::CrossEntropyParams p;
    p.logits = x;
    p.n_rows = 2;
    p.vocab = 3;
    p.targets = t;
    p.dlogits = g;
    const auto r = rk::cross_entropy_ref(p);
    QCOMPARE(r.loss[0], 0.0);
    for (int j = 0; j < 3; ++j) QCOMPARE(r.dlogits[j], 0.0);
    QVERIFY(std::isnan(r.loss[1]));
    QVERIFY(std::isnan(r.dlogits[3]));
    // What check() rejects, the reference refuses too.
    p.vocab = 0;
    QVERIFY(!rk::check(p).ok());
    QVERIFY(rk::check(p).message.find("vocab = 0") != std::string::npos);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, rk::cross_entropy_ref(p));
  }

  // dlogits of the reference against central differences of sum_i loss_i * scale.
  void crossEntropyRefFiniteDifference() {
    std::mt19937 rng(12);
    const int64_t N = 3, V = 11;
    std::vector<float> x = random_floats(N * V, rng, 1.5);
    const std::vector<int64_t> t = {2, -100, 10};
    std::vector<float> g(N * V);
    rk::CrossEntropyParams p;
    p.logits = x.data();
    p.n_rows = N;
    p.vocab = V;
    p.targets = t.data();
    p.smoothing = 0.1f;
    p.dlogits = g.data();
    p.grad_scale = 0.5f;
    const std::vector<double> grad = rk::cross_entropy_ref(p).dlogits;
    p.dlogits = nullptr;
    auto total = [&] {
      double s = 0;
      for (double l : rk::cross_entropy_ref(p).loss) s += l * 0.5;
      return s;
    };
    for (int64_t k = 0; k < N * V; ++k) {
      const float x0 = x[k];
      x[k] = x0 + 1e-3f;
      const double up = total(), dup = double(x[k]) - x0;
      x[k] = x0 - 1e-3f;
      const double down = total(), ddown = x0 - double(x[k]);
      x[k] = x0;
      const double fd = (up - down) / (dup + ddown);
      QVERIFY2(std::abs(fd - grad[k]) < 1e-6,
               qPrintable(QStringLiteral("element %1: fd %2 vs %3").arg(k).arg(fd).arg(grad[k])));
    }
  }

  void rmsnormRefByHand() {
    // x = (3, 4): mean square 12.5; y = x / sqrt(12.5) * w.
    const float x[2] = {3.f, 4.f}, w[2] = {1.f, 2.f};
    float y[2];
    rk::RmsNormForwardParams p;
    p.n_rows = 1;
    p.dim = 2;
    p.eps = 0.f;
    p.x = x;
    p.weight = w;
    p.y = y;
    const auto r = rk::rmsnorm_forward_ref(p);
    QVERIFY(std::abs(r.rstd[0] - 1 / std::sqrt(12.5)) < 1e-15);
    QVERIFY(std::abs(r.y[0] - 3 / std::sqrt(12.5)) < 1e-15);
    QVERIFY(std::abs(r.y[1] - 8 / std::sqrt(12.5)) < 1e-15);
    // The fused add stores h = x + r rounded to bf16 and normalizes that: 1 + 2^-9 -> 1.
    const uint16_t xb[2] = {rk::float_to_bf16(1.f), rk::float_to_bf16(2.f)};
    const uint16_t rb[2] = {rk::float_to_bf16(0.001953125f), rk::float_to_bf16(0.f)};
    uint16_t yb[2], hb[2];
    rk::RmsNormForwardParams q;
    q.dtype = DType::bf16;
    q.n_rows = 1;
    q.dim = 2;
    q.eps = 0.f;
    q.x = xb;
    q.residual = rb;
    q.weight = w;
    q.y = yb;
    q.h = hb;
    const auto s = rk::rmsnorm_forward_ref(q);
    QCOMPARE(s.h[0], 1.0);
    QCOMPARE(s.h[1], 2.0);
    QVERIFY(std::abs(s.rstd[0] - 1 / std::sqrt(2.5)) < 1e-15);
  }

  // dx and dweight of the reference against central differences of sum(cot * y).
  void rmsnormRefFiniteDifference() {
    std::mt19937 rng(13);
    const int64_t N = 3, D = 6;
    std::vector<float> x = random_floats(N * D, rng, 1.0), w = random_floats(D, rng, 0.5, 1.0);
    const std::vector<float> cot = random_floats(N * D, rng, 1.0);
    const std::vector<float> extra = random_floats(N * D, rng, 1.0);
    std::vector<float> y(N * D);
    rk::RmsNormForwardParams f;
    f.n_rows = N;
    f.dim = D;
    f.eps = 1e-5f;
    f.x = x.data();
    f.weight = w.data();
    f.y = y.data();
    auto objective = [&] {
      const auto r = rk::rmsnorm_forward_ref(f);
      double s = 0;
      for (int64_t k = 0; k < N * D; ++k) s += cot[k] * r.y[k];
      return s;
    };
    const auto fr = rk::rmsnorm_forward_ref(f);
    std::vector<float> rstd(fr.rstd.begin(), fr.rstd.end());
    std::vector<float> dx(N * D), dw(D);
    rk::RmsNormBackwardParams b;
    b.n_rows = N;
    b.dim = D;
    b.dy = cot.data();
    b.h = x.data();
    b.weight = w.data();
    b.rstd = rstd.data();
    b.dh_extra = extra.data();
    b.dx = dx.data();
    b.dweight = dw.data();
    std::vector<char> ws(rk::rmsnorm_backward_workspace_bytes(N, D));
    b.workspace = ws.data();
    b.workspace_bytes = ws.size();
    // rstd passes through fp32 here: the comparison allows for that (1e-6).
    const auto br = rk::rmsnorm_backward_ref(b);
    auto fd = [&](float& v) {
      const float v0 = v;
      v = v0 + 1e-3f;
      const double up = objective(), dup = double(v) - v0;
      v = v0 - 1e-3f;
      const double down = objective(), ddown = v0 - double(v);
      v = v0;
      return (up - down) / (dup + ddown);
    };
    for (int64_t k = 0; k < N * D; ++k) {
      const double want = fd(x[k]) + extra[k];
      QVERIFY2(std::abs(br.dx[k] - want) < 2e-5,
               qPrintable(QStringLiteral("dx[%1]: %2 vs fd %3").arg(k).arg(br.dx[k]).arg(want)));
    }
    for (int64_t j = 0; j < D; ++j) {
      const double want = fd(w[j]);
      QVERIFY2(std::abs(br.dweight[j] - want) < 2e-5,
               qPrintable(QStringLiteral("dw[%1]: %2 vs fd %3")
                              .arg(j).arg(br.dweight[j]).arg(want)));
    }
  }

  void ropeRefByHand() {
    // Two positions, dim 4 (pairs (x0, x1), (x2, x3)), one head: pair i of position t turns by
    // theta[t, i]; (1, 0) lands on (cos, sin) and (0, 1) on (-sin, cos).
    const double th[2][2] = {{0.3, -1.1}, {2.0, 0.7}};
    float cs[4], sn[4];
    for (int t = 0; t < 2; ++t)
      for (int i = 0; i < 2; ++i) {
        cs[t * 2 + i] = static_cast<float>(std::cos(th[t][i]));
        sn[t * 2 + i] = static_cast<float>(std::sin(th[t][i]));
      }
    // Rows padded to 6 elements (a strided view), values in the padding must be ignored.
    const float x[12] = {1, 0, 0, 1, 99, 99, 0, 1, 1, 0, 99, 99};
    float out[8];
    rk::RopeParams p;
    p.batch = 1;
    p.seq = 2;
    p.heads = 1;
    p.dim = 4;
    p.x = x;
    p.x_stride_b = 12;
    p.x_stride_t = 6;
    p.x_stride_h = 6;
    p.out = out;
    p.cos = cs;
    p.sin = sn;
    const auto r = rk::rope_ref(p);
    const double want[8] = {cs[0], sn[0], -sn[1], cs[1], -sn[2], cs[2], cs[3], sn[3]};
    for (int k = 0; k < 8; ++k)
      QVERIFY2(std::abs(r[k] - want[k]) < 1e-15, qPrintable(QStringLiteral("element %1").arg(k)));
    // The backward (rotation by -theta) undoes the forward; rotations keep pair norms.
    std::mt19937 rng(14);
    const std::vector<float> y = random_floats(8, rng, 1.0);
    p.x = y.data();
    p.x_stride_b = 8;
    p.x_stride_t = 4;
    p.x_stride_h = 4;
    const auto fwd = rk::rope_ref(p);
    const std::vector<float> fwd_f(fwd.begin(), fwd.end());
    p.x = fwd_f.data();
    p.backward = true;
    const auto back = rk::rope_ref(p);
    for (int k = 0; k < 8; ++k) QVERIFY(std::abs(back[k] - y[k]) < 1e-6);
    for (int k = 0; k < 8; k += 2)
      QVERIFY(std::abs(std::hypot(fwd[k], fwd[k + 1]) - std::hypot(y[k], y[k + 1])) < 1e-6);
    // Whole head rows: the first head_dim - dim elements copied as they are, the rest rotated as
    // above; an odd copied width (head_dim 5) shifts the pairs by one.
    for (const int64_t hd : {6, 5}) {
      const int64_t keep = hd - 4;
      const float head[2] = {5, -3};
      std::vector<float> rows(2 * hd);
      for (int t = 0; t < 2; ++t) {
        for (int64_t j = 0; j < keep; ++j) rows[t * hd + j] = head[j] + t;
        for (int64_t j = 0; j < 4; ++j) rows[t * hd + keep + j] = x[t * 6 + j];
      }
      p.x = rows.data();
      p.x_stride_b = 2 * hd;
      p.x_stride_t = p.x_stride_h = hd;
      p.head_dim = hd;
      p.backward = false;
      const auto rr = rk::rope_ref(p);
      QCOMPARE(rr.size(), size_t(2 * hd));
      for (int t = 0; t < 2; ++t) {
        for (int64_t j = 0; j < keep; ++j) QCOMPARE(rr[t * hd + j], double(head[j] + t));
        for (int64_t j = 0; j < 4; ++j)
          QVERIFY2(std::abs(rr[t * hd + keep + j] - want[t * 4 + j]) < 1e-15,
                   qPrintable(QStringLiteral("head_dim %1 position %2 element %3")
                                  .arg(hd).arg(t).arg(j)));
      }
    }
  }

  void swigluRefByHand() {
    // silu(a) b at worked points: a = 0 gives 0 (σ = 1/2, da = b/2); a = 2: σ = 0.880797...,
    // h = 2σb; large |a| saturates (silu(-30) ~ -2.8e-12, silu(30) = 30). Rows of 3 inside rows
    // of 5: the padding is never read.
    const float a[10] = {0.f, 2.f, -30.f, 99.f, 99.f, 30.f, -1.f, 0.5f, 99.f, 99.f};
    const float b[6] = {3.f, -1.5f, 2.f, 0.25f, 4.f, -2.f};
    rk::SwigluParams p;
    p.n_rows = 2;
    p.dim = 3;
    p.a = a;
    p.ld_a = 5;
    p.b = b;
    float h[6];
    p.h = h;
    const auto y = rk::swiglu_forward_ref(p);
    const double s2 = 1.0 / (1.0 + std::exp(-2.0));
    const double want[6] = {0.0, 2 * s2 * -1.5, -30.0 / (1.0 + std::exp(30.0)) * 2.0,
                            30.0 / (1.0 + std::exp(-30.0)) * 0.25,
                            -1.0 / (1.0 + std::exp(1.0)) * 4.0, 0.5 / (1.0 + std::exp(-0.5)) * -2.0};
    for (int k = 0; k < 6; ++k)
      QVERIFY2(std::abs(y[k] - want[k]) <= 1e-15 * std::max(1.0, std::abs(want[k])),
               qPrintable(QStringLiteral("h[%1] = %2, want %3").arg(k).arg(y[k]).arg(want[k])));
    // The backward against central differences of the forward, on random points.
    std::mt19937 rng(21);
    const std::vector<float> ar = random_floats(12, rng, 2.0), br = random_floats(12, rng, 1.0),
                             g = random_floats(12, rng, 1.0);
    rk::SwigluBackwardParams q;
    q.n_rows = 3;
    q.dim = 4;
    q.dh = g.data();
    q.a = ar.data();
    q.b = br.data();
    float da[12], db[12];
    q.da = da;
    q.db = db;
    const auto r = rk::swiglu_backward_ref(q);
    auto silu_b = [](double x, double y) { return x / (1.0 + std::exp(-x)) * y; };
    for (int k = 0; k < 12; ++k) {
      const double e = 1e-5;
      const double fa = (silu_b(ar[k] + e, br[k]) - silu_b(ar[k] - e, br[k])) / (2 * e) * g[k];
      const double fb = (silu_b(ar[k], br[k] + e) - silu_b(ar[k], br[k] - e)) / (2 * e) * g[k];
      QVERIFY2(std::abs(r.da[k] - fa) < 1e-7 * std::max(1.0, std::abs(fa)),
               qPrintable(QStringLiteral("da[%1] %2 vs fd %3").arg(k).arg(r.da[k]).arg(fa)));
      QVERIFY2(std::abs(r.db[k] - fb) < 1e-7 * std::max(1.0, std::abs(fb)),
               qPrintable(QStringLiteral("db[%1] %2 vs fd %3").arg(k).arg(r.db[k]).arg(fb)));
    }
  }

  void adamwRefByHand() {
    // Step 1 from zero moments: m = (1 - b1) g, v = (1 - b2) g^2, the bias-corrected ratio is
    // g / (|g| + eps'), eps' = eps * sqrt(1 - b2): the update is lr * sign(g), almost.
    float p[3] = {1.f, -2.f, 0.5f}, m[3] = {0, 0, 0}, v[3] = {0, 0, 0};
    const float g[3] = {0.3f, -4.f, 1e-3f};
    rk::AdamWTensor t;
    t.param = p;
    t.grad = g;
    t.exp_avg = m;
    t.exp_avg_sq = v;
    t.numel = 3;
    t.lr = 0.01f;
    t.weight_decay = 0.1f;
    rk::AdamWOptions o;
    o.beta1 = 0.9f;
    o.beta2 = 0.99f;
    o.eps = 1e-8f;
    const auto r = rk::adamw_ref(t, o);
    for (int i = 0; i < 3; ++i) {
      const double lr = double(t.lr), gi = g[i];
      const double want = p[i] * (1 - lr * double(t.weight_decay)) -
                          lr * gi / (std::abs(gi) + double(o.eps));
      QVERIFY2(std::abs(r.param[i] - want) < 1e-12,
               qPrintable(QStringLiteral("param %1: %2 vs %3").arg(i).arg(r.param[i]).arg(want)));
      QVERIFY(std::abs(r.exp_avg[i] - (1 - double(o.beta1)) * gi) < 1e-12);
      QVERIFY(std::abs(r.exp_avg_sq[i] - (1 - double(o.beta2)) * gi * gi) < 1e-12);
    }
    // Step 2 with grad_scale, from the step-1 state, against the formula written out.
    std::vector<float> p1(r.param.begin(), r.param.end()), m1(r.exp_avg.begin(), r.exp_avg.end()),
        v1(r.exp_avg_sq.begin(), r.exp_avg_sq.end());
    t.param = p1.data();
    t.exp_avg = m1.data();
    t.exp_avg_sq = v1.data();
    o.step = 2;
    o.grad_scale = 0.5f;
    const auto r2 = rk::adamw_ref(t, o);
    for (int i = 0; i < 3; ++i) {
      const double b1 = o.beta1, b2 = o.beta2, lr = t.lr, gi = 0.5 * g[i];
      const double mm = b1 * m1[i] + (1 - b1) * gi, vv = b2 * v1[i] + (1 - b2) * gi * gi;
      const double want = p1[i] * (1 - lr * double(t.weight_decay)) -
                          lr * (mm / (1 - b1 * b1)) /
                              (std::sqrt(vv / (1 - b2 * b2)) + double(o.eps));
      QVERIFY(std::abs(r2.param[i] - want) < 1e-12);
    }
  }

  // --- GPU cases -----------------------------------------------------------------------------

  void crossEntropyGpu_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("targetType");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("vocab");
    QTest::addColumn<int>("ldPad");      // ld = vocab + ldPad
    QTest::addColumn<int>("offset");     // base pointer offset in elements (misalignment)
    QTest::addColumn<double>("smoothing");
    QTest::addColumn<int>("grad");       // 0 none, 1 separate buffer, 2 in place, 3 separate and
                                         // misaligned against the logits (scalar path)
    const int f32 = int(DType::f32), b16 = int(DType::bf16);
    const int i64 = int(IndexType::i64), i32 = int(IndexType::i32);
    QTest::newRow("f32 V=1") << f32 << i64 << 5 << 1 << 0 << 0 << 0.1 << 1;
    QTest::newRow("f32 V=7 warp/row") << f32 << i64 << 33 << 7 << 0 << 0 << 0.0 << 1;
    QTest::newRow("bf16 V=7 in place") << b16 << i32 << 33 << 7 << 0 << 0 << 0.1 << 2;
    QTest::newRow("f32 V=1000 eps=0.1") << f32 << i64 << 37 << 1000 << 0 << 0 << 0.1 << 1;
    QTest::newRow("bf16 V=1000 i32 ld+5 off3") << b16 << i32 << 37 << 1000 << 5 << 3 << 0.1 << 1;
    QTest::newRow("f32 V=1025 block 256") << f32 << i64 << 9 << 1025 << 0 << 0 << 0.0 << 2;
    QTest::newRow("bf16 V=8192") << b16 << i64 << 5 << 8192 << 0 << 0 << 0.1 << 1;
    QTest::newRow("f32 V=8193 block 512") << f32 << i64 << 3 << 8193 << 0 << 1 << 0.1 << 1;
    QTest::newRow("bf16 V=32781 in place") << b16 << i64 << 6 << 32768 + 13 << 0 << 0 << 0.1 << 2;
    QTest::newRow("bf16 V=32781 misaligned grad") << b16 << i64 << 4 << 32768 + 13 << 0 << 0
                                                  << 0.1 << 3;
    QTest::newRow("f32 V=32781 ld+3 off1") << f32 << i64 << 4 << 32768 + 13 << 3 << 1 << 0.0 << 1;
    QTest::newRow("bf16 V=32768 forward only") << b16 << i32 << 7 << 32768 << 0 << 0 << 0.1 << 0;
    QTest::newRow("f32 V=50000 eps=1") << f32 << i64 << 3 << 50000 << 0 << 0 << 1.0 << 1;
  }

  void crossEntropyGpu() {
    REQUIRE_GPU();
    QFETCH(int, dtype);
    QFETCH(int, targetType);
    QFETCH(int, rows);
    QFETCH(int, vocab);
    QFETCH(int, ldPad);
    QFETCH(int, offset);
    QFETCH(double, smoothing);
    QFETCH(int, grad);
    GPU_TRY({
      const DType dt = DType(dtype);
      const IndexType tt = IndexType(targetType);
      const int es = rk::size_of(dt);
      const int64_t N = rows, V = vocab, ld = V + ldPad;
      std::mt19937 rng(1000 + N * 7 + V);
      HostArray x = random_array(dt, N * ld, rng, 3.0, 0.5);
      std::vector<int64_t> t64(N);
      std::uniform_int_distribution<int64_t> pick(0, V - 1);
      for (int64_t i = 0; i < N; ++i) t64[i] = i % 5 == 3 ? -100 : pick(rng);  // some ignored
      std::vector<int32_t> t32(t64.begin(), t64.end());
      const void* th = tt == IndexType::i64 ? static_cast<const void*>(t64.data()) : t32.data();
      const size_t tbytes = N * (tt == IndexType::i64 ? 8 : 4);

      DeviceBuffer dx((N * ld + offset + 8) * es), dt_(tbytes), dloss(N * 4), dlse(N * 4);
      const size_t xo = size_t(offset) * es;
      dx.upload(xo, x.data(), x.bytes());
      dt_.upload(0, th, tbytes);
      const int64_t gofs = grad == 3 ? offset + 1 : offset;  // 3: other 16-byte phase
      DeviceBuffer dg(grad == 1 || grad == 3 ? (N * ld + gofs + 8) * es : 0);

      rk::CrossEntropyParams p;
      p.dtype = dt;
      p.n_rows = N;
      p.vocab = V;
      p.ld_logits = ld;
      p.target_type = tt;
      p.smoothing = static_cast<float>(smoothing);
      p.grad_scale = 1.f / 3.f;
      p.logits = x.data();
      p.targets = th;
      p.ld_dlogits = ld;
      if (grad) p.dlogits = x.data();  // the reference only looks at whether it is set
      const auto ref = rk::cross_entropy_ref(p);

      p.logits = dx.at(xo);
      p.targets = dt_.at(0);
      p.loss = reinterpret_cast<float*>(dloss.at(0));
      p.lse = reinterpret_cast<float*>(dlse.at(0));
      p.dlogits = grad == 0 ? nullptr : grad == 2 ? dx.at(xo) : dg.at(size_t(gofs) * es);
      p.ld_dlogits = ld;
      status_ok(rk::cross_entropy(p, nullptr));
      sync();

      CHECK_ERR("loss", rel_err(read_floats(dloss, 0, N), ref.loss, 1e-3 * std::sqrt(N)),
                kTolF32);
      CHECK_ERR("lse", rel_err(read_floats(dlse, 0, N), ref.lse, 1e-3 * std::sqrt(N)), kTolF32);
      if (grad) {
        const DeviceBuffer& gb = grad == 2 ? dx : dg;
        const size_t go = grad == 2 ? xo : size_t(gofs) * es;
        const auto out = read_rows(gb, go, dt, N, V, ld);
        CHECK_ERR("dlogits", rel_err(out, ref.dlogits, 1e-3 * std::sqrt(double(N * V)) / 3),
                  tol_for(dt, kTolCeGradF32));
        // Nothing outside the rows was written: the padding keeps its poison or its logits.
        const auto all = gb.bytes();
        for (int64_t i = 0; i < N; ++i)
          for (int64_t j = V; j < ld && i * ld + j < N * ld; ++j) {
            const size_t at = go + size_t(i * ld + j) * es;
            const bool kept = grad == 2 ? std::memcmp(&all[at], static_cast<const char*>(x.data()) +
                                                                    (i * ld + j) * es, es) == 0
                                        : all[at] == 0xFF;
            QVERIFY2(kept, qPrintable(QStringLiteral("row %1 padding %2 written").arg(i).arg(j)));
          }
        if (grad != 2) {
          for (size_t k = 0; k < go; ++k) QCOMPARE(all[k], uint8_t(0xFF));
          for (size_t k = go + size_t(N * ld) * es; k < all.size(); ++k)
            QCOMPARE(all[k], uint8_t(0xFF));
        }
      }
    })
  }

  void crossEntropyBadTargetAndMeanScaleGpu() {
    REQUIRE_GPU();
    GPU_TRY({
      const int64_t N = 300, V = 50;
      std::mt19937 rng(21);
      HostArray x = random_array(DType::f32, N * V, rng, 1.0);
      std::vector<int64_t> t(N);
      for (int64_t i = 0; i < N; ++i) t[i] = i % 3 == 0 ? -1 : i % V;  // ignore_index -1
      t[7] = V;                                                          // out of range
      DeviceBuffer dx(N * V * 4), dt(N * 8), dloss(N * 4), dg(N * V * 4), dscale(8), dgo(4);
      dx.upload(0, x.data(), x.bytes());
      dt.upload(0, t.data(), N * 8);
      const float grad_out = 3.f;
      dgo.upload(0, &grad_out, 4);
      auto* scale = reinterpret_cast<float*>(dscale.at(0));
      auto* nvalid = reinterpret_cast<int32_t*>(dscale.at(4));
      status_ok(rk::cross_entropy_mean_scale(dt.at(0), IndexType::i64, N, -1, 0.5f,
                                             reinterpret_cast<float*>(dgo.at(0)), scale, nvalid,
                                             nullptr));
      rk::CrossEntropyParams p;
      p.n_rows = N;
      p.vocab = V;
      p.ignore_index = -1;
      p.logits = dx.at(0);
      p.targets = dt.at(0);
      p.loss = reinterpret_cast<float*>(dloss.at(0));
      p.dlogits = dg.at(0);
      p.grad_scale = 2.f;
      p.grad_scale_dev = scale;
      status_ok(rk::cross_entropy(p, nullptr));
      sync();
      float s = 0;
      int32_t n = 0;
      dscale.download(0, &s, 4);
      dscale.download(4, &n, 4);
      QCOMPARE(n, int32_t(200));
      QCOMPARE(s, 0.5f * 3.f / 200.f);
      const auto loss = read_floats(dloss, 0, N);
      const auto g = read_rows(dg, 0, DType::f32, N, V, V);
      QVERIFY(std::isnan(loss[7]));
      for (int64_t j = 0; j < V; ++j) QVERIFY(std::isnan(g[7 * V + j]));
      p.logits = x.data();
      p.targets = t.data();
      p.grad_scale = 2.f * s;
      p.grad_scale_dev = nullptr;
      const auto ref = rk::cross_entropy_ref(p);
      CHECK_ERR("loss", rel_err(loss, ref.loss), kTolF32);
      CHECK_ERR("dlogits (device scale)", rel_err(g, ref.dlogits), kTolCeGradF32);
    })
  }

  void rmsnormGpu_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("dim");
    QTest::addColumn<int>("ldPad");
    QTest::addColumn<int>("offset");    // elements; an offset breaks 16-byte packs
    QTest::addColumn<bool>("residual");
    QTest::addColumn<bool>("extra");    // dh_extra in the backward
    QTest::addColumn<bool>("accumulate");
    QTest::addColumn<bool>("lowBf16");  // f32 x, h, dx with y, residual, dy in bf16 (autocast)
    const int f32 = int(DType::f32), b16 = int(DType::bf16);
    QTest::newRow("f32 D=1") << f32 << 5 << 1 << 0 << 0 << false << false << false << false;
    QTest::newRow("bf16 D=7 residual") << b16 << 37 << 7 << 0 << 0 << true << true << false << false;
    QTest::newRow("f32 D=64 N=4099") << f32 << 4099 << 64 << 0 << 0 << false << true << true << false;
    QTest::newRow("bf16 D=256 kv_norm strided") << b16 << 1000 << 256 << 16 << 0 << false
                                                << false << false << false;
    QTest::newRow("bf16 D=384 residual") << b16 << 333 << 384 << 0 << 0 << true << false << true << false;
    QTest::newRow("bf16 D=768 residual extra") << b16 << 2050 << 768 << 0 << 0 << true << true
                                               << false << false;
    QTest::newRow("f32 D=768 residual") << f32 << 129 << 768 << 0 << 0 << true << true << false << false;
    QTest::newRow("f32 D=1000 off1") << f32 << 17 << 1000 << 0 << 1 << false << false << false << false;
    QTest::newRow("bf16 D=1013 scalar") << b16 << 9 << 1013 << 0 << 0 << true << true << false << false;
    // Every (threads, packs) shape the dispatch picks: 32 x 4, 64 x 4, 128 x 3, 256 x 3 here.
    QTest::newRow("bf16 D=1024 extra") << b16 << 77 << 1024 << 0 << 0 << false << true << false << false;
    QTest::newRow("bf16 D=2048 residual") << b16 << 21 << 2048 << 8 << 0 << true << false << true << false;
    QTest::newRow("f32 D=1536 extra") << f32 << 23 << 1536 << 0 << 0 << false << true << false << false;
    QTest::newRow("bf16 D=6144") << b16 << 11 << 6144 << 0 << 0 << false << false << false << false;
    QTest::newRow("bf16 D=4096") << b16 << 65 << 4096 << 0 << 0 << false << false << false << false;
    QTest::newRow("f32 D=4096 residual") << f32 << 31 << 4096 << 8 << 0 << true << true << true << false;
    QTest::newRow("bf16 D=8192") << b16 << 19 << 8192 << 0 << 0 << true << false << false << false;
    QTest::newRow("f32 y/dy bf16 D=768 extra") << f32 << 2050 << 768 << 0 << 0 << false << true
                                               << false << true;
    QTest::newRow("f32 y/r/dy bf16 D=384 residual") << f32 << 333 << 384 << 8 << 0 << true
                                                  << false << true << true;
    QTest::newRow("f32 y/r/dy bf16 D=768 residual extra") << f32 << 1030 << 768 << 0 << 0
                                                          << true << true << false << true;
    QTest::newRow("f32 y/dy bf16 D=1000 off1") << f32 << 17 << 1000 << 0 << 1 << false << true
                                               << false << true;
  }

  void rmsnormGpu() {
    REQUIRE_GPU();
    QFETCH(int, dtype);
    QFETCH(int, rows);
    QFETCH(int, dim);
    QFETCH(int, ldPad);
    QFETCH(int, offset);
    QFETCH(bool, residual);
    QFETCH(bool, extra);
    QFETCH(bool, accumulate);
    QFETCH(bool, lowBf16);
    GPU_TRY({
      const DType dt = DType(dtype);
      const DType ydt = lowBf16 ? DType::bf16 : dt;  // of y and dy
      const int es = rk::size_of(dt), yes = rk::size_of(ydt);
      const int64_t N = rows, D = dim, ld = D + ldPad;
      std::mt19937 rng(2000 + N + D);
      const HostArray x = random_array(dt, N * ld, rng, 1.0, 0.2);
      const HostArray r = random_array(ydt, N * ld, rng, 0.7);  // the branch: y's type
      const std::vector<float> w = random_floats(D, rng, 0.3, 1.0);
      const HostArray dy = random_array(ydt, N * ld, rng, 1.0);
      const HostArray ex = random_array(dt, N * ld, rng, 0.5);
      const std::vector<float> dw0 = random_floats(D, rng, 1.0);

      const size_t ob = size_t(offset) * es, bytes = (N * ld + offset + 8) * es;
      const size_t oby = size_t(offset) * yes;  // y and dy
      DeviceBuffer bx(bytes), br(bytes), by(bytes), bh(bytes), bdy(bytes), bex(bytes),
          bdx(bytes), bw(D * 4), brstd(N * 4), bdw(D * 4);
      bx.upload(ob, x.data(), x.bytes());
      br.upload(oby, r.data(), r.bytes());
      bw.upload(0, w.data(), D * 4);

      // Forward.
      rk::RmsNormForwardParams f;
      f.dtype = dt;
      f.n_rows = N;
      f.dim = D;
      f.eps = 1e-5f;
      f.y_bf16 = lowBf16;
      f.ld_x = f.ld_residual = f.ld_y = f.ld_h = ld;
      f.x = x.data();
      f.residual = residual ? r.data() : nullptr;
      f.weight = w.data();
      f.y = by.at(0);  // the reference reads inputs only
      f.h = residual ? bh.at(0) : nullptr;
      const auto fref = rk::rmsnorm_forward_ref(f);
      f.x = bx.at(ob);
      f.residual = residual ? br.at(oby) : nullptr;
      f.weight = reinterpret_cast<float*>(bw.at(0));
      f.y = by.at(oby);
      f.h = residual ? bh.at(ob) : nullptr;
      f.rstd = reinterpret_cast<float*>(brstd.at(0));
      status_ok(rk::rmsnorm_forward(f, nullptr));
      sync();
      CHECK_ERR("y", rel_err(read_rows(by, oby, ydt, N, D, ld), fref.y), tol_for(ydt, kTolF32));
      CHECK_ERR("rstd", rel_err(read_floats(brstd, 0, N), fref.rstd), kTolF32);
      if (residual)  // h is x + r rounded once: exact up to that rounding's ties
        CHECK_ERR("h", rel_err(read_rows(bh, ob, dt, N, D, ld), fref.h), 1e-7);
      {  // row padding untouched
        const auto yb = by.bytes();
        for (int64_t i = 0; i + 1 < N; ++i)
          for (int64_t j = D; j < ld; ++j) QCOMPARE(yb[oby + (i * ld + j) * yes], uint8_t(0xFF));
      }

      // Backward, from the reference's h and rstd (rounded to what the kernel stores).
      HostArray h(dt, N * ld);
      for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < D; ++j) h.set(i * ld + j, static_cast<float>(fref.h[i * D + j]));
      const std::vector<float> rstd(fref.rstd.begin(), fref.rstd.end());
      bh.upload(ob, h.data(), h.bytes());
      bdy.upload(oby, dy.data(), dy.bytes());
      bex.upload(ob, ex.data(), ex.bytes());
      brstd.upload(0, rstd.data(), N * 4);
      bdw.upload(0, dw0.data(), D * 4);
      std::vector<float> dw_host = dw0;
      rk::RmsNormBackwardParams b;
      b.dtype = dt;
      b.n_rows = N;
      b.dim = D;
      b.dy_bf16 = lowBf16;
      b.ld_dy = b.ld_h = b.ld_dh_extra = b.ld_dx = ld;
      b.dy = dy.data();
      b.h = h.data();
      b.weight = w.data();
      b.rstd = rstd.data();
      b.dh_extra = extra ? ex.data() : nullptr;
      b.dx = bdx.at(0);
      b.dweight = dw_host.data();
      b.accumulate_dweight = accumulate;
      const size_t wsb = rk::rmsnorm_backward_workspace_bytes(N, D);
      std::vector<char> ws_host(wsb);
      b.workspace = ws_host.data();
      b.workspace_bytes = wsb;
      const auto bref = rk::rmsnorm_backward_ref(b);
      DeviceBuffer bws(wsb);
      b.dy = bdy.at(oby);
      b.h = bh.at(ob);
      b.weight = reinterpret_cast<float*>(bw.at(0));
      b.rstd = reinterpret_cast<float*>(brstd.at(0));
      b.dh_extra = extra ? bex.at(ob) : nullptr;
      b.dx = bdx.at(ob);
      b.dweight = reinterpret_cast<float*>(bdw.at(0));
      b.workspace = bws.at(0);
      status_ok(rk::rmsnorm_backward(b, nullptr));
      sync();
      // dx = rstd (w dy - xhat dot) cancels where xhat^2 ~ 1 (small dim): the error is measured
      // against the size of the terms, ||rstd w dy||, when that is larger than ||dx||.
      double terms = 0;
      for (int64_t i = 0; i < N; ++i)
        for (int64_t j = 0; j < D; ++j) terms += std::pow(rstd[i] * w[j] * dy.get(i * ld + j), 2);
      CHECK_ERR("dx", rel_err(read_rows(bdx, ob, dt, N, D, ld), bref.dx, std::sqrt(terms)),
                tol_for(dt, kTolF32));
      CHECK_ERR("dweight", rel_err(read_floats(bdw, 0, D), bref.dweight), kTolReduceF32);

      // In place: dx over dy gives the same result, bit for bit (not with dy in bf16).
      if (lowBf16) return;
      const auto dx1 = bdx.bytes();
      b.dx = bdy.at(ob);
      b.dweight = nullptr;
      status_ok(rk::rmsnorm_backward(b, nullptr));
      sync();
      const auto dx2 = bdy.bytes();
      for (int64_t i = 0; i < N; ++i)
        QVERIFY(std::memcmp(&dx1[ob + i * ld * es], &dx2[ob + i * ld * es], D * es) == 0);
    })
  }

  void adamwGpu_data() {
    QTest::addColumn<int>("gradType");
    QTest::addColumn<bool>("bf16Copy");
    QTest::addColumn<QList<qlonglong>>("sizes");  // numel per tensor; negative: misaligned
    const int f32 = int(DType::f32), b16 = int(DType::bf16);
    const QList<qlonglong> odd = {1, 7, 65536 + 3, -1000, 300001, 4, 0};
    QList<qlonglong> many;  // more tensors than one launch holds (96)
    for (int i = 0; i < 130; ++i) many << 1 + (i * 977) % 5000;
    QTest::newRow("f32 grads, odd sizes") << f32 << false << odd;
    QTest::newRow("bf16 grads, odd sizes, bf16 copy") << b16 << true << odd;
    QTest::newRow("f32 grads, 130 tensors") << f32 << true << many;
    QTest::newRow("bf16 grads, > 1536 chunks") << b16 << false
                                               << QList<qlonglong>{1536LL * 65536 + 5, 33};
  }

  void adamwGpu() {
    REQUIRE_GPU();
    QFETCH(int, gradType);
    QFETCH(bool, bf16Copy);
    QFETCH(QList<qlonglong>, sizes);
    int64_t total = 0;
    for (qlonglong n : sizes) total += std::abs(n);
    if (total > 50'000'000 && (emulated() || qEnvironmentVariableIsSet("R1_KERNELS_QUICK")))
      QSKIP("100M elements: skipped under the CPU emulation and with R1_KERNELS_QUICK");
    GPU_TRY({
      const DType gt = DType(gradType);
      std::mt19937 rng(3000 + sizes.size());
      struct Host {
        std::vector<float> p, m, v;
        HostArray g{DType::f32, 0};
        int64_t n = 0, off = 0;
        std::unique_ptr<DeviceBuffer> dp, dg, dm, dv, dc;
      };
      std::vector<Host> hs(sizes.size());
      std::vector<rk::AdamWTensor> ts(sizes.size());
      std::uniform_real_distribution<double> u01(0.0, 1.0);
      for (int k = 0; k < sizes.size(); ++k) {
        Host& h = hs[k];
        h.n = std::abs(sizes[k]);
        h.off = sizes[k] < 0 ? 1 : 0;
        h.p = random_floats(h.n, rng, 1.0);
        h.m = random_floats(h.n, rng, 0.01);
        h.v.resize(h.n);
        for (auto& x : h.v) x = static_cast<float>(1e-4 * u01(rng));  // a second moment: >= 0
        h.g = random_array(gt, h.n, rng, 0.02);
        const int es = rk::size_of(gt);
        h.dp = std::make_unique<DeviceBuffer>((h.n + 1) * 4);
        h.dm = std::make_unique<DeviceBuffer>((h.n + 1) * 4);
        h.dv = std::make_unique<DeviceBuffer>((h.n + 1) * 4);
        h.dg = std::make_unique<DeviceBuffer>((h.n + 1) * es);
        h.dc = std::make_unique<DeviceBuffer>(bf16Copy ? (h.n + 1) * 2 : 0);
        h.dp->upload(h.off * 4, h.p.data(), h.n * 4);
        h.dm->upload(h.off * 4, h.m.data(), h.n * 4);
        h.dv->upload(h.off * 4, h.v.data(), h.n * 4);
        h.dg->upload(h.off * es, h.g.data(), h.g.bytes());
        rk::AdamWTensor& t = ts[k];
        t.param = reinterpret_cast<float*>(h.dp->at(h.off * 4));
        t.grad = h.dg->at(h.off * es);
        t.exp_avg = reinterpret_cast<float*>(h.dm->at(h.off * 4));
        t.exp_avg_sq = reinterpret_cast<float*>(h.dv->at(h.off * 4));
        t.param_bf16 = bf16Copy ? h.dc->at(h.off * 2) : nullptr;
        t.numel = h.n;
        t.lr = static_cast<float>(0.02 + 0.08 * u01(rng));  // layered rates
        t.weight_decay = k % 3 == 0 ? 0.f : 0.1f;
      }
      rk::AdamWOptions o;
      o.beta1 = 0.9f;
      o.beta2 = 0.95f;
      o.eps = 1e-8f;
      o.step = 7;
      o.grad_dtype = gt;
      o.grad_scale = 0.5f;
      DeviceBuffer dflag(8);
      const float flags[2] = {2.f, 1.f};  // grad_scale_dev, found_inf_dev (overflow first)
      dflag.upload(0, flags, 8);
      o.grad_scale_dev = reinterpret_cast<float*>(dflag.at(0));
      o.found_inf_dev = reinterpret_cast<float*>(dflag.at(4));
      status_ok(rk::adamw(ts.data(), int(ts.size()), o, nullptr));
      sync();
      for (auto& h : hs) {  // found_inf != 0: nothing moved
        std::vector<float> p(h.n);
        if (h.n) h.dp->download(h.off * 4, p.data(), h.n * 4);
        QVERIFY(std::memcmp(p.data(), h.p.data(), h.n * 4) == 0);
      }
      const float no_inf = 0.f;
      dflag.upload(4, &no_inf, 4);
      status_ok(rk::adamw(ts.data(), int(ts.size()), o, nullptr));
      sync();

      rk::AdamWOptions ro = o;
      ro.grad_scale = 1.f;  // 0.5 * 2 from the device
      ro.grad_scale_dev = ro.found_inf_dev = nullptr;
      for (int k = 0; k < int(hs.size()); ++k) {
        Host& h = hs[k];
        if (h.n == 0) continue;
        rk::AdamWTensor t = ts[k];
        t.param = h.p.data();
        t.grad = h.g.data();
        t.exp_avg = h.m.data();
        t.exp_avg_sq = h.v.data();
        const auto ref = rk::adamw_ref(t, ro);
        const auto p = read_floats(*h.dp, h.off * 4, h.n);
        // The update itself, p_new - p_old (param's own fp32 rounding ~6e-8 |p| against an
        // update ~lr: hence the looser tolerance here).
        std::vector<double> dp(h.n), dref(h.n);
        for (int64_t i = 0; i < h.n; ++i) {
          dp[i] = p[i] - double(h.p[i]);
          dref[i] = ref.param[i] - double(h.p[i]);
        }
        const QString at = QStringLiteral("tensor %1 (numel %2)").arg(k).arg(h.n);
        CHECK_ERR(qPrintable(at + QStringLiteral(" param")), rel_err(p, ref.param), kTolF32);
        CHECK_ERR(qPrintable(at + QStringLiteral(" update")), rel_err(dp, dref), 2e-5);
        CHECK_ERR(qPrintable(at + QStringLiteral(" exp_avg")),
                  rel_err(read_floats(*h.dm, h.off * 4, h.n), ref.exp_avg), kTolF32);
        CHECK_ERR(qPrintable(at + QStringLiteral(" exp_avg_sq")),
                  rel_err(read_floats(*h.dv, h.off * 4, h.n), ref.exp_avg_sq), kTolF32);
        if (bf16Copy)
          CHECK_ERR(qPrintable(at + QStringLiteral(" param_bf16")),
                    rel_err(read_rows(*h.dc, h.off * 2, DType::bf16, 1, h.n, h.n), ref.param),
                    kTolBf16);
      }
    })
  }

  void swigluGpu_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("dim");
    QTest::addColumn<bool>("halves");   // a and b the two halves of one [rows, 2 dim] buffer
    QTest::addColumn<bool>("inPlace");  // h over a; da over a, db over b
    const int f32 = int(DType::f32), b16 = int(DType::bf16);
    QTest::newRow("bf16 dense r1-mini expert") << b16 << 517 << 768 << false << false;
    QTest::newRow("bf16 halves of one GEMM") << b16 << 300 << 2048 << true << false;
    QTest::newRow("f32 halves in place") << f32 << 129 << 64 << true << true;
    QTest::newRow("bf16 odd dim (scalar path)") << b16 << 33 << 203 << false << false;
    QTest::newRow("f32 odd dim halves") << f32 << 7 << 37 << true << false;
    QTest::newRow("bf16 in place") << b16 << 65 << 96 << false << true;
  }

  void swigluGpu() {
    REQUIRE_GPU();
    QFETCH(int, dtype);
    QFETCH(int, rows);
    QFETCH(int, dim);
    QFETCH(bool, halves);
    QFETCH(bool, inPlace);
    GPU_TRY({
      const DType dt = DType(dtype);
      const int es = rk::size_of(dt);
      const int64_t N = rows, D = dim, ld = halves ? 2 * D : D;
      std::mt19937 rng(6000 + N + D);
      // a spans the saturated ends of silu as well as its middle.
      HostArray ab = random_array(dt, N * 2 * D, rng, 3.0);
      const HostArray g = random_array(dt, N * D, rng, 1.0);
      // a at element 0 of each row, b at D (halves) or in a second dense block.
      const size_t a_off = 0, b_off = halves ? D * es : N * D * es;
      DeviceBuffer buf(N * 2 * D * es), bh(N * D * es), bg(N * D * es), bda(N * D * es),
          bdb(N * D * es);
      buf.upload(0, ab.data(), ab.bytes());
      bg.upload(0, g.data(), g.bytes());

      rk::SwigluParams p;
      p.dtype = dt;
      p.n_rows = N;
      p.dim = D;
      p.ld_a = p.ld_b = ld;
      p.a = static_cast<const char*>(ab.data()) + a_off;
      p.b = static_cast<const char*>(ab.data()) + b_off;
      p.h = bh.at(0);  // the references write nothing: any non-null output pointer
      const auto ref = rk::swiglu_forward_ref(p);
      rk::SwigluBackwardParams q;
      q.dtype = dt;
      q.n_rows = N;
      q.dim = D;
      q.dh = g.data();
      q.a = p.a;
      q.b = p.b;
      q.ld_a = q.ld_b = ld;
      q.da = bda.at(0);
      q.db = bdb.at(0);
      const auto bref = rk::swiglu_backward_ref(q);

      p.a = buf.at(a_off);
      p.b = buf.at(b_off);
      p.h = inPlace ? buf.at(a_off) : bh.at(0);
      p.ld_h = inPlace ? ld : D;
      if (!inPlace) {  // the forward leaves a and b for the backward
        status_ok(rk::swiglu_forward(p, nullptr));
        sync();
        CHECK_ERR("swiglu forward", rel_err(read_rows(bh, 0, dt, N, D, D), ref),
                  tol_for(dt, kTolF32));
      }
      q.dh = bg.at(0);
      q.a = buf.at(a_off);
      q.b = buf.at(b_off);
      q.da = inPlace ? buf.at(a_off) : bda.at(0);
      q.db = inPlace ? buf.at(b_off) : bdb.at(0);
      q.ld_da = q.ld_db = inPlace ? ld : D;
      status_ok(rk::swiglu_backward(q, nullptr));
      sync();
      const DeviceBuffer& oa = inPlace ? buf : bda;
      const DeviceBuffer& ob = inPlace ? buf : bdb;
      CHECK_ERR("swiglu da", rel_err(read_rows(oa, inPlace ? a_off : 0, dt, N, D, q.ld_da),
                                     bref.da), tol_for(dt, kTolF32));
      CHECK_ERR("swiglu db", rel_err(read_rows(ob, inPlace ? b_off : 0, dt, N, D, q.ld_db),
                                     bref.db), tol_for(dt, kTolF32));
      if (inPlace) {  // the forward in place, after the backward read a and b
        buf.upload(0, ab.data(), ab.bytes());
        status_ok(rk::swiglu_forward(p, nullptr));
        sync();
        CHECK_ERR("swiglu forward in place", rel_err(read_rows(buf, a_off, dt, N, D, ld), ref),
                  tol_for(dt, kTolF32));
      }
    })
  }

  void ropeGpu_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("seq");
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("dim");
    QTest::addColumn<int>("headDim");    // 0: dim; else rows of headDim, the last dim rotated
    QTest::addColumn<int>("rowStride");  // elements between heads of x (a narrow of a wider row)
    QTest::addColumn<int>("offset");     // where x's part starts in that row
    QTest::addColumn<int>("outStride");  // 0: out laid out as x; else dense rows this far apart
    QTest::addColumn<bool>("backward");
    QTest::addColumn<bool>("inPlace");
    const int f32 = int(DType::f32), b16 = int(DType::bf16);
    QTest::newRow("bf16 q_pe r1-mini") << b16 << 3 << 37 << 12 << 16 << 0 << 64 << 48 << 0 << false
                                       << false;
    QTest::newRow("bf16 q_pe backward in place") << b16 << 2 << 33 << 12 << 16 << 0 << 64 << 48 << 0
                                                 << true << true;
    QTest::newRow("bf16 k_pe 1 head") << b16 << 2 << 129 << 1 << 16 << 0 << 272 << 256 << 0 << false
                                      << false;
    QTest::newRow("f32 dim 8 nano") << f32 << 5 << 64 << 4 << 8 << 0 << 24 << 16 << 0 << false
                                    << true;
    QTest::newRow("f32 dim 64 backward") << f32 << 2 << 17 << 3 << 64 << 0 << 64 << 0 << 0 << true
                                         << false;
    QTest::newRow("bf16 odd offset (pairs)") << b16 << 2 << 19 << 5 << 16 << 0 << 63 << 47 << 0
                                             << false << false;
    QTest::newRow("f32 dim 2") << f32 << 1 << 1000 << 2 << 2 << 0 << 2 << 0 << 0 << true << false;
    QTest::newRow("bf16 dim 6") << b16 << 3 << 7 << 3 << 6 << 0 << 10 << 4 << 0 << false << true;
    // Whole head rows (MLA's q): the first headDim - dim elements copied, the last dim rotated.
    QTest::newRow("bf16 q rows r1-mini") << b16 << 3 << 37 << 12 << 16 << 64 << 64 << 0 << 0
                                         << false << false;
    QTest::newRow("bf16 q rows backward") << b16 << 3 << 37 << 5 << 8 << 24 << 24 << 0 << 0 << true
                                          << false;
    QTest::newRow("f32 q rows") << f32 << 3 << 37 << 5 << 8 << 24 << 24 << 0 << 0 << false << false;
    QTest::newRow("f32 q rows backward in place") << f32 << 2 << 19 << 3 << 16 << 40 << 40 << 0 << 0
                                                  << true << true;
    QTest::newRow("bf16 q rows in place") << b16 << 2 << 33 << 12 << 16 << 64 << 64 << 0 << 0
                                          << false << true;
    QTest::newRow("bf16 q rows in wider rows, dense out") << b16 << 2 << 33 << 12 << 16 << 64 << 80
                                                          << 8 << 64 << true << false;
    QTest::newRow("bf16 q rows misaligned (pairs)") << b16 << 2 << 17 << 3 << 16 << 64 << 67 << 3
                                                    << 64 << false << false;
    QTest::newRow("bf16 odd copied width (pairs)") << b16 << 2 << 19 << 5 << 8 << 13 << 13 << 0
                                                   << 0 << false << false;
    QTest::newRow("f32 copied width 6 (pairs)") << f32 << 3 << 11 << 2 << 4 << 10 << 10 << 0 << 11
                                                << true << false;
  }

  void ropeGpu() {
    REQUIRE_GPU();
    QFETCH(int, dtype);
    QFETCH(int, batch);
    QFETCH(int, seq);
    QFETCH(int, heads);
    QFETCH(int, dim);
    QFETCH(int, headDim);
    QFETCH(int, rowStride);
    QFETCH(int, offset);
    QFETCH(int, outStride);
    QFETCH(bool, backward);
    QFETCH(bool, inPlace);
    GPU_TRY({
      const DType dt = DType(dtype);
      const int es = rk::size_of(dt);
      const int64_t B = batch, T = seq, H = heads, D = dim, S = rowStride;
      const int64_t W = headDim ? headDim : D;  // elements written per head
      // Where out's rows lie: as x's, or dense rows of outStride starting at element 0.
      const int64_t OS = inPlace || !outStride ? S : outStride;
      const int64_t ooff = inPlace || !outStride ? offset : 0;
      const int64_t total = B * T * H * S;
      std::mt19937 rng(4000 + T * H + D + W);
      const HostArray x = random_array(dt, total, rng, 1.0);
      // Tables as make_rope builds them: angle t * theta^(-2i / D), in double, stored as fp32.
      std::vector<float> cs(T * D / 2), sn(T * D / 2);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < D / 2; ++i) {
          const double a = t * std::pow(10000.0, -2.0 * i / D);
          cs[t * D / 2 + i] = static_cast<float>(std::cos(a));
          sn[t * D / 2 + i] = static_cast<float>(std::sin(a));
        }
      DeviceBuffer bx(total * es), bo(B * T * H * OS * es), bc(cs.size() * 4), bs(sn.size() * 4);
      bx.upload(0, x.data(), x.bytes());
      bc.upload(0, cs.data(), cs.size() * 4);
      bs.upload(0, sn.data(), sn.size() * 4);
      rk::RopeParams p;
      p.dtype = dt;
      p.batch = B;
      p.seq = T;
      p.heads = H;
      p.dim = D;
      p.head_dim = headDim;
      p.x_stride_b = T * H * S;
      p.x_stride_t = H * S;
      p.x_stride_h = S;
      p.out_stride_b = T * H * OS;
      p.out_stride_t = H * OS;
      p.out_stride_h = OS;
      p.backward = backward;
      p.x = static_cast<const char*>(x.data()) + offset * es;
      p.out = bo.at(0);
      p.cos = cs.data();
      p.sin = sn.data();
      const auto ref = rk::rope_ref(p);
      p.x = bx.at(offset * es);
      p.out = inPlace ? bx.at(offset * es) : bo.at(ooff * es);
      p.cos = reinterpret_cast<float*>(bc.at(0));
      p.sin = reinterpret_cast<float*>(bs.at(0));
      status_ok(rk::rope(p, nullptr));
      sync();
      const DeviceBuffer& ob = inPlace ? bx : bo;
      // Rows of W inside rows of OS: read each (b, t, h) row.
      const auto rows = read_rows(ob, ooff * es, dt, B * T * H, W, OS);
      CHECK_ERR("rope", rel_err(rows, ref), tol_for(dt, kTolF32));
      if (headDim) {  // the copied part is x's bits
        const auto copied = read_rows(ob, ooff * es, dt, B * T * H, W - D, OS);
        for (int64_t r = 0; r < B * T * H; ++r)
          for (int64_t j = 0; j < W - D; ++j)
            QVERIFY2(copied[r * (W - D) + j] == x.get(r * S + offset + j),
                     qPrintable(QStringLiteral("row %1 element %2 not copied").arg(r).arg(j)));
      }
      // Everything outside the written part is as it was (in place) or poison.
      const auto all = ob.bytes();
      for (int64_t r = 0; r < B * T * H; ++r)
        for (int64_t j = 0; j < OS; ++j) {
          if (j >= ooff && j < ooff + W) continue;
          const int64_t k = r * OS + j;
          if (k * es >= int64_t(all.size())) break;
          const bool kept = inPlace ? std::memcmp(&all[k * es], static_cast<const char*>(x.data()) +
                                                                   k * es, es) == 0
                                    : all[k * es] == 0xFF;
          QVERIFY2(kept, qPrintable(QStringLiteral("row %1 element %2 written").arg(r).arg(j)));
        }
    })
  }

  void moeRoutingRefByHand() {
    // Logits (0, 1, -1, 2): top 2 by sigmoid are experts 3 and 1, weights s3 : s1 normalized.
    const float x[4] = {0.f, 1.f, -1.f, 2.f};
    float w[2];
    int64_t idx[2];
    rk::MoeRoutingParams p;
    p.n_tokens = 1;
    p.n_experts = 4;
    p.top_k = 2;
    p.route_scale = 2.f;
    p.logits = x;
    p.weights = w;
    p.indices = idx;
    auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
    auto r = rk::moe_routing_ref(p);
    QCOMPARE(r.indices[0], int64_t(3));
    QCOMPARE(r.indices[1], int64_t(1));
    QVERIFY(std::abs(r.weights[0] - 2 * sig(2) / (sig(2) + sig(1))) < 1e-15);
    // A bias of 1 on expert 2 moves it first; its weight still comes from the unbiased score.
    const float bias[4] = {0.f, 0.f, 1.f, 0.f};
    p.bias = bias;
    r = rk::moe_routing_ref(p);
    QCOMPARE(r.indices[0], int64_t(2));
    QCOMPARE(r.indices[1], int64_t(3));
    QVERIFY(std::abs(r.weights[0] - 2 * sig(-1) / (sig(-1) + sig(2))) < 1e-15);
    // Two groups of two, one kept: group {2, 3} (1 + s(-1) + s(2)) beats {0, 1}.
    p.n_groups = 2;
    p.topk_groups = 1;
    r = rk::moe_routing_ref(p);
    QCOMPARE(r.indices[0], int64_t(2));
    QCOMPARE(r.indices[1], int64_t(3));
    p.bias = nullptr;  // without it group {0, 1} wins: s(0) + s(1) = 1.231 > s(-1) + s(2) = 1.150
    r = rk::moe_routing_ref(p);
    QCOMPARE(r.indices[0], int64_t(1));
    QCOMPARE(r.indices[1], int64_t(0));
  }

  // The routing backward reference against central differences of
  // sum(cw * weights) + sum(cs * scores) (the selection does not move for small steps).
  void moeRoutingRefFiniteDifference() {
    std::mt19937 rng(15);
    const int64_t N = 3;
    const int E = 6, K = 3;
    HostArray x = grid_logits(DType::f32, N, E, rng);
    const std::vector<float> cw = random_floats(N * K, rng, 1.0);
    const std::vector<float> cs = random_floats(N * E, rng, 1.0);
    std::vector<float> w(N * K);
    std::vector<int64_t> idx(N * K);
    rk::MoeRoutingParams p;
    p.n_tokens = N;
    p.n_experts = E;
    p.top_k = K;
    p.route_scale = 1.5f;
    p.logits = x.data();
    p.weights = w.data();
    p.indices = idx.data();
    const auto fr = rk::moe_routing_ref(p);
    auto objective = [&] {
      const auto r = rk::moe_routing_ref(p);
      double v = 0;
      for (int64_t k = 0; k < N * K; ++k) v += cw[k] * r.weights[k];
      for (int64_t k = 0; k < N * E; ++k) v += cs[k] * r.scores[k];
      return v;
    };
    const std::vector<float> scores(fr.scores.begin(), fr.scores.end());
    rk::MoeRoutingBackwardParams b;
    b.n_tokens = N;
    b.n_experts = E;
    b.top_k = K;
    b.route_scale = 1.5f;
    b.scores = scores.data();
    b.indices = fr.indices.data();
    b.dweights = cw.data();
    b.dscores_extra = cs.data();
    b.dlogits = w.data();  // (only "is set" matters to the reference)
    const auto g = rk::moe_routing_backward_ref(b);
    for (int64_t k = 0; k < N * E; ++k) {
      const float x0 = x.f[k];
      x.f[k] = x0 + 1e-3f;
      const double up = objective(), dup = double(x.f[k]) - x0;
      x.f[k] = x0 - 1e-3f;
      const double down = objective(), ddown = x0 - double(x.f[k]);
      x.f[k] = x0;
      const double fd = (up - down) / (dup + ddown);
      QVERIFY2(std::abs(fd - g[k]) < 1e-6,
               qPrintable(QStringLiteral("logit %1: fd %2 vs %3").arg(k).arg(fd).arg(g[k])));
    }
  }

  void moePermuteRefByHand() {
    // Pairs (token, slot) -> experts: (0,0)->1 (0,1)->0 (1,0)->1 (1,1)->2 (2,0)->0 (2,1)->1.
    const int32_t idx[6] = {1, 0, 1, 2, 0, 1};
    std::vector<int32_t> counts(3), offsets(4), position(6), pair_of(6);
    std::vector<char> ws(rk::moe_permute_workspace_bytes(3, 2, 3));
    rk::MoePermutePlanParams p;
    p.n_tokens = 3;
    p.top_k = 2;
    p.n_experts = 3;
    p.indices = idx;
    p.index_type = IndexType::i32;
    p.counts = counts.data();
    p.offsets = offsets.data();
    p.position = position.data();
    p.pair_of = pair_of.data();
    p.workspace = ws.data();
    p.workspace_bytes = ws.size();
    const auto r = rk::moe_permute_plan_ref(p);
    QCOMPARE(r.counts, (std::vector<int32_t>{2, 3, 1}));
    QCOMPARE(r.offsets, (std::vector<int32_t>{0, 2, 5, 6}));
    QCOMPARE(r.pair_of, (std::vector<int32_t>{1, 4, 0, 2, 5, 3}));  // stable within an expert
    QCOMPARE(r.position, (std::vector<int32_t>{2, 0, 3, 5, 1, 4}));
  }

  void moeRoutingGpu_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("indexType");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("experts");
    QTest::addColumn<int>("topK");
    QTest::addColumn<int>("groups");
    QTest::addColumn<int>("topkGroups");
    QTest::addColumn<bool>("bias");
    const int f32 = int(DType::f32), b16 = int(DType::bf16);
    const int i64 = int(IndexType::i64), i32 = int(IndexType::i32);
    QTest::newRow("r1-mini E=8 k=2") << f32 << i64 << 37 << 8 << 2 << 1 << 1 << true;
    QTest::newRow("bf16 E=64 k=6 groups 8/3") << b16 << i32 << 100 << 64 << 6 << 8 << 3 << true;
    QTest::newRow("E=256 k=8 groups 8/4") << f32 << i64 << 33 << 256 << 8 << 8 << 4 << true;
    QTest::newRow("E=1 k=1") << f32 << i32 << 5 << 1 << 1 << 1 << 1 << false;
    QTest::newRow("bf16 E=33 k=3") << b16 << i64 << 17 << 33 << 3 << 1 << 1 << false;
    QTest::newRow("E=12 k=4 groups 4/2 (3 each)") << f32 << i64 << 19 << 12 << 4 << 4 << 2 << true;
    QTest::newRow("E=16 k=2 groups 16/2 (1 each)") << f32 << i32 << 9 << 16 << 2 << 16 << 2 << true;
  }

  void moeRoutingGpu() {
    REQUIRE_GPU();
    QFETCH(int, dtype);
    QFETCH(int, indexType);
    QFETCH(int, tokens);
    QFETCH(int, experts);
    QFETCH(int, topK);
    QFETCH(int, groups);
    QFETCH(int, topkGroups);
    QFETCH(bool, bias);
    GPU_TRY({
      const DType dt = DType(dtype);
      const IndexType it = IndexType(indexType);
      const int64_t N = tokens;
      const int E = experts, K = topK;
      std::mt19937 rng(5000 + N * E + K);
      const HostArray x = grid_logits(dt, N, E, rng);
      std::vector<float> bv(E);
      for (auto& v : bv) v = float(rng() % 2);  // integer bias: no near-ties with the grid
      const int is = it == IndexType::i64 ? 8 : 4;
      DeviceBuffer bx(x.bytes()), bb(E * 4), bs(N * E * 4), bw(N * K * 4), bi(N * K * is);
      bx.upload(0, x.data(), x.bytes());
      bb.upload(0, bv.data(), E * 4);
      rk::MoeRoutingParams p;
      p.dtype = dt;
      p.n_tokens = N;
      p.n_experts = E;
      p.top_k = K;
      p.n_groups = groups;
      p.topk_groups = topkGroups;
      p.route_scale = 2.5f;
      p.index_type = it;
      p.logits = x.data();
      p.bias = bias ? bv.data() : nullptr;
      p.weights = reinterpret_cast<float*>(bw.at(0));
      p.indices = bi.at(0);
      const auto ref = rk::moe_routing_ref(p);
      p.logits = bx.at(0);
      p.bias = bias ? reinterpret_cast<float*>(bb.at(0)) : nullptr;
      p.scores = reinterpret_cast<float*>(bs.at(0));
      status_ok(rk::moe_routing(p, nullptr));
      sync();
      std::vector<int64_t> idx(N * K);
      {
        std::vector<unsigned char> raw(N * K * is);
        bi.download(0, raw.data(), raw.size());
        for (int64_t k = 0; k < N * K; ++k) {
          if (is == 8) std::memcpy(&idx[k], &raw[k * 8], 8);
          else { int32_t v; std::memcpy(&v, &raw[k * 4], 4); idx[k] = v; }
        }
      }
      for (int64_t k = 0; k < N * K; ++k)
        QVERIFY2(idx[k] == ref.indices[k],
                 qPrintable(QStringLiteral("token %1 slot %2: expert %3, reference %4")
                                .arg(k / K).arg(k % K).arg(idx[k]).arg(ref.indices[k])));
      CHECK_ERR("weights", rel_err(read_floats(bw, 0, N * K), ref.weights), kTolF32);
      CHECK_ERR("scores", rel_err(read_floats(bs, 0, N * E), ref.scores), kTolF32);

      // Backward, from the reference's scores and indices.
      const std::vector<float> sc(ref.scores.begin(), ref.scores.end());
      const std::vector<float> dw = random_floats(N * K, rng, 1.0);
      const std::vector<float> ex = random_floats(N * E, rng, 0.3);
      DeviceBuffer bsc(N * E * 4), bdw(N * K * 4), bex(N * E * 4), bd(N * E * rk::size_of(dt)),
          bidx(N * K * 8);
      bsc.upload(0, sc.data(), N * E * 4);
      bdw.upload(0, dw.data(), N * K * 4);
      bex.upload(0, ex.data(), N * E * 4);
      bidx.upload(0, ref.indices.data(), N * K * 8);
      rk::MoeRoutingBackwardParams b;
      b.dtype = dt;
      b.n_tokens = N;
      b.n_experts = E;
      b.top_k = K;
      b.route_scale = 2.5f;
      b.scores = sc.data();
      b.indices = ref.indices.data();
      b.dweights = dw.data();
      b.dscores_extra = ex.data();
      b.dlogits = bd.at(0);
      const auto gref = rk::moe_routing_backward_ref(b);
      b.scores = reinterpret_cast<float*>(bsc.at(0));
      b.indices = bidx.at(0);
      b.dweights = reinterpret_cast<float*>(bdw.at(0));
      b.dscores_extra = reinterpret_cast<float*>(bex.at(0));
      status_ok(rk::moe_routing_backward(b, nullptr));
      sync();
      CHECK_ERR("dlogits", rel_err(read_rows(bd, 0, dt, N, E, E), gref),
                tol_for(dt, kTolReduceF32));
    })
  }

  void moePermuteGpu_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<int>("indexType");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("topK");
    QTest::addColumn<int>("experts");
    QTest::addColumn<int>("dim");
    QTest::addColumn<bool>("invalid");  // some indices outside [0, E): dropped pairs
    const int f32 = int(DType::f32), b16 = int(DType::bf16);
    const int i64 = int(IndexType::i64), i32 = int(IndexType::i32);
    QTest::newRow("r1-mini bf16 D=768") << b16 << i64 << 333 << 2 << 8 << 768 << false;
    QTest::newRow("f32 k=6 E=64 D=64") << f32 << i32 << 1000 << 6 << 64 << 64 << false;
    QTest::newRow("bf16 k=8 E=256 D=7") << b16 << i64 << 300 << 8 << 256 << 7 << false;
    QTest::newRow("k=1 E=1") << f32 << i64 << 5 << 1 << 1 << 5 << false;
    QTest::newRow("f32 invalid indices D=100") << f32 << i32 << 700 << 2 << 8 << 100 << true;
    QTest::newRow("bf16 40 chunks of 256 pairs") << b16 << i64 << 5000 << 2 << 8 << 16 << false;
    QTest::newRow("f32 E=3000 (block scan)") << f32 << i32 << 2000 << 4 << 3000 << 8 << true;
    // Rows of more than one round of 4 packs a lane (combine, weight gradient), the last partial.
    QTest::newRow("bf16 k=3 D=2056") << b16 << i32 << 97 << 3 << 8 << 2056 << false;
    QTest::newRow("f32 k=2 D=1500") << f32 << i64 << 61 << 2 << 8 << 1500 << true;
  }

  void moePermuteGpu() {
    REQUIRE_GPU();
    QFETCH(int, dtype);
    QFETCH(int, indexType);
    QFETCH(int, tokens);
    QFETCH(int, topK);
    QFETCH(int, experts);
    QFETCH(int, dim);
    QFETCH(bool, invalid);
    GPU_TRY({
      const DType dt = DType(dtype);
      const IndexType it = IndexType(indexType);
      const int es = rk::size_of(dt);
      const int64_t N = tokens, P = N * topK, D = dim;
      const int E = experts;
      std::mt19937 rng(6000 + P + E + D);
      std::vector<int64_t> i64v(P);
      for (auto& v : i64v) v = rng() % E;
      if (invalid)
        for (int64_t q = 3; q < P; q += 17) i64v[q] = q % 2 ? -1 : E;
      std::vector<int32_t> i32v(i64v.begin(), i64v.end());
      const void* ih = it == IndexType::i64 ? static_cast<const void*>(i64v.data()) : i32v.data();
      const size_t ib = P * (it == IndexType::i64 ? 8 : 4);
      const size_t wsb = rk::moe_permute_workspace_bytes(N, topK, E);
      DeviceBuffer bidx(ib), bcnt(E * 4), boff((E + 1) * 4), bpos(P * 4), bpair(P * 4), bws(wsb);
      bidx.upload(0, ih, ib);
      rk::MoePermutePlanParams p;
      p.n_tokens = N;
      p.top_k = topK;
      p.n_experts = E;
      p.index_type = it;
      p.indices = ih;
      p.counts = reinterpret_cast<int32_t*>(bcnt.at(0));
      p.offsets = reinterpret_cast<int32_t*>(boff.at(0));
      p.position = reinterpret_cast<int32_t*>(bpos.at(0));
      p.pair_of = reinterpret_cast<int32_t*>(bpair.at(0));
      p.workspace = bws.at(0);
      p.workspace_bytes = wsb;
      const auto ref = rk::moe_permute_plan_ref(p);
      p.indices = bidx.at(0);
      status_ok(rk::moe_permute_plan(p, nullptr));
      sync();
      auto ints = [](const DeviceBuffer& b, size_t n) {
        std::vector<int32_t> v(n);
        b.download(0, v.data(), n * 4);
        return v;
      };
      QCOMPARE(ints(bcnt, E), ref.counts);
      QCOMPARE(ints(boff, E + 1), ref.offsets);
      QCOMPARE(ints(bpos, P), ref.position);
      QCOMPARE(ints(bpair, P), ref.pair_of);

      // gather (with weights), combine (with weights, accumulating), the weight gradient.
      const HostArray x = random_array(dt, N * D, rng, 1.0);
      const std::vector<float> w = random_floats(P, rng, 0.5, 0.5);
      const HostArray y0 = random_array(dt, N * D, rng, 1.0);
      DeviceBuffer bx(N * D * es), bw(P * 4), brows(P * D * es), by(N * D * es), bdw(P * 4);
      bx.upload(0, x.data(), x.bytes());
      bw.upload(0, w.data(), P * 4);
      by.upload(0, y0.data(), y0.bytes());
      rk::MoeGatherParams g;
      g.dtype = dt;
      g.n_rows = P;
      g.top_k = topK;
      g.dim = D;
      g.x = x.data();
      g.pair_of = ref.pair_of.data();
      g.weights = w.data();
      g.rows = brows.at(0);
      const auto gref = rk::moe_gather_ref(g);
      g.x = bx.at(0);
      g.pair_of = reinterpret_cast<int32_t*>(bpair.at(0));
      g.weights = reinterpret_cast<float*>(bw.at(0));
      status_ok(rk::moe_gather(g, nullptr));
      sync();
      const auto rows = read_rows(brows, 0, dt, P, D, D);
      CHECK_ERR("gather", rel_err(rows, gref), tol_for(dt, kTolF32));

      HostArray rows_h(dt, P * D);  // what the kernel wrote: the combine's input
      brows.download(0, rows_h.data(), rows_h.bytes());
      rk::MoeCombineParams c;
      c.dtype = dt;
      c.n_tokens = N;
      c.top_k = topK;
      c.dim = D;
      c.rows = rows_h.data();
      c.position = ref.position.data();
      c.weights = w.data();
      c.y = const_cast<void*>(y0.data());
      c.accumulate = true;
      const auto cref = rk::moe_combine_ref(c);
      c.rows = brows.at(0);
      c.position = reinterpret_cast<int32_t*>(bpos.at(0));
      c.weights = reinterpret_cast<float*>(bw.at(0));
      c.y = by.at(0);
      status_ok(rk::moe_combine(c, nullptr));
      sync();
      CHECK_ERR("combine", rel_err(read_rows(by, 0, dt, N, D, D), cref), tol_for(dt, kTolF32));

      rk::MoeCombineWeightGradParams d;
      d.dtype = dt;
      d.n_tokens = N;
      d.top_k = topK;
      d.dim = D;
      d.dy = y0.data();
      d.rows = rows_h.data();
      d.position = ref.position.data();
      d.dweights = reinterpret_cast<float*>(bdw.at(0));
      const auto dref = rk::moe_combine_weight_grad_ref(d);
      by.upload(0, y0.data(), y0.bytes());
      d.dy = by.at(0);
      d.rows = brows.at(0);
      d.position = reinterpret_cast<int32_t*>(bpos.at(0));
      status_ok(rk::moe_combine_weight_grad(d, nullptr));
      sync();
      CHECK_ERR("combine weight grad", rel_err(read_floats(bdw, 0, P), dref), kTolReduceF32);
    })
  }

  // Bad arguments come back as a Status that names the launcher and the reason (no GPU needed
  // for these: the checks run before any CUDA call).
  void argumentErrors() {
    rk::CrossEntropyParams ce;
    ce.n_rows = 2;
    ce.vocab = 5;
    ce.ld_logits = 3;
    rk::Status s = rk::check(ce);
    QVERIFY(!s.ok());
    QCOMPARE(s.code, 1);
    QCOMPARE(QString::fromStdString(s.message),
             QStringLiteral("r1k::cross_entropy: ld_logits = 3 < vocab = 5"));
    rk::RmsNormForwardParams rf;
    rf.n_rows = 1;
    rf.dim = 9000;
    rf.dtype = DType::bf16;
    QVERIFY(rk::check(rf).message.find("dim = 9000") != std::string::npos);
    rk::RmsNormBackwardParams rb;
    rb.n_rows = 10;
    rb.dim = 8;
    int dummy = 0;
    rb.dy = rb.h = &dummy;
    rb.dx = &dummy;
    float f = 0;
    rb.weight = rb.rstd = &f;
    rb.dweight = &f;
    QVERIFY(rk::check(rb).message.find("workspace") != std::string::npos);
    rk::RopeParams rp;
    rp.batch = rp.seq = rp.heads = 1;
    rp.dim = 5;
    QVERIFY(rk::check(rp).message.find("dim = 5") != std::string::npos);
    rp.dim = 16;
    rp.head_dim = 8;
    QCOMPARE(QString::fromStdString(rk::check(rp).message),
             QStringLiteral("r1k::rope: head_dim = 8 < dim = 16 (0 for rows of dim elements)"));
    rk::AdamWOptions ao;
    ao.step = 0;
    QVERIFY(rk::check(nullptr, 0, ao).message.find("step = 0") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestKernels)
#include "test_kernels.moc"
