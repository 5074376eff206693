// The engine's fused operations against ATen on the GPU: values and gradients of RMSNorm and of
// label-smoothed cross-entropy, the fused AdamW step against torch::optim::AdamW + clipping, the
// routed experts (routing, permutation, combination) and the grouped expert GEMM against the
// per-expert loop; kernels on vs off, in float32 and bfloat16, at odd sizes. Skips (saying why)
// where this build has no kernels or no GPU is visible.
#include "engine/compat/torch_compat.h"
#include "engine/model/layers.h"
#include "engine/model/moe.h"
#include "engine/model/ops/fused_ops.h"
#include "engine/model/ops/moe_ops.h"
#include "engine/train/fused_adamw.h"
#include "engine/train/step_graph.h"
#include "engine/train/trainer.h"
#include "model_test_util.h"

#include <QtTest/QtTest>

#ifdef R1_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

using namespace r1::model;

namespace {

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  auto d = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm().item<double>();
  auto n = b.to(torch::kFloat64).norm().item<double>();
  return d / std::max(n, 1e-30);
}

struct Both {
  torch::Tensor out, grad_x, grad_w;
};

}  // namespace

class TestFusedOps final : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init() {
    if (std::string(QTest::currentTestFunction()) == "adamwStateIsTheOptimizers") return;  // CPU
    if (!ops::kernels_built())
      QSKIP("this build links no kernels (needs LibTorch with CUDA and nvcc): nothing to compare");
    if (!r1::compat::cuda_available()) QSKIP("no CUDA GPU visible");
  }
  void cleanup() {
    ops::set_kernels_enabled(true);
    ops::set_grouped_gemm_enabled(true);
  }

  void rmsNormMatchesAten_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("dim");
    QTest::addColumn<bool>("bf16");
    QTest::addColumn<bool>("toBf16");  // f32 x normalized into bf16 (autocast's residual norm)
    for (bool bf : {false, true}) {
      QTest::newRow(bf ? "bf16 8192x768" : "f32 8192x768") << 8192 << 768 << bf << false;
      QTest::newRow(bf ? "bf16 37x384" : "f32 37x384") << 37 << 384 << bf << false;
      QTest::newRow(bf ? "bf16 5x257" : "f32 5x257") << 5 << 257 << bf << false;  // scalar path
    }
    QTest::newRow("f32 into bf16 8192x768") << 8192 << 768 << false << true;
    QTest::newRow("f32 into bf16 5x257") << 5 << 257 << false << true;
  }
  void rmsNormMatchesAten() {
    QFETCH(int, rows);
    QFETCH(int, dim);
    QFETCH(bool, bf16);
    QFETCH(bool, toBf16);
    torch::manual_seed(rows + dim);
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    auto x0 = torch::randn({rows, dim}, opts).mul(3).add(0.5).to(bf16 ? torch::kBFloat16 : torch::kFloat32);
    auto w0 = torch::randn({dim}, opts).mul(0.2).add(1);
    const auto out = toBf16 ? torch::kBFloat16 : x0.scalar_type();
    auto dy = torch::randn({rows, dim}, opts).to(out);
    auto run = [&](bool kernels) {
      ops::set_kernels_enabled(kernels);
      auto x = x0.clone().requires_grad_(true);
      auto w = w0.clone().requires_grad_(true);
      auto y = ops::rms_norm(x, w, 1e-6, toBf16 ? std::optional(out) : std::nullopt);
      y.backward(dy);
      return Both{y.detach(), x.grad(), w.grad()};
    };
    auto k = run(true), a = run(false);
    QCOMPARE(k.out.scalar_type(), out);
    QCOMPARE(a.out.scalar_type(), out);
    QCOMPARE(k.grad_x.scalar_type(), x0.scalar_type());
    // Into bf16 both paths round the same fp32 y once, and read the same bf16 dy.
    const double tol = bf16 ? 1e-2 : 1e-5, tol_y = bf16 || toBf16 ? 1e-2 : 1e-5;
    qInfo("rel err: y %.2e  dx %.2e  dw %.2e", rel(k.out, a.out), rel(k.grad_x, a.grad_x),
          rel(k.grad_w, a.grad_w));
    QVERIFY(rel(k.out, a.out) < tol_y);
    QVERIFY(rel(k.grad_x, a.grad_x) < tol);
    QVERIFY(rel(k.grad_w, a.grad_w) < tol);
  }

  void addRmsNormMatchesAten_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("dim");
    QTest::addColumn<bool>("autocast");  // fp32 stream + bf16 branch into bf16 (else all fp32)
    QTest::newRow("fp32 stream, bf16 branch 8192x768") << 8192 << 768 << true;
    QTest::newRow("fp32 stream, bf16 branch 5x257") << 5 << 257 << true;  // scalar path
    QTest::newRow("fp32 1025x768") << 1025 << 768 << false;
  }
  void addRmsNormMatchesAten() {
    QFETCH(int, rows);
    QFETCH(int, dim);
    QFETCH(bool, autocast);
    torch::manual_seed(rows * 3 + dim);
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    const auto low = autocast ? torch::kBFloat16 : torch::kFloat32;
    auto x0 = torch::randn({2, rows, dim}, opts).mul(2);
    auto r0 = torch::randn({2, rows, dim}, opts).to(low);
    auto w0 = torch::randn({dim}, opts).mul(0.2).add(1);
    auto dh = torch::randn({2, rows, dim}, opts);  // along the residual stream
    auto dy = torch::randn({2, rows, dim}, opts).to(low);
    auto run = [&](bool kernels) {
      ops::set_kernels_enabled(kernels);
      auto x = x0.clone().requires_grad_(true), r = r0.clone().requires_grad_(true);
      auto w = w0.clone().requires_grad_(true);
      auto [h, y] = ops::add_rms_norm(x, r, w, 1e-6, autocast ? std::optional(low) : std::nullopt);
      torch::autograd::backward({h, y}, {dh, dy});
      return std::vector<torch::Tensor>{h.detach(), y.detach(), x.grad(), r.grad(), w.grad()};
    };
    auto k = run(true), a = run(false);
    const char* names[] = {"h", "y", "dx", "dr", "dw"};
    for (int i = 0; i < 5; ++i) QCOMPARE(k[i].scalar_type(), a[i].scalar_type());
    QCOMPARE(k[1].scalar_type(), low);
    QCOMPARE(k[3].scalar_type(), low);
    QString msg;
    for (int i = 0; i < 5; ++i) msg += QString("%1 %2  ").arg(names[i]).arg(rel(k[i], a[i]), 0, 'e', 2);
    qInfo("rel err: %s", qPrintable(msg));
    QVERIFY(rel(k[0], a[0]) < 1e-6);  // h = x + r in fp32 on both paths
    for (int i = 1; i < 5; ++i) QVERIFY2(rel(k[i], a[i]) < (autocast ? 1e-2 : 1e-5), names[i]);
  }

  void ropeTailMatchesAten_data() {
    QTest::addColumn<bool>("bf16");
    QTest::addColumn<int>("rot");
    QTest::addColumn<int>("layout");  // x: 0 dense, 1 a narrow of wider rows, 2 last dim strided
    QTest::newRow("bf16 MLA q: 12 heads of 48 + 16") << true << 16 << 0;
    QTest::newRow("f32 all rotated") << false << 64 << 0;
    QTest::newRow("bf16 q inside wider rows") << true << 16 << 1;
    QTest::newRow("f32 q with a strided last dim") << false << 16 << 2;
  }
  void ropeTailMatchesAten() {
    QFETCH(bool, bf16);
    QFETCH(int, rot);
    QFETCH(int, layout);
    torch::manual_seed(11 + rot + 100 * layout);
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    const auto dt = bf16 ? torch::kBFloat16 : torch::kFloat32;
    const int64_t B = 2, T = 129, H = 12, D = 64;
    // x is a view of base, the leaf whose gradient is compared.
    auto base0 = (layout == 2 ? torch::randn({B, T, D, H}, opts)
                              : torch::randn({B, T, H, layout == 1 ? D + 16 : D}, opts))
                     .to(dt);
    auto view = [&](const torch::Tensor& b) {
      return layout == 0 ? b : layout == 1 ? b.narrow(-1, 8, D) : b.transpose(2, 3);
    };
    auto x0 = view(base0);
    auto rope = r1::model::make_rope(T + 3, rot, 10000.0, torch::Device(torch::kCUDA));
    auto dy = torch::randn({B, H, T, D}, opts).to(dt);  // as attention's dq arrives: [B, H, T, D]
    auto run = [&](bool kernels) {
      ops::set_kernels_enabled(kernels);
      auto base = base0.clone().requires_grad_(true);
      auto y = ops::rope_tail(view(base), rope.cos, rope.sin, rot);
      y.transpose(1, 2).backward(dy);
      return std::vector<torch::Tensor>{y.detach(), base.grad()};
    };
    auto k = run(true), a = run(false);
    qInfo("rel err: y %.2e  dx %.2e", rel(k[0], a[0]), rel(k[1], a[1]));
    QVERIFY(k[0].is_contiguous());
    QVERIFY(torch::equal(k[0].narrow(-1, 0, D - rot), x0.narrow(-1, 0, D - rot)));  // kept as is
    const double tol = bf16 ? 1e-2 : 1e-5;
    QVERIFY(rel(k[0], a[0]) < tol);
    QVERIFY(rel(k[1], a[1]) < tol);
  }

  void crossEntropyMatchesAten_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("vocab");
    QTest::addColumn<bool>("bf16");
    QTest::addColumn<double>("smoothing");
    for (bool bf : {false, true}) {
      QTest::newRow(bf ? "bf16 4096x32768 ls0.1" : "f32 4096x32768 ls0.1") << 4096 << 32768 << bf << 0.1;
      QTest::newRow(bf ? "bf16 33x1000 ls0" : "f32 33x1000 ls0") << 33 << 1000 << bf << 0.0;
      QTest::newRow(bf ? "bf16 7x32781 ls0.3" : "f32 7x32781 ls0.3") << 7 << 32781 << bf << 0.3;
    }
  }
  void crossEntropyMatchesAten() {
    QFETCH(int, rows);
    QFETCH(int, vocab);
    QFETCH(bool, bf16);
    QFETCH(double, smoothing);
    torch::manual_seed(rows * 7 + vocab);
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    auto l0 = torch::randn({rows, vocab}, opts).mul(4).to(bf16 ? torch::kBFloat16 : torch::kFloat32);
    auto t = torch::randint(0, vocab, {rows}, opts.dtype(torch::kInt64));
    auto run = [&](bool kernels) {
      ops::set_kernels_enabled(kernels);
      auto l = l0.clone().requires_grad_(true);
      auto loss = ops::cross_entropy(l, t, smoothing);
      (loss * 2.5).backward();  // a grad_out other than 1
      return Both{loss.detach(), l.grad(), {}};
    };
    auto k = run(true), a = run(false);
    const double tol = bf16 ? 1e-2 : 1e-5;
    qInfo("loss %.6f vs %.6f; rel err dlogits %.2e", k.out.item<double>(), a.out.item<double>(),
          rel(k.grad_x, a.grad_x));
    QVERIFY(std::abs(k.out.item<double>() - a.out.item<double>()) < 1e-4 * std::abs(a.out.item<double>()) + 1e-6);
    QCOMPARE(k.grad_x.scalar_type(), a.grad_x.scalar_type());
    QVERIFY(rel(k.grad_x, a.grad_x) < tol);
  }

  void crossEntropyOverwritesDeadLogits() {
    // The model hands the head's output straight to the loss: the backward then writes the
    // gradient over the logits (no second [N, V] buffer). Held logits stay as they were.
    torch::manual_seed(3);
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    auto x0 = torch::randn({512, 32768}, opts).mul(4).to(torch::kBFloat16);
    auto t = torch::randint(0, 32768, {512}, opts.dtype(torch::kInt64));
    ops::set_kernels_enabled(false);
    auto xa = x0.clone().requires_grad_(true);
    ops::cross_entropy(xa * 1.0, t, 0.1).backward();
    ops::set_kernels_enabled(true);

    auto x = x0.clone().requires_grad_(true);
    auto dead = ops::cross_entropy(x * 1.0, t, 0.1);  // nothing else holds x * 1.0
    dead.backward({}, /*retain_graph=*/true);
    qInfo("rel err dx (logits overwritten) %.2e", rel(x.grad(), xa.grad()));
    QVERIFY(rel(x.grad(), xa.grad()) < 1e-2);
    bool refused = false;
    try {
      dead.backward();  // would read the gradient as logits: autograd must refuse
    } catch (const c10::Error&) {
      refused = true;
    }
    QVERIFY2(refused, "a second backward through overwritten logits was not refused");

    auto y = x0.clone().requires_grad_(true);
    auto held = y * 1.0;
    auto kept = held.detach().clone();
    auto loss = ops::cross_entropy(held, t, 0.1);
    loss.backward({}, /*retain_graph=*/true);
    loss.backward();  // allowed: the logits were not touched
    QVERIFY(torch::equal(held.detach(), kept));
    QVERIFY(rel(y.grad(), 2 * xa.grad()) < 1e-2);
  }

  void adamwStateIsTheOptimizers() {
    // The fused step reads and writes the torch::optim::AdamW object's own state (so checkpoints
    // do not change); adamw_state must find what AdamW::step created, on any LibTorch.
    auto a = torch::randn({5}).requires_grad_(true);
    auto b = torch::randn({3}).requires_grad_(true);
    torch::optim::AdamW opt({a, b}, torch::optim::AdamWOptions(1e-2));
    QVERIFY(r1::train::adamw_state(opt, a) == nullptr);
    a.mutable_grad() = torch::ones({5});
    opt.step();
    auto* s = r1::train::adamw_state(opt, a);
    QVERIFY(s != nullptr);
    QCOMPARE(s->step(), int64_t(1));
    QVERIFY(torch::allclose(s->exp_avg(), torch::full({5}, 0.1)));  // (1 - 0.9) * 1
    QVERIFY(r1::train::adamw_state(opt, b) == nullptr);  // no gradient: no state
  }

  void swigluMatchesAten_data() {
    QTest::addColumn<bool>("bf16");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("dim");
    QTest::newRow("f32 8192x768") << false << 8192 << 768;
    QTest::newRow("bf16 8192x2048") << true << 8192 << 2048;
    QTest::newRow("bf16 33x203 (scalar path)") << true << 33 << 203;
  }
  void swigluMatchesAten() {
    QFETCH(bool, bf16);
    QFETCH(int, rows);
    QFETCH(int, dim);
    torch::manual_seed(rows + dim);
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    const auto dt = bf16 ? torch::kBFloat16 : torch::kFloat32;
    auto a0 = (torch::randn({2, rows / 2 + 1, dim}, opts) * 3).to(dt);
    auto b0 = torch::randn({2, rows / 2 + 1, dim}, opts).to(dt);
    auto dh = torch::randn({2, rows / 2 + 1, dim}, opts).to(dt);
    auto run = [&](bool kernels) {
      ops::set_kernels_enabled(kernels);
      auto a = a0.clone().requires_grad_(true), b = b0.clone().requires_grad_(true);
      auto h = ops::swiglu(a, b);
      h.backward(dh);
      return std::vector<torch::Tensor>{h.detach(), a.grad(), b.grad()};
    };
    auto k = run(true), a = run(false);
    QCOMPARE(k[0].scalar_type(), dt);
    const double tol = bf16 ? 1e-2 : 1e-5;
    qInfo("rel err: h %.2e  da %.2e  db %.2e", rel(k[0], a[0]), rel(k[1], a[1]), rel(k[2], a[2]));
    for (int i = 0; i < 3; ++i) QVERIFY(rel(k[i], a[i]) < tol);
  }

  void swigluDownMatchesAten_data() {
    QTest::addColumn<bool>("bf16");  // bf16: under autocast with the fp32 weight, as the model runs
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("inter");
    QTest::newRow("f32 1025x512") << false << 1025 << 512;
    QTest::newRow("bf16 autocast 8193x2048") << true << 8193 << 2048;
    QTest::newRow("bf16 autocast 33x203 (scalar gate)") << true << 33 << 203;
  }
  void swigluDownMatchesAten() {
    QFETCH(bool, bf16);
    QFETCH(int, rows);
    QFETCH(int, inter);
    const int64_t out_dim = 384;
    torch::manual_seed(rows + inter);
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    const auto dt = bf16 ? torch::kBFloat16 : torch::kFloat32;
    auto a0 = (torch::randn({rows, inter}, opts) * 3).to(dt);
    auto b0 = torch::randn({rows, inter}, opts).to(dt);
    auto w0 = torch::randn({out_dim, inter}, opts) * 0.05;  // fp32, a master weight
    auto dout = torch::randn({rows, out_dim}, opts).to(dt);
    auto run = [&](bool kernels) {
      ops::set_kernels_enabled(kernels);
      auto a = a0.clone().requires_grad_(true), b = b0.clone().requires_grad_(true);
      auto w = w0.clone().requires_grad_(true);
      if (bf16) r1::compat::set_autocast(torch::Device(torch::kCUDA), true, torch::kBFloat16);
      auto out = ops::swiglu_down(a, b, w);
      if (bf16) r1::compat::set_autocast(torch::Device(torch::kCUDA), false, torch::kBFloat16);
      out.backward(dout);
      return std::vector<torch::Tensor>{out.detach(), a.grad(), b.grad(), w.grad()};
    };
    auto k = run(true), a = run(false);
    for (int i = 0; i < 4; ++i) QCOMPARE(k[i].scalar_type(), a[i].scalar_type());
    QCOMPARE(k[3].scalar_type(), torch::kFloat32);  // the master weight's gradient
    const double tol = bf16 ? 1e-2 : 1e-5;
    qInfo("rel err: out %.2e  da %.2e  db %.2e  dw %.2e", rel(k[0], a[0]), rel(k[1], a[1]),
          rel(k[2], a[2]), rel(k[3], a[3]));
    for (int i = 0; i < 4; ++i) QVERIFY(rel(k[i], a[i]) < tol);
  }

  void ropeMatchesAten_data() {
    QTest::addColumn<bool>("bf16");
    QTest::addColumn<int>("heads");
    QTest::newRow("f32 q_pe view, 5 heads") << false << 5;
    QTest::newRow("bf16 q_pe view, 5 heads") << true << 5;
    QTest::newRow("bf16 k_pe view, 1 head") << true << 1;
  }
  void ropeMatchesAten() {
    // The decoupled RoPE part as MLA takes it: a view into a wider [B, T, H, dn + dr] tensor,
    // rotated in place of the copy-and-stack of apply_rope's ATen path; values and gradients.
    QFETCH(bool, bf16);
    QFETCH(int, heads);
    torch::manual_seed(heads + (bf16 ? 1 : 0));
    const int64_t B = 3, T = 77, dn = 24, dr = 16;
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    auto rope = make_rope(T + 5, dr, 10000.0, torch::kCUDA);
    auto base0 = torch::randn({B, T, heads, dn + dr}, opts).to(bf16 ? torch::kBFloat16 : torch::kFloat32);
    auto dy = torch::randn({B, T, heads, dr}, opts).to(base0.scalar_type());
    auto run = [&](bool kernels) {
      ops::set_kernels_enabled(kernels);
      auto base = base0.clone().requires_grad_(true);
      auto y = apply_rope(base.narrow(-1, dn, dr), rope);
      y.backward(dy);
      return std::make_pair(y.detach(), base.grad());
    };
    auto k = run(true), a = run(false);
    QCOMPARE(k.first.scalar_type(), a.first.scalar_type());
    QCOMPARE(k.first.sizes().vec(), a.first.sizes().vec());
    const double tol = bf16 ? 1e-2 : 1e-6;
    qInfo("rel err: y %.2e  dx %.2e", rel(k.first, a.first), rel(k.second, a.second));
    QVERIFY(rel(k.first, a.first) < tol);
    QVERIFY(rel(k.second, a.second) < tol);
    QCOMPARE(k.second.narrow(-1, 0, dn).abs().max().item<double>(), 0.0);  // the nope part
  }

  void moeMatchesAten_data() {
    QTest::addColumn<int>("experts");
    QTest::addColumn<int>("topk");
    QTest::addColumn<int>("groups");
    QTest::addColumn<int>("dim");
    QTest::addColumn<int>("tokens");
    QTest::newRow("8 experts top-2, 517 tokens") << 8 << 2 << 1 << 128 << 517;
    QTest::newRow("16 experts top-4, 4 groups, 2 kept") << 16 << 4 << 4 << 64 << 300;
    QTest::newRow("dim 200 (unaligned vectors)") << 8 << 3 << 1 << 200 << 97;
  }
  void moeMatchesAten() {
    // A whole MoE layer in fp32 on the GPU, kernels on (routing, plan, gather, combine) vs off
    // (ATen), same parameters and input: output, input gradient, every parameter's gradient
    // (balance loss on: its gradient enters the routing backward as dscores_extra) and the counts.
    QFETCH(int, experts);
    QFETCH(int, topk);
    QFETCH(int, groups);
    QFETCH(int, dim);
    QFETCH(int, tokens);
    auto c = r1::test::tiny_model();
    c.dim = dim;
    c.moe_inter = 48;
    c.n_routed_experts = experts;
    c.n_activated_experts = topk;
    c.n_expert_groups = groups;
    c.n_limited_groups = groups > 1 ? groups / 2 : 1;
    c.n_shared_experts = 1;
    c.balance_loss_alpha = 0.01;
    c.init_std = 0.3;
    torch::manual_seed(experts * 100 + dim);
    MoE m(c);
    m->to(torch::kCUDA);
    m->train();
    {
      torch::NoGradGuard ng;
      m->gate->bias.copy_(torch::randn({experts}) * 0.05);
    }
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    auto x0 = torch::randn({1, tokens, dim}, opts);
    auto g = torch::randn({1, tokens, dim}, opts);
    struct Run {
      torch::Tensor y, dx, counts;
      std::vector<torch::Tensor> grads;
    };
    auto run = [&](bool kernels) {
      ops::set_kernels_enabled(kernels);
      for (auto& p : m->parameters()) p.mutable_grad() = torch::Tensor();
      auto x = x0.clone().requires_grad_(true);
      auto y = m->forward(x);
      TORCH_CHECK(m->balance_loss.defined(), "no balance loss in training mode");
      ((y * g).sum() + m->balance_loss * 100.0).backward();
      Run r{y.detach(), x.grad(), m->last_counts.cpu(), {}};
      for (auto& p : m->parameters())
        r.grads.push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
      return r;
    };
    auto k = run(true), a = run(false);
    QVERIFY2(torch::equal(k.counts, a.counts), "the kernel routed tokens to other experts");
    QCOMPARE(k.counts.sum().item<int64_t>(), int64_t(tokens) * topk);
    double worst = 0;
    for (size_t i = 0; i < k.grads.size(); ++i) worst = std::max(worst, rel(k.grads[i], a.grads[i]));
    qInfo("rel err: y %.2e  dx %.2e  worst parameter gradient %.2e", rel(k.y, a.y),
          rel(k.dx, a.dx), worst);
    QVERIFY(a.y.abs().max().item<double>() > 1e-3);
    QVERIFY(rel(k.y, a.y) < 1e-5);
    QVERIFY(rel(k.dx, a.dx) < 1e-5);
    QVERIFY(worst < 1e-4);
  }

  void groupedGemmMatchesLoop() {
    // The experts' bf16 GEMMs as one at::_grouped_mm vs one cuBLAS GEMM per expert, forward and
    // backward, with an idle expert and odd group sizes.
    if (!ops::grouped_gemm_available(torch::kCUDA))
      QSKIP("this LibTorch has no at::_grouped_mm (needs >= 2.8): the experts run as a loop");
    torch::manual_seed(5);
    const int64_t E = 6, N = 1001, K = 2, D = 256, I = 192;
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    auto idx = torch::randint(0, E - 1, {N, K}, opts.dtype(torch::kInt64));  // expert 5 idle
    auto plan = ops::moe_plan(idx, E, /*use_kernels=*/true);
    auto rows0 = torch::randn({N * K, D}, opts).to(torch::kBFloat16);
    std::vector<torch::Tensor> w0;
    for (int64_t e = 0; e < E; ++e) w0.push_back(torch::randn({I, D}, opts) * 0.05);
    auto dy = torch::randn({N * K, I}, opts).to(torch::kBFloat16);
    auto run = [&](bool grouped) {
      ops::set_grouped_gemm_enabled(grouped);
      auto rows = rows0.clone().requires_grad_(true);
      std::vector<torch::Tensor> w;
      for (auto& t : w0) w.push_back(t.clone().requires_grad_(true));
      auto y = ops::moe_expert_linear(rows, w, plan);
      y.backward(dy);
      std::vector<torch::Tensor> out{y.detach(), rows.grad()};
      for (auto& t : w) out.push_back(t.grad().defined() ? t.grad() : torch::zeros_like(t));
      return out;
    };
    auto gr = run(true), lp = run(false);
    QCOMPARE(gr[0].scalar_type(), torch::kBFloat16);
    QCOMPARE(gr[0].sizes().vec(), (std::vector<int64_t>{N * K, I}));
    for (size_t i = 0; i < gr.size(); ++i) {
      const double e = rel(gr[i], lp[i]);
      qInfo("tensor %zu: rel err %.2e (norm %.3g)", i, e, lp[i].norm().item<double>());
      if (i == 2 + 5) {  // the idle expert: exactly zero gradient on both paths
        QCOMPARE(gr[i].abs().max().item<double>(), 0.0);
        continue;
      }
      QVERIFY(lp[i].norm().item<double>() > 0);
      QVERIFY(e < 1e-2);
    }
  }

  void moeNeverWaitsForTheDevice() {
    // The routed experts' forward and backward under bf16 autocast, with LibTorch's sync debug
    // mode set to throw on any host-device synchronization (.item(), .cpu(), a blocking copy):
    // the per-layer stall of the counts-to-host loop must be gone from the CUDA path.
    if (!ops::grouped_gemm_available(torch::kCUDA))
      QSKIP("this LibTorch has no at::_grouped_mm (needs >= 2.8): the expert loop reads counts");
#ifdef R1_WITH_CUDA
    auto c = r1::test::tiny_model();
    c.dim = 256;
    c.moe_inter = 128;
    c.n_routed_experts = 8;
    c.n_activated_experts = 2;
    c.n_shared_experts = 1;
    c.balance_loss_alpha = 0.01;
    torch::manual_seed(3);
    MoE m(c);
    m->to(torch::kCUDA);
    m->train();
    auto x = torch::randn({4, 128, 256}, torch::TensorOptions().device(torch::kCUDA));
    auto step = [&] {
      auto y = m->forward(x);
      (y.to(torch::kFloat32).square().mean() + m->balance_loss).backward();
    };
    r1::compat::set_autocast(torch::kCUDA, true, torch::kBFloat16);
    step();  // first use: the load counter moves to the GPU, cuBLAS / CUTLASS set up
    auto& ws = c10::cuda::warning_state();
    ws.set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
    std::string error;
    try {
      step();
    } catch (const std::exception& e) {
      error = e.what();
    }
    ws.set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
    r1::compat::set_autocast(torch::kCUDA, false, torch::kBFloat16);
    QVERIFY2(error.empty(), error.substr(0, 600).c_str());
    // ...and the mode does catch a synchronization when one happens
    ws.set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
    bool caught = false;
    try {
      (void)m->last_counts.sum().item<int64_t>();
    } catch (const std::exception&) {
      caught = true;
    }
    ws.set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
    QVERIFY2(caught, "sync debug mode did not flag .item(): the check above proves nothing");
    QCOMPARE(m->last_counts.sum().item<int64_t>(), int64_t(4 * 128 * 2));
#endif
  }

  void cudaGraphStepMatchesEager_data() {
    QTest::addColumn<int>("accum");
    QTest::newRow("2 micro-batches: accumulated in place") << 2;
    QTest::newRow("1 micro-batch: gradients in the graph's pool") << 1;
  }
  void cudaGraphStepMatchesEager() {
    QFETCH(int, accum);
    // The trainer with train.cuda_graph on vs off from the same seed and data: r1-nano (MoE,
    // MTP, balance loss) in bf16, 2 micro-batches per step. Steps 1-2 run eagerly in both;
    // from step 3 the graph replays. Losses and final parameters must agree: a graph that
    // wrote stale or misplaced gradients would move the parameters elsewhere within a step.
    if (auto why = r1::train::StepGraph::unsupported_reason(); !why.empty())
      QSKIP(why.c_str());
    QTemporaryDir dir;
    auto run = [&](bool graph) {
      r1::Config c = r1::default_config(
          {"data.seq_len=64", "data.batch_size=4", "train.device=cuda", "train.precision=bf16",
           "train.lr=1e-2", "train.lr_embed=1e-2", "train.warmup_steps=0", "eval.every=0",
           "checkpoint.every=0", "model.balance_loss_alpha=0.001",
           "train.grad_accum=" + std::to_string(accum), "train.steps=8"});
      c.train.cuda_graph = graph;
      c.run.dir = dir.path().toStdString();
      c.run.name = graph ? "graph" : "eager";
      r1::train::TrainerOptions o;
      o.synthetic_tokens = 1 << 16;
      r1::train::Trainer t(c, std::make_shared<r1::events::NullSink>(), {}, o);
      t.setup();
      std::vector<torch::Tensor> init;
      for (auto& p : t.model()->parameters()) init.push_back(p.detach().clone());
      std::vector<double> losses;
      for (int i = 0; i < 8; ++i) losses.push_back(t.train_step().loss);
      std::vector<torch::Tensor> params;
      for (auto& p : t.model()->parameters()) params.push_back(p.detach().clone());
      return std::make_tuple(losses, params, t.graph_replays(), init);
    };
    decltype(run(false)) eager, graphed;
    try {  // a failed capture throws: fail this case, not the whole binary
      eager = run(false);
      graphed = run(true);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    auto& [le, pe, re, p0] = eager;
    auto& [lg, pg, rg, p0g] = graphed;
    QCOMPARE(re, int64_t(0));
    QCOMPARE(rg, int64_t(6 * accum));  // steps 3-8, each micro-batch
    double worst_loss = 0, worst_param = 0;
    for (size_t i = 0; i < le.size(); ++i) {
      qInfo("step %zu: loss eager %.6f graph %.6f", i + 1, le[i], lg[i]);
      QVERIFY(std::isfinite(lg[i]));
      worst_loss = std::max(worst_loss, std::abs(lg[i] - le[i]) / le[i]);
    }
    for (size_t i = 0; i < pe.size(); ++i) worst_param = std::max(worst_param, rel(pg[i], pe[i]));
    // Synthetic tokens are uniform, so the loss sits at its floor; that the comparison means
    // something shows in the parameters instead: 8 steps moved them far from the same start.
    double least_moved = 1e9;
    for (size_t i = 0; i < pe.size(); ++i) {
      QVERIFY(rel(p0g[i], p0[i]) == 0.0);  // same seed, same start
      least_moved = std::min(least_moved, rel(pe[i], p0[i]));
    }
    qInfo("worst relative loss difference %.2e, worst parameter difference %.2e, least "
          "relative move from the start %.2e", worst_loss, worst_param, least_moved);
    QVERIFY(least_moved > 10 * worst_param);
    QVERIFY(least_moved > 1e-3);
    QVERIFY(worst_loss < 2e-3);
    QVERIFY(worst_param < 1e-2);
  }

  void fusedAdamwMatchesAten_data() {
    QTest::addColumn<double>("clip");
    QTest::newRow("no clipping") << std::numeric_limits<double>::infinity();
    QTest::newRow("clipped") << 0.5;
  }
  void fusedAdamwMatchesAten() {
    // Two parameter groups as the trainer builds them (layered lr, weight decay on or off), odd
    // sizes (one longer than a kernel chunk), 4 steps; one tensor gets no gradient at step 2 (its
    // own step count falls behind: a second launch). Reference: clip_grad_norm_ + AdamW::step.
    QFETCH(double, clip);
    torch::manual_seed(11);
    auto opts = torch::TensorOptions().device(torch::kCUDA);
    const std::vector<std::vector<int64_t>> shapes = {{37, 5}, {65537}, {3}, {129, 64}};
    std::vector<torch::Tensor> pa, pb;
    for (const auto& sh : shapes) {
      auto v = torch::randn(sh, opts);
      pa.push_back(v.clone().requires_grad_(true));
      pb.push_back(v.clone().requires_grad_(true));
    }
    auto make = [](std::vector<torch::Tensor>& p) {
      std::vector<torch::optim::OptimizerParamGroup> groups;
      auto o1 = std::make_unique<torch::optim::AdamWOptions>(3e-3);
      o1->betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1);
      groups.emplace_back(std::vector<torch::Tensor>{p[0], p[1]}, std::move(o1));
      auto o2 = std::make_unique<torch::optim::AdamWOptions>(1e-3);
      o2->betas({0.9, 0.95}).eps(1e-8).weight_decay(0.0);
      groups.emplace_back(std::vector<torch::Tensor>{p[2], p[3]}, std::move(o2));
      return std::make_unique<torch::optim::AdamW>(
          groups, torch::optim::AdamWOptions(3e-3).betas({0.9, 0.95}).eps(1e-8));
    };
    auto oa = make(pa), ob = make(pb);
    for (int step = 1; step <= 4; ++step) {
      for (size_t i = 0; i < pa.size(); ++i) {
        pa[i].mutable_grad() = torch::Tensor();
        pb[i].mutable_grad() = torch::Tensor();
        if (step == 2 && i == 2) continue;  // no gradient this step
        auto g = torch::randn(pa[i].sizes(), opts) * (1.0 + i);
        pa[i].mutable_grad() = g.clone();
        pb[i].mutable_grad() = g.clone();
      }
      std::vector<torch::Tensor> with_grad;
      for (auto& p : pa)
        if (p.grad().defined()) with_grad.push_back(p);
      const double na = torch::nn::utils::clip_grad_norm_(with_grad, clip);
      oa->step();
      ops::set_kernels_enabled(true);
      auto nb = r1::train::fused_adamw_step(*ob, clip);
      QVERIFY2(nb.has_value(), "the fused step declined fp32 contiguous CUDA parameters");
      QVERIFY(std::abs(*nb - na) <= 1e-5 * na);
    }
    for (size_t i = 0; i < pa.size(); ++i) {
      const double e = rel(pb[i].detach(), pa[i].detach());
      auto* pa_state = r1::train::adamw_state(*oa, pa[i]);
      auto* pb_state = r1::train::adamw_state(*ob, pb[i]);
      QVERIFY(pa_state && pb_state);
      auto& sa = *pa_state;
      auto& sb = *pb_state;
      qInfo("tensor %zu: rel err param %.2e exp_avg %.2e exp_avg_sq %.2e (steps %lld)", i, e,
            rel(sb.exp_avg(), sa.exp_avg()), rel(sb.exp_avg_sq(), sa.exp_avg_sq()),
            static_cast<long long>(sb.step()));
      QCOMPARE(sb.step(), sa.step());
      QVERIFY(e < 1e-6);
      QVERIFY(rel(sb.exp_avg(), sa.exp_avg()) < 1e-5);
      QVERIFY(rel(sb.exp_avg_sq(), sa.exp_avg_sq()) < 1e-5);
    }
    ops::set_kernels_enabled(false);
    QVERIFY(!r1::train::fused_adamw_step(*ob, clip).has_value());  // switched off: ATen path
  }
};

QTEST_GUILESS_MAIN(TestFusedOps)
#include "test_fused_ops.moc"
